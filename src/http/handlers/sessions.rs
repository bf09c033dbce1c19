use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};

use crate::contract;
use crate::error::AppError;
use crate::http::extract::JsonBody;
use crate::http::gate::TokenEndpointQuota;
use crate::http::handlers::json_no_store;
use crate::http::openapi::PublicWrite;
use crate::http::state::AppState;
use crate::services;
use crate::services::context::{Anonymous, Context};

/// Sign in with email and password
///
/// Wrong email, wrong password and disabled users all answer the same
/// `401 invalid_credentials`, taking the same time. Password checks run at
/// most one per core, with a short queue: a burst beyond it is answered
/// `503 unavailable` with `Retry-After`.
#[utoipa::path(
    operation_id = "create_session",
    tag = "sessions",
    request_body = contract::SessionRequest,
    responses(
        (status = 200, description = "Signed in", body = contract::SessionGrant),
        (status = 401, description = "`invalid_credentials`", body = crate::contract::Problem, content_type = "application/problem+json"),
        PublicWrite
    )
)]
#[post("/sessions")]
pub async fn create_session(
    _quota: TokenEndpointQuota,
    state: web::Data<AppState>,
    ctx: Context<Anonymous>,
    request: JsonBody<contract::SessionRequest>,
) -> Result<HttpResponse, AppError> {
    let request = request.parse()?;
    let app = state.clone();
    let grant = state
        .passwords
        .run(move || services::sessions::sign_in(&app.pool, &ctx, &app.jwt, &request))
        .await?;
    Ok(json_no_store(StatusCode::OK, &grant))
}
