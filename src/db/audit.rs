//! The audit trail: append-only.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::prepared::Prepared;
use super::schema::audit_events;
use crate::domain::audit::AuditAction;
use crate::domain::ids::{AccountId, AuditEventId, ScimTokenId, UserId};
use crate::domain::paging::PageRequest;

#[derive(Debug, Clone, Queryable)]
pub struct AuditRow {
    pub id: AuditEventId,
    pub account_id: AccountId,
    pub actor_type: String,
    pub actor_user_id: Option<UserId>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: i64,
    pub details: String,
    pub created_at: NaiveDateTime,
    pub actor_scim_token_id: Option<ScimTokenId>,
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent<'a> {
    pub account_id: AccountId,
    pub actor_type: &'a str,
    pub actor_user_id: Option<UserId>,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: i64,
    pub details: &'a str,
    pub created_at: NaiveDateTime,
    pub actor_scim_token_id: Option<ScimTokenId>,
}

pub fn insert(conn: &mut DbConnection, new: &NewAuditEvent<'_>) -> QueryResult<AuditEventId> {
    Prepared(
        diesel::insert_into(audit_events::table)
            .values(new)
            .returning(audit_events::id),
    )
    .get_result(conn)
}

/// Newest first, `limit + 1` rows.
pub fn list(
    conn: &mut DbConnection,
    account_id: AccountId,
    action: Option<AuditAction>,
    page: PageRequest,
) -> QueryResult<Vec<AuditRow>> {
    // Ordered by the whole key of the matching index (account, [action,] id),
    // an order the primary key cannot give, so PostgreSQL never walks it
    // through every newer row of every tenant instead.
    let before = page.before_id.unwrap_or(i64::MAX);
    let limit = page.limit + 1;
    match action {
        None => audit_events::table
            .filter(audit_events::account_id.eq(account_id))
            .filter(audit_events::id.lt(before))
            .order((audit_events::account_id.desc(), audit_events::id.desc()))
            .limit(limit)
            .load(conn),
        Some(action) => audit_events::table
            .filter(audit_events::account_id.eq(account_id))
            .filter(audit_events::action.eq(action.as_str()))
            .filter(audit_events::id.lt(before))
            .order((
                audit_events::account_id.desc(),
                audit_events::action.desc(),
                audit_events::id.desc(),
            ))
            .limit(limit)
            .load(conn),
    }
}
