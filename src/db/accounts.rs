//! Accounts (firms) and their per-license-type prices.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{accounts, license_prices};
use crate::domain::billing::{BillingSystem, LicenseType, Plan};
use crate::domain::ids::{AccountId, UserId};
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

/// The statement that takes account `$id`'s write lock (bumping its
/// `lock_version`) and returns `$returning`, kept prepared.
macro_rules! locking_update {
    ($id:expr, $returning:expr) => {
        $crate::db::prepared::Prepared(
            diesel::update($crate::db::schema::accounts::table.find($id))
                .set(
                    $crate::db::schema::accounts::lock_version
                        .eq($crate::db::schema::accounts::lock_version + 1),
                )
                .returning($returning),
        )
    };
}
pub(crate) use locking_update;

/// Takes the account's write lock for the rest of the transaction (a row lock on
/// PostgreSQL, the database write lock on SQLite) and returns the account as it
/// is under the lock. `None` if the account is unknown.
pub fn lock(conn: &mut DbConnection, id: AccountId) -> QueryResult<Option<AccountRow>> {
    locking_update!(id, accounts::all_columns)
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
    /// Whether what the locking statement read is what the lock guards. On
    /// PostgreSQL a statement reads from a snapshot taken when it starts; if
    /// it then waited for the lock, what the holder committed meanwhile is
    /// not in what it read (only the locked row itself is current). Every
    /// lock bumps `lock_version`, so the version the statement read beside
    /// the one it wrote tells: one apart, nobody committed under the lock in
    /// between. (SQLite takes the write lock when the transaction begins: always current.)
    pub current: bool,
}

/// The columns a locking statement returns beside the account: the caller's
/// role and name if the caller is an active member of the account, whether
/// any pending invitation expires by the horizon, whether the account has
/// webhook endpoints, and the account's `lock_version` as the statement's
/// snapshot has it (see `LockedCaller::current`). Shared by every statement
/// that takes the lock for a caller.
macro_rules! locked_caller_columns {
    ($id:expr, $caller_id:expr, $horizon:expr) => {{
        use $crate::db::schema::{accounts, invitations, users, webhook_endpoints};
        let (id, caller_id, horizon) = ($id, $caller_id, $horizon);
        let caller = || {
            users::table
                .filter(users::id.eq(caller_id))
                .filter(users::account_id.eq(id))
                .filter(users::status.eq($crate::domain::access::UserStatus::Active.as_str()))
        };
        (
            caller().select(users::role).single_value(),
            caller()
                .select(users::first_name.concat(" ").concat(users::last_name))
                .single_value(),
            diesel::dsl::exists(
                invitations::table
                    .filter(invitations::account_id.eq(id))
                    .filter(
                        invitations::status
                            .eq($crate::domain::invitation::InvitationStatus::Pending.as_str()),
                    )
                    .filter(invitations::expires_at.le(horizon)),
            ),
            diesel::dsl::exists(
                webhook_endpoints::table.filter(webhook_endpoints::account_id.eq(id)),
            ),
            {
                // An alias: a bare `accounts` would be the updated row itself.
                let seen = diesel::alias!(accounts as seen_account);
                seen.filter(seen.field(accounts::id).eq(id))
                    .select(seen.field(accounts::lock_version))
                    .single_value()
            },
        )
    }};
}
pub(crate) use locked_caller_columns;

/// What `locked_caller_columns!` returns.
pub type LockedCallerColumns = (Option<String>, Option<String>, bool, bool, Option<i64>);

impl LockedCaller {
    pub fn read(account: &AccountRow, columns: LockedCallerColumns) -> Self {
        let (role, name, expiring, webhooks, seen_version) = columns;
        LockedCaller {
            role,
            name: name.map(|n| n.trim().to_owned()),
            expiring,
            webhooks,
            // 1 on PostgreSQL (the snapshot has the version before this
            // statement's bump); SQLite may show the bumped one.
            current: seen_version.is_some_and(|seen| matches!(account.lock_version - seen, 0 | 1)),
        }
    }
}

/// `lock`, and in the same statement what `locked_caller_columns!` reads
/// (one round trip for all of it).
pub fn lock_for_caller(
    conn: &mut DbConnection,
    id: AccountId,
    caller_id: UserId,
    horizon: NaiveDateTime,
) -> QueryResult<Option<(AccountRow, LockedCaller)>> {
    locking_update!(
        id,
        (
            accounts::all_columns,
            locked_caller_columns!(id, caller_id, horizon),
        )
    )
    .get_result::<(AccountRow, LockedCallerColumns)>(conn)
    .optional()
    .map(|locked| {
        locked.map(|(account, columns)| {
            let caller = LockedCaller::read(&account, columns);
            (account, caller)
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
