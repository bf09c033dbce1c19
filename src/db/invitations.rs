//! Invitations and their group links.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{invitation_groups, invitations};
use crate::domain::invitation::InvitationStatus;
use crate::domain::paging::PageRequest;

#[derive(Debug, Clone, Queryable)]
pub struct InvitationRow {
    pub id: i64,
    pub account_id: i64,
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
    pub invited_by_user_id: i64,
    pub accepted_user_id: Option<i64>,
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
    pub account_id: i64,
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
    pub invited_by_user_id: i64,
    pub send_count: i32,
    pub last_sent_at: Option<NaiveDateTime>,
    pub delivery: &'a str,
    pub license_type: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewInvitation<'_>) -> QueryResult<InvitationRow> {
    diesel::insert_into(invitations::table)
        .values(new)
        .get_result(conn)
}

pub fn link_groups(
    conn: &mut DbConnection,
    invitation_id: i64,
    group_ids: &[i64],
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
    invitation_ids: &[i64],
) -> QueryResult<Vec<(i64, i64)>> {
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
    account_id: i64,
    id: i64,
) -> QueryResult<Option<InvitationRow>> {
    invitations::table
        .find(id)
        .filter(invitations::account_id.eq(account_id))
        .first(conn)
        .optional()
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
    account_id: i64,
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

/// One page, newest first, of the rows matching `$filter`: a static query (so
/// PostgreSQL plans it once per connection) whose filter and `id` order are
/// both served by one index.
macro_rules! page_of {
    ($conn:expr, $page:expr, $filter:expr) => {
        invitations::table
            .filter($filter)
            .filter(invitations::id.lt($page.before_id.unwrap_or(i64::MAX)))
            .order(invitations::id.desc())
            .limit($page.limit + 1)
            .load::<InvitationRow>($conn)
    };
}

/// Newest first, `limit + 1` rows. The status filter uses the status a client sees:
/// a pending row past its expiry counts as expired.
pub fn list(
    conn: &mut DbConnection,
    account_id: i64,
    status: Option<InvitationStatus>,
    email_normalized: Option<&str>,
    page: PageRequest,
    now: NaiveDateTime,
) -> QueryResult<Vec<InvitationRow>> {
    use invitations::{
        account_id as account, email_normalized as email, expires_at, status as stored,
    };
    let pending = InvitationStatus::Pending.as_str();
    match (status, email_normalized) {
        (None, None) => page_of!(conn, page, account.eq(account_id)),
        (None, Some(e)) => page_of!(conn, page, account.eq(account_id).and(email.eq(e))),
        (Some(InvitationStatus::Pending), None) => page_of!(
            conn,
            page,
            account
                .eq(account_id)
                .and(stored.eq(pending))
                .and(expires_at.gt(now))
        ),
        (Some(InvitationStatus::Pending), Some(e)) => page_of!(
            conn,
            page,
            account
                .eq(account_id)
                .and(email.eq(e))
                .and(stored.eq(pending))
                .and(expires_at.gt(now))
        ),
        // Stored as expired, or pending past its expiry (not yet recorded):
        // two index-ordered pages merged, never one OR that would need a sort.
        (Some(InvitationStatus::Expired), e) => {
            let expired = InvitationStatus::Expired.as_str();
            let (recorded, overdue) = match e {
                None => (
                    page_of!(conn, page, account.eq(account_id).and(stored.eq(expired)))?,
                    page_of!(
                        conn,
                        page,
                        account
                            .eq(account_id)
                            .and(stored.eq(pending))
                            .and(expires_at.le(now))
                    )?,
                ),
                Some(e) => (
                    page_of!(
                        conn,
                        page,
                        account
                            .eq(account_id)
                            .and(email.eq(e))
                            .and(stored.eq(expired))
                    )?,
                    page_of!(
                        conn,
                        page,
                        account
                            .eq(account_id)
                            .and(email.eq(e))
                            .and(stored.eq(pending))
                            .and(expires_at.le(now))
                    )?,
                ),
            };
            let mut rows = recorded;
            rows.extend(overdue);
            rows.sort_unstable_by_key(|r| std::cmp::Reverse(r.id));
            rows.truncate(usize::try_from(page.limit + 1).unwrap_or(usize::MAX));
            Ok(rows)
        }
        (Some(other), None) => page_of!(
            conn,
            page,
            account.eq(account_id).and(stored.eq(other.as_str()))
        ),
        (Some(other), Some(e)) => page_of!(
            conn,
            page,
            account
                .eq(account_id)
                .and(email.eq(e))
                .and(stored.eq(other.as_str()))
        ),
    }
}

pub fn set_status(
    conn: &mut DbConnection,
    id: i64,
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
    id: i64,
    user_id: i64,
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
    id: i64,
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
            invitations::delivery.eq("queued"),
            invitations::updated_at.eq(now),
        ))
        .get_result(conn)
}

/// Locks these invitations' rows until the end of the transaction, in id
/// order. On SQLite the write transaction already excludes every other writer.
pub fn lock_rows(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<()> {
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
            .load::<i64>(pg)
            .map(|_| ()),
        DbConnection::Sqlite(_) => Ok(()),
    }
}

pub fn set_delivery(conn: &mut DbConnection, id: i64, delivery: &str) -> QueryResult<()> {
    diesel::update(invitations::table.find(id))
        .set(invitations::delivery.eq(delivery))
        .execute(conn)
        .map(|_| ())
}

/// Marks the account's pending invitations whose expiry has passed as expired,
/// returning their `(id, email)` (in the common case, none: one index probe).
pub fn expire_overdue(
    conn: &mut DbConnection,
    account_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<(i64, String)>> {
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
) -> QueryResult<Vec<i64>> {
    invitations::table
        .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
        .filter(invitations::expires_at.le(now))
        .select(invitations::account_id)
        .distinct()
        .limit(limit)
        .load(conn)
}

/// The account's pending invitations sent by `user_id`, oldest first.
pub fn pending_sent_by(
    conn: &mut DbConnection,
    account_id: i64,
    user_id: i64,
) -> QueryResult<Vec<InvitationRow>> {
    invitations::table
        .filter(invitations::account_id.eq(account_id))
        .filter(invitations::invited_by_user_id.eq(user_id))
        .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
        .order(invitations::id.asc())
        .load(conn)
}
