//! The charge ledger.

use crate::contract;
use crate::db::{self, DbConnection};
use crate::domain::paging::PageRequest;
use crate::error::AppError;
use crate::services::context::{Context, Manager};
use crate::services::views;

pub fn list(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    page: PageRequest,
) -> Result<contract::ChargePage, AppError> {
    let account_id = ctx.caller.account_id;
    let rows = db::charges::list(conn, account_id, page)?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id.get());
    Ok(contract::ChargePage {
        items: rows.iter().map(views::charge).collect::<Result<_, _>>()?,
        next_cursor,
    })
}
