//! What delivery events need: each sent message's provider id, and the
//! invitation a provider id leads to.

use diesel::prelude::*;

use super::DbConnection;
use super::schema::{email_outbox, invitations};
use crate::domain::ids::{AccountId, InvitationId};

/// Records the provider's id of a message it took.
pub fn set_provider_message_id(
    conn: &mut DbConnection,
    outbox_id: i64,
    provider_message_id: &str,
) -> QueryResult<()> {
    diesel::update(email_outbox::table.find(outbox_id))
        .set(email_outbox::provider_message_id.eq(Some(provider_message_id)))
        .execute(conn)
        .map(|_| ())
}

/// The message a provider id names: `(outbox id, account id, invitation id)`.
pub fn find_message(
    conn: &mut DbConnection,
    provider_message_id: &str,
) -> QueryResult<Option<(i64, AccountId, Option<InvitationId>)>> {
    email_outbox::table
        .filter(email_outbox::provider_message_id.eq(provider_message_id))
        .select((
            email_outbox::id,
            email_outbox::account_id,
            email_outbox::invitation_id,
        ))
        .order(email_outbox::id.desc())
        .first(conn)
        .optional()
}

/// The invitation's newest email (the one its `delivery` describes).
pub fn latest_message_of(
    conn: &mut DbConnection,
    invitation_id: InvitationId,
) -> QueryResult<Option<i64>> {
    email_outbox::table
        .filter(email_outbox::invitation_id.eq(invitation_id))
        .select(diesel::dsl::max(email_outbox::id))
        .first(conn)
}

/// The invitation's `(delivery, email)`.
pub fn invitation_delivery(
    conn: &mut DbConnection,
    invitation_id: InvitationId,
) -> QueryResult<Option<(String, String)>> {
    invitations::table
        .find(invitation_id)
        .select((invitations::delivery, invitations::email))
        .first(conn)
        .optional()
}
