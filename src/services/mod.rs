//! Use-cases. Each public function runs in one transaction (opened here, never
//! in repositories) and returns contract types or an `AppError`.

pub mod accounts;
pub mod bootstrap;
pub mod charges;
pub mod expiry;
pub mod groups;
pub mod invitation_admin;
pub mod invite;
pub mod invitee;
pub mod licenses;
pub mod licensing;
pub mod sessions;
pub mod users;
pub mod views;

use chrono::NaiveDateTime;

use crate::db::{self, DbConnection, accounts::AccountRow};
use crate::error::AppError;

/// First step of every account-scoped write: take the account lock, then record
/// any invitation that expired since the last look (releasing its license), so
/// every rule below sees current licenses even before the sweeper runs.
pub fn lock_account(
    conn: &mut DbConnection,
    account_id: i64,
    now: NaiveDateTime,
) -> Result<AccountRow, AppError> {
    if !db::accounts::lock(conn, account_id)? {
        return Err(AppError::NotFound);
    }
    expiry::expire_overdue(conn, account_id, now)?;
    db::accounts::find(conn, account_id)?.ok_or(AppError::NotFound)
}
