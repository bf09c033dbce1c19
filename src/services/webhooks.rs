//! Webhooks: per-account endpoints, and the fan-out of events to them (in the
//! transaction of the change, like the audit event it mirrors).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;
use serde_json::json;

use crate::config::Config;
use crate::contract::{self, utc};
use crate::db::{self, DbConnection, webhooks::EndpointRow};
use crate::domain::audit::{AuditAction, WebhookEvent};
use crate::domain::field_error::{FieldError, Partial};
use crate::domain::ids::WebhookId;
use crate::error::{AppError, ErrorCode};
use crate::outbound::DestinationError;
use crate::services::audit::{self, Subject};
use crate::services::context::{Context, Manager};
use crate::services::lock_account_as_manager;

pub const MAX_URL_LEN: usize = 2_048;
pub const MAX_ENDPOINTS: usize = 10;

fn view(row: EndpointRow, secret: Option<String>) -> Result<contract::WebhookEndpoint, AppError> {
    Ok(contract::WebhookEndpoint {
        id: row.id,
        events: row.event_types()?,
        url: row.url,
        created_at: utc(row.created_at),
        secret,
    })
}

/// `url`'s field error when its host is, or resolves to, an address that is
/// not on the public internet — unless `INVITATIONS_WEBHOOK_ALLOW_PRIVATE_NETWORKS`.
/// (Every delivery checks the address it connects to again.)
pub async fn destination_error(
    request: &contract::WebhookRequest,
    config: &Config,
) -> Option<FieldError> {
    if config.webhook_allow_private_networks {
        return None;
    }
    let url = reqwest::Url::parse(request.url.as_deref()?.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    match crate::outbound::check_destination(&url).await {
        Err(DestinationError::NotPublic) => Some(FieldError::new(
            "url",
            "private_address",
            "url must reach a public internet address: loopback, private (RFC 1918), \
             link-local and metadata, unique-local, CGNAT and unspecified addresses are refused",
        )),
        _ => None,
    }
}

fn checked(
    request: &contract::WebhookRequest,
    destination: Option<FieldError>,
) -> Result<(String, Vec<WebhookEvent>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let url = request.url.as_deref().map(str::trim).unwrap_or_default();
    match reqwest::Url::parse(url) {
        _ if url.is_empty() => errors.push(FieldError::required("url")),
        _ if url.len() > MAX_URL_LEN => errors.push(FieldError::new(
            "url",
            "too_long",
            format!("url must be at most {MAX_URL_LEN} characters"),
        )),
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {}
        _ => errors.push(FieldError::new(
            "url",
            "invalid_value",
            "url must be an http or https URL",
        )),
    }
    if errors.is_empty() {
        errors.extend(destination);
    }
    let events = request
        .events
        .clone()
        .unwrap_or_else(|| WebhookEvent::ALL.to_vec());
    let mut seen = std::collections::HashSet::new();
    for (i, event) in events.iter().enumerate() {
        if !seen.insert(event) {
            errors.push(FieldError::new(
                format!("events[{i}]"),
                "duplicate",
                "events must be distinct",
            ));
        }
    }
    if events.is_empty() {
        errors.push(FieldError::new("events", "too_short", "at least one event"));
    }
    if errors.is_empty() {
        Ok((url.to_owned(), events))
    } else {
        Err(errors)
    }
}

pub fn list(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
) -> Result<contract::WebhookEndpointList, AppError> {
    let account_id = ctx.caller.account_id;
    Ok(contract::WebhookEndpointList {
        items: db::webhooks::list(conn, account_id)?
            .into_iter()
            .map(|row| view(row, None))
            .collect::<Result<_, _>>()?,
    })
}

pub fn create(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    input: &Partial<contract::WebhookRequest>,
    destination: Option<FieldError>,
) -> Result<contract::WebhookEndpoint, AppError> {
    let account_id = ctx.caller.account_id;
    ctx.transaction(conn, |conn| {
        let (_, now) = lock_account_as_manager(conn, ctx)?;
        let (url, events) = match (
            checked(&input.value, destination.clone()),
            input.errors.is_empty(),
        ) {
            (Ok(checked), true) => checked,
            (checked, _) => {
                return Err(AppError::Validation(
                    input.merge(checked.err().unwrap_or_default()),
                ));
            }
        };
        if db::webhooks::list(conn, account_id)?.len() >= MAX_ENDPOINTS {
            return Err(AppError::Conflict {
                code: ErrorCode::TooManyWebhooks,
                detail: format!("An account may have at most {MAX_ENDPOINTS} webhook endpoints."),
            });
        }
        let bytes: [u8; 32] = rand::rng().random();
        let secret = format!("whsec_{}", URL_SAFE_NO_PAD.encode(bytes));
        let row = db::webhooks::insert(conn, account_id, &url, &secret, &events, now)?;
        audit::record(
            conn,
            account_id,
            ctx.caller.into(),
            AuditAction::WebhookCreated,
            Subject::Webhook(row.id),
            json!({"url": row.url, "events": events}),
            now,
        )?;
        view(row, Some(secret))
    })
}

pub fn delete(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    webhook_id: WebhookId,
) -> Result<(), AppError> {
    let account_id = ctx.caller.account_id;
    ctx.transaction(conn, |conn| {
        let (_, now) = lock_account_as_manager(conn, ctx)?;
        if db::webhooks::delete(conn, account_id, webhook_id)? == 0 {
            return Err(AppError::NotFound);
        }
        audit::record(
            conn,
            account_id,
            ctx.caller.into(),
            AuditAction::WebhookDeleted,
            Subject::Webhook(webhook_id),
            json!({}),
            now,
        )
    })
}
