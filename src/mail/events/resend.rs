//! Resend: Svix signatures. `svix-signature` holds one or more `v1,<base64>`
//! of `HMAC-SHA256("{svix-id}.{svix-timestamp}.{body}")` under the base64
//! secret after `whsec_` (`INVITATIONS_RESEND_WEBHOOK_SECRET`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::NaiveDateTime;

use super::{EventError, EventRequest, fresh, hmac_sha256, json, rfc3339, same_secret};
use crate::config::Secret;
use crate::domain::delivery::{DeliveryEvent, DeliveryEventKind, normalize_message_id};

pub fn verify(
    request: &EventRequest,
    secret: Option<&Secret>,
    now: NaiveDateTime,
) -> Result<Vec<DeliveryEvent>, EventError> {
    let secret = secret.ok_or(EventError::Unauthorized(
        "INVITATIONS_RESEND_WEBHOOK_SECRET is not set",
    ))?;
    let key = STANDARD
        .decode(secret.expose().trim().trim_start_matches("whsec_"))
        .map_err(|_| EventError::Unauthorized("the secret is not whsec_ + base64"))?;
    let header = |name: &'static str| {
        request
            .header(name)
            .ok_or(EventError::Unauthorized("a svix header is missing"))
    };
    let (id, timestamp, signatures) = (
        header("svix-id")?,
        header("svix-timestamp")?,
        header("svix-signature")?,
    );
    let expected = STANDARD.encode(hmac_sha256(
        &key,
        &[
            id.as_bytes(),
            b".",
            timestamp.as_bytes(),
            b".",
            &request.body,
        ],
    )?);
    let matches = signatures
        .split_whitespace()
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|given| same_secret(given.as_bytes(), expected.as_bytes()));
    if !matches {
        return Err(EventError::Unauthorized("bad signature"));
    }
    fresh(timestamp, now)?;
    let body = json(&request.body)?;
    let kind = match body["type"].as_str() {
        Some("email.delivered") => DeliveryEventKind::Delivered,
        Some("email.bounced") => DeliveryEventKind::Bounced,
        Some("email.complained") => DeliveryEventKind::Complained,
        _ => return Ok(Vec::new()),
    };
    let message = body["data"]["email_id"]
        .as_str()
        .map(normalize_message_id)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| EventError::Malformed("no data.email_id".into()))?;
    Ok(vec![DeliveryEvent {
        provider_message_id: message,
        kind,
        occurred_at: rfc3339(body["created_at"].as_str()),
    }])
}
