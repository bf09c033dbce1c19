//! Postmark, SendGrid and Mailgun, faked only at their HTTP boundary: a local
//! server records what the service sends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use crate::db_tests;
use crate::helpers::{AccountSpec, Backend, TestApp};

db_tests!(
    postmark_gets_the_message_with_its_server_token,
    sendgrid_gets_the_message_with_a_bearer_key,
    mailgun_gets_a_form_post_on_its_domain,
    a_refusing_provider_leaves_the_email_queued_for_retry,
);

#[derive(Clone, Debug)]
struct Call {
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

#[derive(Clone, Default)]
struct Provider {
    calls: Arc<Mutex<Vec<Call>>>,
    status: u16,
}

async fn record(req: HttpRequest, body: web::Bytes, provider: web::Data<Provider>) -> HttpResponse {
    provider.calls.lock().unwrap().push(Call {
        path: req.path().to_owned(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    HttpResponse::build(actix_web::http::StatusCode::from_u16(provider.status).unwrap())
        .json(json!({"ok": provider.status < 300}))
}

fn fake_provider(status: u16) -> (String, Provider) {
    let provider = Provider {
        status,
        ..Default::default()
    };
    let data = web::Data::new(provider.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::to(record))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());
    (format!("http://127.0.0.1:{port}"), provider)
}

async fn first_call(provider: &Provider) -> Call {
    for _ in 0..400 {
        if let Some(call) = provider.calls.lock().unwrap().first().cloned() {
            return call;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the provider was never called");
}

fn header<'a>(call: &'a Call, name: &str) -> &'a str {
    call.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

async fn invite_through(
    backend: Backend,
    provider_name: &str,
    extra: &[(&str, &str)],
    status: u16,
) -> (TestApp, Provider, crate::helpers::Owner, Value) {
    let (base, provider) = fake_provider(status);
    let mut overrides = vec![
        ("INVITATIONS_MAIL_PROVIDER", provider_name),
        ("INVITATIONS_MAIL_API_KEY", "key-123"),
        ("INVITATIONS_MAIL_API_BASE", base.as_str()),
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
    assert_eq!(header(&call, "x-postmark-server-token"), "key-123");
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
    assert_eq!(header(&call, "authorization"), "Bearer key-123");
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
    assert!(header(&call, "authorization").starts_with("Basic "));
    assert!(header(&call, "content-type").starts_with("application/x-www-form-urlencoded"));
    assert!(call.body.contains("to=sent%40example.com"), "{}", call.body);
    app.wait_for_delivery(&owner, &invitation, "sent").await;
}

async fn a_refusing_provider_leaves_the_email_queued_for_retry(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let (app, provider, owner, invitation) = invite_through(backend, "postmark", &[], 500).await;
    first_call(&provider).await;
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
    assert!(config(&[("INVITATIONS_MAIL_PROVIDER", "postmark")]).is_err());
    assert!(
        config(&[
            ("INVITATIONS_MAIL_PROVIDER", "mailgun"),
            ("INVITATIONS_MAIL_API_KEY", "k")
        ])
        .is_err()
    );
    assert!(config(&[("INVITATIONS_MAIL_PROVIDER", "carrier-pigeon")]).is_err());
    assert!(
        config(&[
            ("INVITATIONS_MAIL_PROVIDER", "sendgrid"),
            ("INVITATIONS_MAIL_API_KEY", "k")
        ])
        .is_ok()
    );
}
