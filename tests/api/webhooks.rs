//! Webhooks: signed POSTs of invitation and user events to an account's
//! endpoints, from an outbox with retries. A real HTTP receiver stands in.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use crate::db_tests;
use crate::helpers::{AccountSpec, TestApp};

db_tests!(
    subscribed_events_arrive_signed_and_failed_deliveries_are_retried,
    webhook_endpoints_are_validated_and_managed_by_managers,
);

#[derive(Clone, Default)]
struct Received {
    calls: Arc<Mutex<Vec<(String, String, Value)>>>,
    failures_left: Arc<Mutex<u32>>,
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    received: web::Data<Received>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let text = String::from_utf8_lossy(&body).into_owned();
    let mut failures = received.failures_left.lock().unwrap();
    if *failures > 0 {
        *failures -= 1;
        return HttpResponse::InternalServerError().finish();
    }
    let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    received
        .calls
        .lock()
        .unwrap()
        .push((header("invitations-signature"), text, json));
    HttpResponse::NoContent().finish()
}

/// A receiver on a free port; returns its URL and what it got.
fn receiver(fail_first: u32) -> (String, Received) {
    let received = Received::default();
    *received.failures_left.lock().unwrap() = fail_first;
    let data = web::Data::new(received.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/hook", web::post().to(receive))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());
    (format!("http://127.0.0.1:{port}/hook"), received)
}

async fn wait_for(received: &Received, count: usize) -> Vec<(String, String, Value)> {
    for _ in 0..400 {
        let calls = received.calls.lock().unwrap().clone();
        if calls.len() >= count {
            return calls;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the receiver got fewer than {count} deliveries");
}

async fn subscribed_events_arrive_signed_and_failed_deliveries_are_retried(app: TestApp) {
    // The receiver listens on 127.0.0.1, which webhooks may reach only in development.
    let backend = app.backend;
    drop(app);
    let app = TestApp::spawn_with(
        backend,
        &[("INVITATIONS_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")],
    )
    .await
    .expect("the same backend again");
    let (url, received) = receiver(1);
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let hooks = format!("/accounts/{}/webhooks", owner.account_id);
    let created = app
        .post(
            &hooks,
            &owner.token,
            json!({"url": url, "events": ["invitation.created", "invitation.accepted"]}),
        )
        .await;
    let endpoint = created.ok(201).clone();
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let listed = app.get(&hooks, &owner.token).await;
    assert!(
        listed.ok(200)["items"][0].get("secret").is_none(),
        "the secret is shown once"
    );

    let (invitation, token) = app
        .invite_and_read_token(
            &owner,
            json!({"email": "hooked@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    app.accept(&token).await.ok(201);
    // Not subscribed: revoking another invitation sends nothing.
    let other = app
        .invite(
            &owner,
            json!({"email": "quiet@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    app.request(
        "DELETE",
        &format!("/accounts/{}/invitations/{}", owner.account_id, other["id"]),
        Some(&owner.token),
        None,
    )
    .await
    .ok(200);

    // The first attempt got a 500; the retry (after ~1 s of backoff) got through.
    let calls = wait_for(&received, 3).await;
    let types: Vec<&str> = calls
        .iter()
        .map(|(_, _, body)| body["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types.iter().filter(|t| **t == "invitation.created").count(),
        2
    );
    assert!(types.contains(&"invitation.accepted"));
    assert!(!types.contains(&"invitation.revoked"));
    for (signature, body, json) in &calls {
        let timestamp: i64 = signature
            .strip_prefix("t=")
            .and_then(|rest| rest.split(',').next())
            .and_then(|t| t.parse().ok())
            .expect("t=…");
        assert_eq!(
            signature,
            &invitations::webhooks::signature(&secret, timestamp, body)
        );
        assert_eq!(json["account_id"], owner.account_id);
        assert!(!body.contains(&token), "no token in a webhook payload");
    }
    let accepted = calls
        .iter()
        .find(|(_, _, b)| b["type"] == "invitation.accepted")
        .unwrap();
    assert_eq!(
        accepted.2["subject"],
        json!({"type": "invitation", "id": invitation["id"]})
    );
}

async fn webhook_endpoints_are_validated_and_managed_by_managers(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let other = app.bootstrap(&AccountSpec::classic_annual());
    let hooks = format!("/accounts/{}/webhooks", owner.account_id);
    let bad = app
        .post(&hooks, &owner.token, json!({"url": "ftp://example.com/x", "events": ["invitation.created", "nope", "invitation.created"]}))
        .await;
    assert_eq!(bad.error_fields(), ["events", "url"]);
    let twice = app
        .post(
            &hooks,
            &owner.token,
            json!({"url": "https://a.example/x", "events": ["user.enabled", "user.enabled"]}),
        )
        .await;
    assert_eq!(twice.error_fields(), ["events[1]"]);
    app.post(&hooks, &owner.token, json!({}))
        .await
        .problem(422, "validation_failed");
    let created = app
        .post(
            &hooks,
            &owner.token,
            json!({"url": "https://hooks.example.com/in"}),
        )
        .await;
    let endpoint = created.ok(201).clone();
    assert_eq!(
        endpoint["events"].as_array().unwrap().len(),
        7,
        "all events by default"
    );
    app.get(
        &format!("/accounts/{}/webhooks", other.account_id),
        &owner.token,
    )
    .await
    .problem(404, "not_found");
    let path = format!("{hooks}/{}", endpoint["id"]);
    app.request("DELETE", &path, Some(&other.token), None)
        .await
        .problem(404, "not_found");
    let deleted = app.request("DELETE", &path, Some(&owner.token), None).await;
    assert_eq!(deleted.status, 204);
    app.request("DELETE", &path, Some(&owner.token), None)
        .await
        .problem(404, "not_found");
    for i in 0..10 {
        app.post(
            &hooks,
            &owner.token,
            json!({"url": format!("https://hooks.example.com/{i}")}),
        )
        .await
        .ok(201);
    }
    app.post(
        &hooks,
        &owner.token,
        json!({"url": "https://hooks.example.com/11"}),
    )
    .await
    .problem(409, "too_many_webhooks");
}
