//! The charge ledger: append-only. An amount is `Money` here and two columns
//! in the table (`amount_cents` + `currency`), joined and split at this boundary.

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::deserialize::{self, Queryable};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::charges;
use crate::domain::ids::{AccountId, ChargeId, InvitationId, UserId};
use crate::domain::money::{Currency, Money};
use crate::domain::paging::PageRequest;

/// A ledger line. Loaded through `ChargeColumns` (the table's columns in order).
#[derive(Debug, Clone)]
pub struct ChargeRow {
    pub id: ChargeId,
    pub account_id: AccountId,
    pub amount: Money,
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

/// A `charges` row as stored, the amount in two columns: what `ChargeRow` is
/// loaded through (public only as its `Queryable::Row`).
#[derive(Queryable)]
pub struct ChargeColumns {
    id: ChargeId,
    account_id: AccountId,
    amount_cents: i64,
    currency: Currency,
    license_type: String,
    quantity: i32,
    reason: String,
    invitation_id: Option<InvitationId>,
    user_id: Option<UserId>,
    period_start: NaiveDateTime,
    period_end: NaiveDateTime,
    seconds_remaining: i64,
    created_at: NaiveDateTime,
}

impl<ST, DB> Queryable<ST, DB> for ChargeRow
where
    DB: Backend,
    ChargeColumns: Queryable<ST, DB>,
{
    type Row = <ChargeColumns as Queryable<ST, DB>>::Row;

    fn build(row: Self::Row) -> deserialize::Result<Self> {
        let c = ChargeColumns::build(row)?;
        Ok(ChargeRow {
            id: c.id,
            account_id: c.account_id,
            amount: Money::new(c.amount_cents, c.currency),
            license_type: c.license_type,
            quantity: c.quantity,
            reason: c.reason,
            invitation_id: c.invitation_id,
            user_id: c.user_id,
            period_start: c.period_start,
            period_end: c.period_end,
            seconds_remaining: c.seconds_remaining,
            created_at: c.created_at,
        })
    }
}

pub struct NewCharge<'a> {
    pub account_id: AccountId,
    /// The whole line's amount (all `quantity` licenses).
    pub amount: Money,
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

/// A `NewCharge` as its columns.
#[derive(Insertable)]
#[diesel(table_name = charges)]
struct NewChargeColumns<'a> {
    account_id: AccountId,
    amount_cents: i64,
    currency: Currency,
    license_type: &'a str,
    quantity: i32,
    reason: &'a str,
    invitation_id: Option<InvitationId>,
    user_id: Option<UserId>,
    period_start: NaiveDateTime,
    period_end: NaiveDateTime,
    seconds_remaining: i64,
    created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewCharge<'_>) -> QueryResult<ChargeRow> {
    diesel::insert_into(charges::table)
        .values(&NewChargeColumns {
            account_id: new.account_id,
            amount_cents: new.amount.cents(),
            currency: new.amount.currency(),
            license_type: new.license_type,
            quantity: new.quantity,
            reason: new.reason,
            invitation_id: new.invitation_id,
            user_id: new.user_id,
            period_start: new.period_start,
            period_end: new.period_end,
            seconds_remaining: new.seconds_remaining,
            created_at: new.created_at,
        })
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
