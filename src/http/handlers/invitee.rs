use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};

use crate::contract;
use crate::error::AppError;
use crate::http::extract::JsonBody;
use crate::http::handlers::json;
use crate::http::openapi::{Invitee, PublicWrite};
use crate::http::state::AppState;
use crate::services;

/// Preview an invitation
///
/// What the invitee sees before answering. Works in every status.
#[utoipa::path(
    operation_id = "preview_invitation",
    tag = "invitee",
    params(("token" = String, Path, description = "The token from the invitation email")),
    responses((status = 200, description = "The invitation", body = contract::InvitationPreview), Invitee)
)]
#[get("/invitations/{token}")]
pub async fn preview_invitation(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let now = state.clock.now();
    let preview = state
        .db(move |conn| services::invitee::preview(conn, &token, now))
        .await?;
    Ok(json(StatusCode::OK, &preview))
}

/// Accept an invitation
///
/// Creates the firm member with the invitation's role, subscriber type,
/// permissions and groups, assigns the reserved license, and signs them in.
#[utoipa::path(
    operation_id = "accept_invitation",
    tag = "invitee",
    params(("token" = String, Path, description = "The token from the invitation email")),
    request_body = contract::AcceptRequest,
    responses(
        (status = 201, description = "Accepted: the new user and a bearer token", body = contract::SessionGrant),
        (status = 409, description = "`invitation_not_pending`, or `email_taken` when the email already belongs to a user",
            body = crate::error::Problem, content_type = "application/problem+json"),
        Invitee,
        PublicWrite
    )
)]
#[post("/invitations/{token}/accept")]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    path: web::Path<String>,
    JsonBody(request): JsonBody<contract::AcceptRequest>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    // Argon2 is slow on purpose: hash before taking any lock.
    let acceptance = web::block(move || services::invitee::prepare_acceptance(&request)).await??;
    let clock = state.clock.clone();
    let app = state.clone();
    let grant = state
        .db(move |conn| {
            services::invitee::accept(conn, &app.config, &app.jwt, &token, &acceptance, &clock)
        })
        .await?;
    Ok(json(StatusCode::CREATED, &grant))
}

/// Decline an invitation
///
/// The invitation's license becomes open. No body is needed.
#[utoipa::path(
    operation_id = "decline_invitation",
    tag = "invitee",
    params(("token" = String, Path, description = "The token from the invitation email")),
    responses((status = 200, description = "Declined", body = contract::InvitationPreview), Invitee)
)]
#[post("/invitations/{token}/decline")]
pub async fn decline_invitation(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let clock = state.clock.clone();
    let preview = state
        .db(move |conn| services::invitee::decline(conn, &token, &clock))
        .await?;
    Ok(json(StatusCode::OK, &preview))
}
