//! SendGrid: the signed event webhook. `X-Twilio-Email-Event-Webhook-Signature`
//! is a base64 DER ECDSA (P-256, SHA-256) signature over the
//! `X-Twilio-Email-Event-Webhook-Timestamp` followed by the raw body, under
//! the public key `INVITATIONS_SENDGRID_WEBHOOK_PUBLIC_KEY` (base64 DER, as
//! SendGrid shows it, or PEM). A request holds a batch of events.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::NaiveDateTime;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;

use super::{EventError, EventRequest, fresh, json, unix_time};
use crate::domain::delivery::{DeliveryEvent, DeliveryEventKind, normalize_message_id};

pub fn verify(
    request: &EventRequest,
    public_key: Option<&str>,
    now: NaiveDateTime,
) -> Result<Vec<DeliveryEvent>, EventError> {
    let key = public_key
        .and_then(parse_key)
        .ok_or(EventError::Unauthorized(
            "INVITATIONS_SENDGRID_WEBHOOK_PUBLIC_KEY is not set or not a P-256 public key",
        ))?;
    let signature = request
        .header("x-twilio-email-event-webhook-signature")
        .and_then(|s| STANDARD.decode(s.trim()).ok())
        .and_then(|der| Signature::from_der(&der).ok())
        .ok_or(EventError::Unauthorized("no signature"))?;
    let timestamp = request
        .header("x-twilio-email-event-webhook-timestamp")
        .ok_or(EventError::Unauthorized("no timestamp"))?;
    let mut signed = timestamp.as_bytes().to_vec();
    signed.extend_from_slice(&request.body);
    key.verify(&signed, &signature)
        .map_err(|_| EventError::Unauthorized("bad signature"))?;
    fresh(timestamp, now)?;
    let body = json(&request.body)?;
    let events = body
        .as_array()
        .ok_or_else(|| EventError::Malformed("not an array of events".into()))?;
    Ok(events
        .iter()
        .filter_map(|event| {
            let kind = match event["event"].as_str()? {
                "delivered" => DeliveryEventKind::Delivered,
                "bounce" if event["type"].as_str() != Some("blocked") => DeliveryEventKind::Bounced,
                "spamreport" => DeliveryEventKind::Complained,
                _ => return None,
            };
            // `sg_message_id` is the X-Message-Id the send answered, then `.filter…`.
            let id = event["sg_message_id"].as_str()?.split('.').next()?;
            Some(DeliveryEvent {
                provider_message_id: normalize_message_id(id),
                kind,
                occurred_at: event["timestamp"].as_f64().and_then(unix_time),
            })
        })
        .filter(|e| !e.provider_message_id.is_empty())
        .collect())
}

fn parse_key(text: &str) -> Option<VerifyingKey> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return VerifyingKey::from_public_key_pem(text).ok();
    }
    let der = STANDARD.decode(text).ok()?;
    VerifyingKey::from_public_key_der(&der).ok()
}
