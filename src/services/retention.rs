//! Retention: emails and webhook deliveries that are finished (sent, failed
//! for good, or cancelled) are deleted once older than
//! `INVITATIONS_RETENTION_DAYS`. The audit trail is kept. Retention is at
//! least a day, because the resend rate limit reads the last 24 hours of the
//! outbox's send history.

use chrono::NaiveDateTime;

use crate::db::{self, DbPool};
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
    type Delete = fn(&mut db::DbConnection, &str, NaiveDateTime, i64) -> diesel::QueryResult<usize>;
    let tables: [(Delete, &[&str]); 2] = [
        (db::outbox::delete_finished_before, &db::outbox::FINISHED),
        (
            db::webhooks::delete_finished_before,
            &db::webhooks::FINISHED,
        ),
    ];
    for (delete, statuses) in tables {
        for status in statuses {
            for _ in 0..MAX_BATCHES {
                let n = delete(&mut conn, status, before, BATCH)?;
                deleted += n;
                if n < BATCH as usize {
                    break;
                }
            }
        }
    }
    Ok(deleted)
}
