//! Delivery events (delivered, bounced, complained) reaching invitations.
//! Each event is one transaction under its account's lock, like every other
//! write; an invitation's `delivery` only moves forward (`domain::delivery`),
//! and only for its newest email (an event about an email a resend replaced
//! says nothing about the invitation now).

use serde_json::json;

use crate::clock::Clock;
use crate::db::{self, DbConnection};
use crate::domain::audit::AuditAction;
use crate::domain::delivery::{DeliveryEvent, advance};
use crate::domain::invitation::Delivery;
use crate::error::AppError;
use crate::services::audit::{self, Actor, Subject};
use crate::services::lock_account;

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The invitation's delivery changed.
    Changed,
    /// A duplicate, late or out-of-order event, or one about a replaced email.
    Unchanged,
    /// No email of this service has that provider id (e.g. another
    /// application's mail from the same provider account).
    Unknown,
}

/// Records authenticated events from `provider`, each in its own transaction.
pub fn record(
    conn: &mut DbConnection,
    clock: &Clock,
    provider: &str,
    events: &[DeliveryEvent],
) -> Result<Vec<Applied>, AppError> {
    events
        .iter()
        .map(|event| record_one(conn, clock, provider, event))
        .collect()
}

fn record_one(
    conn: &mut DbConnection,
    clock: &Clock,
    provider: &str,
    event: &DeliveryEvent,
) -> Result<Applied, AppError> {
    let Some((outbox_id, account_id, Some(invitation_id))) =
        db::mail_events::find_message(conn, &event.provider_message_id)?
    else {
        return Ok(Applied::Unknown);
    };
    db::transaction(conn, None, |conn| {
        let (_, now) = lock_account(conn, account_id, clock)?;
        db::invitations::lock_rows(conn, &[invitation_id])?;
        if db::mail_events::latest_message_of(conn, invitation_id)? != Some(outbox_id) {
            return Ok(Applied::Unchanged);
        }
        let Some((delivery, email)) = db::mail_events::invitation_delivery(conn, invitation_id)?
        else {
            return Ok(Applied::Unknown);
        };
        let Some(next) = advance(Delivery::from_db(&delivery)?, event.kind) else {
            return Ok(Applied::Unchanged);
        };
        db::invitations::set_delivery(conn, invitation_id, next)?;
        if event.kind.is_trouble() {
            audit::record(
                conn,
                account_id,
                Actor::System,
                AuditAction::InvitationBounced,
                Subject::Invitation(invitation_id),
                json!({
                    "email": email,
                    "kind": event.kind,
                    "provider": provider,
                    "occurred_at": event.occurred_at.map(crate::contract::utc),
                }),
                now,
            )?;
        }
        Ok(Applied::Changed)
    })
}
