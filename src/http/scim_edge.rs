//! SCIM's edge: the SCIM-token extractor (a SCIM token works only here, and
//! an ordinary access token does not), and the one mapping of `AppError` to
//! SCIM error objects (RFC 7644 §3.12), `application/scim+json`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use serde::Serialize;
use serde_json::json;

use crate::db::idempotency::ClaimRef;
use crate::error::ScimType;
use crate::error::{AppError, AuthFailure, ErrorCode};
use crate::http::gate::bearer_token;
use crate::http::state::AppState;
use crate::services::context::{Context, Manager};
use crate::services::scim as service;

pub const MEDIA_TYPE: &str = "application/scim+json";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// An error answered the SCIM way.
#[derive(Debug)]
pub struct ScimError(pub AppError);

impl From<AppError> for ScimError {
    fn from(error: AppError) -> Self {
        ScimError(error)
    }
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Status, `scimType` and `detail` of an error answered the SCIM way.
fn parts(error: &AppError) -> (StatusCode, Option<&'static str>, String) {
    match error {
        AppError::ScimRefused { scim_type, detail } => (
            StatusCode::BAD_REQUEST,
            Some(scim_type.as_str()),
            detail.clone(),
        ),
        AppError::Conflict {
            code: ErrorCode::GroupNameTaken,
            detail,
        } => (StatusCode::CONFLICT, Some("uniqueness"), detail.clone()),
        AppError::AlreadyMember => (
            StatusCode::CONFLICT,
            Some("uniqueness"),
            "userName is already a User of this account (a member, or deactivated)".into(),
        ),
        AppError::InvitationPending => (
            StatusCode::CONFLICT,
            Some("uniqueness"),
            "userName already has a pending invitation to this account".into(),
        ),
        AppError::MalformedJson(_) => (
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            error.detail(),
        ),
        AppError::Validation(errors) if !errors.is_empty() => (
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
            errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        AppError::Validation(_) => (
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
            error.detail(),
        ),
        AppError::Unauthorized(_) => (
            StatusCode::UNAUTHORIZED,
            None,
            "A valid SCIM bearer token of this account is required.".into(),
        ),
        AppError::Internal(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            "Internal error.".into(),
        ),
        other => (other.status(), None, other.detail()),
    }
}

fn body(error: &AppError) -> serde_json::Value {
    let (status, scim_type, detail) = parts(error);
    let mut body = json!({
        "schemas": [ERROR_SCHEMA],
        "status": status.as_u16().to_string(),
        "detail": detail,
    });
    if let Some(scim_type) = scim_type {
        body["scimType"] = json!(scim_type);
    }
    body
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        parts(&self.0).0
    }

    fn error_response(&self) -> HttpResponse {
        render(&self.0)
    }
}

/// An error's SCIM answer: a SCIM error object, `application/scim+json`.
pub fn render(error: &AppError) -> HttpResponse {
    let mut response = HttpResponse::build(parts(error).0);
    response.content_type(MEDIA_TYPE);
    match error {
        AppError::RateLimited {
            retry_after_seconds,
            ..
        } => {
            response.insert_header(("Retry-After", retry_after_seconds.max(&1).to_string()));
        }
        AppError::Unavailable(_) => {
            response.insert_header(("Retry-After", "1"));
        }
        AppError::Unauthorized(_) => {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"scim\""));
        }
        _ => {}
    }
    response.body(body(error).to_string())
}

/// A SCIM answer.
pub fn scim_json<T: Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    match serde_json::to_string(body) {
        Ok(text) => HttpResponse::build(status)
            .content_type(MEDIA_TYPE)
            .body(text),
        Err(e) => ScimError(AppError::internal(format!("cannot serialise: {e}"))).error_response(),
    }
}

/// Whether a path is SCIM's: its answers, errors included, are SCIM's.
pub fn is_scim_path(path: &str) -> bool {
    path.starts_with("/scim/v2/") || path == "/scim/v2"
}

/// Put in the request's extensions by the idempotency middleware, which had
/// to authenticate the SCIM token already: the extractor does not ask twice.
#[derive(Debug, Clone, Copy)]
pub struct ScimResolved(pub Manager);

/// The caller the request's SCIM bearer token speaks for (see
/// `services::scim::authenticate`): `401` without a valid one.
pub async fn scim_caller(req: &HttpRequest, state: &AppState) -> Result<Manager, AppError> {
    let resolved = req.extensions().get::<ScimResolved>().copied();
    if let Some(ScimResolved(manager)) = resolved {
        return Ok(manager);
    }
    let bearer = bearer_token(req).map_err(AppError::Unauthorized)?;
    if bearer.is_empty() {
        return Err(AppError::Unauthorized(AuthFailure::Missing));
    }
    state
        .db(move |conn| service::authenticate(conn, &bearer))
        .await
}

/// A request of a directory through its SCIM token: the context of the
/// token's manager, acting as the token, with the request's
/// `Idempotency-Key` claim (keys of a SCIM token are its own).
pub struct ScimContext(pub Context<Manager>);

impl FromRequest for ScimContext {
    type Error = ScimError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ScimError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| AppError::internal("application state missing"))?;
            let caller = scim_caller(&req, &state).await?;
            Ok(ScimContext(Context {
                clock: state.clock.clone(),
                config: state.config.clone(),
                caller,
                claim: req.extensions().get::<ClaimRef>().cloned(),
            }))
        })
    }
}

/// A body as JSON (`application/scim+json` or plain JSON).
pub fn body_json(bytes: &[u8]) -> Result<serde_json::Value, ScimError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ScimError(service::bad_request(
            ScimType::InvalidSyntax,
            format!("the body is not JSON: {e}"),
        ))
    })
}
