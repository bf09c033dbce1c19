//! The charge ledger: integer cents, append-only.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::charges;
use crate::domain::ids::{AccountId, ChargeId, InvitationId, UserId};
use crate::domain::paging::PageRequest;

#[derive(Debug, Clone, Queryable)]
pub struct ChargeRow {
    pub id: ChargeId,
    pub account_id: AccountId,
    pub amount_cents: i64,
    pub currency: String,
    pub license_type: String,
    pub quantity: i32,
    pub reason: String,
    pub invitation_id: Option<InvitationId>,
    pub user_id: Option<UserId>,
    pub period_start: NaiveDateTime,
    pub period_end: NaiveDateTime,
    pub seconds_remaining: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = charges)]
pub struct NewCharge<'a> {
    pub account_id: AccountId,
    pub amount_cents: i64,
    pub currency: &'a str,
    pub license_type: &'a str,
    pub quantity: i32,
    pub reason: &'a str,
    pub invitation_id: Option<InvitationId>,
    pub user_id: Option<UserId>,
    pub period_start: NaiveDateTime,
    pub period_end: NaiveDateTime,
    pub seconds_remaining: i64,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewCharge<'_>) -> QueryResult<ChargeRow> {
    diesel::insert_into(charges::table)
        .values(new)
        .get_result(conn)
}

pub fn list(
    conn: &mut DbConnection,
    account_id: AccountId,
    page: PageRequest,
) -> QueryResult<Vec<ChargeRow>> {
    // Ordered by (account_id, id), not id alone: the order only the account's
    // index gives, so PostgreSQL never walks the primary key through every
    // newer row of every tenant instead.
    charges::table
        .filter(charges::account_id.eq(account_id))
        .filter(charges::id.lt(page.before_id.unwrap_or(i64::MAX)))
        .order((charges::account_id.desc(), charges::id.desc()))
        .limit(page.limit + 1)
        .load(conn)
}

/// The latest charge each invitation caused.
pub fn latest_for_invitations(
    conn: &mut DbConnection,
    invitation_ids: &[InvitationId],
) -> QueryResult<Vec<ChargeRow>> {
    let rows: Vec<ChargeRow> = charges::table
        .filter(charges::invitation_id.eq_any(invitation_ids))
        .order(charges::id.desc())
        .load(conn)?;
    let mut seen = std::collections::HashSet::new();
    Ok(rows
        .into_iter()
        .filter(|c| c.invitation_id.is_some_and(|id| seen.insert(id)))
        .collect())
}
