//! A SCIM create is the REST use-case: the same webhook event, the audit
//! trail naming the token, the same invitation rate limit (as a SCIM error),
//! and `Idempotency-Key` replays scoped to the SCIM token. Creating a SCIM
//! token under a key never keeps the token. Each scenario on both databases.

use std::time::Duration;

use serde_json::{Value, json};

use crate::db_tests;
use crate::helpers::{AccountSpec, FakeHttp, Owner, Reply, TestApp};
use crate::scim::{EXT, GROUP, assert_scim_error, scim};

db_tests!(
    a_scim_user_create_fires_the_rest_invite_webhook_and_audits_the_token,
    the_rest_invitation_rate_limit_applies_to_scim_creates,
    a_retried_scim_user_create_is_replayed_and_invites_and_charges_once,
    a_retried_scim_group_create_makes_one_group,
    a_scim_token_created_under_a_key_is_never_kept_and_a_retry_gets_a_new_one,
);

async fn with(app: TestApp, overrides: &[(&str, &str)]) -> TestApp {
    let backend = app.backend;
    drop(app);
    TestApp::spawn_with(backend, overrides)
        .await
        .expect("the same backend again")
}

/// A new SCIM token of the owner's account: `(id, token)`.
async fn new_token(app: &TestApp, owner: &Owner) -> (i64, String) {
    let created = app
        .post(
            &format!("/accounts/{}/scim-tokens", owner.account_id),
            &owner.token,
            json!({}),
        )
        .await;
    let created = created.ok(201);
    (
        created["id"].as_i64().unwrap(),
        created["token"].as_str().unwrap().to_owned(),
    )
}

/// A POST with an `Idempotency-Key` (and the body as given, if any).
async fn keyed(app: &TestApp, path: &str, token: &str, key: &str, body: Option<&Value>) -> Reply {
    let mut request = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("idempotency-key", key);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/scim+json")
            .body(body.to_string());
    }
    TestApp::reply(request.send().await.unwrap()).await
}

fn retry_after(reply: &Reply) -> i64 {
    reply
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds")
}

async fn invitation_of(app: &TestApp, owner: &Owner, email: &str) -> Value {
    let found = app
        .get(
            &format!(
                "/accounts/{}/invitations?email={}",
                owner.account_id,
                email.replace('@', "%40")
            ),
            &owner.token,
        )
        .await;
    let items = found.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{email}: {items:?}");
    items[0].clone()
}

async fn a_scim_user_create_fires_the_rest_invite_webhook_and_audits_the_token(app: TestApp) {
    // The receiver listens on 127.0.0.1, which webhooks may reach only in development.
    let app = with(
        app,
        &[("INVITATIONS_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")],
    )
    .await;
    let receiver = FakeHttp::answering(204).start();
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    app.post(
        &format!("/accounts/{}/webhooks", owner.account_id),
        &owner.token,
        json!({"url": receiver.url("/hook"), "events": ["invitation.created"]}),
    )
    .await
    .ok(201);
    let (token_id, token) = new_token(&app, &owner).await;

    let rest = app
        .invite(
            &owner,
            json!({"email": "rest@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    let created = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(json!({"userName": "scim@example.com", EXT: {"subscriberType": "attorney"}})),
    )
    .await;
    created.ok(201);
    let invited = invitation_of(&app, &owner, "scim@example.com").await;

    let calls = receiver
        .wait_for_succeeded(2, Duration::from_secs(10))
        .await;
    let payloads: Vec<Value> = calls.iter().map(|c| c.json()).collect();
    let event_for = |id: &Value| {
        payloads
            .iter()
            .find(|p| p["subject"] == json!({"type": "invitation", "id": id}))
            .unwrap_or_else(|| panic!("no event for invitation {id}: {payloads:?}"))
            .clone()
    };
    let (by_rest, by_scim) = (event_for(&rest["id"]), event_for(&invited["id"]));
    assert_eq!(by_scim["type"], "invitation.created");
    assert_eq!(by_scim["type"], by_rest["type"]);
    assert_eq!(by_scim["account_id"], owner.account_id);
    assert_eq!(by_scim["data"]["email"], "scim@example.com");
    let keys = |v: &Value| {
        v.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<String>>()
    };
    assert_eq!(keys(&by_scim), keys(&by_rest), "the same event shape");
    assert_eq!(keys(&by_scim["data"]), keys(&by_rest["data"]));

    // The audit trail: the same action, its actor the SCIM token.
    let events = app
        .get(
            &format!(
                "/accounts/{}/audit-events?action=invitation.created",
                owner.account_id
            ),
            &owner.token,
        )
        .await;
    let events = events.ok(200)["items"].as_array().unwrap().clone();
    let of = |id: &Value| {
        events
            .iter()
            .find(|e| e["subject"]["id"] == *id)
            .unwrap_or_else(|| panic!("no audit event for {id}: {events:?}"))
            .clone()
    };
    assert_eq!(of(&invited["id"])["actor"]["type"], "scim_token");
    assert_eq!(of(&invited["id"])["actor"]["scim_token_id"], token_id);
    assert_eq!(of(&rest["id"])["actor"]["type"], "user");
}

async fn the_rest_invitation_rate_limit_applies_to_scim_creates(app: TestApp) {
    let app = with(app, &[("INVITATIONS_RATE_INVITATIONS_PER_HOUR", "2")]).await;
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let (_, token) = new_token(&app, &owner).await;
    // One through REST, one through SCIM: the account's allowance is spent.
    app.invite(
        &owner,
        json!({"email": "r1@example.com", "role": "standard"}),
    )
    .await;
    scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(json!({"userName": "s1@example.com", EXT: {"role": "standard"}})),
    )
    .await
    .ok(201);

    let limited = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(json!({"userName": "s2@example.com", EXT: {"role": "standard"}})),
    )
    .await;
    assert_scim_error(&limited, 429, None);
    let rest = app
        .post(
            &format!("/accounts/{}/invitations", owner.account_id),
            &owner.token,
            json!({"email": "r2@example.com", "role": "standard"}),
        )
        .await;
    rest.problem(429, "rate_limited");
    let (scim_wait, rest_wait) = (retry_after(&limited), retry_after(&rest));
    assert!((3_500..=3_600).contains(&scim_wait), "{scim_wait}");
    assert!(
        (scim_wait - rest_wait).abs() <= 2,
        "{scim_wait} vs {rest_wait}"
    );
    assert!(
        limited.body["detail"]
            .as_str()
            .unwrap()
            .contains("invitations per hour"),
        "{}",
        limited.text
    );
    // Nobody was invited, nothing was charged for the refused one.
    let found = scim(
        &app,
        "GET",
        "/Users?filter=userName%20eq%20%22s2%40example.com%22",
        &token,
        None,
    )
    .await;
    assert_eq!(found.ok(200)["totalResults"], 0);
    assert_eq!(app.charges(&owner).await.len(), 2);

    // An hour later the window has moved on, for SCIM too.
    app.clock.advance(chrono::Duration::seconds(3_601));
    scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(json!({"userName": "s2@example.com", EXT: {"role": "standard"}})),
    )
    .await
    .ok(201);
}

async fn a_retried_scim_user_create_is_replayed_and_invites_and_charges_once(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let (_, token) = new_token(&app, &owner).await;
    let body = json!({
        "userName": "retry@example.com",
        "name": {"givenName": "Re", "familyName": "Try"},
        EXT: {"role": "standard"},
    });
    let first = keyed(&app, "/scim/v2/Users", &token, "user-1", Some(&body)).await;
    let user = first.ok(201).clone();
    assert_eq!(first.header("idempotent-replayed"), None);
    let second = keyed(&app, "/scim/v2/Users", &token, "user-1", Some(&body)).await;
    assert_eq!(second.status, 201, "{}", second.text);
    assert_eq!(second.text, first.text, "replayed byte for byte");
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(second.header("content-type"), Some("application/scim+json"));
    assert_eq!(second.header("location"), first.header("location"));
    // Invited once, charged once.
    let listed = scim(
        &app,
        "GET",
        "/Users?filter=userName%20eq%20%22retry%40example.com%22",
        &token,
        None,
    )
    .await;
    assert_eq!(listed.ok(200)["totalResults"], 1);
    assert_eq!(listed.ok(200)["Resources"][0]["id"], user["id"]);
    assert_eq!(app.charges(&owner).await.len(), 1, "charged once");
    assert_eq!(app.emails_to("retry@example.com", 1).await.len(), 1);

    // The same key with another body: refused as REST refuses it, as a SCIM error.
    let other = json!({"userName": "other@example.com", EXT: {"role": "standard"}});
    let reused = keyed(&app, "/scim/v2/Users", &token, "user-1", Some(&other)).await;
    assert_scim_error(&reused, 422, None);
    assert!(
        reused.body["detail"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key"),
        "{}",
        reused.text
    );
    let too_long = "k".repeat(256);
    let invalid = keyed(&app, "/scim/v2/Users", &token, &too_long, Some(&other)).await;
    assert_scim_error(&invalid, 400, Some("invalidValue"));
    assert_eq!(app.charges(&owner).await.len(), 1);

    // Keys belong to the SCIM token: its creator's REST key of the same
    // name is their own, and another token's key runs its own request.
    let rest = keyed(
        &app,
        &format!("/accounts/{}/invitations", owner.account_id),
        &owner.token,
        "user-1",
        Some(&json!({"email": "rest@example.com", "role": "standard"})),
    )
    .await;
    rest.ok(201);
    assert_eq!(rest.header("idempotent-replayed"), None);
    let (_, other_token) = new_token(&app, &owner).await;
    let elsewhere = keyed(&app, "/scim/v2/Users", &other_token, "user-1", Some(&body)).await;
    assert_scim_error(&elsewhere, 409, Some("uniqueness"));
    assert_eq!(elsewhere.header("idempotent-replayed"), None);
    assert_eq!(app.charges(&owner).await.len(), 2);

    // A token that no longer works gets no replay: the handler answers 401.
    let tokens = format!("/accounts/{}/scim-tokens", owner.account_id);
    let listed = app.get(&tokens, &owner.token).await;
    for item in listed.ok(200)["items"].as_array().unwrap() {
        app.request(
            "DELETE",
            &format!("{tokens}/{}", item["id"]),
            Some(&owner.token),
            None,
        )
        .await;
    }
    let revoked = keyed(&app, "/scim/v2/Users", &token, "user-1", Some(&body)).await;
    assert_scim_error(&revoked, 401, None);
    assert_eq!(revoked.header("idempotent-replayed"), None);
}

async fn a_retried_scim_group_create_makes_one_group(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (_, token) = new_token(&app, &owner).await;
    let body = json!({"schemas": [GROUP], "displayName": "Retried"});
    let first = keyed(&app, "/scim/v2/Groups", &token, "group-1", Some(&body)).await;
    first.ok(201);
    let second = keyed(&app, "/scim/v2/Groups", &token, "group-1", Some(&body)).await;
    assert_eq!(second.status, 201, "not 409 uniqueness: {}", second.text);
    assert_eq!(second.text, first.text);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    let groups = scim(&app, "GET", "/Groups", &token, None).await;
    assert_eq!(groups.ok(200)["totalResults"], 1);
    let rest = app
        .get(
            &format!("/accounts/{}/groups", owner.account_id),
            &owner.token,
        )
        .await;
    assert_eq!(rest.ok(200)["items"].as_array().unwrap().len(), 1);
    let events = app
        .get(
            &format!(
                "/accounts/{}/audit-events?action=group.created",
                owner.account_id
            ),
            &owner.token,
        )
        .await;
    assert_eq!(events.ok(200)["items"].as_array().unwrap().len(), 1);
    // Without a key each POST is its own: the name is taken now.
    let unkeyed = scim(&app, "POST", "/Groups", &token, Some(body)).await;
    assert_scim_error(&unkeyed, 409, Some("uniqueness"));
}

async fn a_scim_token_created_under_a_key_is_never_kept_and_a_retry_gets_a_new_one(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let tokens = format!("/accounts/{}/scim-tokens", owner.account_id);
    let first = keyed(&app, &tokens, &owner.token, "token-1", None).await;
    let first_token = first.ok(201)["token"].as_str().unwrap().to_owned();
    // A retry is not replayed (the token is not stored in clear): a new token.
    let second = keyed(&app, &tokens, &owner.token, "token-1", None).await;
    let second_token = second.ok(201)["token"].as_str().unwrap().to_owned();
    assert_eq!(second.header("idempotent-replayed"), None);
    assert_ne!(second_token, first_token);
    assert_ne!(second.body["id"], first.body["id"]);
    // Both work, both are listed (a lost one can be revoked).
    for token in [&first_token, &second_token] {
        scim(&app, "GET", "/Users", token, None).await.ok(200);
    }
    let listed = app.get(&tokens, &owner.token).await;
    assert_eq!(listed.ok(200)["items"].as_array().unwrap().len(), 2);

    // And neither token is anywhere in the stored responses.
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
    for Stored { body } in &stored {
        let body = body.as_deref().unwrap_or_default();
        assert!(
            !body.contains(&first_token) && !body.contains(&second_token),
            "a SCIM token stored in clear: {body}"
        );
    }
}
