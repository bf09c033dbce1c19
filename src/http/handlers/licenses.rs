use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};

use crate::error::AppError;
use crate::http::extract::{JsonFields, PageParams, QueryParams};
use crate::http::handlers::json;
use crate::http::handlers::paths::AccountPath;
use crate::http::openapi::{Manage, ManageList, ManageWrite};
use crate::http::state::AppState;
use crate::services::context::{Context, Manager};
use crate::{contract, services};

/// License summary per type
///
/// For each license type of the account: price, and how many licenses are
/// open, reserved (by pending invitations) and assigned (to active users).
#[utoipa::path(
    operation_id = "get_license_summary",
    tag = "licenses",
    params(AccountPath),
    responses((status = 200, description = "Counts per type", body = contract::LicenseSummary), Manage),
    security(("bearer" = []))
)]
#[get("/accounts/{account_id}/licenses")]
pub async fn get_license_summary(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
) -> Result<HttpResponse, AppError> {
    let summary = state
        .db(move |conn| services::licenses::summary(conn, &ctx))
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
    params(AccountPath),
    request_body = contract::BuyLicensesRequest,
    responses((status = 201, description = "Bought", body = contract::LicensePurchase), ManageWrite),
    security(("bearer" = []))
)]
#[post("/accounts/{account_id}/licenses")]
pub async fn buy_licenses(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
    request: JsonFields<contract::BuyLicensesRequest>,
) -> Result<HttpResponse, AppError> {
    let request = request.parse()?;
    let purchase = state
        .db(move |conn| services::licenses::buy(conn, &ctx, &request))
        .await?;
    Ok(json(StatusCode::CREATED, &purchase))
}

/// The charge ledger, newest first
#[utoipa::path(
    operation_id = "list_charges",
    tag = "licenses",
    params(AccountPath, PageParams),
    responses((status = 200, description = "One page", body = contract::ChargePage), ManageList),
    security(("bearer" = []))
)]
#[get("/accounts/{account_id}/charges")]
pub async fn list_charges(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
    page: QueryParams<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = page.page()?;
    let charges = state
        .db(move |conn| services::charges::list(conn, &ctx, page))
        .await?;
    Ok(json(StatusCode::OK, &charges))
}
