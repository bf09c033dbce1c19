//! Retention: emails and webhook deliveries that are finished (sent, failed
//! for good, or cancelled) are deleted once older than
//! `INVITATIONS_RETENTION_DAYS`. The audit trail is kept. Retention is at
//! least a day, because the resend rate limit reads the last 24 hours of the
//! outbox's send history.

use chrono::NaiveDateTime;

use crate::db::{self, DbPool};
use crate::domain::outbox::{DeliveryStatus, OutboxStatus};
use crate::error::AppError;

/// Rows deleted per statement: short statements, short locks.
const BATCH: i64 = 500;
/// At most this many batches per table per pass; the rest waits for the next
/// pass, so a large first pass never holds up the worker for long.
const MAX_BATCHES: usize = 20;

/// One pass; returns how many rows were deleted.
pub fn prune(pool: &DbPool, now: NaiveDateTime, retention_days: i64) -> Result<usize, AppError> {
    let before = now - chrono::Duration::days(retention_days);
    let mut conn = pool.get()?;
    let mut deleted = 0;
    for status in OutboxStatus::FINISHED {
        deleted += in_batches(|limit| {
            db::outbox::delete_finished_before(&mut conn, *status, before, limit)
        })?;
    }
    for status in DeliveryStatus::FINISHED {
        deleted += in_batches(|limit| {
            db::webhooks::delete_finished_before(&mut conn, *status, before, limit)
        })?;
    }
    Ok(deleted)
}

/// Deletes in batches of `BATCH` until one comes back short (or `MAX_BATCHES`).
fn in_batches(
    mut delete: impl FnMut(i64) -> diesel::QueryResult<usize>,
) -> Result<usize, AppError> {
    let mut deleted = 0;
    for _ in 0..MAX_BATCHES {
        let n = delete(BATCH)?;
        deleted += n;
        if n < BATCH as usize {
            break;
        }
    }
    Ok(deleted)
}
