//! Email: templates, providers, and the outbox worker that delivers.

pub mod events;
pub mod message;
pub mod provider;
pub mod ses;
pub mod smtp;
pub mod template;

use chrono::NaiveDateTime;

use crate::db::{self, DbConnection};
use crate::domain::ids::{AccountId, InvitationId};
use crate::domain::outbox::OutboxStatus;
use crate::error::AppError;

/// Queues an email in the caller's transaction; the worker sends it after commit.
pub fn enqueue(
    conn: &mut DbConnection,
    account_id: AccountId,
    invitation_id: Option<InvitationId>,
    recipient: &str,
    email: &template::RenderedEmail,
    now: NaiveDateTime,
) -> Result<i64, AppError> {
    Ok(db::outbox::insert(
        conn,
        &db::outbox::NewEmail {
            account_id,
            invitation_id,
            recipient,
            subject: &email.subject,
            text_body: &email.text,
            html_body: &email.html,
            status: OutboxStatus::Queued.as_str(),
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
        },
    )?)
}
