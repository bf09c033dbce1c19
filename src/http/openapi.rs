//! The OpenAPI document: paths come from the registered handlers
//! (utoipa-actix-web), the rest is declared here.

use std::collections::BTreeMap;

use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr};
use utoipa::{IntoResponses, Modify, OpenApi};

use crate::error::Problem;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "invitations",
        description = "Invite people to a law firm's account, hold and bill the seat licenses they need, \
and turn accepted invitations into firm members.\n\n\
Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`. \
Request bodies reject unknown fields (422). Timestamps are RFC 3339 UTC; money is integer cents.",
    ),
    components(schemas(Problem, crate::domain::field_error::FieldError)),
    modifiers(&BearerScheme),
    tags(
        (name = "accounts", description = "The firm's account"),
        (name = "invitations", description = "Inviting people (administrators and primary subscribers)"),
        (name = "invitee", description = "The invitee's side; the emailed token is the credential"),
        (name = "users", description = "Firm members"),
        (name = "groups", description = "Groups of firm members"),
        (name = "licenses", description = "Seat licenses and the charge ledger"),
        (name = "sessions", description = "Signing in"),
        (name = "operations", description = "Health and documentation"),
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "HS256 token from POST /sessions, accept, or `invitations token`",
                    ))
                    .build(),
            ),
        );
    }
}

fn problem(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

fn problems(list: &[(u16, &str)]) -> BTreeMap<String, RefOr<Response>> {
    list.iter()
        .map(|(status, description)| (status.to_string(), problem(description)))
        .collect()
}

const UNAUTHORIZED: (u16, &str) = (
    401,
    "`unauthorized`: missing, invalid or expired token, or a disabled user",
);
const FORBIDDEN: (u16, &str) = (
    403,
    "`forbidden`: standard users may not manage the account",
);
const NOT_FOUND: (u16, &str) = (404, "`not_found`: unknown id, or another account's");
const UNAVAILABLE: (u16, &str) = (503, "`unavailable`: the database cannot be reached");
const MALFORMED: (u16, &str) = (
    400,
    "`malformed_json`: the body is not JSON or not sent as application/json",
);
const TOO_LARGE: (u16, &str) = (413, "`payload_too_large`: the body is over 1 MiB");
const INVALID: (u16, &str) = (
    422,
    "`validation_failed`: `errors` lists every invalid field",
);

/// Errors of endpoints any member may read.
pub struct MemberRead;
impl IntoResponses for MemberRead {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[UNAUTHORIZED, FORBIDDEN, NOT_FOUND, UNAVAILABLE])
    }
}

/// Errors of management endpoints without a body.
pub struct Manage;
impl IntoResponses for Manage {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[UNAUTHORIZED, FORBIDDEN, NOT_FOUND, UNAVAILABLE])
    }
}

/// Errors of management listings (bad `limit`, `cursor` or filter → 422).
pub struct ManageList;
impl IntoResponses for ManageList {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[UNAUTHORIZED, FORBIDDEN, NOT_FOUND, INVALID, UNAVAILABLE])
    }
}

/// Errors of management endpoints with a JSON body.
pub struct ManageWrite;
impl IntoResponses for ManageWrite {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[
            MALFORMED,
            UNAUTHORIZED,
            FORBIDDEN,
            NOT_FOUND,
            TOO_LARGE,
            INVALID,
            UNAVAILABLE,
        ])
    }
}

/// Errors of the invitee's endpoints.
pub struct Invitee;
impl IntoResponses for Invitee {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[
            (
                404,
                "`not_found`: unknown token (or one replaced by a resend)",
            ),
            (
                409,
                "`invitation_not_pending`: already accepted or declined",
            ),
            (410, "`invitation_expired` or `invitation_revoked`"),
            UNAVAILABLE,
        ])
    }
}

/// Errors of endpoints without authentication that take a JSON body.
pub struct PublicWrite;
impl IntoResponses for PublicWrite {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[MALFORMED, TOO_LARGE, INVALID, UNAVAILABLE])
    }
}

/// Errors of accepting an invitation.
pub struct InviteeAccept;
impl IntoResponses for InviteeAccept {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[
            MALFORMED,
            (
                404,
                "`not_found`: unknown token (or one replaced by a resend)",
            ),
            (
                409,
                "`invitation_not_pending` (already accepted or declined) or `email_taken` \
                 (the email already belongs to a user)",
            ),
            (410, "`invitation_expired` or `invitation_revoked`"),
            TOO_LARGE,
            INVALID,
            UNAVAILABLE,
        ])
    }
}
