use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};

use crate::error::{AppError, Problem};
use crate::http::extract::{Auth, JsonFields};
use crate::http::handlers::json;
use crate::http::openapi::{Manage, ManageWrite};
use crate::http::state::AppState;
use crate::{contract, services};

/// List the account's webhook endpoints
///
/// Secrets are not shown again after creation.
#[utoipa::path(
    operation_id = "list_webhooks",
    tag = "webhooks",
    params(("account_id" = i64, Path, description = "Account id")),
    responses((status = 200, description = "Every endpoint", body = contract::WebhookEndpointList), Manage),
    security(("bearer" = []))
)]
#[get("/accounts/{account_id}/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    Auth(principal): Auth,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let account_id = path.into_inner();
    let list = state
        .db(move |conn| services::webhooks::list(conn, &principal, account_id))
        .await?;
    Ok(json(StatusCode::OK, &list))
}

/// Add a webhook endpoint
///
/// Events (`invitation.created`, `.accepted`, `.declined`, `.revoked`,
/// `.expired`, `user.disabled`, `user.enabled`) are POSTed from an outbox,
/// retried with backoff until the endpoint answers 2xx, and signed with the
/// secret returned here (once). Payloads never contain invitation tokens.
///
/// A `url` whose host is, or resolves to, a loopback, private, link-local
/// (incl. metadata), unique-local, CGNAT or unspecified address is a `422`
/// field error `private_address`; every delivery checks the address it
/// connects to again, and redirects are not followed.
#[utoipa::path(
    operation_id = "create_webhook",
    tag = "webhooks",
    params(("account_id" = i64, Path, description = "Account id")),
    request_body = contract::WebhookRequest,
    responses(
        (status = 201, description = "Created; `secret` is shown this once", body = contract::WebhookEndpoint),
        (status = 409, description = "`too_many_webhooks` (at most 10 per account)", body = Problem,
            content_type = "application/problem+json"),
        ManageWrite
    ),
    security(("bearer" = []))
)]
#[post("/accounts/{account_id}/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    Auth(principal): Auth,
    path: web::Path<i64>,
    request: JsonFields<contract::WebhookRequest>,
) -> Result<HttpResponse, AppError> {
    let account_id = path.into_inner();
    principal.manager_of(account_id)?;
    let request = request.parse()?;
    let destination = services::webhooks::destination_error(&request.value, &state.config).await;
    let clock = state.clock.clone();
    let endpoint = state
        .db(move |conn| {
            services::webhooks::create(conn, &principal, account_id, &request, destination, &clock)
        })
        .await?;
    Ok(json(StatusCode::CREATED, &endpoint))
}

/// Remove a webhook endpoint
///
/// Deliveries still queued for it are dropped.
#[utoipa::path(
    operation_id = "delete_webhook",
    tag = "webhooks",
    params(("account_id" = i64, Path, description = "Account id"), ("webhook_id" = i64, Path, description = "Webhook endpoint id")),
    responses((status = 204, description = "Removed"), Manage),
    security(("bearer" = []))
)]
#[delete("/accounts/{account_id}/webhooks/{webhook_id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    Auth(principal): Auth,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (account_id, webhook_id) = path.into_inner();
    let clock = state.clock.clone();
    state
        .db(move |conn| {
            services::webhooks::delete(conn, &principal, account_id, webhook_id, &clock)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
