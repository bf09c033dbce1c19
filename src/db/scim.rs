//! SCIM provisioning: the account's directory tokens (hashed) and the SCIM
//! id of each person a directory provisioned.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{scim_tokens as tokens, scim_users};
use crate::domain::ids::{AccountId, InvitationId, ScimTokenId, ScimUserId, UserId};

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
