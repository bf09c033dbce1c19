//! Webhooks: signed POSTs of invitation and user events to an account's
//! endpoints, from an outbox with retries. A real HTTP receiver stands in.

use std::time::Duration;

use serde_json::json;

use crate::db_tests;
use crate::helpers::{AccountSpec, FakeHttp, Reply, TestApp};

db_tests!(
    subscribed_events_arrive_signed_and_failed_deliveries_are_retried,
    webhook_endpoints_are_validated_and_managed_by_managers,
    a_webhook_created_under_a_key_is_replayed_without_its_secret,
);

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
    // The first delivery gets a 500, the rest a 204.
    let receiver = FakeHttp::answering(204).fail_first(1).start();
    let url = receiver.url("/hook");
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
    let calls = receiver
        .wait_for_succeeded(3, Duration::from_secs(10))
        .await;
    assert!(
        calls
            .iter()
            .all(|c| c.method == "POST" && c.path == "/hook")
    );
    let types: Vec<String> = calls
        .iter()
        .map(|call| call.json()["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        types.iter().filter(|t| **t == "invitation.created").count(),
        2
    );
    assert!(types.iter().any(|t| t == "invitation.accepted"));
    assert!(!types.iter().any(|t| t == "invitation.revoked"));
    for call in &calls {
        let (signature, body, json) = (
            call.header("invitations-signature"),
            &call.body,
            call.json(),
        );
        let timestamp: i64 = signature
            .strip_prefix("t=")
            .and_then(|rest| rest.split(',').next())
            .and_then(|t| t.parse().ok())
            .expect("t=…");
        assert_eq!(
            signature,
            invitations::jobs::webhook_delivery::signature(&secret, timestamp, body)
        );
        assert_eq!(json["account_id"], owner.account_id);
        assert!(!body.contains(&token), "no token in a webhook payload");
    }
    let accepted = calls
        .iter()
        .map(|call| call.json())
        .find(|b| b["type"] == "invitation.accepted")
        .unwrap();
    assert_eq!(
        accepted["subject"],
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
        8,
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

async fn a_webhook_created_under_a_key_is_replayed_without_its_secret(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let hooks = format!("/accounts/{}/webhooks", owner.account_id);
    let body = json!({"url": "https://hooks.example.com/keyed", "events": ["invitation.created"]});
    let keyed = || async {
        let response = app
            .client
            .post(format!("{}{hooks}", app.base))
            .bearer_auth(&owner.token)
            .header("content-type", "application/json")
            .header("idempotency-key", "hook-1")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        TestApp::reply(response).await
    };
    let first: Reply = keyed().await;
    let endpoint = first.ok(201).clone();
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(first.header("cache-control"), Some("no-store"));

    // The retry (e.g. after a lost answer) is the same endpoint, not a second
    // one, and does not show the secret again.
    let retry = keyed().await;
    assert_eq!(retry.status, 201, "{}", retry.text);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    let mut expected = endpoint.clone();
    expected.as_object_mut().unwrap().remove("secret");
    assert_eq!(retry.body, expected);
    let listed = app.get(&hooks, &owner.token).await;
    assert_eq!(listed.ok(200)["items"].as_array().unwrap().len(), 1);

    // The secret is nowhere in the stored answers.
    #[derive(diesel::QueryableByName)]
    struct Stored {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        body: Option<String>,
    }
    let mut conn = app.state.pool.get().unwrap();
    let stored: Vec<Stored> = diesel::RunQueryDsl::load(
        diesel::sql_query("SELECT body FROM idempotency_keys"),
        &mut **conn,
    )
    .unwrap();
    assert_eq!(stored.len(), 1);
    for Stored { body } in &stored {
        let body = body.as_deref().unwrap_or_default();
        assert!(body.contains("\"id\""), "the answer is stored: {body}");
        assert!(
            !body.contains(&secret),
            "a webhook secret stored in clear: {body}"
        );
        assert!(!body.contains("whsec_"), "{body}");
    }
}
