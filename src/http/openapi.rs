//! The OpenAPI document: paths come from the registered handlers
//! (utoipa-actix-web), the rest is declared here.

use std::collections::BTreeMap;

use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr};
use utoipa::{IntoResponses, Modify, OpenApi};

use crate::contract::Problem;

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
        (name = "webhooks", description = "Signed event notifications to the account's endpoints"),
        (name = "mail-events", description = "Delivery events from mail providers (their webhooks)"),
        (name = "scim", description = "SCIM 2.0 provisioning (RFC 7643/7644) for Okta, Entra ID and other directories: managers create SCIM tokens; `/scim/v2/…` takes only those, and answers errors as SCIM error objects (`application/scim+json`)"),
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

/// POSTs whose answer is never stored under an `Idempotency-Key`: it holds a
/// secret shown once (see `http::idempotency::DoNotStore`).
const NOT_REPLAYED: &[&str] = &["/accounts/{account_id}/scim-tokens"];

/// A bulk's answer is stored under its `Idempotency-Key` only when every item
/// is final (see `handlers::invitations::bulk_create_invitations`).
const BULK: &str = "/accounts/{account_id}/invitations/bulk";

/// A new webhook endpoint's answer is stored without its secret (see
/// `http::idempotency::ReplayBody`).
const WEBHOOKS: &str = "/accounts/{account_id}/webhooks";

/// Whether a POST on `path` is kept under its `Idempotency-Key` and replayed.
fn replayable_post(path: &str) -> bool {
    (path.starts_with("/accounts/") || path.starts_with("/scim/v2/"))
        && !NOT_REPLAYED.contains(&path)
}

/// Every account-scoped POST, and SCIM's, takes an optional `Idempotency-Key`.
/// Applied after the paths are collected from the handlers.
pub struct IdempotencyKeys;

impl Modify for IdempotencyKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{ObjectBuilder, Required, Type};
        for (path, item) in openapi.paths.paths.iter_mut() {
            let scim = path.starts_with("/scim/v2/");
            let Some(operation) = item
                .post
                .as_mut()
                .filter(|_| path.starts_with("/accounts/") || scim)
            else {
                continue;
            };
            let description = if !replayable_post(path) {
                "Accepted, but this answer is never stored (the secret in it is shown once and \
                 kept only hashed): a retry with the same key is not replayed and creates \
                 another one."
            } else if path == BULK {
                "Makes retries safe: an answer whose items are all final is stored for 24 hours \
                 and replayed byte for byte (with `Idempotent-Replayed: true`). An answer with an \
                 item answered `429` or `5xx` is not stored: a retry with the same key runs the \
                 bulk again, and items invited the first time answer `409 invitation_pending` \
                 (no one is invited or charged twice). Keys are per account, 1–255 characters."
            } else if path == WEBHOOKS {
                "Makes retries safe: the first response to a key is stored for 24 hours and \
                 replayed (with `Idempotent-Replayed: true`), but without the signing secret, \
                 which is shown only in the first answer: a retry gets the same endpoint, not a \
                 second one. Keys are per account, 1–255 characters."
            } else if scim {
                "Makes retries safe: the first response to a key is stored for 24 hours and \
                 replayed byte for byte (with `Idempotent-Replayed: true`). Keys belong to the \
                 SCIM token (not shared with its creator's own keys), 1–255 characters."
            } else {
                "Makes retries safe: the first response to a key is stored for 24 hours and \
                 replayed byte for byte (with `Idempotent-Replayed: true`). Keys are per account, \
                 1–255 characters."
            };
            let parameter = ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(description))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(255)),
                ))
                .build();
            operation
                .parameters
                .get_or_insert_with(Vec::new)
                .push(parameter.into());
            let responses = &mut operation.responses.responses;
            let error = |description: &str| {
                if scim {
                    scim_error(description)
                } else {
                    problem(description)
                }
            };
            let described = |status: &str| match responses.get(status) {
                Some(RefOr::T(existing)) => Some(existing.description.clone()),
                _ => None,
            };
            let in_progress = if scim {
                "without `scimType`: the first request with this Idempotency-Key is still running"
            } else {
                "`request_in_progress`: the first request with this Idempotency-Key is still running"
            };
            let conflict = match described("409") {
                Some(existing) => format!("{existing}; or {in_progress}"),
                None => in_progress.to_owned(),
            };
            let reused = if scim {
                let invalid = described("400").unwrap_or_else(|| "`invalidValue`".into());
                responses.insert(
                    "400".into(),
                    error(&format!("{invalid} (also for an invalid Idempotency-Key)")),
                );
                "The Idempotency-Key was used with another request (no `scimType`)".to_owned()
            } else {
                let invalid = described("422").unwrap_or_else(|| "`validation_failed`".into());
                format!(
                    "{invalid}; or `idempotency_key_reused`: the key was used with another request"
                )
            };
            responses.insert("409".into(), error(&conflict));
            responses.insert("422".into(), error(&reused));
        }
    }
}

/// Headers every answer carries, and `Idempotent-Replayed` on account POSTs,
/// plus `Retry-After` on every 429. Applied after the paths are collected.
pub struct ResponseHeaders;

impl Modify for ResponseHeaders {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::{ObjectBuilder, Type};
        let string_header = |description: &str| {
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .description(Some(description))
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let account_post = replayable_post(path);
            // Answers that carry a credential or an invitee's details.
            let no_store = path == "/sessions" || path.starts_with("/invitations/");
            let operations = [
                (item.get.as_mut(), false),
                (item.post.as_mut(), account_post),
                (item.put.as_mut(), false),
                (item.patch.as_mut(), false),
                (item.delete.as_mut(), false),
            ];
            for (operation, replayable) in operations {
                let Some(operation) = operation else { continue };
                let bearer = operation.security.is_some();
                for (status, response) in operation.responses.responses.iter_mut() {
                    let RefOr::T(response) = response else {
                        continue;
                    };
                    response.headers.insert(
                        "X-Request-Id".into(),
                        string_header("The request's id: the client's X-Request-Id if it sent one, else a new one").into(),
                    );
                    if replayable {
                        response.headers.insert(
                            "Idempotent-Replayed".into(),
                            string_header("`true` when this is the stored answer to an earlier request with the same Idempotency-Key").into(),
                        );
                    }
                    if no_store && status.starts_with('2') {
                        response.headers.insert(
                            "Cache-Control".into(),
                            string_header(
                                "`no-store`: it carries a credential or an invitee's details",
                            )
                            .into(),
                        );
                    }
                    if status == "401" && bearer {
                        response.headers.insert(
                            "WWW-Authenticate".into(),
                            string_header(
                                "RFC 6750 challenge: `Bearer`, or `Bearer error=\"invalid_token\", error_description=\"…\"`",
                            )
                            .into(),
                        );
                    }
                    if status == "429" || status == "503" {
                        response.headers.insert(
                            "Retry-After".into(),
                            HeaderBuilder::new()
                                .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                                .description(Some("Seconds until a retry can succeed"))
                                .build()
                                .into(),
                        );
                    }
                }
            }
        }
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

fn scim_error(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/scim+json",
            ContentBuilder::new()
                .schema(Some(utoipa::openapi::schema::Object::new()))
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
    "`unauthorized`: no bearer token (`WWW-Authenticate: Bearer`), or one that is \
     not a JWT, badly signed, expired, not issued for this service, or whose user \
     no longer exists or is disabled (`WWW-Authenticate: Bearer error=\"invalid_token\", \
     error_description=\"…\"`, and `detail` says which)",
);
const FORBIDDEN: (u16, &str) = (
    403,
    "`forbidden`: standard users may not manage the account",
);
const NOT_FOUND: (u16, &str) = (404, "`not_found`: unknown id, or another account's");
const UNAVAILABLE: (u16, &str) = (503, "`unavailable`: the database cannot be reached");
/// On the endpoints that check a password (login, accept).
const PASSWORDS_BUSY: (u16, &str) = (
    503,
    "`unavailable`: the database cannot be reached, or every password check thread \
     (one per core, at most 4) and queue place is taken; retry after `Retry-After` seconds",
);
const MALFORMED: (u16, &str) = (
    400,
    "`malformed_json`: the body is not JSON or not sent as application/json",
);
const TOO_LARGE: (u16, &str) = (413, "`payload_too_large`: the body is over 1 MiB");
const INVALID: (u16, &str) = (
    422,
    "`validation_failed`: `errors` lists every invalid field",
);
const LIMITED: (u16, &str) = (
    429,
    "`rate_limited`: too many requests; `Retry-After` says how many seconds to wait",
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
            LIMITED,
            UNAVAILABLE,
        ])
    }
}

/// Errors of the preview, which answers for every status (pending, expired,
/// revoked, accepted, declined): only an unknown token is refused.
pub struct InviteePreview;
impl IntoResponses for InviteePreview {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[
            (
                404,
                "`not_found`: unknown token (or one replaced by a resend)",
            ),
            LIMITED,
            UNAVAILABLE,
        ])
    }
}

/// Errors of signing in (no authentication, a JSON body, a password check).
pub struct PublicWrite;
impl IntoResponses for PublicWrite {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[MALFORMED, TOO_LARGE, INVALID, LIMITED, PASSWORDS_BUSY])
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
            LIMITED,
            PASSWORDS_BUSY,
        ])
    }
}

/// The pages served beside the API: the document itself, its interactive
/// reference, and the invitee's accept page (HTML, not JSON).
pub struct ServedPages;

impl Modify for ServedPages {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{
            HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
        };
        use utoipa::openapi::{ObjectBuilder, Required, Type};
        let page = |id: &str, tag: &str, summary: &str, description: &str, mime: &str| {
            OperationBuilder::new()
                .operation_id(Some(id))
                .tag(tag)
                .summary(Some(summary))
                .description(Some(description))
                .response(
                    "200",
                    ResponseBuilder::new()
                        .description(summary)
                        .content(mime, ContentBuilder::new().build())
                        .build(),
                )
        };
        let document = page(
            "get_openapi_document",
            "operations",
            "This OpenAPI document",
            "The OpenAPI 3.1 document of this service, as committed at `openapi/openapi.json`.",
            "application/json",
        );
        let reference = page(
            "get_api_reference",
            "operations",
            "Interactive API reference",
            "Swagger UI for this document, served from the binary (no CDN); its files live under `/docs/`.",
            "text/html",
        );
        let accept = page(
            "get_accept_page",
            "invitee",
            "The invitee's accept page",
            "The HTML page the default accept link opens: it previews the invitation and lets \
             the invitee accept (names and a password) or decline, through the invitee endpoints. \
             It reads the token from the address and removes it from the address bar; answers \
             are never cached and never sent as a referrer.",
            "text/html",
        )
        .parameter(
            ParameterBuilder::new()
                .name("token")
                .parameter_in(ParameterIn::Query)
                .required(Required::True)
                .description(Some("The token from the invitation email"))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
        );
        for (path, operation) in [
            ("/openapi.json", document),
            ("/docs", reference),
            ("/invitations/accept", accept),
        ] {
            openapi.paths.paths.insert(
                path.into(),
                PathItem::new(HttpMethod::Get, operation.build()),
            );
        }
    }
}
