//! Accounts (firms) and their per-license-type prices.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{accounts, invitations, license_prices, users, webhook_endpoints};
use crate::domain::access::UserStatus;
use crate::domain::billing::{BillingSystem, LicenseType, Plan};
use crate::domain::ids::{AccountId, UserId};
use crate::domain::invitation::InvitationStatus;
use crate::domain::money::{Currency, Money};
use crate::domain::period::{BillingPeriod, period_containing};
use crate::error::AppError;

#[derive(Debug, Clone, Queryable)]
pub struct AccountRow {
    pub id: AccountId,
    pub name: String,
    pub billing_system: String,
    pub plan: String,
    pub currency: Currency,
    pub period_anchor: NaiveDateTime,
    pub lock_version: i64,
    pub created_at: NaiveDateTime,
}

impl AccountRow {
    pub fn billing_system(&self) -> Result<BillingSystem, AppError> {
        Ok(BillingSystem::from_db(&self.billing_system)?)
    }

    pub fn plan(&self) -> Result<Plan, AppError> {
        Ok(Plan::from_db(&self.plan)?)
    }

    pub fn period_at(&self, now: NaiveDateTime) -> Result<BillingPeriod, AppError> {
        Ok(period_containing(self.period_anchor, self.plan()?, now))
    }
}

#[derive(Insertable)]
#[diesel(table_name = accounts)]
pub struct NewAccount<'a> {
    pub name: &'a str,
    pub billing_system: &'a str,
    pub plan: &'a str,
    pub currency: Currency,
    pub period_anchor: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewAccount<'_>) -> QueryResult<AccountRow> {
    diesel::insert_into(accounts::table)
        .values(new)
        .get_result(conn)
}

pub fn find(conn: &mut DbConnection, id: AccountId) -> QueryResult<Option<AccountRow>> {
    accounts::table.find(id).first(conn).optional()
}

/// Takes the account's write lock for the rest of the transaction (a row lock on
/// PostgreSQL, the database write lock on SQLite) and returns the account as it
/// is under the lock. `None` if the account is unknown.
pub fn lock(conn: &mut DbConnection, id: AccountId) -> QueryResult<Option<AccountRow>> {
    diesel::update(accounts::table.find(id))
        .set(accounts::lock_version.eq(accounts::lock_version + 1))
        .returning(accounts::all_columns)
        .get_result(conn)
        .optional()
}

/// The caller of a write as seen under the account lock.
#[derive(Debug, Clone)]
pub struct LockedCaller {
    /// `None` unless the user is an active member of the account.
    pub role: Option<String>,
    pub name: Option<String>,
    /// Whether a pending invitation of the account expires by the horizon
    /// given to `lock_for_caller`.
    pub expiring: bool,
    /// Whether the account has any webhook endpoint (they are added and
    /// removed under the account lock, so this holds until the commit).
    pub webhooks: bool,
}

/// `lock`, and in the same statement the caller's role and name if the caller
/// is an active member of the account, and whether any pending invitation
/// expires by `horizon`, and whether it has webhook endpoints (one round trip
/// for all four).
pub fn lock_for_caller(
    conn: &mut DbConnection,
    id: AccountId,
    caller_id: UserId,
    horizon: NaiveDateTime,
) -> QueryResult<Option<(AccountRow, LockedCaller)>> {
    let caller = || {
        users::table
            .filter(users::id.eq(caller_id))
            .filter(users::account_id.eq(id))
            .filter(users::status.eq(UserStatus::Active.as_str()))
    };
    diesel::update(accounts::table.find(id))
        .set(accounts::lock_version.eq(accounts::lock_version + 1))
        .returning((
            accounts::all_columns,
            caller().select(users::role).single_value(),
            caller()
                .select(users::first_name.concat(" ").concat(users::last_name))
                .single_value(),
            diesel::dsl::exists(
                invitations::table
                    .filter(invitations::account_id.eq(id))
                    .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
                    .filter(invitations::expires_at.le(horizon)),
            ),
            diesel::dsl::exists(
                webhook_endpoints::table.filter(webhook_endpoints::account_id.eq(id)),
            ),
        ))
        .get_result::<(AccountRow, Option<String>, Option<String>, bool, bool)>(conn)
        .optional()
        .map(|locked| {
            locked.map(|(account, role, name, expiring, webhooks)| {
                let name = name.map(|n| n.trim().to_owned());
                (
                    account,
                    LockedCaller {
                        role,
                        name,
                        expiring,
                        webhooks,
                    },
                )
            })
        })
}

/// Sets the account's price for a license type. Prices are stored as cents
/// in the account's currency: a price in any other currency is refused.
pub fn insert_price(
    conn: &mut DbConnection,
    account: &AccountRow,
    license_type: LicenseType,
    price: Money,
) -> Result<(), AppError> {
    if price.currency() != account.currency {
        return Err(AppError::internal(format!(
            "a {} price for a {} account",
            price.currency(),
            account.currency
        )));
    }
    diesel::insert_into(license_prices::table)
        .values((
            license_prices::account_id.eq(account.id),
            license_prices::license_type.eq(license_type.as_str()),
            license_prices::price_cents.eq(price.cents()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Prices per license type, in the order of the account's license types, in
/// the account's currency.
pub fn prices(conn: &mut DbConnection, account: &AccountRow) -> QueryResult<Vec<(String, Money)>> {
    let prices: Vec<(String, i64)> = license_prices::table
        .filter(license_prices::account_id.eq(account.id))
        .select((license_prices::license_type, license_prices::price_cents))
        .order(license_prices::license_type.asc())
        .load(conn)?;
    Ok(prices
        .into_iter()
        .map(|(license_type, cents)| (license_type, Money::new(cents, account.currency)))
        .collect())
}

/// The account's price for a license type, in the account's currency.
pub fn price_of(
    conn: &mut DbConnection,
    account: &AccountRow,
    license_type: LicenseType,
) -> QueryResult<Option<Money>> {
    license_prices::table
        .filter(license_prices::account_id.eq(account.id))
        .filter(license_prices::license_type.eq(license_type.as_str()))
        .select(license_prices::price_cents)
        .first(conn)
        .optional()
        .map(|cents| cents.map(|cents| Money::new(cents, account.currency)))
}
