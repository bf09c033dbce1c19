//! `POST /mail-events/{provider}`: each provider's signed delivery events,
//! valid (delivery moves forward), forged or unsigned (401, nothing
//! changes), duplicated or late (never backwards).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey;
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
    an_unknown_provider_is_not_found_and_ses_is_refused,
);

const POSTMARK_SECRET: &str = "postmark-basic-auth-password";
const MAILGUN_KEY: &str = "mailgun-signing-key";
/// `whsec_` + base64 of the raw key.
const RESEND_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

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
/// `message_id`, with every provider's event key configured; an invitation
/// whose email was sent.
async fn sent_invitation(app: TestApp, message_id: &str) -> (TestApp, FakeHttp, Owner, Value) {
    let backend = app.backend;
    drop(app);
    let provider = FakeHttp::answering(200)
        .json(json!({"MessageID": message_id}))
        .start();
    let public_key = sendgrid_public_key();
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
    (app, provider, owner, invitation)
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
    let (app, _fake, owner, invitation) = sent_invitation(app, &message_id).await;
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
        (Vec::new(), body.replace("\"signature\"", "\"unsigned\"")),
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
