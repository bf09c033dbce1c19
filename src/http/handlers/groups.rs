use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};

use crate::contract::Problem;
use crate::error::AppError;
use crate::http::extract::{JsonBody, JsonFields};
use crate::http::handlers::paths::{AccountPath, GroupPath};
use crate::http::handlers::{created, json};
use crate::http::openapi::{Manage, ManageWrite};
use crate::http::state::AppState;
use crate::services::context::{Context, Manager};
use crate::{contract, services};

/// List the account's groups
#[utoipa::path(
    operation_id = "list_groups",
    tag = "groups",
    params(AccountPath),
    responses((status = 200, description = "Every group, oldest first", body = contract::GroupList), Manage),
    security(("bearer" = []))
)]
#[get("/accounts/{account_id}/groups")]
pub async fn list_groups(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
) -> Result<HttpResponse, AppError> {
    let groups = state
        .db(move |conn| services::groups::list(conn, &ctx))
        .await?;
    Ok(json(StatusCode::OK, &groups))
}

/// Create a group
#[utoipa::path(
    operation_id = "create_group",
    tag = "groups",
    params(AccountPath),
    request_body = contract::GroupRequest,
    responses(
        (status = 201, description = "Created", body = contract::Group,
            headers(("Location" = String, description = "URL of the group"))),
        (status = 409, description = "`group_name_taken` (names are unique per account, case-insensitively)",
            body = Problem, content_type = "application/problem+json"),
        ManageWrite
    ),
    security(("bearer" = []))
)]
#[post("/accounts/{account_id}/groups")]
pub async fn create_group(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
    request: JsonBody<contract::GroupRequest>,
) -> Result<HttpResponse, AppError> {
    let account_id = ctx.caller.account_id;
    let request = request.parse()?;
    let group = state
        .db(move |conn| services::groups::create(conn, &ctx, &request))
        .await?;
    Ok(created(
        &format!("/accounts/{account_id}/groups/{}", group.id),
        &group,
    ))
}

/// Read one group
#[utoipa::path(
    operation_id = "get_group",
    tag = "groups",
    params(GroupPath),
    responses((status = 200, description = "The group", body = contract::Group), Manage),
    security(("bearer" = []))
)]
#[get("/accounts/{account_id}/groups/{group_id}")]
pub async fn get_group(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
    path: web::Path<GroupPath>,
) -> Result<HttpResponse, AppError> {
    let group_id = path.group_id;
    let group = state
        .db(move |conn| services::groups::get(conn, &ctx, group_id))
        .await?;
    Ok(json(StatusCode::OK, &group))
}

/// Rename a group
///
/// `name` is required (it is the only thing a group has to change), trimmed,
/// 1–100 characters. A group may take another spelling of its own name; the
/// name of another group of the account, in any case, is `409 group_name_taken`.
#[utoipa::path(
    operation_id = "update_group",
    tag = "groups",
    params(GroupPath),
    request_body = contract::GroupRequest,
    responses(
        (status = 200, description = "The group, renamed", body = contract::Group),
        (status = 409, description = "`group_name_taken` (names are unique per account, case-insensitively)",
            body = Problem, content_type = "application/problem+json"),
        ManageWrite
    ),
    security(("bearer" = []))
)]
#[patch("/accounts/{account_id}/groups/{group_id}")]
pub async fn update_group(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
    path: web::Path<GroupPath>,
    request: JsonFields<contract::GroupRequest>,
) -> Result<HttpResponse, AppError> {
    let group_id = path.group_id;
    let request = request.parse()?;
    let group = state
        .db(move |conn| services::groups::rename(conn, &ctx, group_id, &request))
        .await?;
    Ok(json(StatusCode::OK, &group))
}

/// Delete a group
///
/// Its members stay, without this group; invitations that named it no longer
/// do (an invitation accepted later does not join it).
#[utoipa::path(
    operation_id = "delete_group",
    tag = "groups",
    params(GroupPath),
    responses((status = 204, description = "Deleted; no body"), Manage),
    security(("bearer" = []))
)]
#[delete("/accounts/{account_id}/groups/{group_id}")]
pub async fn delete_group(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
    path: web::Path<GroupPath>,
) -> Result<HttpResponse, AppError> {
    let group_id = path.group_id;
    state
        .db(move |conn| services::groups::delete(conn, &ctx, group_id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
