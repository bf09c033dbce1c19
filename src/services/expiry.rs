//! Expiry of invitations: done lazily inside every account transaction and
//! periodically by the sweeper, with the same code.

use chrono::NaiveDateTime;

use crate::db::{self, DbConnection, DbPool};
use crate::domain::audit::AuditAction;
use crate::domain::ids::AccountId;
use crate::error::AppError;
use crate::services::audit::{self, Actor, Subject};
use serde_json::json;

/// Marks the account's overdue pending invitations expired and opens their licenses.
/// The caller holds the account lock.
pub fn expire_overdue(
    conn: &mut DbConnection,
    account_id: AccountId,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let overdue = db::invitations::expire_overdue(conn, account_id, now)?;
    for (id, email) in &overdue {
        let id = *id;
        db::licenses::release_for_invitation(conn, id, now)?;
        db::outbox::cancel_queued_for_invitation(conn, id)?;
        audit::record(
            conn,
            account_id,
            Actor::System,
            AuditAction::InvitationExpired,
            Subject::Invitation(id),
            json!({"email": email}),
            now,
        )?;
    }
    Ok(overdue.len())
}

/// One sweeper pass: every account with overdue invitations, and idempotent
/// responses past their retention.
pub fn sweep(pool: &DbPool, now: NaiveDateTime) -> Result<usize, AppError> {
    let mut conn = pool.get()?;
    db::idempotency::purge(&mut conn, now - crate::services::idempotency::retention())?;
    let accounts = db::invitations::accounts_with_overdue(&mut conn, now, 1_000)?;
    let mut expired = 0;
    for account_id in accounts {
        expired += db::transaction(&mut conn, None, |conn| {
            if db::accounts::lock(conn, account_id)?.is_none() {
                return Ok(0);
            }
            expire_overdue(conn, account_id, now)
        })?;
    }
    Ok(expired)
}
