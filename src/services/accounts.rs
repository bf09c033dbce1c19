//! Reading an account.

use chrono::NaiveDateTime;

use crate::auth::Principal;
use crate::contract;
use crate::db::{self, DbConnection};
use crate::error::AppError;
use crate::services::views;

pub fn get(
    conn: &mut DbConnection,
    principal: &Principal,
    account_id: i64,
    now: NaiveDateTime,
) -> Result<contract::Account, AppError> {
    principal.member_of(account_id)?;
    let account = db::accounts::find(conn, account_id)?.ok_or(AppError::NotFound)?;
    views::account(conn, &account, now)
}
