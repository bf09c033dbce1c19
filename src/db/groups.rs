//! Groups of firm members (names unique per account, case-insensitive).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::firm_groups;
use crate::domain::ids::{AccountId, GroupId};

#[derive(Debug, Clone, Queryable)]
pub struct GroupRow {
    pub id: GroupId,
    pub account_id: AccountId,
    pub name: String,
    pub name_normalized: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(
    conn: &mut DbConnection,
    account_id: AccountId,
    name: &str,
    now: NaiveDateTime,
) -> QueryResult<GroupRow> {
    diesel::insert_into(firm_groups::table)
        .values((
            firm_groups::account_id.eq(account_id),
            firm_groups::name.eq(name),
            firm_groups::name_normalized.eq(name.to_lowercase()),
            firm_groups::created_at.eq(now),
        ))
        .get_result(conn)
}

pub fn list(conn: &mut DbConnection, account_id: AccountId) -> QueryResult<Vec<GroupRow>> {
    firm_groups::table
        .filter(firm_groups::account_id.eq(account_id))
        .order(firm_groups::id.asc())
        .load(conn)
}

pub fn find_in_account(
    conn: &mut DbConnection,
    account_id: AccountId,
    id: GroupId,
) -> QueryResult<Option<GroupRow>> {
    firm_groups::table
        .find(id)
        .filter(firm_groups::account_id.eq(account_id))
        .first(conn)
        .optional()
}

/// A name taken (case-insensitively) by another group of the account is a
/// unique violation.
pub fn rename(conn: &mut DbConnection, id: GroupId, name: &str) -> QueryResult<GroupRow> {
    diesel::update(firm_groups::table.find(id))
        .set((
            firm_groups::name.eq(name),
            firm_groups::name_normalized.eq(name.to_lowercase()),
        ))
        .get_result(conn)
}

/// Deletes the group; the schema deletes its memberships and invitation links.
pub fn delete(conn: &mut DbConnection, id: GroupId) -> QueryResult<()> {
    diesel::delete(firm_groups::table.find(id))
        .execute(conn)
        .map(|_| ())
}

/// Which of `ids` are groups of this account.
pub fn existing_ids(
    conn: &mut DbConnection,
    account_id: AccountId,
    ids: &[GroupId],
) -> QueryResult<Vec<GroupId>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    firm_groups::table
        .filter(firm_groups::account_id.eq(account_id))
        .filter(firm_groups::id.eq_any(ids))
        .select(firm_groups::id)
        .load(conn)
}
