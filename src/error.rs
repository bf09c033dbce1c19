//! `AppError`: every failure the service reports, with its stable `code` and
//! what the client is told. How it is answered over HTTP (status, problem
//! details, headers) is `http::problem`'s job.

use crate::domain::billing::LicenseType;
use crate::domain::field_error::FieldError;
use crate::domain::ids::AccountId;

/// Why a request is not authenticated; the client is told which (RFC 6750's
/// `error_description`), never anything secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization` header at all.
    Missing,
    /// An `Authorization` header of another scheme, or an empty bearer token.
    NotBearer,
    /// Not a JWT this service can read.
    Malformed,
    /// Signed with another key or algorithm.
    BadSignature,
    Expired,
    /// Issued for another issuer or audience.
    NotForThisService,
    /// Its user does not exist (or belongs to another account now).
    UnknownUser,
    /// Its user is disabled.
    DisabledUser,
    /// A provider's delivery event without the provider's valid signature.
    UnsignedEvent,
}

impl AuthFailure {
    pub fn describe(self) -> &'static str {
        match self {
            AuthFailure::Missing => "A bearer token is required (Authorization: Bearer <token>).",
            AuthFailure::NotBearer => "The Authorization header does not carry a bearer token.",
            AuthFailure::Malformed => "The bearer token is not a valid JWT.",
            AuthFailure::BadSignature => "The bearer token's signature is not valid.",
            AuthFailure::Expired => "The bearer token has expired.",
            AuthFailure::NotForThisService => "The bearer token was not issued for this service.",
            AuthFailure::UnknownUser => "The bearer token's user does not exist.",
            AuthFailure::DisabledUser => "The bearer token's user is disabled.",
            AuthFailure::UnsignedEvent => {
                "The event is not signed or authenticated as its provider does."
            }
        }
    }
}

/// RFC 7644 §3.12's `scimType` values of a SCIM `400`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    InvalidFilter,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
    Mutability,
}

impl ScimType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::Mutability => "mutability",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("missing, invalid or expired bearer token")]
    Unauthorized(AuthFailure),
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("already a member")]
    AlreadyMember,
    #[error("invitation pending")]
    InvitationPending,
    #[error("no open {license_type} license")]
    NoAvailableLicense {
        license_type: LicenseType,
        account_id: AccountId,
    },
    #[error("email taken")]
    EmailTaken,
    #[error("invitation not pending")]
    InvitationNotPending,
    #[error("invitation expired")]
    InvitationExpired,
    #[error("invitation revoked")]
    InvitationRevoked,
    /// Conflicts the contract's table does not name (e.g. a duplicate group name).
    #[error("{detail}")]
    Conflict { code: ErrorCode, detail: String },
    /// A SCIM request RFC 7644 refuses with a `scimType` no REST error names.
    #[error("{detail}")]
    ScimRefused { scim_type: ScimType, detail: String },
    #[error("idempotency key reused with another request")]
    IdempotencyKeyReused,
    #[error("a request with this idempotency key is still running")]
    RequestInProgress,
    #[error("rate limited")]
    RateLimited {
        retry_after_seconds: u64,
        detail: String,
    },
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A status decided outside our handlers that no variant above names (e.g. 406, 415).
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn internal(cause: impl Into<String>) -> Self {
        AppError::Internal(cause.into())
    }

    pub fn validation_one(field: &str, code: &str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn code(&self) -> ErrorCode {
        use AppError::*;
        match self {
            MalformedJson(_) => ErrorCode::MalformedJson,
            Unauthorized(_) => ErrorCode::Unauthorized,
            InvalidCredentials => ErrorCode::InvalidCredentials,
            Forbidden => ErrorCode::Forbidden,
            NotFound => ErrorCode::NotFound,
            MethodNotAllowed => ErrorCode::MethodNotAllowed,
            AlreadyMember => ErrorCode::AlreadyMember,
            InvitationPending => ErrorCode::InvitationPending,
            NoAvailableLicense { .. } => ErrorCode::NoAvailableLicense,
            EmailTaken => ErrorCode::EmailTaken,
            InvitationNotPending => ErrorCode::InvitationNotPending,
            InvitationExpired => ErrorCode::InvitationExpired,
            InvitationRevoked => ErrorCode::InvitationRevoked,
            Conflict { code, .. } => *code,
            ScimRefused { .. } => ErrorCode::ValidationFailed,
            IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            RateLimited { .. } => ErrorCode::RateLimited,
            RequestInProgress => ErrorCode::RequestInProgress,
            PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            Validation(_) => ErrorCode::ValidationFailed,
            Unavailable(_) => ErrorCode::Unavailable,
            Status(status) => match status {
                400 => ErrorCode::BadRequest,
                406 => ErrorCode::NotAcceptable,
                408 => ErrorCode::RequestTimeout,
                411 => ErrorCode::LengthRequired,
                414 => ErrorCode::UriTooLong,
                415 => ErrorCode::UnsupportedMediaType,
                431 => ErrorCode::RequestHeaderFieldsTooLarge,
                _ => ErrorCode::HttpError,
            },
            Internal(_) => ErrorCode::InternalError,
        }
    }

    /// What the client is told. Never internals: 5xx details stay in the log.
    pub fn detail(&self) -> String {
        use AppError::*;
        match self {
            MalformedJson(why) => format!("The request body is not valid JSON: {why}"),
            Unauthorized(failure) => failure.describe().into(),
            InvalidCredentials => "The email or password is wrong.".into(),
            Forbidden => "Only the primary subscriber or an administrator may do this.".into(),
            NotFound => "No such resource.".into(),
            MethodNotAllowed => "This method is not supported on this resource.".into(),
            AlreadyMember => "This email already belongs to a member of this account.".into(),
            InvitationPending => {
                "A pending invitation for this email exists; resend it instead.".into()
            }
            NoAvailableLicense { license_type, .. } => format!(
                "No open {license_type} license is available on this annual classic account; \
                 buy licenses first with POST /accounts/{{account_id}}/licenses."
            ),
            EmailTaken => "This email already belongs to a user.".into(),
            InvitationNotPending => "The invitation is no longer pending.".into(),
            InvitationExpired => "The invitation has expired; ask for it to be resent.".into(),
            InvitationRevoked => "The invitation has been revoked.".into(),
            Conflict { detail, .. } | RateLimited { detail, .. } | ScimRefused { detail, .. } => {
                detail.clone()
            }
            IdempotencyKeyReused => "This Idempotency-Key was used with a different request; \
                                     use a new key for a new request."
                .into(),
            RequestInProgress => "A request with this Idempotency-Key is still running; \
                                  retry after it has finished."
                .into(),
            PayloadTooLarge(why) => why.clone(),
            Validation(_) => "One or more fields are invalid; see errors.".into(),
            Unavailable(_) => "The service is temporarily unavailable; retry later.".into(),
            Status(status) => format!("The request was refused: {}.", reason(*status)),
            Internal(_) => "An unexpected error occurred.".into(),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => AppError::NotFound,
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection
                | DatabaseErrorKind::SerializationFailure
                | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => AppError::Unavailable(info.message().to_owned()),
            Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if is_transient_unknown(info.message()) =>
            {
                AppError::Unavailable(info.message().to_owned())
            }
            // A commit that failed (e.g. SQLite busy) says why in `commit_error`.
            Error::RollbackErrorOnCommit { commit_error, .. } => AppError::from(*commit_error),
            Error::BrokenTransactionManager => AppError::Unavailable(error.to_string()),
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// Busy, gone or restarting: retry later (503), not a bug (500) — for the
/// errors diesel reports as `DatabaseErrorKind::Unknown`. Diesel gives each
/// kind it knows its own variant (serialization failure, lost connection,
/// those are matched above) but exposes no SQLSTATE for the rest, and SQLite's
/// `SQLITE_BUSY`/`SQLITE_LOCKED` reach us only as their message: so for
/// PostgreSQL's deadlock (40P01), shutdown (57P01–57P03) and a missing
/// database or relation, and for SQLite's locks, the message is the only signal.
fn is_transient_unknown(message: &str) -> bool {
    const SIGNS: &[&str] = &[
        "database is locked",
        "database table is locked",
        "deadlock detected",
        "terminating connection",
        "server closed the connection",
        "the database system is",
        "connection to server",
        "no connection to the server",
        "could not connect",
        "does not exist",
    ];
    let lower = message.to_lowercase();
    SIGNS.iter().any(|sign| lower.contains(sign))
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable(error.to_string())
    }
}

/// True when a database error is a unique-constraint violation.
pub fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Declares `ErrorCode` and `ALL_CODES` from one list, so a new code cannot
/// be left out of either.
macro_rules! error_codes {
    (
        provoked { $($p:ident => $p_text:literal),+ $(,)? }
        echoed { $($e:ident => $e_text:literal),+ $(,)? }
    ) => {
        /// The stable snake_case `code` of a problem.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($p,)+
            $($e,)+
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$p,)+ $(ErrorCode::$e,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$p => $p_text,)+
                    $(ErrorCode::$e => $e_text,)+
                }
            }
        }

        /// Every code a client's request can provoke; a test checks that each one is
        /// asserted by some black-box test.
        pub const ALL_CODES: &[&str] = &[$($p_text),+];
    };
}

error_codes! {
    provoked {
        MalformedJson => "malformed_json",
        Unauthorized => "unauthorized",
        InvalidCredentials => "invalid_credentials",
        Forbidden => "forbidden",
        NotFound => "not_found",
        AlreadyMember => "already_member",
        InvitationPending => "invitation_pending",
        NoAvailableLicense => "no_available_license",
        EmailTaken => "email_taken",
        InvitationNotPending => "invitation_not_pending",
        InvitationExpired => "invitation_expired",
        InvitationRevoked => "invitation_revoked",
        PayloadTooLarge => "payload_too_large",
        RateLimited => "rate_limited",
        IdempotencyKeyReused => "idempotency_key_reused",
        RequestInProgress => "request_in_progress",
        GroupNameTaken => "group_name_taken",
        PrimarySubscriberProtected => "primary_subscriber_protected",
        TooManyWebhooks => "too_many_webhooks",
        ValidationFailed => "validation_failed",
        Unavailable => "unavailable",
    }
    // `internal_error` is a bug, not a rule; the others only echo actix's own answers.
    echoed {
        InternalError => "internal_error",
        MethodNotAllowed => "method_not_allowed",
        BadRequest => "bad_request",
        NotAcceptable => "not_acceptable",
        RequestTimeout => "request_timeout",
        LengthRequired => "length_required",
        UriTooLong => "uri_too_long",
        UnsupportedMediaType => "unsupported_media_type",
        RequestHeaderFieldsTooLarge => "request_header_fields_too_large",
        HttpError => "http_error",
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<crate::domain::CorruptValue> for AppError {
    fn from(error: crate::domain::CorruptValue) -> Self {
        AppError::Internal(error.to_string())
    }
}

impl From<crate::domain::password::HashError> for AppError {
    fn from(error: crate::domain::password::HashError) -> Self {
        AppError::Internal(error.to_string())
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(error: tokio::task::JoinError) -> Self {
        AppError::Internal(error.to_string())
    }
}

/// The reason phrase of the statuses `AppError::Status` carries (those
/// answered outside our handlers, e.g. by the router or a header check).
fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        411 => "Length Required",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        _ => "error",
    }
}
