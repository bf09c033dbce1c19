use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};

use crate::contract;
use crate::error::AppError;
use crate::http::handlers::json;
use crate::http::handlers::paths::AccountPath;
use crate::http::openapi::MemberRead;
use crate::http::state::AppState;
use crate::services;
use crate::services::context::{Context, Member};

/// Read the account: plan, billing system, current period, prices
///
/// Any member of the account may read it.
#[utoipa::path(
    operation_id = "get_account",
    tag = "accounts",
    params(AccountPath),
    responses((status = 200, description = "The account", body = contract::Account), MemberRead),
    security(("bearer" = []))
)]
#[get("/accounts/{account_id}")]
pub async fn get_account(
    state: web::Data<AppState>,
    ctx: Context<Member>,
) -> Result<HttpResponse, AppError> {
    let account = state
        .db(move |conn| services::accounts::get(conn, &ctx))
        .await?;
    Ok(json(StatusCode::OK, &account))
}
