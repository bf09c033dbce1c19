use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};

use crate::contract;
use crate::error::AppError;
use crate::http::extract::Auth;
use crate::http::handlers::json;
use crate::http::openapi::MemberRead;
use crate::http::state::AppState;
use crate::services;

/// Read the account: plan, billing system, current period, prices
///
/// Any member of the account may read it.
#[utoipa::path(
    operation_id = "get_account",
    tag = "accounts",
    params(("account_id" = i64, Path, description = "Account id")),
    responses((status = 200, description = "The account", body = contract::Account), MemberRead),
    security(("bearer" = []))
)]
#[get("/accounts/{account_id}")]
pub async fn get_account(
    state: web::Data<AppState>,
    Auth(principal): Auth,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let account_id = path.into_inner();
    let now = state.clock.now();
    let account = state
        .db(move |conn| services::accounts::get(conn, &principal, account_id, now))
        .await?;
    Ok(json(StatusCode::OK, &account))
}
