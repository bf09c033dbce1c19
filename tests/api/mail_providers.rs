//! Postmark, SendGrid, Mailgun, Resend and SES, faked only at their HTTP
//! boundary: a local server records what the service sends; SMTP against a
//! local SMTP sink.

use std::time::Duration;

use serde_json::{Value, json};

use crate::db_tests;
use crate::helpers::{AccountSpec, Backend, Call, FakeHttp, SmtpSink, TestApp, eventually};

db_tests!(
    postmark_gets_the_message_with_its_server_token,
    sendgrid_gets_the_message_with_a_bearer_key,
    mailgun_gets_a_form_post_on_its_domain,
    a_refusing_provider_leaves_the_email_queued_for_retry,
    resend_gets_the_message_with_a_bearer_key_and_an_idempotency_key,
    ses_gets_a_sigv4_signed_request,
    smtp_relay_gets_the_message_with_a_deterministic_message_id,
    smtp_without_starttls_never_sends_in_clear,
);

/// A provider's API, faked at its HTTP boundary: answers `status` with a
/// small JSON body and records each request.
fn fake_provider(status: u16) -> FakeHttp {
    FakeHttp::answering(status)
        .json(json!({"ok": status < 300}))
        .start()
}

/// The first request the provider got (waits up to 10 s for it).
async fn first_call(provider: &FakeHttp) -> Call {
    provider
        .wait_for_calls(1, Duration::from_secs(10))
        .await
        .remove(0)
}

async fn invite_through(
    backend: Backend,
    provider_name: &str,
    extra: &[(&str, &str)],
    status: u16,
) -> (TestApp, FakeHttp, crate::helpers::Owner, Value) {
    let provider = fake_provider(status);
    let mut overrides = vec![
        ("INVITATIONS_MAIL_PROVIDER", provider_name),
        ("INVITATIONS_MAIL_API_KEY", "key-123"),
        ("INVITATIONS_MAIL_API_BASE", provider.base.as_str()),
    ];
    overrides.extend_from_slice(extra);
    let app = TestApp::spawn_with(backend, &overrides).await.unwrap();
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let invitation = app
        .invite(
            &owner,
            json!({"email": "sent@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    (app, provider, owner, invitation)
}

async fn postmark_gets_the_message_with_its_server_token(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let (app, provider, owner, invitation) = invite_through(backend, "postmark", &[], 200).await;
    let call = first_call(&provider).await;
    assert_eq!(call.path, "/email");
    assert_eq!(call.header("x-postmark-server-token"), "key-123");
    let body: Value = serde_json::from_str(&call.body).unwrap();
    assert_eq!(body["To"], "sent@example.com");
    assert_eq!(body["Subject"], "You've been invited to Clio");
    assert!(
        body["TextBody"]
            .as_str()
            .unwrap()
            .contains("/invitations/accept?token=inv_")
    );
    assert!(
        body["HtmlBody"]
            .as_str()
            .unwrap()
            .contains("Smith &#38; Jones LLP")
            || body["HtmlBody"]
                .as_str()
                .unwrap()
                .contains("Smith &amp; Jones LLP")
    );
    app.wait_for_delivery(&owner, &invitation, "sent").await;
}

async fn sendgrid_gets_the_message_with_a_bearer_key(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let (app, provider, owner, invitation) = invite_through(backend, "sendgrid", &[], 202).await;
    let call = first_call(&provider).await;
    assert_eq!(call.path, "/v3/mail/send");
    assert_eq!(call.header("authorization"), "Bearer key-123");
    let body: Value = serde_json::from_str(&call.body).unwrap();
    assert_eq!(
        body["personalizations"][0]["to"][0]["email"],
        "sent@example.com"
    );
    assert_eq!(body["content"][0]["type"], "text/plain");
    assert_eq!(body["from"]["name"], "Clio");
    app.wait_for_delivery(&owner, &invitation, "sent").await;
}

async fn mailgun_gets_a_form_post_on_its_domain(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let (app, provider, owner, invitation) = invite_through(
        backend,
        "mailgun",
        &[("INVITATIONS_MAILGUN_DOMAIN", "mg.example.com")],
        200,
    )
    .await;
    let call = first_call(&provider).await;
    assert_eq!(call.path, "/v3/mg.example.com/messages");
    assert!(call.header("authorization").starts_with("Basic "));
    assert!(
        call.header("content-type")
            .starts_with("application/x-www-form-urlencoded")
    );
    assert!(call.body.contains("to=sent%40example.com"), "{}", call.body);
    app.wait_for_delivery(&owner, &invitation, "sent").await;
}

async fn a_refusing_provider_leaves_the_email_queued_for_retry(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let (app, provider, owner, invitation) = invite_through(backend, "postmark", &[], 500).await;
    // Once the provider has answered its 500 (polled), give the worker a
    // moment to record the failure: the point is what does *not* happen next
    // (the email neither fails nor counts as sent), which no poll can show.
    eventually(
        "the provider's 500 to be answered",
        Duration::from_secs(10),
        || async { provider.calls().first().filter(|c| c.answered).map(|_| ()) },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let reply = app
        .get(
            &format!(
                "/accounts/{}/invitations/{}",
                owner.account_id, invitation["id"]
            ),
            &owner.token,
        )
        .await;
    assert_eq!(reply.ok(200)["delivery"], "queued");
}

async fn resend_gets_the_message_with_a_bearer_key_and_an_idempotency_key(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let (app, provider, owner, invitation) = invite_through(backend, "resend", &[], 200).await;
    let call = first_call(&provider).await;
    assert_eq!(call.path, "/emails");
    assert_eq!(call.header("authorization"), "Bearer key-123");
    assert!(
        call.header("idempotency-key")
            .starts_with("invitations-outbox-"),
        "{:?}",
        call.headers
    );
    let body = call.json();
    assert_eq!(body["to"][0], "sent@example.com");
    assert_eq!(body["subject"], "You've been invited to Clio");
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains("/invitations/accept?token=inv_")
    );
    app.wait_for_delivery(&owner, &invitation, "sent").await;
}

async fn ses_gets_a_sigv4_signed_request(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let (app, provider, owner, invitation) = invite_through(
        backend,
        "ses",
        &[
            ("INVITATIONS_SES_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            ),
        ],
        200,
    )
    .await;
    let call = first_call(&provider).await;
    assert_eq!(call.path, "/v2/email/outbound-emails");
    let authorization = call.header("authorization");
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            && authorization.contains("/eu-west-1/ses/aws4_request"),
        "{authorization}"
    );
    assert!(!call.header("x-amz-date").is_empty());
    let body = call.json();
    assert_eq!(body["Destination"]["ToAddresses"][0], "sent@example.com");
    assert_eq!(
        body["Content"]["Simple"]["Subject"]["Data"],
        "You've been invited to Clio"
    );
    app.wait_for_delivery(&owner, &invitation, "sent").await;
}

async fn invite_over_smtp(backend: Backend, url: &str) -> (TestApp, crate::helpers::Owner, Value) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("INVITATIONS_MAIL_PROVIDER", "smtp"),
            ("INVITATIONS_SMTP_URL", url),
        ],
    )
    .await
    .unwrap();
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let invitation = app
        .invite(
            &owner,
            json!({"email": "sent@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    (app, owner, invitation)
}

async fn smtp_relay_gets_the_message_with_a_deterministic_message_id(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let sink = SmtpSink::start();
    let url = format!("smtp://127.0.0.1:{}?tls=none", sink.port);
    let (app, owner, invitation) = invite_over_smtp(backend, &url).await;
    let message = sink.wait_for_messages(1).await.remove(0);
    assert!(
        sink.commands()
            .iter()
            .any(|c| c.eq_ignore_ascii_case("RCPT TO:<sent@example.com>")),
        "{:?}",
        sink.commands()
    );
    assert!(
        message.contains("Subject: You've been invited to Clio"),
        "{message}"
    );
    assert!(
        message.contains("Message-ID: <outbox-") && message.contains("@invitations.localhost>"),
        "{message}"
    );
    assert!(
        message.contains("/invitations/accept?token=inv_"),
        "{message}"
    );
    app.wait_for_delivery(&owner, &invitation, "sent").await;
}

async fn smtp_without_starttls_never_sends_in_clear(app: TestApp) {
    let backend = app.backend;
    drop(app);
    // The sink offers no STARTTLS; smtp:// without ?tls=none requires it.
    let sink = SmtpSink::start();
    let url = format!("smtp://user:pass@127.0.0.1:{}", sink.port);
    let (app, owner, invitation) = invite_over_smtp(backend, &url).await;
    eventually(
        "the service to greet the sink",
        Duration::from_secs(10),
        || async {
            sink.commands()
                .iter()
                .any(|c| c.to_ascii_uppercase().starts_with("EHLO"))
                .then_some(())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let commands = sink.commands();
    assert!(
        !commands
            .iter()
            .any(|c| c.to_ascii_uppercase().starts_with("MAIL")
                || c.to_ascii_uppercase().starts_with("AUTH")),
        "{commands:?}"
    );
    assert!(sink.messages().is_empty());
    let reply = app
        .get(
            &format!(
                "/accounts/{}/invitations/{}",
                owner.account_id, invitation["id"]
            ),
            &owner.token,
        )
        .await;
    assert_eq!(reply.ok(200)["delivery"], "queued");
}

#[test]
fn a_provider_without_its_key_or_domain_is_a_configuration_error() {
    use invitations::config::Config;
    let config = |vars: &[(&str, &str)]| {
        let map: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    };
    // Each refusal names what is missing or wrong (not just any error).
    let refused = |vars: &[(&str, &str)], names: &str| {
        let error = config(vars).expect_err("a configuration error");
        assert!(error.contains(names), "{vars:?}: {error}");
    };
    refused(
        &[("INVITATIONS_MAIL_PROVIDER", "postmark")],
        "INVITATIONS_MAIL_API_KEY",
    );
    refused(
        &[
            ("INVITATIONS_MAIL_PROVIDER", "mailgun"),
            ("INVITATIONS_MAIL_API_KEY", "k"),
        ],
        "INVITATIONS_MAILGUN_DOMAIN",
    );
    refused(
        &[("INVITATIONS_MAIL_PROVIDER", "carrier-pigeon")],
        "INVITATIONS_MAIL_PROVIDER=carrier-pigeon",
    );
    refused(
        &[("INVITATIONS_MAIL_PROVIDER", "resend")],
        "INVITATIONS_MAIL_API_KEY",
    );
    refused(
        &[
            ("INVITATIONS_MAIL_PROVIDER", "ses"),
            ("AWS_ACCESS_KEY_ID", "a"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ],
        "INVITATIONS_SES_REGION",
    );
    refused(
        &[
            ("INVITATIONS_MAIL_PROVIDER", "ses"),
            ("INVITATIONS_SES_REGION", "eu-west-1"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ],
        "AWS_ACCESS_KEY_ID",
    );
    refused(
        &[
            ("INVITATIONS_MAIL_PROVIDER", "ses"),
            ("INVITATIONS_SES_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "a"),
        ],
        "AWS_SECRET_ACCESS_KEY",
    );
    refused(
        &[("INVITATIONS_MAIL_PROVIDER", "smtp")],
        "INVITATIONS_SMTP_URL",
    );
    for bad in [
        "http://mail.example.com",
        "smtps://mail.example.com?tls=none",
        "smtp://mail.example.com?tls=maybe",
        "not a url",
    ] {
        refused(
            &[
                ("INVITATIONS_MAIL_PROVIDER", "smtp"),
                ("INVITATIONS_SMTP_URL", bad),
            ],
            "INVITATIONS_SMTP_URL",
        );
    }
    let error = config(&[
        ("INVITATIONS_MAIL_PROVIDER", "smtp"),
        (
            "INVITATIONS_SMTP_URL",
            "ftp://user:hunter2@mail.example.com",
        ),
    ])
    .unwrap_err();
    assert!(!error.contains("hunter2"), "{error}");
    for good in [
        "smtp://user:pass@mail.example.com:587",
        "smtps://user:pass@mail.example.com",
        "smtp://127.0.0.1:2525?tls=none",
    ] {
        let smtp = config(&[
            ("INVITATIONS_MAIL_PROVIDER", "smtp"),
            ("INVITATIONS_SMTP_URL", good),
        ]);
        assert!(smtp.is_ok(), "{good}: {:?}", smtp.err());
    }
    let sendgrid = config(&[
        ("INVITATIONS_MAIL_PROVIDER", "sendgrid"),
        ("INVITATIONS_MAIL_API_KEY", "k"),
    ]);
    assert!(sendgrid.is_ok(), "{:?}", sendgrid.err());
}
