//! HTTP: routes (one registration feeds both actix and the OpenAPI document),
//! extractors, middleware and thin handlers.

pub mod account_gate;
pub mod cors;
pub mod extract;
pub mod gate;
pub mod group_commit;
pub mod handlers;
pub mod idempotency;
pub mod json_fields;
pub mod middleware;
pub mod openapi;
pub mod pages;
pub mod problem;
pub mod rate_limit;
pub mod scim_edge;
pub mod state;

use actix_web::{App, web};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;

use handlers::{
    accounts, audit, groups, invitations, invitee, licenses, mail_events, operations, scim,
    sessions, users, webhooks,
};

/// Registers every API route on `$cfg` (an actix `ServiceConfig` for serving,
/// or utoipa's, which also collects each route's OpenAPI description): one
/// list, so the routes served and the routes documented cannot differ.
macro_rules! api_routes {
    ($cfg:expr) => {
        $cfg.service(operations::healthz)
            .service(operations::readyz)
            .service(operations::metrics)
            .service(operations::list_permissions)
            .service(sessions::create_session)
            .service(accounts::get_account)
            .service(audit::list_audit_events)
            .service(invitations::quote_invitation)
            .service(invitations::bulk_create_invitations)
            .service(invitations::create_invitation)
            .service(invitations::list_invitations)
            .service(invitations::get_invitation)
            .service(invitations::revoke_invitation)
            .service(invitations::resend_invitation)
            .service(users::list_users)
            .service(users::get_user)
            .service(users::update_user)
            .service(users::disable_user)
            .service(users::enable_user)
            .service(groups::list_groups)
            .service(groups::create_group)
            .service(groups::get_group)
            .service(groups::update_group)
            .service(groups::delete_group)
            .service(licenses::get_license_summary)
            .service(licenses::buy_licenses)
            .service(licenses::list_charges)
            .service(webhooks::list_webhooks)
            .service(webhooks::create_webhook)
            .service(webhooks::delete_webhook)
            .service(scim::create_scim_token)
            .service(scim::list_scim_tokens)
            .service(scim::delete_scim_token)
            .service(scim::scim_service_provider_config)
            .service(scim::scim_resource_types)
            .service(scim::scim_schemas)
            .service(scim::scim_list_users)
            .service(scim::scim_create_user)
            .service(scim::scim_get_user)
            .service(scim::scim_replace_user)
            .service(scim::scim_patch_user)
            .service(scim::scim_delete_user)
            .service(scim::scim_list_groups)
            .service(scim::scim_create_group)
            .service(scim::scim_get_group)
            .service(scim::scim_replace_group)
            .service(scim::scim_patch_group)
            .service(scim::scim_delete_group)
            .service(invitee::preview_invitation)
            .service(invitee::accept_invitation)
            .service(invitee::decline_invitation)
            .service(mail_events::receive_mail_events)
    };
}

/// The API routes with their OpenAPI descriptions (for the document).
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    api_routes!(cfg);
}

pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut document) = App::new()
        .into_utoipa_app()
        .openapi(openapi::ApiDoc::openapi())
        .configure(routes)
        .split_for_parts();
    utoipa::Modify::modify(&openapi::IdempotencyKeys, &mut document);
    utoipa::Modify::modify(&openapi::ServedPages, &mut document);
    utoipa::Modify::modify(&openapi::ResponseHeaders, &mut document);
    document
}

pub fn openapi_json() -> String {
    let mut text = openapi_document()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

const OPENAPI_PATH: &str = "/openapi.json";

/// The OpenAPI document as served, serialized once at start.
struct OpenApiJson(web::Bytes);

async fn openapi_json_document(document: web::Data<OpenApiJson>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(document.0.clone())
}

/// Configures a whole app: API routes, documentation, and problem+json 404s.
pub fn configure(
    state: web::Data<state::AppState>,
    document: web::Bytes,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(state)
            .app_data(web::Data::new(OpenApiJson(document)))
            .route(OPENAPI_PATH, web::get().to(openapi_json_document))
            // Raw bodies (a provider's batch of delivery events) up to the
            // same 1 MiB as JSON bodies, not actix's 256 KiB.
            .app_data(web::PayloadConfig::new(extract::MAX_BODY_BYTES))
            // Before `/invitations/{token}`, which would take "accept" for a token.
            .route(pages::ACCEPT_PATH, web::get().to(pages::accept_page))
            // Plain actix registration: the OpenAPI descriptions are built once,
            // for the document, not again in every worker.
            .configure(|cfg| {
                api_routes!(cfg);
            })
            .route(pages::DOCS_PATH, web::get().to(pages::docs_page))
            .service(
                utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
                    .config(utoipa_swagger_ui::Config::from(OPENAPI_PATH)),
            )
            .default_service(web::to(operations::not_found));
    }
}
