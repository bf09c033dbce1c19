//! How an `AppError` is answered over HTTP: its status, its RFC 9457
//! problem details (`contract::Problem`), and the headers some errors carry
//! (`Retry-After`). The one place errors meet HTTP.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};

use crate::contract;
use crate::error::{AppError, AuthFailure};

impl AppError {
    pub fn status(&self) -> StatusCode {
        use AppError::*;
        match self {
            MalformedJson(_) => StatusCode::BAD_REQUEST,
            Unauthorized(_) | InvalidCredentials => StatusCode::UNAUTHORIZED,
            Forbidden => StatusCode::FORBIDDEN,
            NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AlreadyMember
            | InvitationPending
            | NoAvailableLicense { .. }
            | EmailTaken
            | InvitationNotPending
            | Conflict { .. } => StatusCode::CONFLICT,
            ScimRefused { .. } => StatusCode::BAD_REQUEST,
            InvitationExpired | InvitationRevoked => StatusCode::GONE,
            IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            RequestInProgress => StatusCode::CONFLICT,
            PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Status(status) => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn problem(&self, request_id: Option<&str>) -> contract::Problem {
        let status = self.status();
        let (license_type, buy_licenses_url) = match self {
            AppError::NoAvailableLicense {
                license_type,
                account_id,
            } => (
                Some(*license_type),
                Some(format!("/accounts/{account_id}/licenses")),
            ),
            _ => (None, None),
        };
        contract::Problem {
            type_: format!("/problems/{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            instance: format!("urn:request:{}", request_id.unwrap_or("unknown")),
            code: self.code().as_str().to_owned(),
            errors: match self {
                AppError::Validation(errors) => Some(
                    errors
                        .iter()
                        .take(crate::domain::field_error::MAX_FIELD_ERRORS)
                        .cloned()
                        .collect(),
                ),
                _ => None,
            },
            license_type,
            buy_licenses_url,
        }
    }

    pub fn to_response(&self, request_id: Option<&str>) -> HttpResponse {
        let mut response = HttpResponse::build(self.status());
        response.content_type("application/problem+json");
        match self {
            AppError::RateLimited {
                retry_after_seconds,
                ..
            } => {
                response.insert_header(("Retry-After", retry_after_seconds.max(&1).to_string()));
            }
            // Busy or briefly unreachable: a prompt retry usually succeeds.
            AppError::Unavailable(_) => {
                response.insert_header(("Retry-After", "1"));
            }
            // RFC 6750 §3: no credentials, a bare challenge; a bad one, why.
            // Not a bearer-token endpoint: each provider authenticates its own way.
            AppError::Unauthorized(AuthFailure::UnsignedEvent) => {}
            AppError::Unauthorized(AuthFailure::Missing) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            AppError::Unauthorized(failure) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!(
                        "Bearer error=\"invalid_token\", error_description=\"{}\"",
                        failure.describe()
                    ),
                ));
            }
            _ => {}
        }
        response.body(serde_json::to_string(&self.problem(request_id)).unwrap_or_default())
    }

    /// The error for a status produced outside our handlers (router, actix extractors).
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => AppError::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed,
            StatusCode::UNAUTHORIZED => AppError::Unauthorized(AuthFailure::Missing),
            StatusCode::FORBIDDEN => AppError::Forbidden,
            StatusCode::PAYLOAD_TOO_LARGE => {
                AppError::PayloadTooLarge("The request body is larger than 1 MiB.".into())
            }
            // A 400 from outside our handlers (e.g. a refused CORS preflight).
            StatusCode::SERVICE_UNAVAILABLE => AppError::Unavailable(status.to_string()),
            status if status.is_server_error() => AppError::Internal(format!("status {status}")),
            status => AppError::Status(status.as_u16()),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.to_response(None)
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        AppError::Internal(error.to_string())
    }
}
