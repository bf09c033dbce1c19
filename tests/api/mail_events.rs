//! `POST /mail-events/{provider}`: each provider's signed delivery events,
//! valid (delivery moves forward), forged or unsigned (401, nothing
//! changes), duplicated or late (never backwards).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey;
use rsa::pkcs8::DecodePrivateKey;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::db_tests;
use crate::helpers::{AccountSpec, FakeHttp, Owner, Reply, TestApp};

db_tests!(
    postmark_events_move_delivery_forward_only,
    mailgun_events_move_delivery_forward_only,
    resend_events_move_delivery_forward_only,
    sendgrid_events_move_delivery_forward_only,
    a_sendgrid_send_keeps_its_x_message_id_for_events,
    an_event_body_up_to_one_mebibyte_is_read,
    ses_events_move_delivery_forward_only,
    ses_messages_need_an_sns_host_and_the_topic,
    ses_subscriptions_are_confirmed,
    an_unknown_provider_is_not_found_and_ses_is_refused,
);

const POSTMARK_SECRET: &str = "postmark-basic-auth-password";
const MAILGUN_KEY: &str = "mailgun-signing-key";
/// `whsec_` + base64 of the raw key.
const RESEND_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

const SES_TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:invitations-ses";
const SNS_CERT_URL: &str =
    "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-fixture.pem";
/// A self-signed certificate and its key, made once with
/// `openssl req -x509 -newkey rsa:2048 -nodes` (the test's stand-in for SNS's).
const SNS_CERT: &str = include_str!("../fixtures/sns-signing-cert.pem");
const SNS_KEY: &str = include_str!("../fixtures/sns-signing-key.pem");

/// `fields` as SNS sends them: signed (version 1: SHA-1, 2: SHA-256) over
/// the canonical string of its type's fields, naming `SNS_CERT_URL`.
fn sns_signed(mut fields: Value, version: u8) -> Value {
    let names: &[&str] = if fields["Type"] == "Notification" {
        &[
            "Message",
            "MessageId",
            "Subject",
            "Timestamp",
            "TopicArn",
            "Type",
        ]
    } else {
        &[
            "Message",
            "MessageId",
            "SubscribeURL",
            "Timestamp",
            "Token",
            "TopicArn",
            "Type",
        ]
    };
    let mut signed = String::new();
    for name in names {
        if let Some(value) = fields[name].as_str() {
            signed.push_str(&format!("{name}\n{value}\n"));
        }
    }
    let key = rsa::PrivateKey::from_pkcs8_pem(SNS_KEY).unwrap();
    let signature = if version == 1 {
        rsa::pkcs1v15::SigningKey::<sha1::Sha1>::new(key).sign(signed.as_bytes())
    } else {
        rsa::pkcs1v15::SigningKey::<Sha256>::new(key).sign(signed.as_bytes())
    };
    fields["SignatureVersion"] = version.to_string().into();
    fields["Signature"] = STANDARD.encode(Box::<[u8]>::from(signature)).into();
    fields["SigningCertURL"] = SNS_CERT_URL.into();
    fields
}

/// An SNS notification carrying an SES event (event publishing) of `kind`.
fn ses_notification(kind: &str, message_id: &str, now: i64) -> Value {
    let mail = json!({"messageId": message_id, "destination": ["bounce@example.com"]});
    let at = "2026-12-01T10:00:00.000Z";
    let event = match kind {
        "delivered" => {
            json!({"eventType": "Delivery", "mail": mail, "delivery": {"timestamp": at}})
        }
        "bounced" => json!({"eventType": "Bounce", "mail": mail,
            "bounce": {"bounceType": "Permanent", "bounceSubType": "General", "timestamp": at}}),
        _ => json!({"eventType": "Complaint", "mail": mail, "complaint": {"timestamp": at}}),
    };
    json!({
        "Type": "Notification",
        "MessageId": format!("sns-{now}-{kind}"),
        "TopicArn": SES_TOPIC,
        "Subject": "Amazon SES Email Event Notification",
        "Message": event.to_string(),
        "Timestamp": "2026-12-01T10:00:00.000Z",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
    })
}

fn sendgrid_key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).unwrap()
}

fn sendgrid_public_key() -> String {
    let der = sendgrid_key(7).verifying_key().to_public_key_der().unwrap();
    STANDARD.encode(der.as_bytes())
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A request as `provider` would send it about `message_id`; `genuine`
/// false: signed with the wrong key or password.
fn event(
    app: &TestApp,
    provider: &str,
    kind: &str,
    message_id: &str,
    genuine: bool,
) -> (Vec<(String, String)>, String) {
    let now = app.clock.now().and_utc().timestamp();
    let header = |k: &str, v: String| (k.to_owned(), v);
    match provider {
        "postmark" => {
            let record = match kind {
                "delivered" => json!({"RecordType": "Delivery", "MessageID": message_id,
                    "DeliveredAt": "2026-12-01T10:00:00Z"}),
                "bounced" => json!({"RecordType": "Bounce", "Type": "HardBounce",
                    "MessageID": message_id, "BouncedAt": "2026-12-01T10:00:00Z"}),
                _ => json!({"RecordType": "SpamComplaint", "MessageID": message_id}),
            };
            let password = if genuine { POSTMARK_SECRET } else { "guess" };
            (
                vec![header(
                    "authorization",
                    format!("Basic {}", STANDARD.encode(format!("postmark:{password}"))),
                )],
                record.to_string(),
            )
        }
        "mailgun" => {
            let (timestamp, token) = (now.to_string(), format!("token-{now}"));
            let key = if genuine { MAILGUN_KEY } else { "wrong" };
            let signature = hex(&hmac(
                key.as_bytes(),
                format!("{timestamp}{token}").as_bytes(),
            ));
            let (event, severity) = match kind {
                "delivered" => ("delivered", ""),
                "bounced" => ("failed", "permanent"),
                _ => ("complained", ""),
            };
            let body = json!({
                "signature": {"timestamp": timestamp, "token": token, "signature": signature},
                "event-data": {"event": event, "severity": severity, "timestamp": now as f64,
                    "message": {"headers": {"message-id": message_id}}},
            });
            (Vec::new(), body.to_string())
        }
        "resend" => {
            let body =
                json!({"type": format!("email.{kind}"), "created_at": "2026-12-01T10:00:00.000Z",
                "data": {"email_id": message_id}})
                .to_string();
            let id = format!("msg_{now}");
            let key = STANDARD
                .decode(RESEND_SECRET.trim_start_matches("whsec_"))
                .unwrap();
            let key = if genuine {
                key
            } else {
                b"another key".to_vec()
            };
            let signature = STANDARD.encode(hmac(&key, format!("{id}.{now}.{body}").as_bytes()));
            (
                vec![
                    header("svix-id", id),
                    header("svix-timestamp", now.to_string()),
                    header("svix-signature", format!("v1,{signature}")),
                ],
                body,
            )
        }
        "sendgrid" => {
            let event = match kind {
                "delivered" => "delivered",
                "bounced" => "bounce",
                _ => "spamreport",
            };
            let body = json!([
                {"event": "open", "sg_message_id": format!("{message_id}.filter0001"), "timestamp": now},
                {"event": event, "type": "bounce", "sg_message_id": format!("{message_id}.filter0001"),
                 "timestamp": now},
            ])
            .to_string();
            let key = sendgrid_key(if genuine { 7 } else { 8 });
            let signature: Signature = key.sign(format!("{now}{body}").as_bytes());
            (
                vec![
                    header(
                        "x-twilio-email-event-webhook-signature",
                        STANDARD.encode(signature.to_der().as_bytes()),
                    ),
                    header("x-twilio-email-event-webhook-timestamp", now.to_string()),
                ],
                body,
            )
        }
        "ses" => {
            // SHA-1 signatures for some, SHA-256 for others.
            let version = if kind == "bounced" { 2 } else { 1 };
            let mut message = sns_signed(ses_notification(kind, message_id, now), version);
            if !genuine {
                message["MessageId"] = "not-what-was-signed".into();
            }
            (
                vec![header("x-amz-sns-message-type", "Notification".into())],
                message.to_string(),
            )
        }
        other => panic!("no such provider {other}"),
    }
}

async fn post_event(
    app: &TestApp,
    provider: &str,
    request: (Vec<(String, String)>, String),
) -> Reply {
    let mut builder = app
        .client
        .post(format!("{}/mail-events/{provider}", app.base))
        .header("content-type", "application/json");
    for (name, value) in request.0 {
        builder = builder.header(name, value);
    }
    TestApp::reply(builder.body(request.1).send().await.unwrap()).await
}

/// An app sending through a fake Postmark that names each message
/// `message_id`, with every provider's event key configured (SNS
/// certificates and confirmations from the last fake returned); an
/// invitation whose email was sent.
async fn sent_invitation(
    app: TestApp,
    message_id: &str,
) -> (TestApp, FakeHttp, Owner, Value, FakeHttp) {
    let backend = app.backend;
    drop(app);
    let provider = FakeHttp::answering(200)
        .json(json!({"MessageID": message_id}))
        .start();
    let public_key = sendgrid_public_key();
    let sns = FakeHttp::answering(200).text(SNS_CERT).start();
    let app = TestApp::spawn_with(
        backend,
        &[
            ("INVITATIONS_MAIL_PROVIDER", "postmark"),
            ("INVITATIONS_MAIL_API_KEY", "key-123"),
            ("INVITATIONS_MAIL_API_BASE", provider.base.as_str()),
            ("INVITATIONS_MAIL_EVENTS_SECRET", POSTMARK_SECRET),
            ("INVITATIONS_MAILGUN_WEBHOOK_SIGNING_KEY", MAILGUN_KEY),
            ("INVITATIONS_RESEND_WEBHOOK_SECRET", RESEND_SECRET),
            (
                "INVITATIONS_SENDGRID_WEBHOOK_PUBLIC_KEY",
                public_key.as_str(),
            ),
            ("INVITATIONS_SES_TOPIC_ARN", SES_TOPIC),
            ("INVITATIONS_SNS_CERT_BASE", sns.base.as_str()),
            ("INVITATIONS_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true"),
        ],
    )
    .await
    .unwrap();
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let invitation = app
        .invite(
            &owner,
            json!({"email": "bounce@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    app.wait_for_delivery(&owner, &invitation, "sent").await;
    (app, provider, owner, invitation, sns)
}

async fn delivery(app: &TestApp, owner: &Owner, invitation: &Value) -> Value {
    app.get(
        &format!(
            "/accounts/{}/invitations/{}",
            owner.account_id, invitation["id"]
        ),
        &owner.token,
    )
    .await
    .ok(200)["delivery"]
        .clone()
}

async fn events_move_delivery_forward_only(app: TestApp, provider: &str) {
    // Unique, in case databases are shared between runs.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let message_id = format!("{provider}-{nanos}");
    let (app, _fake, owner, invitation, _sns) = sent_invitation(app, &message_id).await;
    let receiver = FakeHttp::answering(204).start();
    app.post(
        &format!("/accounts/{}/webhooks", owner.account_id),
        &owner.token,
        json!({"url": receiver.url("/hook"), "events": ["invitation.bounced"]}),
    )
    .await
    .ok(201);

    // Forged and unsigned: 401, nothing changes.
    let forged = post_event(
        &app,
        provider,
        event(&app, provider, "bounced", &message_id, false),
    )
    .await;
    forged.problem(401, "unauthorized");
    let (_, body) = event(&app, provider, "bounced", &message_id, true);
    let unsigned = post_event(
        &app,
        provider,
        (
            Vec::new(),
            body.replace("\"signature\"", "\"unsigned\"")
                .replace("\"Signature\"", "\"Unsigned\""),
        ),
    )
    .await;
    unsigned.problem(401, "unauthorized");
    assert_eq!(delivery(&app, &owner, &invitation).await, "sent");

    // Delivered, twice: the second changes nothing.
    let reply = post_event(
        &app,
        provider,
        event(&app, provider, "delivered", &message_id, true),
    )
    .await;
    assert_eq!(reply.ok(200)["changed"], 1, "{}", reply.text);
    assert_eq!(delivery(&app, &owner, &invitation).await, "delivered");
    let again = post_event(
        &app,
        provider,
        event(&app, provider, "delivered", &message_id, true),
    )
    .await;
    assert_eq!(again.ok(200)["changed"], 0);

    // Bounced: recorded and audited; a late delivered or a complaint changes nothing.
    post_event(
        &app,
        provider,
        event(&app, provider, "bounced", &message_id, true),
    )
    .await
    .ok(200);
    assert_eq!(delivery(&app, &owner, &invitation).await, "bounced");
    for late in ["delivered", "complained"] {
        let reply = post_event(
            &app,
            provider,
            event(&app, provider, late, &message_id, true),
        )
        .await;
        assert_eq!(reply.ok(200)["changed"], 0, "{late}");
    }
    assert_eq!(delivery(&app, &owner, &invitation).await, "bounced");
    let audit = app
        .get(
            &format!(
                "/accounts/{}/audit-events?action=invitation.bounced",
                owner.account_id
            ),
            &owner.token,
        )
        .await;
    let items = audit.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{}", audit.text);
    assert_eq!(items[0]["details"]["kind"], "bounced");
    assert_eq!(items[0]["details"]["provider"], provider);
    // The account's webhook hears of it, once.
    let hooks = receiver
        .wait_for_succeeded(1, std::time::Duration::from_secs(10))
        .await;
    let payload = hooks[0].json();
    assert_eq!(payload["type"], "invitation.bounced");
    assert_eq!(payload["data"]["kind"], "bounced");
    assert_eq!(payload["subject"]["id"], invitation["id"]);

    // An event about a message this service never sent: accepted, ignored.
    let stranger = post_event(
        &app,
        provider,
        event(&app, provider, "bounced", "someone-else", true),
    )
    .await;
    assert_eq!(stranger.ok(200)["unknown"], 1);

    let metrics = app.request("GET", "/metrics", None, None).await.text;
    assert!(
        metrics.contains(&format!(
            "invitations_mail_events_total{{provider=\"{provider}\",kind=\"bounced\"}}"
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("invitations_email_sends_total{provider=\"postmark\",outcome=\"sent\"} 1"),
        "{metrics}"
    );
    assert_eq!(receiver.calls().len(), 1, "one bounce, one webhook");
}

async fn postmark_events_move_delivery_forward_only(app: TestApp) {
    events_move_delivery_forward_only(app, "postmark").await;
}

async fn mailgun_events_move_delivery_forward_only(app: TestApp) {
    events_move_delivery_forward_only(app, "mailgun").await;
}

async fn resend_events_move_delivery_forward_only(app: TestApp) {
    events_move_delivery_forward_only(app, "resend").await;
}

async fn sendgrid_events_move_delivery_forward_only(app: TestApp) {
    events_move_delivery_forward_only(app, "sendgrid").await;
}

async fn ses_events_move_delivery_forward_only(app: TestApp) {
    events_move_delivery_forward_only(app, "ses").await;
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{nanos}")
}

/// Genuinely signed messages naming a certificate off the SNS hosts, or
/// from another topic, are refused before any certificate is fetched; the
/// certificate is fetched once and then cached.
async fn ses_messages_need_an_sns_host_and_the_topic(app: TestApp) {
    let message_id = unique("ses");
    let (app, _fake, owner, invitation, sns) = sent_invitation(app, &message_id).await;
    let now = app.clock.now().and_utc().timestamp();
    let delivered = sns_signed(ses_notification("delivered", &message_id, now), 1);
    let post = |message: Value| {
        let app = &app;
        async move {
            app.post_raw(
                "/mail-events/ses",
                None,
                Some("text/plain; charset=UTF-8"),
                message.to_string(),
            )
            .await
        }
    };
    for host in [
        "https://evil.example.com/SimpleNotificationService-fixture.pem",
        "http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-fixture.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.example/SimpleNotificationService-fixture.pem",
        "https://sns.eu-west-1.amazonaws.com/not-a-certificate.txt",
    ] {
        let mut message = delivered.clone();
        message["SigningCertURL"] = host.into();
        post(message).await.problem(401, "unauthorized");
    }
    let mut elsewhere = ses_notification("delivered", &message_id, now);
    elsewhere["TopicArn"] = "arn:aws:sns:eu-west-1:999999999999:someone-elses".into();
    post(sns_signed(elsewhere, 1))
        .await
        .problem(401, "unauthorized");
    let mut unknown_version = delivered.clone();
    unknown_version["SignatureVersion"] = "3".into();
    post(unknown_version).await.problem(401, "unauthorized");
    assert!(sns.calls().is_empty(), "{:?}", sns.calls());
    assert_eq!(delivery(&app, &owner, &invitation).await, "sent");

    let reply = post(delivered).await;
    assert_eq!(reply.ok(200)["changed"], 1, "{}", reply.text);
    let reply = post(sns_signed(
        ses_notification("complained", &message_id, now),
        2,
    ))
    .await;
    assert_eq!(reply.ok(200)["changed"], 1, "{}", reply.text);
    assert_eq!(delivery(&app, &owner, &invitation).await, "complained");
    let fetched: Vec<_> = sns.calls().into_iter().map(|c| c.path).collect();
    assert_eq!(fetched, ["/SimpleNotificationService-fixture.pem"]);
}

/// A signed SubscriptionConfirmation is confirmed by a GET of its
/// SubscribeURL (an SNS host); one naming another host is refused.
async fn ses_subscriptions_are_confirmed(app: TestApp) {
    let (app, _fake, _owner, _invitation, sns) = sent_invitation(app, &unique("ses")).await;
    let confirmation = |subscribe_url: &str| {
        sns_signed(
            json!({
                "Type": "SubscriptionConfirmation",
                "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
                "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
                "TopicArn": SES_TOPIC,
                "Message": format!("You have chosen to subscribe to the topic {SES_TOPIC}."),
                "SubscribeURL": subscribe_url,
                "Timestamp": "2026-12-01T10:00:00.000Z",
            }),
            1,
        )
        .to_string()
    };
    let refused = app
        .post_raw(
            "/mail-events/ses",
            None,
            Some("text/plain"),
            confirmation("https://evil.example/?Action=ConfirmSubscription&Token=t"),
        )
        .await;
    refused.problem(401, "unauthorized");
    let reply = app
        .post_raw(
            "/mail-events/ses",
            None,
            Some("text/plain"),
            confirmation(&format!(
                "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={SES_TOPIC}&Token=t"
            )),
        )
        .await;
    assert_eq!(reply.ok(200)["received"], 0, "{}", reply.text);
    let confirmed: Vec<_> = sns
        .calls()
        .into_iter()
        .filter(|c| c.path == "/")
        .map(|c| c.method)
        .collect();
    assert_eq!(confirmed, ["GET"], "{:?}", sns.calls());
}

async fn an_unknown_provider_is_not_found_and_ses_is_refused(app: TestApp) {
    let reply = app
        .post_raw(
            "/mail-events/carrier-pigeon",
            None,
            Some("application/json"),
            "{}",
        )
        .await;
    reply.problem(404, "not_found");
    // Without INVITATIONS_SES_TOPIC_ARN every SNS message is refused.
    let reply = app
        .post_raw("/mail-events/ses", None, Some("application/json"), "{}")
        .await;
    reply.problem(401, "unauthorized");
    // A provider whose key is not configured refuses every event.
    let reply = app
        .post_raw("/mail-events/resend", None, Some("application/json"), "{}")
        .await;
    reply.problem(401, "unauthorized");
}

/// SendGrid names a message only in its answer's `X-Message-Id` header; the
/// send keeps it, so the signed event (`sg_message_id` = that id + `.filter…`)
/// finds the invitation.
async fn a_sendgrid_send_keeps_its_x_message_id_for_events(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let message_id = format!(
        "sg{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let provider = FakeHttp::answering(202)
        .header("X-Message-Id", &message_id)
        .start();
    let public_key = sendgrid_public_key();
    let app = TestApp::spawn_with(
        backend,
        &[
            ("INVITATIONS_MAIL_PROVIDER", "sendgrid"),
            ("INVITATIONS_MAIL_API_KEY", "key-123"),
            ("INVITATIONS_MAIL_API_BASE", provider.base.as_str()),
            (
                "INVITATIONS_SENDGRID_WEBHOOK_PUBLIC_KEY",
                public_key.as_str(),
            ),
        ],
    )
    .await
    .unwrap();
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let invitation = app
        .invite(
            &owner,
            json!({"email": "grid@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    app.wait_for_delivery(&owner, &invitation, "sent").await;
    assert_eq!(provider.calls()[0].path, "/v3/mail/send");
    let reply = post_event(
        &app,
        "sendgrid",
        event(&app, "sendgrid", "delivered", &message_id, true),
    )
    .await;
    assert_eq!(reply.ok(200)["changed"], 1, "{}", reply.text);
    assert_eq!(delivery(&app, &owner, &invitation).await, "delivered");
}

/// A provider's batch may be large: bodies up to 1 MiB are read (actix's own
/// limit is 256 KiB); beyond, 413.
async fn an_event_body_up_to_one_mebibyte_is_read(app: TestApp) {
    let message_id = format!(
        "big-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let (app, _fake, owner, invitation, _sns) = sent_invitation(app, &message_id).await;
    let (headers, body) = event(&app, "postmark", "delivered", &message_id, true);
    let mut record: Value = serde_json::from_str(&body).unwrap();
    record["Metadata"] = json!({"padding": "x".repeat(600 * 1024)});
    let reply = post_event(&app, "postmark", (headers.clone(), record.to_string())).await;
    assert_eq!(reply.ok(200)["changed"], 1, "{}", reply.text);
    assert_eq!(delivery(&app, &owner, &invitation).await, "delivered");
    record["Metadata"] = json!({"padding": "x".repeat(1100 * 1024)});
    post_event(&app, "postmark", (headers, record.to_string()))
        .await
        .problem(413, "payload_too_large");
}
