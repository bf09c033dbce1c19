//! Postmark, SendGrid and Mailgun, faked only at their HTTP boundary: a local
//! server records what the service sends.

use std::time::Duration;

use serde_json::{Value, json};

use crate::db_tests;
use crate::helpers::{AccountSpec, Backend, Call, FakeHttp, TestApp, eventually};

db_tests!(
    postmark_gets_the_message_with_its_server_token,
    sendgrid_gets_the_message_with_a_bearer_key,
    mailgun_gets_a_form_post_on_its_domain,
    a_refusing_provider_leaves_the_email_queued_for_retry,
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
    let sendgrid = config(&[
        ("INVITATIONS_MAIL_PROVIDER", "sendgrid"),
        ("INVITATIONS_MAIL_API_KEY", "k"),
    ]);
    assert!(sendgrid.is_ok(), "{:?}", sendgrid.err());
}
