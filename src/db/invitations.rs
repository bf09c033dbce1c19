//! Invitations and their group links.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::prepared::Prepared;
use super::schema::{invitation_groups, invitations};
use crate::domain::ids::{AccountId, GroupId, InvitationId, UserId};
use crate::domain::invitation::{Delivery, InvitationStatus};

#[derive(Debug, Clone, Queryable)]
pub struct InvitationRow {
    pub id: InvitationId,
    pub account_id: AccountId,
    pub email: String,
    pub email_normalized: String,
    pub role: String,
    pub subscriber_type: Option<String>,
    pub permissions: String,
    pub message: Option<String>,
    pub status: String,
    pub token_hash: String,
    pub expires_in_days: i32,
    pub expires_at: NaiveDateTime,
    pub invited_by_user_id: UserId,
    pub accepted_user_id: Option<UserId>,
    pub send_count: i32,
    pub last_sent_at: Option<NaiveDateTime>,
    pub delivery: String,
    pub license_type: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = invitations)]
pub struct NewInvitation<'a> {
    pub account_id: AccountId,
    pub email: &'a str,
    pub email_normalized: &'a str,
    pub role: &'a str,
    pub subscriber_type: Option<&'a str>,
    pub permissions: &'a str,
    pub message: Option<&'a str>,
    pub status: &'a str,
    pub token_hash: &'a str,
    pub expires_in_days: i32,
    pub expires_at: NaiveDateTime,
    pub invited_by_user_id: UserId,
    pub send_count: i32,
    pub last_sent_at: Option<NaiveDateTime>,
    pub delivery: &'a str,
    pub license_type: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewInvitation<'_>) -> QueryResult<InvitationRow> {
    Prepared(
        diesel::insert_into(invitations::table)
            .values(new)
            .returning(invitations::all_columns),
    )
    .get_result(conn)
}

pub fn link_groups(
    conn: &mut DbConnection,
    invitation_id: InvitationId,
    group_ids: &[GroupId],
) -> QueryResult<()> {
    for group_id in group_ids {
        diesel::insert_into(invitation_groups::table)
            .values((
                invitation_groups::invitation_id.eq(invitation_id),
                invitation_groups::group_id.eq(*group_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// `(invitation_id, group_id)` pairs, ordered by group id.
pub fn group_ids_of(
    conn: &mut DbConnection,
    invitation_ids: &[InvitationId],
) -> QueryResult<Vec<(InvitationId, GroupId)>> {
    invitation_groups::table
        .filter(invitation_groups::invitation_id.eq_any(invitation_ids))
        .select((
            invitation_groups::invitation_id,
            invitation_groups::group_id,
        ))
        .order(invitation_groups::group_id.asc())
        .load(conn)
}

pub fn find_in_account(
    conn: &mut DbConnection,
    account_id: AccountId,
    id: InvitationId,
) -> QueryResult<Option<InvitationRow>> {
    invitations::table
        .find(id)
        .filter(invitations::account_id.eq(account_id))
        .first(conn)
        .optional()
}

/// The account's invitations with these ids (any order), in one statement.
pub fn find_many_in_account(
    conn: &mut DbConnection,
    account_id: AccountId,
    ids: &[InvitationId],
) -> QueryResult<Vec<InvitationRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    invitations::table
        .filter(invitations::id.eq_any(ids))
        .filter(invitations::account_id.eq(account_id))
        .load(conn)
}

pub fn find_by_token_hash(
    conn: &mut DbConnection,
    hash: &str,
) -> QueryResult<Option<InvitationRow>> {
    invitations::table
        .filter(invitations::token_hash.eq(hash))
        .first(conn)
        .optional()
}

/// The live pending invitation for an email (stored as pending and not yet expired).
pub fn find_pending_for_email(
    conn: &mut DbConnection,
    account_id: AccountId,
    email_normalized: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<InvitationRow>> {
    invitations::table
        .filter(invitations::account_id.eq(account_id))
        .filter(invitations::email_normalized.eq(email_normalized))
        .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
        .filter(invitations::expires_at.gt(now))
        .first(conn)
        .optional()
}

/// Stored as pending, oldest first from `offset`: a SCIM page
/// (`invitations_account_status_idx`). Those past their expiry that no sweep
/// has recorded yet are among them (a person until the sweep).
pub fn pending_page_by_offset(
    conn: &mut DbConnection,
    account_id: AccountId,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<InvitationRow>> {
    invitations::table
        .filter(invitations::account_id.eq(account_id))
        .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
        .order((
            invitations::account_id.asc(),
            invitations::status.asc(),
            invitations::id.asc(),
        ))
        .offset(offset)
        .limit(limit)
        .load(conn)
}

/// How many invitations are stored as pending (SCIM's `totalResults`).
pub fn count_pending(conn: &mut DbConnection, account_id: AccountId) -> QueryResult<i64> {
    invitations::table
        .filter(invitations::account_id.eq(account_id))
        .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
        .count()
        .get_result(conn)
}

/// Every invitation stored as pending, oldest first (SCIM filters evaluated in memory).
pub fn all_pending(
    conn: &mut DbConnection,
    account_id: AccountId,
) -> QueryResult<Vec<InvitationRow>> {
    pending_page_by_offset(conn, account_id, 0, i64::MAX)
}

/// The invitation stored as pending for an email, expired or not.
pub fn find_stored_pending_for_email(
    conn: &mut DbConnection,
    account_id: AccountId,
    email_normalized: &str,
) -> QueryResult<Option<InvitationRow>> {
    invitations::table
        .filter(invitations::account_id.eq(account_id))
        .filter(invitations::email_normalized.eq(email_normalized))
        .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
        .first(conn)
        .optional()
}

/// The invitations these users accepted (`invitations_accepted_user_idx`).
pub fn accepted_by(
    conn: &mut DbConnection,
    account_id: AccountId,
    user_ids: &[UserId],
) -> QueryResult<Vec<InvitationRow>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    // The account is checked on the rows: named in the SQL, it would lure
    // SQLite (which has no statistics) onto an index of the whole account.
    Ok(invitations::table
        .filter(invitations::accepted_user_id.eq_any(user_ids))
        .load::<InvitationRow>(conn)?
        .into_iter()
        .filter(|i| i.account_id == account_id)
        .collect())
}

pub fn set_status(
    conn: &mut DbConnection,
    id: InvitationId,
    status: InvitationStatus,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(invitations::table.find(id))
        .set((
            invitations::status.eq(status.as_str()),
            invitations::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn mark_accepted(
    conn: &mut DbConnection,
    id: InvitationId,
    user_id: UserId,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(invitations::table.find(id))
        .set((
            invitations::status.eq(InvitationStatus::Accepted.as_str()),
            invitations::accepted_user_id.eq(Some(user_id)),
            invitations::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A new token and expiry, one more send, delivery queued again; pending again if it had expired.
pub fn reissue(
    conn: &mut DbConnection,
    id: InvitationId,
    token_hash: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<InvitationRow> {
    diesel::update(invitations::table.find(id))
        .set((
            invitations::token_hash.eq(token_hash),
            invitations::status.eq(InvitationStatus::Pending.as_str()),
            invitations::expires_at.eq(expires_at),
            invitations::send_count.eq(invitations::send_count + 1),
            invitations::last_sent_at.eq(Some(now)),
            invitations::delivery.eq(Delivery::Queued.as_str()),
            invitations::updated_at.eq(now),
        ))
        .get_result(conn)
}

/// Locks these invitations' rows until the end of the transaction, in id
/// order. On SQLite the write transaction already excludes every other writer.
pub fn lock_rows(conn: &mut DbConnection, ids: &[InvitationId]) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    match conn {
        DbConnection::Postgres(pg) => invitations::table
            .filter(invitations::id.eq_any(&ids))
            .select(invitations::id)
            .order(invitations::id.asc())
            .for_update()
            .load::<InvitationId>(pg)
            .map(|_| ()),
        DbConnection::Sqlite(_) => Ok(()),
    }
}

pub fn set_delivery_many(
    conn: &mut DbConnection,
    ids: &[InvitationId],
    delivery: Delivery,
) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(invitations::table.filter(invitations::id.eq_any(ids)))
        .set(invitations::delivery.eq(delivery.as_str()))
        .execute(conn)
        .map(|_| ())
}

pub fn set_delivery(
    conn: &mut DbConnection,
    id: InvitationId,
    delivery: Delivery,
) -> QueryResult<()> {
    diesel::update(invitations::table.find(id))
        .set(invitations::delivery.eq(delivery.as_str()))
        .execute(conn)
        .map(|_| ())
}

/// Marks the account's pending invitations whose expiry has passed as expired,
/// returning their `(id, email)` (in the common case, none: one index probe).
pub fn expire_overdue(
    conn: &mut DbConnection,
    account_id: AccountId,
    now: NaiveDateTime,
) -> QueryResult<Vec<(InvitationId, String)>> {
    diesel::update(
        invitations::table
            .filter(invitations::account_id.eq(account_id))
            .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
            .filter(invitations::expires_at.le(now)),
    )
    .set((
        invitations::status.eq(InvitationStatus::Expired.as_str()),
        invitations::updated_at.eq(now),
    ))
    .returning((invitations::id, invitations::email))
    .get_results(conn)
}

/// Accounts that have overdue pending invitations (for the sweeper).
pub fn accounts_with_overdue(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<AccountId>> {
    // In expiry order on the pending-expiry index, de-duplicated here: a
    // DISTINCT would make SQLite read every pending invitation of every account.
    let mut accounts: Vec<AccountId> = invitations::table
        .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
        .filter(invitations::expires_at.le(now))
        .select(invitations::account_id)
        .order(invitations::expires_at.asc())
        .limit(limit)
        .load(conn)?;
    let mut seen = std::collections::HashSet::new();
    accounts.retain(|account| seen.insert(*account));
    Ok(accounts)
}

/// The account's pending invitations sent by `user_id`, oldest first.
pub fn pending_sent_by(
    conn: &mut DbConnection,
    account_id: AccountId,
    user_id: UserId,
) -> QueryResult<Vec<InvitationRow>> {
    invitations::table
        .filter(invitations::account_id.eq(account_id))
        .filter(invitations::invited_by_user_id.eq(user_id))
        .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
        .order(invitations::id.asc())
        .load(conn)
}
