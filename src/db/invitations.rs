//! Invitations and their group links.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{invitation_groups, invitations, users};
use crate::domain::access::UserStatus;
use crate::domain::ids::{AccountId, GroupId, InvitationId, UserId};
use crate::domain::invitation::{Delivery, InvitationStatus};
use crate::domain::paging::PageRequest;

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
    diesel::insert_into(invitations::table)
        .values(new)
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

/// A row of a list as one statement reads it: the invitation, its inviter's
/// name, and the caller's role if the caller is an active member of the
/// account (the same on every row; `None` otherwise), so that a page costs no
/// separate round trip for the caller or the names.
pub struct ListedRow {
    pub invitation: InvitationRow,
    pub inviter_name: String,
    pub caller_role: Option<String>,
}

type ListedColumns = (
    InvitationRow,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl From<ListedColumns> for ListedRow {
    fn from((invitation, first, last, caller_role): ListedColumns) -> Self {
        let inviter_name = match (first, last) {
            (Some(first), Some(last)) => format!("{first} {last}").trim().to_owned(),
            _ => String::new(),
        };
        ListedRow {
            invitation,
            inviter_name,
            caller_role,
        }
    }
}

/// Invitations joined to their inviter, selecting `ListedColumns` for
/// `$caller` in `$account` (an uncorrelated subselect: evaluated once).
macro_rules! listed {
    ($account:expr, $caller:expr) => {{
        let inviter = diesel::alias!(users as inviter);
        let caller_role = users::table
            .filter(users::id.eq($caller))
            .filter(users::account_id.eq($account))
            .filter(users::status.eq(UserStatus::Active.as_str()))
            .select(users::role)
            .single_value();
        invitations::table
            .left_join(inviter.on(inviter.field(users::id).eq(invitations::invited_by_user_id)))
            .select((
                invitations::all_columns,
                inviter.field(users::first_name).nullable(),
                inviter.field(users::last_name).nullable(),
                caller_role,
            ))
    }};
}

/// One page, newest first, of the rows matching `$filter`, ordered by the whole
/// key of the index that serves it (`$order`, ending in `id`): a static query
/// (planned once per connection) whose order only that index gives, so
/// PostgreSQL never walks the primary key through every newer row of every
/// tenant instead.
macro_rules! page_of {
    ($conn:expr, $page:expr, $account:expr, $caller:expr, $filter:expr, $order:expr) => {
        match $page.before_id {
            None => listed!($account, $caller)
                .filter($filter)
                .order($order)
                .limit($page.limit + 1)
                .load::<ListedColumns>($conn),
            // `(account_id, id) < (account, cursor)`, a condition only the
            // account's indexes can serve: `id < cursor` alone lets PostgreSQL
            // walk the primary key back from the cursor through every tenant.
            Some(before) => listed!($account, $caller)
                .filter($filter)
                .filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>(
                        "(invitations.account_id, invitations.id) < (",
                    )
                    .bind::<diesel::sql_types::BigInt, _>($account)
                    .sql(", ")
                    .bind::<diesel::sql_types::BigInt, _>(before)
                    .sql(")"),
                )
                .order($order)
                .limit($page.limit + 1)
                .load::<ListedColumns>($conn),
        }
        .map(|rows| rows.into_iter().map(ListedRow::from).collect())
    };
}

/// Who lists: the caller's id, and the account listed.
#[derive(Clone, Copy)]
pub struct Lister {
    pub account_id: AccountId,
    pub caller_id: UserId,
}

/// One page of rows stored with `stored` status (any when `None`), of one
/// email when given: the four static queries, each on the index that serves
/// its filter and order.
fn stored_page(
    conn: &mut DbConnection,
    lister: Lister,
    stored: Option<&str>,
    email_normalized: Option<&str>,
    page: PageRequest,
) -> QueryResult<Vec<ListedRow>> {
    use invitations::{account_id as account, email_normalized as email, id, status};
    let Lister {
        account_id,
        caller_id,
    } = lister;
    match (stored, email_normalized) {
        (None, None) => page_of!(
            conn,
            page,
            account_id,
            caller_id,
            account.eq(account_id),
            (account.desc(), id.desc())
        ),
        (None, Some(e)) => page_of!(
            conn,
            page,
            account_id,
            caller_id,
            account.eq(account_id).and(email.eq(e)),
            (account.desc(), email.desc(), id.desc())
        ),
        (Some(s), None) => page_of!(
            conn,
            page,
            account_id,
            caller_id,
            account.eq(account_id).and(status.eq(s)),
            (account.desc(), status.desc(), id.desc())
        ),
        (Some(s), Some(e)) => page_of!(
            conn,
            page,
            account_id,
            caller_id,
            account.eq(account_id).and(email.eq(e)).and(status.eq(s)),
            (account.desc(), email.desc(), id.desc())
        ),
    }
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

/// Newest first, `limit + 1` rows. The status filter uses the status a client sees:
/// a pending row past its expiry counts as expired.
pub fn list(
    conn: &mut DbConnection,
    lister: Lister,
    status: Option<InvitationStatus>,
    email_normalized: Option<&str>,
    page: PageRequest,
    now: NaiveDateTime,
) -> QueryResult<Vec<ListedRow>> {
    use invitations::{account_id as account, expires_at, id, status as stored};
    let account_id = lister.account_id;
    let pending = InvitationStatus::Pending.as_str();
    let page_size = usize::try_from(page.limit + 1).unwrap_or(usize::MAX);
    match status {
        // Stored as pending, minus those past their expiry that no write or
        // sweep has recorded yet (a handful at most, counted on the overdue
        // index): the page asks for that many more rows and drops them here,
        // so its SQL names no expiry that would lure SQLite onto the overdue
        // index and a sort of every pending invitation.
        Some(InvitationStatus::Pending) => {
            let overdue: i64 = invitations::table
                .filter(account.eq(account_id))
                .filter(stored.eq(pending))
                .filter(expires_at.le(now))
                .count()
                .get_result(conn)?;
            let widened = PageRequest {
                limit: page.limit + overdue,
                ..page
            };
            let mut rows = stored_page(conn, lister, Some(pending), email_normalized, widened)?;
            rows.retain(|row| row.invitation.expires_at > now);
            rows.truncate(page_size);
            Ok(rows)
        }
        // Stored as expired (a page on the status index), plus those pending
        // past their expiry that no write or sweep has recorded yet: a handful
        // at most, read whole on the overdue index. Merged here, never one OR
        // that would need a sort of every expired invitation.
        Some(InvitationStatus::Expired) => {
            let overdue = listed!(account_id, lister.caller_id)
                .filter(account.eq(account_id))
                .filter(stored.eq(pending))
                .filter(expires_at.le(now))
                .filter(id.lt(page.before_id.unwrap_or(i64::MAX)))
                .load::<ListedColumns>(conn)?
                .into_iter()
                .map(ListedRow::from)
                .filter(|row| {
                    email_normalized.is_none_or(|e| row.invitation.email_normalized == e)
                });
            let expired = InvitationStatus::Expired.as_str();
            let mut rows = stored_page(conn, lister, Some(expired), email_normalized, page)?;
            rows.extend(overdue);
            rows.sort_unstable_by_key(|r| std::cmp::Reverse(r.invitation.id));
            rows.truncate(page_size);
            Ok(rows)
        }
        other => stored_page(
            conn,
            lister,
            other.map(InvitationStatus::as_str),
            email_normalized,
            page,
        ),
    }
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
