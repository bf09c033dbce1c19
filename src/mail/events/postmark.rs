//! Postmark: the webhook URL carries HTTP basic auth whose password is
//! `INVITATIONS_MAIL_EVENTS_SECRET` (any user name); one event per request.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{EventError, EventRequest, json, rfc3339, same_secret};
use crate::config::Secret;
use crate::domain::delivery::{DeliveryEvent, DeliveryEventKind, normalize_message_id};

/// Bounce types that are not a bounce of the address (Postmark reports them
/// on the same webhook): left out.
const NOT_A_BOUNCE: &[&str] = &[
    "Transient",
    "SoftBounce",
    "AutoResponder",
    "DnsError",
    "OpenRelayTest",
    "ChallengeVerification",
    "AddressChange",
    "Unknown",
];

pub fn verify(
    request: &EventRequest,
    secret: Option<&Secret>,
) -> Result<Vec<DeliveryEvent>, EventError> {
    let secret = secret.ok_or(EventError::Unauthorized(
        "INVITATIONS_MAIL_EVENTS_SECRET is not set",
    ))?;
    let credentials = request
        .header("authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .ok_or(EventError::Unauthorized("no basic auth"))?;
    let password = credentials
        .iter()
        .position(|b| *b == b':')
        .map(|at| &credentials[at + 1..])
        .ok_or(EventError::Unauthorized("no password"))?;
    if !same_secret(password, secret.expose().as_bytes()) {
        return Err(EventError::Unauthorized("wrong password"));
    }
    let body = json(&request.body)?;
    let text = |name: &str| body.get(name).and_then(serde_json::Value::as_str);
    let kind = match text("RecordType") {
        Some("Delivery") => DeliveryEventKind::Delivered,
        Some("Bounce") if !NOT_A_BOUNCE.contains(&text("Type").unwrap_or_default()) => {
            DeliveryEventKind::Bounced
        }
        Some("SpamComplaint") => DeliveryEventKind::Complained,
        _ => return Ok(Vec::new()),
    };
    let id = text("MessageID")
        .map(normalize_message_id)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| EventError::Malformed("no MessageID".into()))?;
    Ok(vec![DeliveryEvent {
        provider_message_id: id,
        kind,
        occurred_at: rfc3339(text("DeliveredAt").or(text("BouncedAt"))),
    }])
}
