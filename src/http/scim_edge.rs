//! SCIM's edge: the SCIM-token extractor (a SCIM token works only here, and
//! an ordinary access token does not), and the one mapping of `AppError` to
//! SCIM error objects (RFC 7644 §3.12), `application/scim+json`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use serde::Serialize;
use serde_json::json;

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

impl ScimError {
    /// Status, `scimType` and `detail`.
    fn parts(&self) -> (StatusCode, Option<&'static str>, String) {
        let error = &self.0;
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

    pub fn body(&self) -> serde_json::Value {
        let (status, scim_type, detail) = self.parts();
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
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(MEDIA_TYPE);
        match &self.0 {
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
        response.body(self.body().to_string())
    }
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

/// A request of a directory through its SCIM token: the context of the
/// token's manager, acting as the token.
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
            let bearer = bearer_token(&req).map_err(AppError::Unauthorized)?;
            if bearer.is_empty() {
                return Err(ScimError(AppError::Unauthorized(AuthFailure::Missing)));
            }
            let caller = state
                .db(move |conn| service::authenticate(conn, &bearer))
                .await?;
            Ok(ScimContext(Context {
                clock: state.clock.clone(),
                config: state.config.clone(),
                caller,
                claim: None,
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
