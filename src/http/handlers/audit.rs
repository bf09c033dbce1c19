use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::AppError;
use crate::http::extract::{PageParams, QueryParams, both};
use crate::http::handlers::json;
use crate::http::handlers::paths::AccountPath;
use crate::http::openapi::ManageList;
use crate::http::state::AppState;
use crate::services::context::{Context, Manager};
use crate::{contract, services};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only events with this action, e.g. `invitation.accepted`.
    pub action: Option<String>,
}

/// The audit trail, newest first
///
/// Who did what when: invitations created, resent, revoked, accepted,
/// declined and expired; users updated, disabled and enabled; licenses
/// purchased; groups created, renamed and deleted. Each event is written in
/// the same transaction as the change it records.
#[utoipa::path(
    operation_id = "list_audit_events",
    tag = "accounts",
    params(AccountPath, AuditQuery, PageParams),
    responses((status = 200, description = "One page", body = contract::AuditEventPage), ManageList),
    security(("bearer" = []))
)]
#[get("/accounts/{account_id}/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
    query: QueryParams<AuditQuery>,
    page: QueryParams<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (query, page) = both(query.parse(), page.page())?;
    let action = query.action;
    let events = state
        .db(move |conn| services::audit::list(conn, &ctx, action.as_deref(), page))
        .await?;
    Ok(json(StatusCode::OK, &events))
}
