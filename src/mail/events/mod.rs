//! Delivery events from providers (`POST /mail-events/{provider}`): each
//! provider's module checks the request's signature and parses its payload
//! into common `DeliveryEvent`s. Nothing here touches the database.

pub mod mailgun;
pub mod postmark;
pub mod resend;
pub mod sendgrid;
pub mod ses;

use chrono::NaiveDateTime;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::config::MailEventKeys;
use crate::domain::delivery::DeliveryEvent;

/// The providers whose events are taken, as named in the path.
pub const PROVIDERS: &[&str] = &["postmark", "mailgun", "sendgrid", "resend", "ses"];

/// How far a signed timestamp may be from the service's clock (replays of
/// older requests are refused; a replay within it changes nothing anyway).
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

/// An event request as received.
#[derive(Debug, Clone)]
pub struct EventRequest {
    /// Header names lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl EventRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why an event request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    UnknownProvider,
    /// Not signed, badly signed, too old, or the provider's key is not configured.
    Unauthorized(&'static str),
    /// Authenticated, but not a payload this service understands.
    Malformed(String),
    /// Authenticated, but what it asks for failed for now (an SNS
    /// subscription that could not be confirmed): the sender should retry.
    Unavailable(String),
}

/// Checks the request's signature and parses its events (only `delivered`,
/// `bounced` and `complained` ones; others are left out).
pub fn verify(
    provider: &str,
    request: &EventRequest,
    keys: &MailEventKeys,
    now: NaiveDateTime,
) -> Result<Vec<DeliveryEvent>, EventError> {
    match provider {
        "postmark" => postmark::verify(request, keys.postmark_secret.as_ref()),
        "mailgun" => mailgun::verify(request, keys.mailgun_signing_key.as_ref(), now),
        "resend" => resend::verify(request, keys.resend_secret.as_ref(), now),
        "sendgrid" => sendgrid::verify(request, keys.sendgrid_public_key.as_deref(), now),
        // SNS messages need their signing certificate fetched: `ses::verify`.
        "ses" => Err(EventError::Unauthorized(
            "SNS messages go through ses::verify",
        )),
        _ => Err(EventError::UnknownProvider),
    }
}

/// HMAC-SHA256 of `message` under `key`.
fn hmac_sha256(key: &[u8], message: &[&[u8]]) -> Result<Vec<u8>, EventError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .map_err(|_| EventError::Unauthorized("unusable signing key"))?;
    for part in message {
        mac.update(part);
    }
    Ok(mac.finalize().into_bytes().to_vec())
}

/// Equal, in time that does not depend on where they differ (compares the
/// SHA-256 of each).
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    use sha2::Digest;
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// A signed Unix timestamp within `TOLERANCE_SECONDS` of `now`.
fn fresh(timestamp: &str, now: NaiveDateTime) -> Result<(), EventError> {
    let seconds: i64 = timestamp
        .trim()
        .split('.')
        .next()
        .unwrap_or_default()
        .parse()
        .map_err(|_| EventError::Unauthorized("the timestamp is not a number"))?;
    if (now.and_utc().timestamp() - seconds).abs() > TOLERANCE_SECONDS {
        return Err(EventError::Unauthorized(
            "the timestamp is too old or in the future",
        ));
    }
    Ok(())
}

fn json(body: &[u8]) -> Result<serde_json::Value, EventError> {
    serde_json::from_slice(body).map_err(|e| EventError::Malformed(format!("not JSON: {e}")))
}

fn unix_time(seconds: f64) -> Option<NaiveDateTime> {
    // Whole seconds are enough; the cast of a finite, bounded value is exact.
    (seconds.is_finite() && seconds.abs() < 1e11)
        .then(|| chrono::DateTime::from_timestamp(seconds as i64, 0))
        .flatten()
        .map(|t| t.naive_utc())
}

fn rfc3339(text: Option<&str>) -> Option<NaiveDateTime> {
    chrono::DateTime::parse_from_rfc3339(text?)
        .ok()
        .map(|t| t.naive_utc())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
