//! Stored first responses for `Idempotency-Key`. Statements run one by one
//! (no transaction): the primary key decides who was first.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::idempotency_keys as keys;
use crate::domain::ids::AccountId;
use crate::error::is_unique_violation;

/// `status` of a key whose request committed but whose answer is not stored
/// yet (or was lost with its process): never replayed, never run again.
pub const COMMITTED: i32 = 0;

/// The key the current request claimed.
#[derive(Debug, Clone)]
pub struct ClaimRef {
    pub account_id: AccountId,
    pub key: String,
    pub claimed_at: NaiveDateTime,
}

/// Inside the transaction of the request holding `claim`: mark it committed.
pub fn mark_committed(conn: &mut DbConnection, claim: &ClaimRef) -> QueryResult<()> {
    diesel::update(
        keys::table
            .find((claim.account_id, &claim.key))
            .filter(keys::created_at.eq(claim.claimed_at))
            .filter(keys::status.is_null()),
    )
    .set(keys::status.eq(Some(COMMITTED)))
    .execute(conn)
    .map(|_| ())
}

#[derive(Debug, Clone, Queryable)]
pub struct KeyRow {
    pub account_id: AccountId,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub status: Option<i32>,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Option<String>,
    pub created_at: NaiveDateTime,
}

/// `true` if this call claimed the key; `false` if a row exists already.
pub fn claim(
    conn: &mut DbConnection,
    account_id: AccountId,
    key: &str,
    fingerprint: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(keys::table)
        .values((
            keys::account_id.eq(account_id),
            keys::idempotency_key.eq(key),
            keys::fingerprint.eq(fingerprint),
            keys::created_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn find(
    conn: &mut DbConnection,
    account_id: AccountId,
    key: &str,
) -> QueryResult<Option<KeyRow>> {
    keys::table.find((account_id, key)).first(conn).optional()
}

/// Takes over a row that is `stale` (created before `stale_before`): the
/// condition is in the UPDATE, so of two retries racing only one wins it.
pub fn reclaim(
    conn: &mut DbConnection,
    account_id: AccountId,
    key: &str,
    fingerprint: &str,
    stale_before: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        keys::table
            .find((account_id, key))
            .filter(keys::created_at.lt(stale_before)),
    )
    .set((
        keys::fingerprint.eq(fingerprint),
        keys::status.eq(None::<i32>),
        keys::content_type.eq(None::<String>),
        keys::location.eq(None::<String>),
        keys::body.eq(None::<String>),
        keys::created_at.eq(now),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Stores the response of the claim made at `claimed_at` (0 rows if that
/// claim was taken over meanwhile).
#[expect(
    clippy::too_many_arguments,
    reason = "one stored response has this many parts"
)]
pub fn complete(
    conn: &mut DbConnection,
    account_id: AccountId,
    key: &str,
    claimed_at: NaiveDateTime,
    status: i32,
    content_type: Option<&str>,
    location: Option<&str>,
    body: &str,
) -> QueryResult<()> {
    diesel::update(
        keys::table
            .find((account_id, key))
            .filter(keys::created_at.eq(claimed_at)),
    )
    .set((
        keys::status.eq(Some(status)),
        keys::content_type.eq(content_type),
        keys::location.eq(location),
        keys::body.eq(Some(body)),
    ))
    .execute(conn)
    .map(|_| ())
}

/// Gives up the claim made at `claimed_at`, so a retry can run.
pub fn release(
    conn: &mut DbConnection,
    account_id: AccountId,
    key: &str,
    claimed_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(
        keys::table
            .find((account_id, key))
            .filter(keys::created_at.eq(claimed_at))
            // A request that committed may not run again, even if it answered 5xx.
            .filter(keys::status.is_null()),
    )
    .execute(conn)
    .map(|_| ())
}

/// Forgets responses older than `before` (the sweeper calls this).
pub fn purge(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(keys::table.filter(keys::created_at.lt(before))).execute(conn)
}
