//! Firm members.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{group_memberships, users};
use crate::domain::access::{Role, SubscriberType, UserStatus};
use crate::domain::ids::{AccountId, GroupId, UserId};
use crate::domain::paging::PageRequest;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable)]
pub struct UserRow {
    pub id: UserId,
    pub account_id: AccountId,
    pub email: String,
    pub email_normalized: String,
    pub first_name: String,
    pub last_name: String,
    pub password_hash: String,
    pub role: String,
    pub subscriber_type: String,
    pub permissions: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl UserRow {
    pub fn role(&self) -> Result<Role, AppError> {
        Ok(Role::from_db(&self.role)?)
    }

    pub fn subscriber_type(&self) -> Result<SubscriberType, AppError> {
        Ok(SubscriberType::from_db(&self.subscriber_type)?)
    }

    pub fn status(&self) -> Result<UserStatus, AppError> {
        Ok(UserStatus::from_db(&self.status)?)
    }

    pub fn full_name(&self) -> String {
        crate::domain::name::full_name(&self.first_name, &self.last_name)
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub account_id: AccountId,
    pub email: &'a str,
    pub email_normalized: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub subscriber_type: &'a str,
    pub permissions: &'a str,
    pub status: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewUser<'_>) -> QueryResult<UserRow> {
    diesel::insert_into(users::table)
        .values(new)
        .get_result(conn)
}

pub fn find(conn: &mut DbConnection, id: UserId) -> QueryResult<Option<UserRow>> {
    users::table.find(id).first(conn).optional()
}

pub fn find_in_account(
    conn: &mut DbConnection,
    account_id: AccountId,
    id: UserId,
) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .filter(users::account_id.eq(account_id))
        .first(conn)
        .optional()
}

/// The account's users with these ids (any order), in one statement.
pub fn find_many_in_account(
    conn: &mut DbConnection,
    account_id: AccountId,
    ids: &[UserId],
) -> QueryResult<Vec<UserRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    users::table
        .filter(users::id.eq_any(ids))
        .filter(users::account_id.eq(account_id))
        .load(conn)
}

pub fn find_by_email(conn: &mut DbConnection, normalized: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email_normalized.eq(normalized))
        .first(conn)
        .optional()
}

pub fn find_many(conn: &mut DbConnection, ids: &[UserId]) -> QueryResult<Vec<UserRow>> {
    users::table.filter(users::id.eq_any(ids)).load(conn)
}

/// The account's users of this email (at most one: emails are unique).
pub fn find_in_account_by_email(
    conn: &mut DbConnection,
    account_id: AccountId,
    normalized: &str,
) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email_normalized.eq(normalized))
        .filter(users::account_id.eq(account_id))
        .first(conn)
        .optional()
}

/// Oldest first from `offset`: a SCIM page (`users_account_idx`).
pub fn page_by_offset(
    conn: &mut DbConnection,
    account_id: AccountId,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<UserRow>> {
    users::table
        .filter(users::account_id.eq(account_id))
        .order((users::account_id.asc(), users::id.asc()))
        .offset(offset)
        .limit(limit)
        .load(conn)
}

/// How many users the account has (SCIM's `totalResults`).
pub fn count_in_account(conn: &mut DbConnection, account_id: AccountId) -> QueryResult<i64> {
    users::table
        .filter(users::account_id.eq(account_id))
        .count()
        .get_result(conn)
}

/// Every user of the account, oldest first (SCIM filters evaluated in memory).
pub fn all_in_account(conn: &mut DbConnection, account_id: AccountId) -> QueryResult<Vec<UserRow>> {
    users::table
        .filter(users::account_id.eq(account_id))
        .order((users::account_id.asc(), users::id.asc()))
        .load(conn)
}

/// The account's users who belong to at least one group, oldest first.
pub fn in_any_group(conn: &mut DbConnection, account_id: AccountId) -> QueryResult<Vec<UserRow>> {
    users::table
        .filter(users::account_id.eq(account_id))
        .filter(diesel::dsl::exists(
            group_memberships::table.filter(group_memberships::user_id.eq(users::id)),
        ))
        .order((users::account_id.asc(), users::id.asc()))
        .load(conn)
}

/// Newest first, `limit + 1` rows (the extra one tells whether there is a next page).
pub fn list(
    conn: &mut DbConnection,
    account_id: AccountId,
    status: Option<UserStatus>,
    page: PageRequest,
) -> QueryResult<Vec<UserRow>> {
    // Ordered by the whole key of the matching index (account, [status,] id),
    // an order the primary key cannot give, so PostgreSQL never walks it
    // through every newer row of every tenant instead.
    let before = page.before_id.unwrap_or(i64::MAX);
    let limit = page.limit + 1;
    match status {
        None => users::table
            .filter(users::account_id.eq(account_id))
            .filter(users::id.lt(before))
            .order((users::account_id.desc(), users::id.desc()))
            .limit(limit)
            .load(conn),
        Some(status) => users::table
            .filter(users::account_id.eq(account_id))
            .filter(users::status.eq(status.as_str()))
            .filter(users::id.lt(before))
            .order((
                users::account_id.desc(),
                users::status.desc(),
                users::id.desc(),
            ))
            .limit(limit)
            .load(conn),
    }
}

pub fn set_status(
    conn: &mut DbConnection,
    id: UserId,
    status: UserStatus,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((users::status.eq(status.as_str()), users::updated_at.eq(now)))
        .execute(conn)
        .map(|_| ())
}

/// Columns to change; `None` leaves a column as it is.
#[derive(AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges<'a> {
    pub role: Option<&'a str>,
    pub permissions: Option<&'a str>,
    pub updated_at: NaiveDateTime,
}

pub fn update(conn: &mut DbConnection, id: UserId, changes: &UserChanges<'_>) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(changes)
        .execute(conn)
        .map(|_| ())
}

/// Makes the user a member of exactly these groups.
pub fn replace_groups(
    conn: &mut DbConnection,
    user_id: UserId,
    group_ids: &[GroupId],
) -> QueryResult<()> {
    diesel::delete(group_memberships::table.filter(group_memberships::user_id.eq(user_id)))
        .execute(conn)?;
    add_to_groups(conn, user_id, group_ids)
}

pub fn add_to_groups(
    conn: &mut DbConnection,
    user_id: UserId,
    group_ids: &[GroupId],
) -> QueryResult<()> {
    for group_id in group_ids {
        diesel::insert_into(group_memberships::table)
            .values((
                group_memberships::group_id.eq(*group_id),
                group_memberships::user_id.eq(user_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The members of a group (on the memberships' `(group_id, user_id)` key).
pub fn ids_in_group(conn: &mut DbConnection, group_id: GroupId) -> QueryResult<Vec<UserId>> {
    group_memberships::table
        .filter(group_memberships::group_id.eq(group_id))
        .select(group_memberships::user_id)
        .order(group_memberships::user_id.asc())
        .load(conn)
}

/// `(user_id, group_id)` pairs for the given users, ordered by group id.
pub fn group_ids_of(
    conn: &mut DbConnection,
    user_ids: &[UserId],
) -> QueryResult<Vec<(UserId, GroupId)>> {
    group_memberships::table
        .filter(group_memberships::user_id.eq_any(user_ids))
        .select((group_memberships::user_id, group_memberships::group_id))
        .order(group_memberships::group_id.asc())
        .load(conn)
}
