//! SCIM provisioning: the account's directory tokens (hashed) and the SCIM
//! id of each person a directory provisioned.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::invitations::InvitationRow;
use super::schema::{invitations, scim_tokens as tokens, scim_users};
use crate::domain::ids::{AccountId, InvitationId, ScimTokenId, ScimUserId, UserId};
use crate::domain::invitation::InvitationStatus;

#[derive(Debug, Clone, Queryable)]
pub struct ScimTokenRow {
    pub id: ScimTokenId,
    pub account_id: AccountId,
    pub created_by_user_id: UserId,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_token(
    conn: &mut DbConnection,
    account_id: AccountId,
    created_by: UserId,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<ScimTokenRow> {
    diesel::insert_into(tokens::table)
        .values((
            tokens::account_id.eq(account_id),
            tokens::created_by_user_id.eq(created_by),
            tokens::token_hash.eq(token_hash),
            tokens::created_at.eq(now),
        ))
        .get_result(conn)
}

pub fn list_tokens(
    conn: &mut DbConnection,
    account_id: AccountId,
) -> QueryResult<Vec<ScimTokenRow>> {
    tokens::table
        .filter(tokens::account_id.eq(account_id))
        .order((tokens::account_id.asc(), tokens::id.asc()))
        .load(conn)
}

pub fn delete_token(
    conn: &mut DbConnection,
    account_id: AccountId,
    id: ScimTokenId,
) -> QueryResult<usize> {
    diesel::delete(
        tokens::table
            .find(id)
            .filter(tokens::account_id.eq(account_id)),
    )
    .execute(conn)
}

pub fn find_token_by_hash(
    conn: &mut DbConnection,
    token_hash: &str,
) -> QueryResult<Option<ScimTokenRow>> {
    tokens::table
        .filter(tokens::token_hash.eq(token_hash))
        .first(conn)
        .optional()
}

#[derive(Debug, Clone, Queryable)]
pub struct ScimUserRow {
    pub id: ScimUserId,
    pub account_id: AccountId,
    pub invitation_id: Option<InvitationId>,
    pub user_id: Option<UserId>,
    pub external_id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub struct NewScimUser<'a> {
    pub account_id: AccountId,
    pub invitation_id: Option<InvitationId>,
    pub user_id: Option<UserId>,
    pub external_id: Option<&'a str>,
    pub given_name: Option<&'a str>,
    pub family_name: Option<&'a str>,
    pub now: NaiveDateTime,
}

pub fn insert_user(conn: &mut DbConnection, new: &NewScimUser<'_>) -> QueryResult<ScimUserRow> {
    diesel::insert_into(scim_users::table)
        .values((
            scim_users::account_id.eq(new.account_id),
            scim_users::invitation_id.eq(new.invitation_id),
            scim_users::user_id.eq(new.user_id),
            scim_users::external_id.eq(new.external_id),
            scim_users::given_name.eq(new.given_name),
            scim_users::family_name.eq(new.family_name),
            scim_users::created_at.eq(new.now),
            scim_users::updated_at.eq(new.now),
        ))
        .get_result(conn)
}

pub fn find_user(
    conn: &mut DbConnection,
    account_id: AccountId,
    id: ScimUserId,
) -> QueryResult<Option<ScimUserRow>> {
    scim_users::table
        .find(id)
        .filter(scim_users::account_id.eq(account_id))
        .first(conn)
        .optional()
}

pub fn list_users(conn: &mut DbConnection, account_id: AccountId) -> QueryResult<Vec<ScimUserRow>> {
    scim_users::table
        .filter(scim_users::account_id.eq(account_id))
        .order((scim_users::account_id.asc(), scim_users::id.asc()))
        .load(conn)
}

/// The person behind the SCIM User now: the invitation (a re-invitation
/// replaces it) and the user (once known).
pub fn set_person(
    conn: &mut DbConnection,
    id: ScimUserId,
    invitation_id: Option<InvitationId>,
    user_id: Option<UserId>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(scim_users::table.find(id))
        .set((
            scim_users::invitation_id.eq(invitation_id),
            scim_users::user_id.eq(user_id),
            scim_users::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn set_attributes(
    conn: &mut DbConnection,
    id: ScimUserId,
    external_id: Option<&str>,
    given_name: Option<&str>,
    family_name: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(scim_users::table.find(id))
        .set((
            scim_users::external_id.eq(external_id),
            scim_users::given_name.eq(given_name),
            scim_users::family_name.eq(family_name),
            scim_users::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

// ------------------------------------------------------------ people of the account

/// The SCIM Users of these users, by `user_id`.
pub fn find_by_user_ids(
    conn: &mut DbConnection,
    account_id: AccountId,
    user_ids: &[UserId],
) -> QueryResult<Vec<ScimUserRow>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    scim_users::table
        .filter(scim_users::user_id.eq_any(user_ids))
        .filter(scim_users::account_id.eq(account_id))
        .load(conn)
}

/// The SCIM Users of these invitations, by `invitation_id`.
pub fn find_by_invitation_ids(
    conn: &mut DbConnection,
    account_id: AccountId,
    invitation_ids: &[InvitationId],
) -> QueryResult<Vec<ScimUserRow>> {
    if invitation_ids.is_empty() {
        return Ok(Vec::new());
    }
    scim_users::table
        .filter(scim_users::invitation_id.eq_any(invitation_ids))
        .filter(scim_users::account_id.eq(account_id))
        .load(conn)
}

/// `filter=externalId eq "…"` (case-exact).
pub fn find_by_external_id(
    conn: &mut DbConnection,
    account_id: AccountId,
    external_id: &str,
) -> QueryResult<Vec<ScimUserRow>> {
    scim_users::table
        .filter(scim_users::account_id.eq(account_id))
        .filter(scim_users::external_id.eq(external_id))
        .order((
            scim_users::account_id.asc(),
            scim_users::external_id.asc(),
            scim_users::id.asc(),
        ))
        .load(conn)
}

/// Invitation statuses of a SCIM User that is neither a user nor a pending
/// invitation ("retired"): deactivated through SCIM, or its invitation was
/// revoked, declined or expired.
fn retired() -> [&'static str; 3] {
    [
        InvitationStatus::Revoked.as_str(),
        InvitationStatus::Declined.as_str(),
        InvitationStatus::Expired.as_str(),
    ]
}

/// Retired SCIM Users in id order, `offset` and `limit` as a page asks
/// (on `scim_users_account_unlinked_idx`, each with its invitation by key).
pub fn retired_page(
    conn: &mut DbConnection,
    account_id: AccountId,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<(ScimUserRow, InvitationRow)>> {
    scim_users::table
        .inner_join(invitations::table)
        .filter(scim_users::account_id.eq(account_id))
        .filter(scim_users::user_id.is_null())
        .filter(invitations::status.eq_any(retired()))
        .order((scim_users::account_id.asc(), scim_users::id.asc()))
        .offset(offset)
        .limit(limit)
        .select((scim_users::all_columns, invitations::all_columns))
        .load(conn)
}

pub fn count_retired(conn: &mut DbConnection, account_id: AccountId) -> QueryResult<i64> {
    scim_users::table
        .inner_join(invitations::table)
        .filter(scim_users::account_id.eq(account_id))
        .filter(scim_users::user_id.is_null())
        .filter(invitations::status.eq_any(retired()))
        .count()
        .get_result(conn)
}

/// Retired SCIM Users of this email, newest first (on the invitations'
/// `(account_id, email_normalized, id)` index).
pub fn retired_for_email(
    conn: &mut DbConnection,
    account_id: AccountId,
    email_normalized: &str,
) -> QueryResult<Vec<(ScimUserRow, InvitationRow)>> {
    scim_users::table
        .inner_join(invitations::table)
        .filter(invitations::account_id.eq(account_id))
        .filter(invitations::email_normalized.eq(email_normalized))
        .filter(scim_users::user_id.is_null())
        .filter(invitations::status.eq_any(retired()))
        .order(scim_users::id.desc())
        .select((scim_users::all_columns, invitations::all_columns))
        .load(conn)
}

/// Gives a person its SCIM User row unless it has one (by its invitation or
/// its user): two first sightings at once make one row. Then read the row.
pub fn adopt(conn: &mut DbConnection, new: &NewScimUser<'_>) -> QueryResult<()> {
    let values = (
        scim_users::account_id.eq(new.account_id),
        scim_users::invitation_id.eq(new.invitation_id),
        scim_users::user_id.eq(new.user_id),
        scim_users::external_id.eq(new.external_id),
        scim_users::given_name.eq(new.given_name),
        scim_users::family_name.eq(new.family_name),
        scim_users::created_at.eq(new.now),
        scim_users::updated_at.eq(new.now),
    );
    match conn {
        DbConnection::Postgres(pg) => diesel::insert_into(scim_users::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(pg),
        DbConnection::Sqlite(lite) => diesel::insert_into(scim_users::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(lite),
    }
    .map(|_| ())
}

/// The user a SCIM User's invitation became.
pub fn set_user(
    conn: &mut DbConnection,
    id: ScimUserId,
    user_id: UserId,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(scim_users::table.find(id))
        .set((
            scim_users::user_id.eq(user_id),
            scim_users::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}
