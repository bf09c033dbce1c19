//! Provisioning scripts retry: `Idempotency-Key` replays, and bulk invitations.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::db_tests;
use crate::helpers::{AccountSpec, Reply, TestApp};

db_tests!(
    a_retried_invite_with_the_same_key_is_replayed_byte_for_byte_and_charged_once,
    the_same_key_with_another_body_answers_422_idempotency_key_reused,
    parallel_retries_with_one_key_run_the_request_once,
    errors_are_replayed_too_but_keys_are_per_account,
    an_invalid_idempotency_key_is_a_422,
    replays_go_only_to_the_active_manager_who_sent_the_key,
    a_request_that_committed_but_lost_its_answer_is_never_run_again,
    a_bulk_request_invites_each_item_on_its_own,
    a_bulk_request_over_100_items_answers_413,
    a_bulk_retried_with_its_key_after_a_retryable_item_runs_again_and_invites_no_one_twice,
    a_bulk_whose_items_are_all_final_is_replayed,
);

async fn post_with_key(app: &TestApp, path: &str, token: &str, key: &str, body: &Value) -> Reply {
    let response = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    TestApp::reply(response).await
}

async fn a_retried_invite_with_the_same_key_is_replayed_byte_for_byte_and_charged_once(
    app: TestApp,
) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let path = format!("/accounts/{}/invitations", owner.account_id);
    let body = json!({"email": "retry@example.com", "role": "standard"});
    let first = post_with_key(&app, &path, &owner.token, "invite-retry-1", &body).await;
    first.ok(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let second = post_with_key(&app, &path, &owner.token, "invite-retry-1", &body).await;
    assert_eq!(second.status, 201);
    assert_eq!(second.text, first.text, "replayed byte for byte");
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(second.header("location"), first.header("location"));
    assert_eq!(app.charges(&owner).await.len(), 1, "charged once");
    let counts = app.licenses(&owner).await;
    assert_eq!(counts["user"]["total"], 2);
    assert_eq!(app.emails_to("retry@example.com", 1).await.len(), 1);

    // Buying licenses too.
    let buy = json!({"license_type": "user", "quantity": 3});
    let licenses = format!("/accounts/{}/licenses", owner.account_id);
    let bought = post_with_key(&app, &licenses, &owner.token, "buy-1", &buy).await;
    bought.ok(201);
    let again = post_with_key(&app, &licenses, &owner.token, "buy-1", &buy).await;
    assert_eq!(again.text, bought.text);
    assert_eq!(app.licenses(&owner).await["user"]["total"], 5);
}

async fn the_same_key_with_another_body_answers_422_idempotency_key_reused(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let path = format!("/accounts/{}/invitations", owner.account_id);
    post_with_key(
        &app,
        &path,
        &owner.token,
        "k",
        &json!({"email": "a@example.com", "role": "standard"}),
    )
    .await
    .ok(201);
    post_with_key(
        &app,
        &path,
        &owner.token,
        "k",
        &json!({"email": "b@example.com", "role": "standard"}),
    )
    .await
    .problem(422, "idempotency_key_reused");
    // Without a key nothing is remembered: the plain retry is judged afresh.
    app.post(
        &path,
        &owner.token,
        json!({"email": "a@example.com", "role": "standard"}),
    )
    .await
    .problem(409, "invitation_pending");
}

async fn parallel_retries_with_one_key_run_the_request_once(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let path = format!("/accounts/{}/invitations", owner.account_id);
    let body = json!({"email": "storm@example.com", "role": "standard"});
    let replies =
        join_all((0..10).map(|_| post_with_key(&app, &path, &owner.token, "storm", &body))).await;
    for reply in &replies {
        assert!(
            reply.status == 201
                || (reply.status == 409 && reply.body["code"] == "request_in_progress"),
            "{}",
            reply.text
        );
    }
    let created: Vec<_> = replies
        .iter()
        .filter(|r| r.status == 201)
        .map(|r| r.body["id"].clone())
        .collect();
    assert!(!created.is_empty());
    assert!(
        created.iter().all(|id| *id == created[0]),
        "every 201 is the same invitation"
    );
    assert_eq!(app.charges(&owner).await.len(), 1);
}

async fn errors_are_replayed_too_but_keys_are_per_account(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let other = app.bootstrap(&AccountSpec::classic_annual());
    let body = json!({"email": "x@example.com"});
    let path = format!("/accounts/{}/invitations", owner.account_id);
    let first = post_with_key(&app, &path, &owner.token, "shared", &body).await;
    first.problem(422, "validation_failed");
    let again = post_with_key(&app, &path, &owner.token, "shared", &body).await;
    assert_eq!(again.text, first.text);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    // Another account's key space is its own.
    let theirs = post_with_key(
        &app,
        &format!("/accounts/{}/invitations", other.account_id),
        &other.token,
        "shared",
        &json!({"email": "x@example.com", "subscriber_type": "attorney"}),
    )
    .await;
    theirs.ok(201);
}

async fn an_invalid_idempotency_key_is_a_422(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let path = format!("/accounts/{}/invitations", owner.account_id);
    let reply = post_with_key(&app, &path, &owner.token, &"k".repeat(256), &json!({})).await;
    assert_eq!(reply.error_fields(), ["Idempotency-Key"]);
}

async fn a_bulk_request_invites_each_item_on_its_own(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let reply = app
        .post(
            &format!("/accounts/{}/invitations/bulk", owner.account_id),
            &owner.token,
            json!({"invitations": [
                {"email": "one@example.com", "subscriber_type": "attorney"},
                {"email": "not an email", "subscriber_type": "attorney"},
                {"email": "ONE@example.com", "subscriber_type": "attorney"},
                {"email": "two@example.com", "subscriber_type": "attorney"},
                {"email": "three@example.com", "subscriber_type": "attorney"},
                {"email": "four@example.com", "subscriber_type": "non_attorney", "bogus": 1},
            ]}),
        )
        .await;
    let results = reply.ok(200)["results"].as_array().unwrap().clone();
    let summary: Vec<(u64, u64, String)> = results
        .iter()
        .map(|r| {
            let code = r["problem"]["code"].as_str().unwrap_or("").to_owned();
            (
                r["index"].as_u64().unwrap(),
                r["status"].as_u64().unwrap(),
                code,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (0, 201, String::new()),
            (1, 422, "validation_failed".into()),
            (2, 409, "invitation_pending".into()),
            (3, 201, String::new()),
            (4, 409, "no_available_license".into()),
            (5, 422, "validation_failed".into()),
        ],
        "{}",
        reply.text
    );
    assert_eq!(results[0]["invitation"]["email"], "one@example.com");
    assert!(results[1].get("invitation").is_none());
    assert_eq!(results[5]["problem"]["errors"][0]["field"], "bogus");
    let counts = app.licenses(&owner).await;
    assert_eq!(counts["attorney"]["reserved"], 2);
    app.emails_to("two@example.com", 1).await;
}

async fn with(app: TestApp, overrides: &[(&str, &str)]) -> TestApp {
    let backend = app.backend;
    drop(app);
    TestApp::spawn_with(backend, overrides)
        .await
        .expect("the same backend again")
}

/// `(status, problem code)` of each item of a bulk answer, in order.
fn bulk_summary(reply: &Reply) -> Vec<(u64, String)> {
    reply.ok(200)["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["status"].as_u64().unwrap(),
                r["problem"]["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

async fn a_bulk_retried_with_its_key_after_a_retryable_item_runs_again_and_invites_no_one_twice(
    app: TestApp,
) {
    let app = with(app, &[("INVITATIONS_RATE_INVITATIONS_PER_HOUR", "2")]).await;
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let path = format!("/accounts/{}/invitations/bulk", owner.account_id);
    let body = json!({"invitations": [
        {"email": "b1@example.com", "role": "standard"},
        {"email": "b2@example.com", "role": "standard"},
        {"email": "b3@example.com", "role": "standard"},
    ]});
    let created = |code: &str| (201, code.to_owned());
    let pending = || (409, "invitation_pending".to_owned());
    let first = post_with_key(&app, &path, &owner.token, "bulk-1", &body).await;
    assert_eq!(
        bulk_summary(&first),
        [created(""), created(""), (429, "rate_limited".into())]
    );
    // At once: not stuck behind the first run (no `request_in_progress`); the
    // bulk runs again and each item answers as it would without a key (the
    // rate limit comes first).
    let at_once = post_with_key(&app, &path, &owner.token, "bulk-1", &body).await;
    assert_eq!(at_once.header("idempotent-replayed"), None);
    let limited = || (429, "rate_limited".to_owned());
    assert_eq!(bulk_summary(&at_once), [limited(), limited(), limited()]);
    // An hour later the last item gets through; no one is invited or charged twice.
    app.clock.advance(chrono::Duration::seconds(3_601));
    let owner = app.renew(&owner);
    let token = owner.token.clone();
    let later = post_with_key(&app, &path, &token, "bulk-1", &body).await;
    assert_eq!(later.header("idempotent-replayed"), None);
    assert_eq!(bulk_summary(&later), [pending(), pending(), created("")]);
    assert_eq!(app.charges(&owner).await.len(), 3, "one charge per person");
    let listed = app
        .get(
            &format!("/accounts/{}/invitations", owner.account_id),
            &token,
        )
        .await;
    assert_eq!(listed.ok(200)["items"].as_array().unwrap().len(), 3);
    for email in ["b1@example.com", "b2@example.com", "b3@example.com"] {
        assert_eq!(app.emails_to(email, 1).await.len(), 1, "{email}");
    }
    // Every item is final now: that answer is kept and replayed.
    let replay = post_with_key(&app, &path, &token, "bulk-1", &body).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.text, later.text);
    assert_eq!(app.charges(&owner).await.len(), 3);
}

async fn a_bulk_whose_items_are_all_final_is_replayed(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let path = format!("/accounts/{}/invitations/bulk", owner.account_id);
    let body = json!({"invitations": [
        {"email": "f1@example.com", "role": "standard"},
        {"email": "not an email", "role": "standard"},
    ]});
    let first = post_with_key(&app, &path, &owner.token, "bulk-final", &body).await;
    assert_eq!(
        bulk_summary(&first),
        [(201, String::new()), (422, "validation_failed".into())]
    );
    let again = post_with_key(&app, &path, &owner.token, "bulk-final", &body).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.text, first.text, "replayed byte for byte");
    assert_eq!(app.charges(&owner).await.len(), 1);
}

async fn a_bulk_request_over_100_items_answers_413(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let items: Vec<Value> = (0..101)
        .map(|i| json!({"email": format!("p{i}@example.com"), "role": "standard"}))
        .collect();
    app.post(
        &format!("/accounts/{}/invitations/bulk", owner.account_id),
        &owner.token,
        json!({"invitations": items}),
    )
    .await
    .problem(413, "payload_too_large");
    let list = app
        .get(
            &format!("/accounts/{}/invitations", owner.account_id),
            &owner.token,
        )
        .await;
    assert_eq!(list.ok(200)["items"], json!([]));
}

async fn replays_go_only_to_the_active_manager_who_sent_the_key(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let path = format!("/accounts/{}/invitations", owner.account_id);
    // Another administrator, and a standard user.
    let (_, admin_token) = app
        .invite_and_read_token(
            &owner,
            json!({"email": "admin2@example.com", "role": "administrator"}),
        )
        .await;
    let admin = app.accept(&admin_token).await.ok(201).clone();
    let (_, staff_token) = app
        .invite_and_read_token(
            &owner,
            json!({"email": "staff@example.com", "role": "standard"}),
        )
        .await;
    let staff = app.accept(&staff_token).await.ok(201)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin_token = admin["access_token"].as_str().unwrap().to_owned();

    let body = json!({"email": "keyed@example.com", "role": "standard"});
    post_with_key(&app, &path, &admin_token, "same-key", &body)
        .await
        .ok(201);
    // A standard user with the admin's key and body is refused, not served the stored answer.
    post_with_key(&app, &path, &staff, "same-key", &body)
        .await
        .problem(403, "forbidden");
    // The owner's key space is their own: the same key runs afresh for them.
    post_with_key(&app, &path, &owner.token, "same-key", &body)
        .await
        .problem(409, "invitation_pending");
    // Once disabled, the admin's still-valid token is 401, even for a stored key.
    app.post(
        &format!(
            "/accounts/{}/users/{}/disable",
            owner.account_id, admin["user"]["id"]
        ),
        &owner.token,
        json!({}),
    )
    .await
    .ok(200);
    post_with_key(&app, &path, &admin_token, "same-key", &body)
        .await
        .problem(401, "unauthorized");
    // Keys mean nothing outside account endpoints.
    let session = app
        .client
        .post(format!("{}/sessions", app.base))
        .header("content-type", "application/json")
        .header("idempotency-key", "k".repeat(300))
        .body(json!({"email": "nobody@example.com", "password": "whatever"}).to_string())
        .send()
        .await
        .unwrap();
    TestApp::reply(session)
        .await
        .problem(401, "invalid_credentials");
}

async fn a_request_that_committed_but_lost_its_answer_is_never_run_again(app: TestApp) {
    use diesel::RunQueryDsl;
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let path = format!("/accounts/{}/licenses", owner.account_id);
    let body = json!({"license_type": "user", "quantity": 2});
    post_with_key(&app, &path, &owner.token, "buy-once", &body)
        .await
        .ok(201);
    // As if the process died right after the purchase committed, before its
    // answer was stored: the key row is left marked "committed", without an answer,
    // and long enough ago that an unfinished claim would count as abandoned.
    {
        let mut conn = app.state.pool.get().unwrap();
        let stale = app.clock.now() - chrono::Duration::minutes(20);
        diesel::sql_query("UPDATE idempotency_keys SET status = 0, body = NULL, created_at = $1")
            .bind::<diesel::sql_types::Timestamp, _>(stale)
            .execute(&mut **conn)
            .unwrap();
    }
    post_with_key(&app, &path, &owner.token, "buy-once", &body)
        .await
        .problem(409, "request_in_progress");
    let counts = app.licenses(&owner).await;
    assert_eq!(
        counts["user"]["total"], 3,
        "bought once: the owner's seat and two more"
    );
    assert_eq!(app.charges(&owner).await.len(), 1);
}
