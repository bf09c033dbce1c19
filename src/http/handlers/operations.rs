use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};

use crate::contract;
use crate::db;
use crate::domain::permission::Permission;
use crate::error::AppError;
use crate::http::handlers::json;
use crate::http::state::AppState;

/// Liveness: the process is up
#[utoipa::path(
    operation_id = "get_health",
    tag = "operations",
    responses((status = 200, description = "Up", body = contract::Health))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    json(
        StatusCode::OK,
        &contract::Health {
            status: "ok".into(),
        },
    )
}

/// Readiness: the database is reachable and fully migrated
#[utoipa::path(
    operation_id = "get_readiness",
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = contract::Health),
        (status = 503, description = "`unavailable`: database unreachable or migrations pending",
            body = crate::contract::Problem, content_type = "application/problem+json")
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let pending = state
        .db(|conn| db::has_pending_migrations(conn).map_err(AppError::Unavailable))
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?;
    if pending {
        return Err(AppError::Unavailable("migrations pending".into()));
    }
    Ok(json(
        StatusCode::OK,
        &contract::Health {
            status: "ok".into(),
        },
    ))
}

/// Prometheus metrics
///
/// OpenMetrics text: requests and latency per route template, email
/// deliveries by outcome, emails waiting in the outbox.
#[utoipa::path(
    operation_id = "get_metrics",
    tag = "operations",
    responses((status = 200, description = "OpenMetrics text", body = String,
        content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"))
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    // A database outage shows as a missing update, not as a failed scrape.
    if let Ok(queued) = state.db(|conn| Ok(db::outbox::count_queued(conn)?)).await {
        state.metrics.outbox_queued.set(queued);
    }
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}

/// The permission catalog
///
/// Names usable in an invitation's `permissions`. Public: no token needed.
#[utoipa::path(
    operation_id = "list_permissions",
    tag = "accounts",
    responses((status = 200, description = "Every permission", body = contract::PermissionCatalog))
)]
#[get("/permissions")]
pub async fn list_permissions() -> HttpResponse {
    let items = Permission::ALL
        .iter()
        .map(|p| contract::PermissionInfo {
            name: *p,
            description: p.description().to_owned(),
        })
        .collect();
    json(StatusCode::OK, &contract::PermissionCatalog { items })
}

pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
