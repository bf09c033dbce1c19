//! SCIM 2.0 (RFC 7643/7644): the managers' token endpoints, discovery, and
//! Users under `/scim/v2`. Thin: parse → `services::scim` → SCIM JSON.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use crate::domain::ids::{AccountId, ScimTokenId};
use crate::domain::scim_filter;
use crate::error::AppError;
use crate::error::ScimType;
use crate::http::handlers::json_no_store;
use crate::http::handlers::paths::AccountPath;
use crate::http::idempotency::DoNotStore;
use crate::http::openapi::{Manage, ManageWrite};
use crate::http::scim_edge::{ScimContext, ScimError, body_json, scim_json};
use crate::http::state::AppState;
use crate::services::context::{Context, Manager};
use crate::services::scim::{self as service, EXTENSION_SCHEMA, MAX_RESULTS, USER_SCHEMA};
use crate::services::scim_groups::{self as groups_service, GROUP_SCHEMA};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ScimTokenPath {
    /// Account id
    #[param(value_type = i64)]
    pub account_id: AccountId,
    /// SCIM token id
    #[param(value_type = i64)]
    pub token_id: ScimTokenId,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ScimUserPath {
    /// The SCIM id of the User (the same from invitation to accepted user)
    pub id: String,
}

/// Create a SCIM token
///
/// A bearer token for a directory (Okta, Entra ID): it works only on
/// `/scim/v2/…` and only for this account, with the rights of the manager
/// who created it. Shown this once; stored as its SHA-256.
///
/// The answer is never stored under an `Idempotency-Key` (that would keep the
/// token in clear): a retry with the same key is not replayed but creates
/// another token (a lost one is listed and can be revoked).
#[utoipa::path(
    operation_id = "create_scim_token",
    tag = "scim",
    params(AccountPath),
    responses((status = 201, description = "Created; `token` is shown this once", body = service::ScimTokenCreated), ManageWrite),
    security(("bearer" = []))
)]
#[post("/accounts/{account_id}/scim-tokens")]
pub async fn create_scim_token(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
) -> Result<HttpResponse, AppError> {
    // The token exists in clear only in this answer: it is not kept for
    // replays, and the key is not marked as run, so a retry gets a new token.
    let ctx = ctx.without_claim();
    let created = state
        .db(move |conn| service::create_token(conn, &ctx))
        .await?;
    let mut response = json_no_store(StatusCode::CREATED, &created);
    response.extensions_mut().insert(DoNotStore);
    Ok(response)
}

/// List the account's SCIM tokens (never the tokens themselves)
#[utoipa::path(
    operation_id = "list_scim_tokens",
    tag = "scim",
    params(AccountPath),
    responses((status = 200, description = "Every token", body = service::ScimTokenList), Manage),
    security(("bearer" = []))
)]
#[get("/accounts/{account_id}/scim-tokens")]
pub async fn list_scim_tokens(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
) -> Result<HttpResponse, AppError> {
    let list = state
        .db(move |conn| service::list_tokens(conn, &ctx))
        .await?;
    Ok(crate::http::handlers::json(StatusCode::OK, &list))
}

/// Revoke a SCIM token
#[utoipa::path(
    operation_id = "delete_scim_token",
    tag = "scim",
    params(ScimTokenPath),
    responses((status = 204, description = "Revoked: the token stops working at once"), Manage),
    security(("bearer" = []))
)]
#[delete("/accounts/{account_id}/scim-tokens/{token_id}")]
pub async fn delete_scim_token(
    state: web::Data<AppState>,
    ctx: Context<Manager>,
    path: web::Path<ScimTokenPath>,
) -> Result<HttpResponse, AppError> {
    let token_id = path.token_id;
    state
        .db(move |conn| service::delete_token(conn, &ctx, token_id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// SCIM: what this service provider supports (RFC 7643 §5)
#[utoipa::path(
    operation_id = "scim_service_provider_config",
    tag = "scim",
    responses((status = 200, description = "ServiceProviderConfig", body = Object, content_type = "application/scim+json"))
)]
#[get("/scim/v2/ServiceProviderConfig")]
pub async fn scim_service_provider_config() -> HttpResponse {
    scim_json(StatusCode::OK, &service_provider_config())
}

pub fn service_provider_config() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "/docs",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A SCIM token of the account (POST /accounts/{account_id}/scim-tokens)",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": "/scim/v2/ServiceProviderConfig"},
    })
}

fn user_resource_type() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "A person of the account: invited, then a member",
        "schema": USER_SCHEMA,
        "schemaExtensions": [{"schema": EXTENSION_SCHEMA, "required": false}],
        "meta": {"resourceType": "ResourceType", "location": "/scim/v2/ResourceTypes/User"},
    })
}

fn group_resource_type() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "Group",
        "name": "Group",
        "endpoint": "/Groups",
        "description": "A firm group; its members are accepted firm members",
        "schema": GROUP_SCHEMA,
        "meta": {"resourceType": "ResourceType", "location": "/scim/v2/ResourceTypes/Group"},
    })
}

fn list_response(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [service::LIST_SCHEMA],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// SCIM: the resource types served (RFC 7643 §6)
#[utoipa::path(
    operation_id = "scim_resource_types",
    tag = "scim",
    responses((status = 200, description = "ListResponse of ResourceType", body = Object, content_type = "application/scim+json"))
)]
#[get("/scim/v2/ResourceTypes")]
pub async fn scim_resource_types() -> HttpResponse {
    scim_json(
        StatusCode::OK,
        &list_response(vec![user_resource_type(), group_resource_type()]),
    )
}

fn attribute(name: &str, kind: &str, mutability: &str, description: &str) -> Value {
    json!({
        "name": name, "type": kind, "multiValued": false, "description": description,
        "required": false, "caseExact": false, "mutability": mutability,
        "returned": "default", "uniqueness": "none",
    })
}

pub fn schemas() -> Vec<Value> {
    let mut user_name = attribute("userName", "string", "immutable", "The email address");
    user_name["required"] = json!(true);
    user_name["uniqueness"] = json!("server");
    let mut external_id = attribute("externalId", "string", "readWrite", "The directory's id");
    external_id["caseExact"] = json!(true);
    let mut name = attribute("name", "complex", "readWrite", "The person's name");
    name["subAttributes"] = json!([
        attribute("givenName", "string", "readWrite", "First name"),
        attribute("familyName", "string", "readWrite", "Last name"),
    ]);
    let mut emails = attribute(
        "emails",
        "complex",
        "readOnly",
        "The email address (userName)",
    );
    emails["multiValued"] = json!(true);
    emails["subAttributes"] = json!([attribute("value", "string", "readOnly", "The address")]);
    let mut role = attribute("role", "string", "readWrite", "administrator or standard");
    role["canonicalValues"] = json!(["administrator", "standard"]);
    let mut subscriber_type = attribute(
        "subscriberType",
        "string",
        "immutable",
        "attorney or non_attorney: picks the license type on classic accounts",
    );
    subscriber_type["canonicalValues"] = json!(["attorney", "non_attorney"]);
    let mut invitation_status = attribute(
        "invitationStatus",
        "string",
        "readOnly",
        "pending, accepted, declined, revoked or expired",
    );
    invitation_status["canonicalValues"] =
        json!(["pending", "accepted", "declined", "revoked", "expired"]);
    let mut display_name = attribute("displayName", "string", "readWrite", "The group's name");
    display_name["required"] = json!(true);
    display_name["uniqueness"] = json!("server");
    let mut members = attribute(
        "members",
        "complex",
        "readWrite",
        "The Users in the group (accepted firm members only)",
    );
    members["multiValued"] = json!(true);
    let mut member_value = attribute("value", "string", "immutable", "The User's id");
    member_value["caseExact"] = json!(true);
    let mut member_ref = attribute("$ref", "reference", "immutable", "The User's URI");
    member_ref["referenceTypes"] = json!(["User"]);
    members["subAttributes"] = json!([
        member_value,
        member_ref,
        attribute("display", "string", "readOnly", "The User's email address"),
        attribute("type", "string", "immutable", "User"),
    ]);
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": USER_SCHEMA,
            "name": "User",
            "description": "A person of the account",
            "attributes": [
                user_name,
                external_id,
                name,
                emails,
                attribute("active", "boolean", "readWrite", "false disables the user or revokes the invitation"),
            ],
            "meta": {"resourceType": "Schema", "location": format!("/scim/v2/Schemas/{USER_SCHEMA}")},
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": EXTENSION_SCHEMA,
            "name": "InvitationsUser",
            "description": "Role, subscriber type and invitation status",
            "attributes": [role, subscriber_type, invitation_status],
            "meta": {"resourceType": "Schema", "location": format!("/scim/v2/Schemas/{EXTENSION_SCHEMA}")},
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": GROUP_SCHEMA,
            "name": "Group",
            "description": "A firm group",
            "attributes": [display_name, members],
            "meta": {"resourceType": "Schema", "location": format!("/scim/v2/Schemas/{GROUP_SCHEMA}")},
        }),
    ]
}

/// SCIM: the schemas of the resources served (RFC 7643 §7)
#[utoipa::path(
    operation_id = "scim_schemas",
    tag = "scim",
    responses((status = 200, description = "ListResponse of Schema", body = Object, content_type = "application/scim+json"))
)]
#[get("/scim/v2/Schemas")]
pub async fn scim_schemas() -> HttpResponse {
    scim_json(StatusCode::OK, &list_response(schemas()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(non_snake_case, dead_code)]
struct UserQuery {
    /// `eq`, `co`, `sw` on `userName`, `externalId`, `emails.value`, `active`, with `and`, `or`
    filter: Option<String>,
    /// 1-based index of the first result (default 1)
    startIndex: Option<usize>,
    /// Results per page (default and most: 200)
    count: Option<usize>,
}

/// A list's query: `filter`, `startIndex`, `count` (names case-insensitive),
/// and the raw parameters.
type ListQuery = (
    Option<scim_filter::Filter>,
    usize,
    usize,
    HashMap<String, String>,
);

fn list_query(req: &HttpRequest) -> Result<ListQuery, ScimError> {
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map_err(|e| service::bad_request(ScimType::InvalidValue, e.to_string()))?
        .into_inner();
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let filter = match get("filter") {
        Some(text) => Some(
            scim_filter::parse(&text)
                .map_err(|e| service::bad_request(ScimType::InvalidFilter, e.0))?,
        ),
        None => None,
    };
    let number = |name: &str, default: usize| -> Result<usize, ScimError> {
        match get(name) {
            None => Ok(default),
            Some(text) => text
                .trim()
                .parse::<i64>()
                .map(|n| usize::try_from(n.max(0)).unwrap_or(0))
                .map_err(|_| {
                    service::bad_request(
                        ScimType::InvalidValue,
                        format!("{name} must be an integer"),
                    )
                    .into()
                }),
        }
    };
    let start_index = number("startIndex", 1)?.max(1);
    let count = number("count", MAX_RESULTS)?;
    Ok((filter, start_index, count, query))
}

/// SCIM: list or find Users
///
/// Every person of the account is a User: users (active or disabled),
/// pending invitations, and people deactivated through SCIM, whether they
/// joined through SCIM or not. `filter=userName eq "…"` (case-insensitive)
/// is how directories look a person up; `startIndex` and `count` page a
/// `ListResponse` (users, then pending invitations, then deactivated people).
#[utoipa::path(
    operation_id = "scim_list_users",
    tag = "scim",
    params(UserQuery),
    responses(
        (status = 200, description = "ListResponse of User", body = Object, content_type = "application/scim+json"),
        (status = 400, description = "`invalidFilter`", body = Object, content_type = "application/scim+json"),
        (status = 401, description = "No valid SCIM token", body = Object, content_type = "application/scim+json"),
    ),
    security(("bearer" = []))
)]
#[get("/scim/v2/Users")]
pub async fn scim_list_users(
    state: web::Data<AppState>,
    ScimContext(ctx): ScimContext,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let (filter, start_index, count, _) = list_query(&req)?;
    let list = state
        .db(move |conn| service::list_users(conn, &ctx, filter.as_ref(), start_index, count))
        .await?;
    Ok(scim_json(StatusCode::OK, &list))
}

/// SCIM: create a User (invites the person)
///
/// Invites `userName` by the account's billing rules (the license is reserved
/// or bought; classic annual accounts without an open license answer `409`).
/// `409 uniqueness` when the person already is a User: a member (active or
/// disabled), a pending invitation, or deactivated through SCIM.
#[utoipa::path(
    operation_id = "scim_create_user",
    tag = "scim",
    request_body(content = Object, content_type = "application/scim+json"),
    responses(
        (status = 201, description = "The User (active, invitationStatus pending)", body = Object, content_type = "application/scim+json"),
        (status = 400, description = "`invalidValue`", body = Object, content_type = "application/scim+json"),
        (status = 409, description = "`uniqueness`, or no open license", body = Object, content_type = "application/scim+json"),
        (status = 429, description = "The account's invitations-per-hour limit, as for a REST invite (with `Retry-After`)", body = Object, content_type = "application/scim+json"),
    ),
    security(("bearer" = []))
)]
#[post("/scim/v2/Users")]
pub async fn scim_create_user(
    state: web::Data<AppState>,
    ScimContext(ctx): ScimContext,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let input = service::UserInput::from_body(&body_json(&body)?)?;
    let account_id = ctx.caller.account_id;
    let user = state
        .db_for_account(account_id, move |conn| {
            service::create_user(conn, &ctx, input)
        })
        .await?;
    // An invitation email may be queued: send it now, not at the next poll.
    state.mail_wakeup.notify_one();
    Ok(created(&user))
}

/// SCIM: one User
#[utoipa::path(
    operation_id = "scim_get_user",
    tag = "scim",
    params(ScimUserPath),
    responses(
        (status = 200, description = "The User", body = Object, content_type = "application/scim+json"),
        (status = 404, description = "Unknown id", body = Object, content_type = "application/scim+json"),
    ),
    security(("bearer" = []))
)]
#[get("/scim/v2/Users/{id}")]
pub async fn scim_get_user(
    state: web::Data<AppState>,
    ScimContext(ctx): ScimContext,
    path: web::Path<ScimUserPath>,
) -> Result<HttpResponse, ScimError> {
    let id = path.into_inner().id;
    let user = state
        .db(move |conn| service::get_user(conn, &ctx, &id))
        .await?;
    Ok(scim_json(StatusCode::OK, &user))
}

/// SCIM: replace a User
///
/// `active`, `name`, `externalId` and the extension's `role` are applied
/// (`active: false` disables or revokes, `true` enables by the license rules).
#[utoipa::path(
    operation_id = "scim_replace_user",
    tag = "scim",
    params(ScimUserPath),
    request_body(content = Object, content_type = "application/scim+json"),
    responses((status = 200, description = "The User", body = Object, content_type = "application/scim+json")),
    security(("bearer" = []))
)]
#[put("/scim/v2/Users/{id}")]
pub async fn scim_replace_user(
    state: web::Data<AppState>,
    ScimContext(ctx): ScimContext,
    path: web::Path<ScimUserPath>,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let input = service::UserInput::from_body(&body_json(&body)?)?;
    let id = path.into_inner().id;
    let account_id = ctx.caller.account_id;
    let user = state
        .db_for_account(account_id, move |conn| {
            service::replace_user(conn, &ctx, &id, input)
        })
        .await?;
    // Reactivating re-invites: its email goes now, not at the next poll.
    state.mail_wakeup.notify_one();
    Ok(scim_json(StatusCode::OK, &user))
}

/// SCIM: patch a User
///
/// `PatchOp` with `add`/`replace`/`remove` (case-insensitive), with or
/// without `path`; booleans may be strings (`"False"`).
#[utoipa::path(
    operation_id = "scim_patch_user",
    tag = "scim",
    params(ScimUserPath),
    request_body(content = Object, content_type = "application/scim+json"),
    responses((status = 200, description = "The User", body = Object, content_type = "application/scim+json")),
    security(("bearer" = []))
)]
#[patch("/scim/v2/Users/{id}")]
pub async fn scim_patch_user(
    state: web::Data<AppState>,
    ScimContext(ctx): ScimContext,
    path: web::Path<ScimUserPath>,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let operations = service::patch_operations(&body_json(&body)?)?;
    let id = path.into_inner().id;
    let account_id = ctx.caller.account_id;
    let user = state
        .db_for_account(account_id, move |conn| {
            service::patch_user(conn, &ctx, &id, operations)
        })
        .await?;
    // Reactivating re-invites: its email goes now, not at the next poll.
    state.mail_wakeup.notify_one();
    Ok(scim_json(StatusCode::OK, &user))
}

/// SCIM: deactivate a User (people are never deleted)
#[utoipa::path(
    operation_id = "scim_delete_user",
    tag = "scim",
    params(ScimUserPath),
    responses((status = 204, description = "Deactivated")),
    security(("bearer" = []))
)]
#[delete("/scim/v2/Users/{id}")]
pub async fn scim_delete_user(
    state: web::Data<AppState>,
    ScimContext(ctx): ScimContext,
    path: web::Path<ScimUserPath>,
) -> Result<HttpResponse, ScimError> {
    let id = path.into_inner().id;
    let account_id = ctx.caller.account_id;
    state
        .db_for_account(account_id, move |conn| {
            service::delete_user(conn, &ctx, &id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ScimGroupPath {
    /// The SCIM id of the Group (the firm group's id)
    pub id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(non_snake_case, dead_code)]
struct GroupQuery {
    /// `eq`, `co`, `sw` on `displayName` (case-insensitive), with `and`, `or`
    filter: Option<String>,
    /// 1-based index of the first result (default 1)
    startIndex: Option<usize>,
    /// Results per page (default and most: 200)
    count: Option<usize>,
    /// `members` leaves the members out
    excludedAttributes: Option<String>,
}

/// SCIM: list or find Groups
///
/// `filter=displayName eq "…"` (case-insensitive); `startIndex` and `count`
/// page a `ListResponse`. `members` are the SCIM Users in the group.
#[utoipa::path(
    operation_id = "scim_list_groups",
    tag = "scim",
    params(GroupQuery),
    responses(
        (status = 200, description = "ListResponse of Group", body = Object, content_type = "application/scim+json"),
        (status = 400, description = "`invalidFilter`", body = Object, content_type = "application/scim+json"),
        (status = 401, description = "No valid SCIM token", body = Object, content_type = "application/scim+json"),
    ),
    security(("bearer" = []))
)]
#[get("/scim/v2/Groups")]
pub async fn scim_list_groups(
    state: web::Data<AppState>,
    ScimContext(ctx): ScimContext,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let (filter, start_index, count, query) = list_query(&req)?;
    let with_members = !query.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("excludedAttributes")
            && v.split(',')
                .any(|a| a.trim().eq_ignore_ascii_case("members"))
    });
    let list = state
        .db(move |conn| {
            groups_service::list_groups(
                conn,
                &ctx,
                filter.as_ref(),
                start_index,
                count,
                with_members,
            )
        })
        .await?;
    Ok(scim_json(StatusCode::OK, &list))
}

/// SCIM: create a Group (a firm group)
///
/// `displayName` is the group's name (`409 uniqueness` when taken); `members`
/// (`[{"value": "<User id>"}]`) must be accepted firm members (a pending
/// invitation: `400 invalidValue`).
#[utoipa::path(
    operation_id = "scim_create_group",
    tag = "scim",
    request_body(content = Object, content_type = "application/scim+json"),
    responses(
        (status = 201, description = "The Group", body = Object, content_type = "application/scim+json"),
        (status = 400, description = "`invalidValue`", body = Object, content_type = "application/scim+json"),
        (status = 409, description = "`uniqueness`: the name is taken", body = Object, content_type = "application/scim+json"),
    ),
    security(("bearer" = []))
)]
#[post("/scim/v2/Groups")]
pub async fn scim_create_group(
    state: web::Data<AppState>,
    ScimContext(ctx): ScimContext,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let body = body_json(&body)?;
    let account_id = ctx.caller.account_id;
    let group = state
        .db_for_account(account_id, move |conn| {
            groups_service::create_group(conn, &ctx, &body)
        })
        .await?;
    Ok(created(&group))
}

/// SCIM: one Group
#[utoipa::path(
    operation_id = "scim_get_group",
    tag = "scim",
    params(ScimGroupPath),
    responses(
        (status = 200, description = "The Group", body = Object, content_type = "application/scim+json"),
        (status = 404, description = "Unknown id", body = Object, content_type = "application/scim+json"),
    ),
    security(("bearer" = []))
)]
#[get("/scim/v2/Groups/{id}")]
pub async fn scim_get_group(
    state: web::Data<AppState>,
    ScimContext(ctx): ScimContext,
    path: web::Path<ScimGroupPath>,
) -> Result<HttpResponse, ScimError> {
    let id = path.into_inner().id;
    let group = state
        .db(move |conn| groups_service::get_group(conn, &ctx, &id))
        .await?;
    Ok(scim_json(StatusCode::OK, &group))
}

/// SCIM: patch a Group
///
/// `add`/`remove`/`replace` of `members` (`[{"value": "<User id>"}]`; also
/// `remove` with path `members[value eq "<User id>"]`, as Entra ID sends),
/// `replace` of `displayName` (a rename). Members must be accepted firm
/// members (a pending invitation: `400 invalidValue`).
#[utoipa::path(
    operation_id = "scim_patch_group",
    tag = "scim",
    params(ScimGroupPath),
    request_body(content = Object, content_type = "application/scim+json"),
    responses(
        (status = 200, description = "The Group", body = Object, content_type = "application/scim+json"),
        (status = 400, description = "`invalidValue`, `invalidPath`", body = Object, content_type = "application/scim+json"),
        (status = 404, description = "Unknown id", body = Object, content_type = "application/scim+json"),
        (status = 409, description = "`uniqueness`: the new name is taken", body = Object, content_type = "application/scim+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/scim/v2/Groups/{id}")]
pub async fn scim_patch_group(
    state: web::Data<AppState>,
    ScimContext(ctx): ScimContext,
    path: web::Path<ScimGroupPath>,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let operations = service::patch_operations(&body_json(&body)?)?;
    let id = path.into_inner().id;
    let account_id = ctx.caller.account_id;
    let group = state
        .db_for_account(account_id, move |conn| {
            groups_service::patch_group(conn, &ctx, &id, operations)
        })
        .await?;
    Ok(scim_json(StatusCode::OK, &group))
}

/// SCIM: replace a Group
///
/// RFC 7644 §3.5.1: `displayName` and `members` become exactly the body's
/// (no `members`: the group keeps none of the SCIM Users), in one
/// transaction; a rename is the group's rename, each membership change the
/// member's `group_ids` update (audit `user.updated`). People who joined
/// without SCIM are not SCIM Users and stay in the group.
#[utoipa::path(
    operation_id = "scim_replace_group",
    tag = "scim",
    params(ScimGroupPath),
    request_body(content = Object, content_type = "application/scim+json"),
    responses(
        (status = 200, description = "The Group", body = Object, content_type = "application/scim+json"),
        (status = 400, description = "`invalidSyntax` (not a JSON object), `invalidValue` (no `displayName`, a member that is unknown or a pending invitation)", body = Object, content_type = "application/scim+json"),
        (status = 404, description = "Unknown id", body = Object, content_type = "application/scim+json"),
        (status = 409, description = "`uniqueness`: the new name is taken", body = Object, content_type = "application/scim+json"),
    ),
    security(("bearer" = []))
)]
#[put("/scim/v2/Groups/{id}")]
pub async fn scim_replace_group(
    state: web::Data<AppState>,
    ScimContext(ctx): ScimContext,
    path: web::Path<ScimGroupPath>,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let body = body_json(&body)?;
    let id = path.into_inner().id;
    let account_id = ctx.caller.account_id;
    let group = state
        .db_for_account(account_id, move |conn| {
            groups_service::replace_group(conn, &ctx, &id, &body)
        })
        .await?;
    Ok(scim_json(StatusCode::OK, &group))
}

/// SCIM: delete a Group (its members stay members of the firm)
#[utoipa::path(
    operation_id = "scim_delete_group",
    tag = "scim",
    params(ScimGroupPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "Unknown id", body = Object, content_type = "application/scim+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/scim/v2/Groups/{id}")]
pub async fn scim_delete_group(
    state: web::Data<AppState>,
    ScimContext(ctx): ScimContext,
    path: web::Path<ScimGroupPath>,
) -> Result<HttpResponse, ScimError> {
    let id = path.into_inner().id;
    let account_id = ctx.caller.account_id;
    state
        .db_for_account(account_id, move |conn| {
            groups_service::delete_group(conn, &ctx, &id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `201 Created` with the new resource and its `meta.location` as `Location`.
fn created(resource: &serde_json::Value) -> HttpResponse {
    let mut response = scim_json(StatusCode::CREATED, resource);
    if let Some(location) = resource["meta"]["location"].as_str()
        && let Ok(value) = actix_web::http::header::HeaderValue::from_str(location)
    {
        response
            .headers_mut()
            .insert(actix_web::http::header::LOCATION, value);
    }
    response
}
