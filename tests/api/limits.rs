//! Rate limits (429 with Retry-After) and CORS for browser clients.

use serde_json::json;

use crate::db_tests;
use crate::helpers::{AccountSpec, Backend, TestApp};

db_tests!(
    invitations_per_hour_are_limited_per_account,
    an_invitation_limit_of_zero_turns_the_limit_off,
    resends_are_limited_per_invitation
);

async fn with(app: TestApp, overrides: &[(&str, &str)]) -> TestApp {
    let backend = app.backend;
    drop(app);
    TestApp::spawn_with(backend, overrides)
        .await
        .expect("the same backend again")
}

fn retry_after(reply: &crate::helpers::Reply) -> i64 {
    reply
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds")
}

async fn an_invitation_limit_of_zero_turns_the_limit_off(app: TestApp) {
    let app = with(app, &[("INVITATIONS_RATE_INVITATIONS_PER_HOUR", "0")]).await;
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    for i in 0..5 {
        app.invite(
            &owner,
            json!({"email": format!("z{i}@example.com"), "role": "standard"}),
        )
        .await;
    }
    let quote = app
        .post(
            &format!("/accounts/{}/invitations/quote", owner.account_id),
            &owner.token,
            json!({"email": "z5@example.com", "role": "standard"}),
        )
        .await;
    assert_eq!(quote.body["allowed"], true, "{}", quote.text);
}

async fn invitations_per_hour_are_limited_per_account(app: TestApp) {
    let app = with(app, &[("INVITATIONS_RATE_INVITATIONS_PER_HOUR", "3")]).await;
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let other = app.bootstrap(&AccountSpec::new_monthly());
    let path = format!("/accounts/{}/invitations", owner.account_id);
    for i in 0..3 {
        app.invite(
            &owner,
            json!({"email": format!("n{i}@example.com"), "role": "standard"}),
        )
        .await;
    }
    let limited = app
        .post(
            &path,
            &owner.token,
            json!({"email": "n3@example.com", "role": "standard"}),
        )
        .await;
    limited.problem(429, "rate_limited");
    let wait = retry_after(&limited);
    assert!((3_500..=3_600).contains(&wait), "{wait}");
    let quote = app
        .post(
            &format!("{path}/quote"),
            &owner.token,
            json!({"email": "n3@example.com", "role": "standard"}),
        )
        .await;
    assert_eq!(quote.ok(200)["refusal_code"], "rate_limited");
    // Another account has its own allowance.
    app.invite(
        &other,
        json!({"email": "elsewhere@example.com", "role": "standard"}),
    )
    .await;
    // An hour later the window has moved on.
    app.clock.advance(chrono::Duration::seconds(3_601));
    let fresh = app.renew(&owner).token;
    app.post(
        &path,
        &fresh,
        json!({"email": "n3@example.com", "role": "standard"}),
    )
    .await
    .ok(201);
}

async fn resends_are_limited_per_invitation(app: TestApp) {
    let app = with(
        app,
        &[
            ("INVITATIONS_RATE_RESEND_INTERVAL_SECONDS", "60"),
            ("INVITATIONS_RATE_RESENDS_PER_DAY", "2"),
        ],
    )
    .await;
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let invitation = app
        .invite(
            &owner,
            json!({"email": "again@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    let resend = format!(
        "/accounts/{}/invitations/{}/resend",
        owner.account_id, invitation["id"]
    );
    // The original send does not count: the first resend goes at once.
    app.post(&resend, &owner.token, json!({})).await.ok(200);
    let too_soon = app.post(&resend, &owner.token, json!({})).await;
    too_soon.problem(429, "rate_limited");
    assert!((1..=60).contains(&retry_after(&too_soon)));
    app.clock.advance(chrono::Duration::seconds(61));
    app.post(&resend, &owner.token, json!({})).await.ok(200);
    app.clock.advance(chrono::Duration::seconds(61));
    let third = app.post(&resend, &owner.token, json!({})).await;
    third.problem(429, "rate_limited");
    let wait = retry_after(&third);
    assert!(wait > 20 * 3_600 && wait <= 24 * 3_600, "{wait}");
}

#[actix_web::test]
async fn token_endpoints_are_limited_per_client() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[("INVITATIONS_RATE_TOKEN_REQUESTS_PER_MINUTE", "3")],
    )
    .await
    .unwrap();
    let unknown = format!("/invitations/inv_{}", "A".repeat(43));
    for _ in 0..3 {
        app.request("GET", &unknown, None, None)
            .await
            .problem(404, "not_found");
    }
    let limited = app.request("GET", &unknown, None, None).await;
    limited.problem(429, "rate_limited");
    assert!(retry_after(&limited) >= 1);
    app.request(
        "POST",
        "/sessions",
        None,
        Some(&json!({"email": "a@b.c", "password": "x"})),
    )
    .await
    .problem(429, "rate_limited");
    // Management endpoints are not token endpoints.
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    app.get(&format!("/accounts/{}", owner.account_id), &owner.token)
        .await
        .ok(200);
}

#[actix_web::test]
async fn configured_spa_origins_get_cors_headers_and_others_do_not() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[("INVITATIONS_CORS_ORIGINS", "https://spa.example")],
    )
    .await
    .unwrap();
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let path = format!("{}/accounts/{}/invitations", app.base, owner.account_id);
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, &path)
        .header("origin", "https://spa.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, idempotency-key",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "https://spa.example"
    );
    let call = app
        .client
        .get(&path)
        .bearer_auth(&owner.token)
        .header("origin", "https://spa.example")
        .send()
        .await
        .unwrap();
    assert_eq!(call.status(), 200);
    assert_eq!(
        call.headers().get("access-control-allow-origin").unwrap(),
        "https://spa.example"
    );
    let exposed = call
        .headers()
        .get("access-control-expose-headers")
        .unwrap()
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        exposed.contains("x-request-id") && exposed.contains("location"),
        "{exposed}"
    );

    let stranger = app
        .client
        .get(&path)
        .bearer_auth(&owner.token)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(
        stranger
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[actix_web::test]
async fn without_configured_origins_no_cors_headers_are_sent() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let reply = app
        .client
        .get(format!("{}/healthz", app.base))
        .header("origin", "https://spa.example")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert!(reply.headers().get("access-control-allow-origin").is_none());
}
