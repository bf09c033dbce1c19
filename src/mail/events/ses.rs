//! Amazon SES through SNS (an HTTP/S subscription of the topic SES publishes
//! its events to). Every SNS message is signed: `SignatureVersion` 1 is RSA
//! PKCS#1 v1.5 with SHA-1, 2 with SHA-256, over the canonical "Key\nValue\n"
//! string of the message's fields, under the certificate at
//! `SigningCertURL`. That URL must be `https://sns.{region}.amazonaws.com/….pem`
//! (anything else is refused before any fetch); certificates are cached in
//! memory by URL.
//!
//! A valid signature proves AWS sent the message, not whose topic it came
//! from: the `TopicArn` must also be one of `INVITATIONS_SES_TOPIC_ARN`, and
//! every message is refused while that is unset.
//!
//! `INVITATIONS_SNS_CERT_BASE` (testing only) fetches certificates and
//! subscription confirmations from `{base}{path}?{query}` instead of the SNS
//! host: the URLs in messages must still name an SNS host, only where they
//! are fetched from changes.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::PublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use serde_json::Value;
use x509_cert::Certificate;
use x509_cert::der::{DecodePem, Encode};

use super::{EventError, EventRequest, json, rfc3339};
use crate::config::MailEventKeys;
use crate::domain::delivery::{DeliveryEvent, DeliveryEventKind, normalize_message_id};

/// Fields signed in a `Notification`, in order (`Subject` only when present).
const NOTIFICATION_FIELDS: &[&str] = &[
    "Message",
    "MessageId",
    "Subject",
    "Timestamp",
    "TopicArn",
    "Type",
];
/// Fields signed in a `SubscriptionConfirmation` or `UnsubscribeConfirmation`.
const CONFIRMATION_FIELDS: &[&str] = &[
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
];

/// What an authenticated SNS message asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnsOutcome {
    /// A notification: its SES delivery events (possibly none).
    Events(Vec<DeliveryEvent>),
    /// A subscription confirmation, confirmed by a GET of its `SubscribeURL`.
    SubscriptionConfirmed { topic_arn: String },
    /// An unsubscribe confirmation: nothing to do.
    Unsubscribed { topic_arn: String },
}

/// Checks the SNS message's signature and topic, then parses it (and
/// confirms a subscription).
pub async fn verify(
    request: &EventRequest,
    keys: &MailEventKeys,
) -> Result<SnsOutcome, EventError> {
    let topics = keys
        .ses_topic_arns
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or(EventError::Unauthorized(
            "INVITATIONS_SES_TOPIC_ARN is not set",
        ))?;
    let message: Value = serde_json::from_slice(&request.body)
        .map_err(|_| EventError::Unauthorized("not an SNS message"))?;
    let text = |name: &str| message.get(name).and_then(Value::as_str);
    let kind = text("Type").ok_or(EventError::Unauthorized("not an SNS message"))?;
    let fields = match kind {
        "Notification" => NOTIFICATION_FIELDS,
        "SubscriptionConfirmation" | "UnsubscribeConfirmation" => CONFIRMATION_FIELDS,
        _ => return Err(EventError::Unauthorized("not an SNS message type")),
    };
    let topic_arn = text("TopicArn").ok_or(EventError::Unauthorized("no TopicArn"))?;
    if !topics.iter().any(|t| t == topic_arn) {
        return Err(EventError::Unauthorized(
            "the TopicArn is not INVITATIONS_SES_TOPIC_ARN",
        ));
    }
    let signature = text("Signature")
        .and_then(|s| STANDARD.decode(s.trim()).ok())
        .ok_or(EventError::Unauthorized("no signature"))?;
    let cert_url = text("SigningCertURL")
        .and_then(|u| sns_url(u, true))
        .ok_or(EventError::Unauthorized(
            "SigningCertURL is not https://sns.{region}.amazonaws.com/….pem",
        ))?;
    let version = match text("SignatureVersion") {
        Some(v @ ("1" | "2")) => v,
        _ => return Err(EventError::Unauthorized("unknown SignatureVersion")),
    };
    let mut signed = String::new();
    for field in fields {
        match text(field) {
            Some(value) => {
                signed.push_str(field);
                signed.push('\n');
                signed.push_str(value);
                signed.push('\n');
            }
            None if *field == "Subject" => {}
            None => return Err(EventError::Unauthorized("a signed field is missing")),
        }
    }
    let key = certificate_key(&fetch_url(&cert_url, keys)).await?;
    let signature = Signature::try_from(signature.as_slice())
        .map_err(|_| EventError::Unauthorized("bad signature"))?;
    let valid = if version == "1" {
        VerifyingKey::<sha1::Sha1>::new(key).verify(signed.as_bytes(), &signature)
    } else {
        VerifyingKey::<sha2::Sha256>::new(key).verify(signed.as_bytes(), &signature)
    };
    valid.map_err(|_| EventError::Unauthorized("bad signature"))?;

    let topic_arn = topic_arn.to_owned();
    match kind {
        "Notification" => ses_events(text("Message").unwrap_or_default()).map(SnsOutcome::Events),
        "SubscriptionConfirmation" => {
            let url = text("SubscribeURL").and_then(|u| sns_url(u, false)).ok_or(
                EventError::Unauthorized(
                    "SubscribeURL is not https://sns.{region}.amazonaws.com/…",
                ),
            )?;
            confirm(&fetch_url(&url, keys)).await?;
            Ok(SnsOutcome::SubscriptionConfirmed { topic_arn })
        }
        _ => Ok(SnsOutcome::Unsubscribed { topic_arn }),
    }
}

/// `url` when it is `https://sns.{region}.amazonaws.com/…` (no user, no
/// port other than 443), ending in `.pem` when `pem`.
fn sns_url(url: &str, pem: bool) -> Option<reqwest::Url> {
    let url = reqwest::Url::parse(url).ok()?;
    let host = url.host_str()?;
    let region = host.strip_prefix("sns.")?.strip_suffix(".amazonaws.com")?;
    let plausible = url.scheme() == "https"
        && url.username().is_empty()
        && url.password().is_none()
        && url.port().is_none()
        && !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && (!pem || url.path().ends_with(".pem"));
    plausible.then_some(url)
}

/// Where an SNS URL is fetched from: itself, or its path and query under
/// `INVITATIONS_SNS_CERT_BASE` (tests).
fn fetch_url(url: &reqwest::Url, keys: &MailEventKeys) -> String {
    match &keys.sns_cert_base {
        Some(base) => {
            let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
            format!("{}{}{query}", base.trim_end_matches('/'), url.path())
        }
        None => url.to_string(),
    }
}

fn client() -> Result<&'static reqwest::Client, EventError> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client);
    }
    let client = crate::outbound::http_client().map_err(|why| {
        tracing::error!(why, "no HTTP client for SNS");
        EventError::Unauthorized("cannot fetch the signing certificate")
    })?;
    Ok(CLIENT.get_or_init(|| client))
}

/// The RSA key of the certificate at `url`, fetched once per process.
async fn certificate_key(url: &str) -> Result<PublicKey, EventError> {
    static CERTIFICATES: OnceLock<Mutex<HashMap<String, PublicKey>>> = OnceLock::new();
    let cache = CERTIFICATES.get_or_init(Default::default);
    if let Some(key) = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(url)
    {
        return Ok(key.clone());
    }
    let unusable = |why: String| {
        tracing::warn!(url, why, "SNS signing certificate unusable");
        EventError::Unauthorized("cannot fetch or read the signing certificate")
    };
    let response = client()?
        .get(url)
        .send()
        .await
        .map_err(|e| unusable(e.to_string()))?;
    if !response.status().is_success() {
        return Err(unusable(format!("answered {}", response.status())));
    }
    let pem = response.text().await.map_err(|e| unusable(e.to_string()))?;
    let key = public_key(&pem).map_err(unusable)?;
    cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(url.to_owned(), key.clone());
    Ok(key)
}

/// The RSA public key of a PEM certificate.
fn public_key(pem: &str) -> Result<PublicKey, String> {
    let certificate = Certificate::from_pem(pem.trim()).map_err(|e| e.to_string())?;
    let spki = certificate
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| e.to_string())?;
    PublicKey::from_public_key_der(&spki).map_err(|e| e.to_string())
}

/// Confirms a subscription: a GET of its `SubscribeURL`.
async fn confirm(url: &str) -> Result<(), EventError> {
    let failed = |why: String| {
        tracing::warn!(why, "SNS subscription confirmation failed");
        EventError::Unavailable(format!(
            "the SNS subscription could not be confirmed: {why}"
        ))
    };
    let response = client()?
        .get(url)
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("SNS answered {}", response.status())));
    }
    Ok(())
}

/// The delivery events of an SES event (event publishing's `eventType`, or
/// identity notifications' `notificationType`): Delivery, permanent Bounce,
/// Complaint; other kinds and transient bounces are left out.
fn ses_events(message: &str) -> Result<Vec<DeliveryEvent>, EventError> {
    let event = json(message.as_bytes())?;
    let (kind, details) = match text(&event, "eventType").or(text(&event, "notificationType")) {
        Some("Delivery") => (DeliveryEventKind::Delivered, "delivery"),
        Some("Bounce") if text(&event["bounce"], "bounceType") == Some("Permanent") => {
            (DeliveryEventKind::Bounced, "bounce")
        }
        Some("Complaint") => (DeliveryEventKind::Complained, "complaint"),
        _ => return Ok(Vec::new()),
    };
    let id = text(&event["mail"], "messageId")
        .map(normalize_message_id)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| EventError::Malformed("no mail.messageId".into()))?;
    Ok(vec![DeliveryEvent {
        provider_message_id: id,
        kind,
        occurred_at: rfc3339(text(&event[details], "timestamp")),
    }])
}

fn text<'a>(value: &'a Value, name: &str) -> Option<&'a str> {
    value.get(name).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sns_hosts_are_fetched() {
        assert!(
            sns_url(
                "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-1.pem",
                true
            )
            .is_some()
        );
        for url in [
            "http://sns.eu-west-1.amazonaws.com/a.pem",
            "https://sns.eu-west-1.amazonaws.com.evil.example/a.pem",
            "https://evil.example/sns.eu-west-1.amazonaws.com/a.pem",
            "https://sns.eu-west-1.amazonaws.com:8443/a.pem",
            "https://user@sns.eu-west-1.amazonaws.com/a.pem",
            "https://sns.eu_west.amazonaws.com/a.pem",
            "https://sns..amazonaws.com/a.pem",
            "https://sns.eu-west-1.amazonaws.com/a.txt",
            "https://s3.eu-west-1.amazonaws.com/a.pem",
        ] {
            assert!(sns_url(url, true).is_none(), "{url}");
        }
    }

    #[test]
    fn a_test_base_keeps_only_the_path_and_query() {
        let keys = MailEventKeys {
            sns_cert_base: Some("http://127.0.0.1:9/".into()),
            ..MailEventKeys::default()
        };
        let url = sns_url(
            "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t",
            false,
        )
        .unwrap();
        assert_eq!(
            fetch_url(&url, &keys),
            "http://127.0.0.1:9/?Action=ConfirmSubscription&Token=t"
        );
        assert_eq!(
            fetch_url(&url, &MailEventKeys::default()),
            "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t"
        );
    }

    #[test]
    fn ses_events_become_delivery_events() {
        let parse = |body: &str| ses_events(body).unwrap();
        let delivered = parse(
            r#"{"eventType":"Delivery","mail":{"messageId":"0102-abc"},"delivery":{"timestamp":"2026-12-01T10:00:00.000Z"}}"#,
        );
        assert_eq!(delivered[0].kind, DeliveryEventKind::Delivered);
        assert_eq!(delivered[0].provider_message_id, "0102-abc");
        assert!(delivered[0].occurred_at.is_some());
        let bounced = parse(
            r#"{"notificationType":"Bounce","bounce":{"bounceType":"Permanent"},"mail":{"messageId":"m"}}"#,
        );
        assert_eq!(bounced[0].kind, DeliveryEventKind::Bounced);
        assert!(parse(r#"{"eventType":"Bounce","bounce":{"bounceType":"Transient"},"mail":{"messageId":"m"}}"#).is_empty());
        assert!(parse(r#"{"eventType":"Open","mail":{"messageId":"m"}}"#).is_empty());
        assert_eq!(
            parse(r#"{"eventType":"Complaint","mail":{"messageId":"m"}}"#)[0].kind,
            DeliveryEventKind::Complained
        );
    }
}
