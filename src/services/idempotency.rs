//! `Idempotency-Key`: the first response to a key is kept 24 hours and
//! replayed to retries; a different request under the same key is refused.

use chrono::{Duration, NaiveDateTime};

use crate::db::{self, DbConnection, idempotency::KeyRow};
use crate::domain::ids::AccountId;
use crate::error::AppError;

/// How long a first response is replayed.
pub fn retention() -> Duration {
    Duration::hours(24)
}

/// A first request that has not stored its response after this long is taken
/// to have died with its process; a retry may then run again. Far longer than
/// any request can take (a bulk of 100 included).
pub fn abandoned_after() -> Duration {
    Duration::minutes(15)
}

pub const MAX_KEY_LEN: usize = 255;

#[derive(Debug)]
pub enum Claim {
    /// This request is the first: run it, then `complete` or `release` the
    /// claim made at `claimed_at` (only that claim: a later retry's is its own).
    Proceed {
        claimed_at: NaiveDateTime,
    },
    /// Answer with the stored response.
    Replay(KeyRow),
    InProgress,
    Reused,
}

pub fn begin(
    conn: &mut DbConnection,
    account_id: AccountId,
    key: &str,
    fingerprint: &str,
    now: NaiveDateTime,
) -> Result<Claim, AppError> {
    // Twice at most: a row may vanish (released) between our insert and read.
    for _ in 0..2 {
        if db::idempotency::claim(conn, account_id, key, fingerprint, now)? {
            return Ok(Claim::Proceed { claimed_at: now });
        }
        let Some(row) = db::idempotency::find(conn, account_id, key)? else {
            continue;
        };
        let expired = now - retention();
        if row.created_at < expired {
            return Ok(
                if db::idempotency::reclaim(conn, account_id, key, fingerprint, expired, now)? {
                    Claim::Proceed { claimed_at: now }
                } else {
                    Claim::InProgress
                },
            );
        }
        if row.fingerprint != fingerprint {
            return Ok(Claim::Reused);
        }
        if row.status == Some(db::idempotency::COMMITTED) {
            // It ran; its answer is not stored (yet, or lost with a crash).
            return Ok(Claim::InProgress);
        }
        if row.status.is_some() {
            return Ok(Claim::Replay(row));
        }
        let abandoned = now - abandoned_after();
        let retaken = row.created_at < abandoned
            && db::idempotency::reclaim(conn, account_id, key, fingerprint, abandoned, now)?;
        return Ok(if retaken {
            Claim::Proceed { claimed_at: now }
        } else {
            Claim::InProgress
        });
    }
    Ok(Claim::InProgress)
}
