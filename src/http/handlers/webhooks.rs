use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};

use crate::contract::Problem;
use crate::error::AppError;
use crate::http::extract::JsonFields;
use crate::http::handlers::paths::{AccountPath, WebhookPath};
use crate::http::handlers::{json, json_no_store};
use crate::http::idempotency::ReplayBody;
use crate::http::openapi::{Manage, ManageWrite};
use crate::http::state::AppState;
use crate::services::context::{Context, Manager};
use crate::{contract, services};

/// List the account's webhook endpoints
///
/// Secrets are not shown again after creation.
#[utoipa::path(
    operation_id = "list_webhooks",
    tag = "webhooks",
    params(AccountPath),
    responses((status = 200, description = "Every endpoint", body = contract::WebhookEndpointList), Manage),
    security(("bearer" = []))
)]
#[get("/accounts/{account_id}/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
) -> Result<HttpResponse, AppError> {
    let list = state
        .db(move |conn| services::webhooks::list(conn, &ctx))
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
///
/// With an `Idempotency-Key` the answer is stored without `secret`: a retry
/// with the same key gets the same endpoint (`201`, `Idempotent-Replayed:
/// true`) without its secret, never a second endpoint. A client that lost the
/// first answer deletes that endpoint and creates it again under a new key.
#[utoipa::path(
    operation_id = "create_webhook",
    tag = "webhooks",
    params(AccountPath),
    request_body = contract::WebhookRequest,
    responses(
        (status = 201, description = "Created; `secret` is shown this once (a replay under an Idempotency-Key has no `secret`)", body = contract::WebhookEndpoint,
            headers(("Cache-Control" = String, description = "`no-store`: it carries the signing secret"))),
        (status = 409, description = "`too_many_webhooks` (at most 10 per account)", body = Problem,
            content_type = "application/problem+json"),
        ManageWrite
    ),
    security(("bearer" = []))
)]
#[post("/accounts/{account_id}/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
    request: JsonFields<contract::WebhookRequest>,
) -> Result<HttpResponse, AppError> {
    let request = request.parse()?;
    let destination = services::webhooks::destination_error(&request.value, &state.config).await;
    let endpoint = state
        .db(move |conn| services::webhooks::create(conn, &ctx, &request, destination))
        .await?;
    // Under an Idempotency-Key the answer is kept without the secret: a retry
    // gets the same endpoint, and the secret is never stored a second time.
    let replay = serde_json::to_string(&endpoint.without_secret())
        .map_err(|e| AppError::internal(format!("cannot serialise a webhook endpoint: {e}")))?;
    let mut response = json_no_store(StatusCode::CREATED, &endpoint);
    response.extensions_mut().insert(ReplayBody(replay));
    Ok(response)
}

/// Remove a webhook endpoint
///
/// Deliveries still queued for it are dropped.
#[utoipa::path(
    operation_id = "delete_webhook",
    tag = "webhooks",
    params(WebhookPath),
    responses((status = 204, description = "Removed"), Manage),
    security(("bearer" = []))
)]
#[delete("/accounts/{account_id}/webhooks/{webhook_id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
    path: web::Path<WebhookPath>,
) -> Result<HttpResponse, AppError> {
    let webhook_id = path.webhook_id;
    state
        .db(move |conn| services::webhooks::delete(conn, &ctx, webhook_id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
