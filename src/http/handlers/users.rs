use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::contract::Problem;
use crate::domain::access::UserStatus;
use crate::error::AppError;
use crate::http::extract::{JsonFields, PageParams, QueryParams, both};
use crate::http::handlers::json;
use crate::http::handlers::paths::{AccountPath, UserPath};
use crate::http::openapi::{Manage, ManageList, ManageWrite, MemberRead};
use crate::http::state::AppState;
use crate::services::context::{Context, Manager, Member};
use crate::{contract, services};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Only users with this status.
    pub status: Option<UserStatus>,
}

/// List firm members, newest first
#[utoipa::path(
    operation_id = "list_users",
    tag = "users",
    params(AccountPath, UserListQuery, PageParams),
    responses((status = 200, description = "One page", body = contract::UserPage), ManageList),
    security(("bearer" = []))
)]
#[get("/accounts/{account_id}/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
    query: QueryParams<UserListQuery>,
    page: QueryParams<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (query, page) = both(query.parse(), page.page())?;
    let status = query.status;
    let users = state
        .db(move |conn| services::users::list(conn, &ctx, status, page))
        .await?;
    Ok(json(StatusCode::OK, &users))
}

/// Read one firm member
///
/// Managers may read anyone in the account; any member may read themselves.
#[utoipa::path(
    operation_id = "get_user",
    tag = "users",
    params(UserPath),
    responses((status = 200, description = "The user", body = contract::User), MemberRead),
    security(("bearer" = []))
)]
#[get("/accounts/{account_id}/users/{user_id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    ctx: Context<Member>,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, AppError> {
    let user_id = path.user_id;
    let user = state
        .db(move |conn| services::users::get(conn, &ctx, user_id))
        .await?;
    Ok(json(StatusCode::OK, &user))
}

/// Change a firm member's role, permissions or groups
///
/// Every field is optional: a field that is absent is left unchanged (`{}`
/// changes nothing), `permissions` and `group_ids` replace the whole set.
/// `null` is not "unchanged" but a 422. The primary subscriber's permissions
/// and groups may be changed, their role may not
/// (`409 primary_subscriber_protected`). An unknown user, or another
/// account's, is 404; then every invalid field is listed in one 422; then the
/// 409.
#[utoipa::path(
    operation_id = "update_user",
    tag = "users",
    params(UserPath),
    request_body = contract::UserUpdateRequest,
    responses(
        (status = 200, description = "The user, changed", body = contract::User),
        (status = 409, description = "`primary_subscriber_protected`: the primary subscriber's role cannot be changed",
            body = Problem, content_type = "application/problem+json"),
        ManageWrite
    ),
    security(("bearer" = []))
)]
#[patch("/accounts/{account_id}/users/{user_id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
    path: web::Path<UserPath>,
    request: JsonFields<contract::UserUpdateRequest>,
) -> Result<HttpResponse, AppError> {
    let user_id = path.user_id;
    let request = request.parse()?;
    let user = state
        .db(move |conn| services::users::update(conn, &ctx, user_id, &request))
        .await?;
    Ok(json(StatusCode::OK, &user))
}

/// Disable a firm member
///
/// They can no longer sign in (existing tokens stop working) and their license
/// becomes open. Disabling a disabled user changes nothing. The primary
/// subscriber cannot be disabled (`409 primary_subscriber_protected`).
#[utoipa::path(
    operation_id = "disable_user",
    tag = "users",
    params(UserPath),
    responses(
        (status = 200, description = "The user, disabled", body = contract::User),
        (status = 409, description = "`primary_subscriber_protected`", body = Problem, content_type = "application/problem+json"),
        Manage
    ),
    security(("bearer" = []))
)]
#[post("/accounts/{account_id}/users/{user_id}/disable")]
pub async fn disable_user(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, AppError> {
    let user_id = path.user_id;
    let user = state
        .db(move |conn| services::users::disable(conn, &ctx, user_id))
        .await?;
    Ok(json(StatusCode::OK, &user))
}

/// Enable a firm member
///
/// Needs a license by the same rules as an invite: reuses an open one, or buys
/// one with a prorated charge (`reason: user_enabled`), or answers
/// `409 no_available_license` on classic annual accounts. Enabling an active
/// user changes nothing.
#[utoipa::path(
    operation_id = "enable_user",
    tag = "users",
    params(UserPath),
    responses(
        (status = 200, description = "The user, active", body = contract::User),
        (status = 409, description = "`no_available_license`", body = Problem, content_type = "application/problem+json"),
        Manage
    ),
    security(("bearer" = []))
)]
#[post("/accounts/{account_id}/users/{user_id}/enable")]
pub async fn enable_user(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, AppError> {
    let user_id = path.user_id;
    let user = state
        .db(move |conn| services::users::enable(conn, &ctx, user_id))
        .await?;
    Ok(json(StatusCode::OK, &user))
}
