//! Reading an account.

use crate::contract;
use crate::db::{self, DbConnection};
use crate::error::AppError;
use crate::services::context::{Context, Member};
use crate::services::views;

pub fn get(conn: &mut DbConnection, ctx: &Context<Member>) -> Result<contract::Account, AppError> {
    let account = db::accounts::find(conn, ctx.caller.account_id)?.ok_or(AppError::NotFound)?;
    views::account(conn, &account, ctx.now())
}
