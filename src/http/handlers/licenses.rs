use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};

use crate::error::AppError;
use crate::http::extract::{Auth, JsonFields, PageParams, QueryParams};
use crate::http::handlers::json;
use crate::http::openapi::{Manage, ManageList, ManageWrite};
use crate::http::state::AppState;
use crate::{contract, services};

/// License summary per type
///
/// For each license type of the account: price, and how many licenses are
/// open, reserved (by pending invitations) and assigned (to active users).
#[utoipa::path(
    operation_id = "get_license_summary",
    tag = "licenses",
    params(("account_id" = i64, Path, description = "Account id")),
    responses((status = 200, description = "Counts per type", body = contract::LicenseSummary), Manage),
    security(("bearer" = []))
)]
#[get("/accounts/{account_id}/licenses")]
pub async fn get_license_summary(
    state: web::Data<AppState>,
    Auth(principal): Auth,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let account_id = path.into_inner();
    let clock = state.clock.clone();
    let summary = state
        .db(move |conn| services::licenses::summary(conn, &principal, account_id, &clock))
        .await?;
    Ok(json(StatusCode::OK, &summary))
}

/// Buy licenses
///
/// Adds `quantity` open licenses and records one charge line for all of them:
/// `quantity` × the prorated price of one license for the rest of the period.
#[utoipa::path(
    operation_id = "buy_licenses",
    tag = "licenses",
    params(("account_id" = i64, Path, description = "Account id")),
    request_body = contract::BuyLicensesRequest,
    responses((status = 201, description = "Bought", body = contract::LicensePurchase), ManageWrite),
    security(("bearer" = []))
)]
#[post("/accounts/{account_id}/licenses")]
pub async fn buy_licenses(
    state: web::Data<AppState>,
    Auth(principal): Auth,
    path: web::Path<i64>,
    request: JsonFields<contract::BuyLicensesRequest>,
) -> Result<HttpResponse, AppError> {
    let account_id = path.into_inner();
    principal.manager_of(account_id)?;
    let request = request.parse()?;
    let clock = state.clock.clone();
    let purchase = state
        .db(move |conn| services::licenses::buy(conn, &principal, account_id, &request, &clock))
        .await?;
    Ok(json(StatusCode::CREATED, &purchase))
}

/// The charge ledger, newest first
#[utoipa::path(
    operation_id = "list_charges",
    tag = "licenses",
    params(("account_id" = i64, Path, description = "Account id"), PageParams),
    responses((status = 200, description = "One page", body = contract::ChargePage), ManageList),
    security(("bearer" = []))
)]
#[get("/accounts/{account_id}/charges")]
pub async fn list_charges(
    state: web::Data<AppState>,
    Auth(principal): Auth,
    path: web::Path<i64>,
    page: QueryParams<PageParams>,
) -> Result<HttpResponse, AppError> {
    let account_id = path.into_inner();
    principal.manager_of(account_id)?;
    let page = page.page()?;
    let charges = state
        .db(move |conn| services::charges::list(conn, &principal, account_id, page))
        .await?;
    Ok(json(StatusCode::OK, &charges))
}
