use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};

use crate::contract;
use crate::error::AppError;
use crate::http::extract::JsonFields;
use crate::http::gate::TokenEndpointQuota;
use crate::http::handlers::json_no_store;
use crate::http::handlers::paths::TokenPath;
use crate::http::openapi::{Invitee, InviteeAccept, InviteePreview};
use crate::http::state::AppState;
use crate::services;
use crate::services::context::{Anonymous, Context};

/// Preview an invitation
///
/// What the invitee sees before answering. Works in every status.
#[utoipa::path(
    operation_id = "preview_invitation",
    tag = "invitee",
    params(TokenPath),
    responses((status = 200, description = "The invitation, in whatever status it is", body = contract::InvitationPreview), InviteePreview)
)]
#[get("/invitations/{token}")]
pub async fn preview_invitation(
    _quota: TokenEndpointQuota,
    state: web::Data<AppState>,
    ctx: Context<Anonymous>,
    path: web::Path<TokenPath>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner().token;
    let preview = state
        .db(move |conn| services::invitee::preview(conn, &ctx, &token))
        .await?;
    Ok(json_no_store(StatusCode::OK, &preview))
}

/// Accept an invitation
///
/// Creates the firm member with the invitation's role, subscriber type,
/// permissions and groups, assigns the reserved license, and signs them in.
#[utoipa::path(
    operation_id = "accept_invitation",
    tag = "invitee",
    params(TokenPath),
    request_body = contract::AcceptRequest,
    responses(
        (status = 201, description = "Accepted: the new user and a bearer token", body = contract::SessionGrant),
        InviteeAccept
    )
)]
#[post("/invitations/{token}/accept")]
pub async fn accept_invitation(
    _quota: TokenEndpointQuota,
    state: web::Data<AppState>,
    ctx: Context<Anonymous>,
    path: web::Path<TokenPath>,
    request: JsonFields<contract::AcceptRequest>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner().token;
    // The token's state first (404, 409, 410), then the body (400, 413, 422);
    // only then Argon2, which is slow on purpose, and before taking any lock.
    let (probe, probe_ctx) = (token.clone(), ctx.with_caller(Anonymous));
    state
        .db(move |conn| services::invitee::check_answerable(conn, &probe_ctx, &probe))
        .await?;
    let request = request.parse()?;
    let acceptance = state
        .passwords
        .run(move || services::invitee::prepare_acceptance(&request))
        .await?;
    let jwt = state.jwt.clone();
    let grant = state
        .db(move |conn| services::invitee::accept(conn, &ctx, &jwt, &token, &acceptance))
        .await?;
    Ok(json_no_store(StatusCode::CREATED, &grant))
}

/// Decline an invitation
///
/// The invitation's license becomes open. No body is needed.
#[utoipa::path(
    operation_id = "decline_invitation",
    tag = "invitee",
    params(TokenPath),
    responses((status = 200, description = "Declined", body = contract::InvitationPreview), Invitee)
)]
#[post("/invitations/{token}/decline")]
pub async fn decline_invitation(
    _quota: TokenEndpointQuota,
    state: web::Data<AppState>,
    ctx: Context<Anonymous>,
    path: web::Path<TokenPath>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner().token;
    let preview = state
        .db(move |conn| services::invitee::decline(conn, &ctx, &token))
        .await?;
    Ok(json_no_store(StatusCode::OK, &preview))
}
