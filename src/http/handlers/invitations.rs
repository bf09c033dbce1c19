use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, delete, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::contract;
use crate::contract::Problem;
use crate::domain::field_error::FieldError;
use crate::domain::invitation::{InvitationRequest, InvitationStatus};
use crate::error::AppError;
use crate::http::extract::{JsonBody, JsonFields, PageParams, QueryParams, both};
use crate::http::gate::ManagerCheckedByService;
use crate::http::handlers::paths::{AccountPath, InvitationPath};
use crate::http::handlers::{created, json};
use crate::http::idempotency::DoNotStore;
use crate::http::json_fields::parse_partially;
use crate::http::middleware::RequestId;
use crate::http::openapi::{Manage, ManageList, ManageWrite};
use crate::http::state::AppState;
use crate::services::context::{Context, Manager};
use crate::services::{self, invitation_admin::ListFilter};

/// Invite one email
///
/// Reserves an open license of the invitee's type, or buys one and records a
/// prorated charge (see the billing rules), and queues the invitation email.
/// The token is only ever sent in that email.
#[utoipa::path(
    operation_id = "create_invitation",
    tag = "invitations",
    params(AccountPath),
    request_body = InvitationRequest,
    responses(
        (status = 201, description = "Invited; `Location` names the new invitation", body = contract::Invitation,
            headers(("Location" = String, description = "URL of the invitation"))),
        (status = 409, description = "`already_member`, `invitation_pending` or `no_available_license`",
            body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: more than INVITATIONS_RATE_INVITATIONS_PER_HOUR invitations (default 200) in the last hour; `Retry-After` gives the seconds to wait",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until a retry can succeed"))),
        ManageWrite
    ),
    security(("bearer" = []))
)]
#[post("/accounts/{account_id}/invitations")]
pub async fn create_invitation(
    state: web::Data<AppState>,
    ManagerCheckedByService(ctx): ManagerCheckedByService,
    request: JsonFields<InvitationRequest>,
) -> Result<HttpResponse, AppError> {
    let account_id = ctx.caller.account_id;
    // Judged after the caller, under the account lock (see `invite::create`).
    let request = request.parse();
    let invitation = state
        .db_group_commit(account_id, move |conn| {
            services::invite::create(conn, &ctx, request.clone())
        })
        .await?;
    state.mail_wakeup.notify_one();
    Ok(created(
        &format!("/accounts/{account_id}/invitations/{}", invitation.id),
        &invitation,
    ))
}

/// Quote an invitation
///
/// What the same body would do right now — reuse an open license, charge how
/// much, or be refused and why — without changing anything. `200` for every
/// valid body; a refusal is reported in `allowed` and `refusal_code`.
#[utoipa::path(
    operation_id = "quote_invitation",
    tag = "invitations",
    params(AccountPath),
    request_body = InvitationRequest,
    responses((status = 200, description = "The quote", body = contract::Quote), ManageWrite),
    security(("bearer" = []))
)]
#[post("/accounts/{account_id}/invitations/quote")]
pub async fn quote_invitation(
    state: web::Data<AppState>,
    ManagerCheckedByService(ctx): ManagerCheckedByService,
    request: JsonFields<InvitationRequest>,
) -> Result<HttpResponse, AppError> {
    let account_id = ctx.caller.account_id;
    let request = request.parse();
    let quote = state
        .db_group_commit(account_id, move |conn| {
            services::invite::quote(conn, &ctx, request.clone())
        })
        .await?;
    Ok(json(StatusCode::OK, &quote))
}

/// Invite up to 100 emails at once
///
/// Each item is handled on its own, in order, exactly like
/// `POST .../invitations` (its own transaction, license and email): one
/// item's failure does not affect the others. `200` with one result per item;
/// each result's `status` is what that item alone would have answered.
///
/// With an `Idempotency-Key`, an answer whose items are all final is stored
/// and replayed. One with an item that a retry may cure (`429`, `5xx`) is not:
/// a retry with the same key runs the bulk again, and the items invited the
/// first time answer `409 invitation_pending` (no one is invited or charged
/// twice).
#[utoipa::path(
    operation_id = "bulk_create_invitations",
    tag = "invitations",
    params(AccountPath),
    request_body = contract::BulkInvitationRequest,
    responses(
        (status = 200, description = "One result per item, in request order", body = contract::BulkResponse),
        ManageWrite
    ),
    security(("bearer" = []))
)]
#[post("/accounts/{account_id}/invitations/bulk")]
pub async fn bulk_create_invitations(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
    request: JsonBody<contract::BulkInvitationRequest>,
    http_request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let account_id = ctx.caller.account_id;
    // Items do not mark the Idempotency-Key as run: an answer with an item a
    // retry may cure is not kept, and the key is then free for that retry,
    // which runs the bulk again (the items already invited answer
    // `409 invitation_pending`, so no one is invited or charged twice).
    let ctx = ctx.without_claim();
    let items: Vec<_> = request
        .parse()?
        .invitations
        .into_iter()
        .map(parse_partially::<InvitationRequest>)
        .collect();
    let outcomes = state
        .db_for_account(account_id, move |conn| {
            services::invite::create_many(conn, &ctx, items)
        })
        .await?;
    state.mail_wakeup.notify_one();
    let request_id = http_request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.clone());
    let results: Vec<contract::BulkResult> = outcomes
        .into_iter()
        .enumerate()
        .map(|(index, outcome)| match outcome {
            Ok(invitation) => contract::BulkResult {
                index,
                status: StatusCode::CREATED.as_u16(),
                invitation: Some(invitation),
                problem: None,
            },
            Err(error) => contract::BulkResult {
                index,
                status: error.status().as_u16(),
                invitation: None,
                problem: Some(error.problem(request_id.as_deref())),
            },
        })
        .collect();
    let retry_may_help = results.iter().any(|r| r.status >= 500 || r.status == 429);
    let mut response = json(StatusCode::OK, &contract::BulkResponse { results });
    if retry_may_help {
        // Not replayed under its Idempotency-Key: retrying may fare better.
        response.extensions_mut().insert(DoNotStore);
    }
    Ok(response)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvitationListQuery {
    /// Only invitations with this status.
    pub status: Option<InvitationStatus>,
    /// Only invitations for this email (exact, case-insensitive).
    pub email: Option<String>,
}

/// List invitations, newest first
#[utoipa::path(
    operation_id = "list_invitations",
    tag = "invitations",
    params(AccountPath, InvitationListQuery, PageParams),
    responses((status = 200, description = "One page", body = contract::InvitationPage), ManageList),
    security(("bearer" = []))
)]
#[get("/accounts/{account_id}/invitations")]
pub async fn list_invitations(
    state: web::Data<AppState>,
    ManagerCheckedByService(ctx): ManagerCheckedByService,
    query: QueryParams<InvitationListQuery>,
    page: QueryParams<PageParams>,
) -> Result<HttpResponse, AppError> {
    // Judged after the caller, on the list's connection (see `list`).
    let filter = both(query.parse(), page.page()).and_then(|(query, page)| {
        if query.email.as_deref().is_some_and(|e| e.trim().is_empty()) {
            return Err(AppError::Validation(vec![FieldError::new(
                "email",
                "invalid_value",
                "email must not be empty",
            )]));
        }
        Ok(ListFilter {
            status: query.status,
            email: query.email,
            page,
        })
    });
    let page = state
        .db(move |conn| services::invitation_admin::list(conn, &ctx, filter))
        .await?;
    Ok(json(StatusCode::OK, &page))
}

/// Read one invitation
#[utoipa::path(
    operation_id = "get_invitation",
    tag = "invitations",
    params(InvitationPath),
    responses((status = 200, description = "The invitation", body = contract::Invitation), Manage),
    security(("bearer" = []))
)]
#[get("/accounts/{account_id}/invitations/{invitation_id}")]
pub async fn get_invitation(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
    path: web::Path<InvitationPath>,
) -> Result<HttpResponse, AppError> {
    let invitation_id = path.invitation_id;
    let invitation = state
        .db(move |conn| services::invitation_admin::get(conn, &ctx, invitation_id))
        .await?;
    Ok(json(StatusCode::OK, &invitation))
}

/// Revoke a pending invitation
///
/// Its token stops working and its license becomes open.
#[utoipa::path(
    operation_id = "revoke_invitation",
    tag = "invitations",
    params(InvitationPath),
    responses(
        (status = 200, description = "The revoked invitation", body = contract::Invitation),
        (status = 409, description = "`invitation_not_pending`", body = Problem, content_type = "application/problem+json"),
        Manage
    ),
    security(("bearer" = []))
)]
#[delete("/accounts/{account_id}/invitations/{invitation_id}")]
pub async fn revoke_invitation(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
    path: web::Path<InvitationPath>,
) -> Result<HttpResponse, AppError> {
    let (account_id, invitation_id) = (ctx.caller.account_id, path.invitation_id);
    let invitation = state
        .db_for_account(account_id, move |conn| {
            services::invitation_admin::revoke(conn, &ctx, invitation_id)
        })
        .await?;
    Ok(json(StatusCode::OK, &invitation))
}

/// Resend an invitation
///
/// Issues a new token (the old one stops working), a new expiry and the email
/// again. Allowed while `pending` or `expired`; an expired invitation needs a
/// license again by the billing rules (may charge, may answer `no_available_license`).
#[utoipa::path(
    operation_id = "resend_invitation",
    tag = "invitations",
    params(InvitationPath),
    responses(
        (status = 200, description = "The invitation, pending again", body = contract::Invitation),
        (status = 409, description = "`invitation_not_pending`, `already_member`, `invitation_pending` or `no_available_license`",
            body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: resent less than a minute ago (the first resend may follow the original send at once), or resent 5 times in 24 hours (configurable); `Retry-After` gives the seconds to wait",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until a retry can succeed"))),
        Manage
    ),
    security(("bearer" = []))
)]
#[post("/accounts/{account_id}/invitations/{invitation_id}/resend")]
pub async fn resend_invitation(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
    path: web::Path<InvitationPath>,
) -> Result<HttpResponse, AppError> {
    let (account_id, invitation_id) = (ctx.caller.account_id, path.invitation_id);
    let invitation = state
        .db_for_account(account_id, move |conn| {
            services::invitation_admin::resend(conn, &ctx, invitation_id)
        })
        .await?;
    state.mail_wakeup.notify_one();
    Ok(json(StatusCode::OK, &invitation))
}
