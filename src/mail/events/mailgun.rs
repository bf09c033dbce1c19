//! Mailgun: the payload's `signature` object, `HMAC-SHA256(timestamp + token)`
//! in hex under `INVITATIONS_MAILGUN_WEBHOOK_SIGNING_KEY`.

use chrono::NaiveDateTime;

use super::{EventError, EventRequest, fresh, hex, hmac_sha256, json, same_secret, unix_time};
use crate::config::Secret;
use crate::domain::delivery::{DeliveryEvent, DeliveryEventKind, normalize_message_id};

pub fn verify(
    request: &EventRequest,
    key: Option<&Secret>,
    now: NaiveDateTime,
) -> Result<Vec<DeliveryEvent>, EventError> {
    let key = key.ok_or(EventError::Unauthorized(
        "INVITATIONS_MAILGUN_WEBHOOK_SIGNING_KEY is not set",
    ))?;
    let body = json(&request.body).map_err(|_| EventError::Unauthorized("not JSON"))?;
    let signature = &body["signature"];
    let field = |name: &str| {
        signature
            .get(name)
            .and_then(serde_json::Value::as_str)
            .ok_or(EventError::Unauthorized("no signature"))
    };
    let (timestamp, token, given) = (field("timestamp")?, field("token")?, field("signature")?);
    let expected = hex(&hmac_sha256(
        key.expose().as_bytes(),
        &[timestamp.as_bytes(), token.as_bytes()],
    )?);
    if !same_secret(expected.as_bytes(), given.to_ascii_lowercase().as_bytes()) {
        return Err(EventError::Unauthorized("bad signature"));
    }
    fresh(timestamp, now)?;
    let data = &body["event-data"];
    let kind = match data["event"].as_str() {
        Some("delivered") => DeliveryEventKind::Delivered,
        Some("failed") if data["severity"].as_str() == Some("permanent") => {
            DeliveryEventKind::Bounced
        }
        Some("complained") => DeliveryEventKind::Complained,
        _ => return Ok(Vec::new()),
    };
    let id = data["message"]["headers"]["message-id"]
        .as_str()
        .map(normalize_message_id)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| EventError::Malformed("no message-id".into()))?;
    Ok(vec![DeliveryEvent {
        provider_message_id: id,
        kind,
        occurred_at: data["timestamp"].as_f64().and_then(unix_time),
    }])
}
