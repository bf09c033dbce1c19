//! Authentication, authorization, tenancy, sessions, firm members and the
//! operational endpoints, through HTTP only.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::db_tests;
use crate::helpers::{AccountSpec, Owner, Reply, TestApp, item_ids};

db_tests!(
    // 401.
    a_request_without_a_bearer_token_answers_401,
    a_garbage_token_answers_401,
    a_token_signed_with_another_secret_answers_401,
    an_expired_token_answers_401,
    a_token_with_the_wrong_audience_or_issuer_answers_401,
    a_disabled_users_still_valid_token_answers_401,
    // 403.
    a_standard_user_gets_403_on_management_endpoints,
    a_standard_user_may_read_the_account_and_themselves_but_not_another_user,
    // 404 across tenants.
    another_tenants_resources_answer_404_never_403,
    an_unknown_route_answers_404_problem_json,
    // Sessions.
    signing_in_with_the_right_password_returns_a_bearer_token,
    a_wrong_password_or_unknown_email_answers_401_invalid_credentials,
    a_disabled_user_cannot_sign_in,
    signing_in_without_email_or_password_answers_422,
    // Users.
    users_are_listed_newest_first_with_a_status_filter_and_paging,
    the_primary_subscriber_cannot_be_disabled,
    disabling_twice_answers_200_both_times,
    // Operations and cross-cutting rules.
    the_permission_catalog_lists_accounts_billing_and_reports,
    health_and_readiness_answer_200,
    the_openapi_document_and_the_docs_page_are_served,
    every_error_is_problem_json_with_the_documented_fields,
    x_request_id_is_echoed_when_sent_and_generated_otherwise,
);

// ---------------------------------------------------------------- helpers

/// The secret the harness configures (`INVITATIONS_JWT_SECRET`).
const SECRET: &str = "test secret that is long enough for HS256";

fn sign(secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).expect("key"),
    )
    .expect("sign")
}

/// Claims of the shape the service issues, valid for an hour from the service clock.
fn claims_for(app: &TestApp, owner: &Owner) -> Value {
    let now = app.clock.now().and_utc().timestamp();
    json!({
        "sub": owner.user_id.to_string(),
        "account_id": owner.account_id,
        "iat": now,
        "exp": now + 3_600,
        "iss": "invitations",
        "aud": "invitations",
    })
}

fn account_path(owner: &Owner) -> String {
    format!("/accounts/{}", owner.account_id)
}

async fn without_token(app: &TestApp, method: &str, path: &str) -> Reply {
    app.request(method, path, None, None).await
}

/// Sends `Authorization` exactly as given.
async fn with_authorization(app: &TestApp, path: &str, authorization: &str) -> Reply {
    let response = app
        .client
        .get(format!("{}{path}", app.base))
        .header("authorization", authorization)
        .send()
        .await
        .expect("request");
    TestApp::reply(response).await
}

/// A firm member who joined by invitation: (user id, access token).
async fn member(app: &TestApp, owner: &Owner, email: &str, role: &str) -> (i64, String) {
    app.join(
        owner,
        json!({"email": email, "subscriber_type": "attorney", "role": role}),
    )
    .await
}

async fn disable(app: &TestApp, owner: &Owner, user_id: i64) -> Reply {
    app.request(
        "POST",
        &format!("/accounts/{}/users/{user_id}/disable", owner.account_id),
        Some(&owner.token),
        None,
    )
    .await
}

async fn sign_in(app: &TestApp, body: Value) -> Reply {
    app.request("POST", "/sessions", None, Some(&body)).await
}

// ---------------------------------------------------------------- 401

async fn a_request_without_a_bearer_token_answers_401(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let a = owner.account_id;
    for (method, path) in [
        ("GET", format!("/accounts/{a}")),
        ("GET", format!("/accounts/{a}/invitations")),
        ("POST", format!("/accounts/{a}/invitations")),
        ("GET", format!("/accounts/{a}/users")),
        ("GET", format!("/accounts/{a}/users/{}", owner.user_id)),
        ("GET", format!("/accounts/{a}/licenses")),
    ] {
        without_token(&app, method, &path)
            .await
            .problem(401, "unauthorized");
    }
    for authorization in [
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        owner.token.as_str(),
    ] {
        with_authorization(&app, &account_path(&owner), authorization)
            .await
            .problem(401, "unauthorized");
    }
    // The same token, properly presented, works.
    with_authorization(
        &app,
        &account_path(&owner),
        &format!("Bearer {}", owner.token),
    )
    .await
    .ok(200);
}

async fn a_garbage_token_answers_401(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    // Another signature: the first character of the signature part changed.
    let (signed, signature) = owner.token.rsplit_once('.').expect("a JWT");
    let replacement = if signature.starts_with('A') { "B" } else { "A" };
    let tampered = format!("{signed}.{replacement}{}", &signature[1..]);
    for token in [
        "garbage",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
        tampered.as_str(),
    ] {
        app.get(&account_path(&owner), token)
            .await
            .problem(401, "unauthorized");
    }
}

async fn a_token_signed_with_another_secret_answers_401(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let claims = claims_for(&app, &owner);
    let ours = sign(SECRET, &claims);
    app.get(&account_path(&owner), &ours).await.ok(200);

    let theirs = sign("another secret, also long enough", &claims);
    app.get(&account_path(&owner), &theirs)
        .await
        .problem(401, "unauthorized");
}

async fn an_expired_token_answers_401(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let now = app.clock.now().and_utc().timestamp();
    let mut claims = claims_for(&app, &owner);
    claims["iat"] = json!(now - 7_200);
    claims["exp"] = json!(now - 60);
    app.get(&account_path(&owner), &sign(SECRET, &claims))
        .await
        .problem(401, "unauthorized");

    // A token the service issued expires with the service clock.
    app.get(&account_path(&owner), &owner.token).await.ok(200);
    app.clock.advance(chrono::Duration::hours(2));
    app.get(&account_path(&owner), &owner.token)
        .await
        .problem(401, "unauthorized");
}

async fn a_token_with_the_wrong_audience_or_issuer_answers_401(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    for (claim, value) in [
        ("aud", json!("someone-else")),
        ("iss", json!("someone-else")),
    ] {
        let mut claims = claims_for(&app, &owner);
        claims[claim] = value;
        app.get(&account_path(&owner), &sign(SECRET, &claims))
            .await
            .problem(401, "unauthorized");
    }
    for claim in ["aud", "iss", "exp", "sub"] {
        let mut claims = claims_for(&app, &owner);
        claims.as_object_mut().expect("object").remove(claim);
        app.get(&account_path(&owner), &sign(SECRET, &claims))
            .await
            .problem(401, "unauthorized");
    }
    // A user id that does not exist, or that is not of the claimed account.
    let mut claims = claims_for(&app, &owner);
    claims["sub"] = json!("987654");
    app.get(&account_path(&owner), &sign(SECRET, &claims))
        .await
        .problem(401, "unauthorized");
    let other = app.bootstrap(&AccountSpec::classic_annual());
    let mut claims = claims_for(&app, &owner);
    claims["account_id"] = json!(other.account_id);
    app.get(&account_path(&other), &sign(SECRET, &claims))
        .await
        .problem(401, "unauthorized");
}

async fn a_disabled_users_still_valid_token_answers_401(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (user_id, token) = member(&app, &owner, "leaver@example.com", "administrator").await;
    let me = format!("/accounts/{}/users/{user_id}", owner.account_id);
    app.get(&account_path(&owner), &token).await.ok(200);
    app.get(&me, &token).await.ok(200);

    assert_eq!(
        disable(&app, &owner, user_id).await.ok(200)["status"],
        "disabled"
    );
    app.get(&account_path(&owner), &token)
        .await
        .problem(401, "unauthorized");
    app.get(&me, &token).await.problem(401, "unauthorized");
    app.get(
        &format!("/accounts/{}/invitations", owner.account_id),
        &token,
    )
    .await
    .problem(401, "unauthorized");
}

// ---------------------------------------------------------------- 403

async fn a_standard_user_gets_403_on_management_endpoints(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (_, token) = member(&app, &owner, "staff@example.com", "standard").await;
    let invitation = app
        .invite(
            &owner,
            json!({"email": "pending@example.com", "subscriber_type": "non_attorney"}),
        )
        .await;
    let a = owner.account_id;
    let i = &invitation["id"];
    let invite_body = json!({"email": "new@example.com", "subscriber_type": "non_attorney"});
    let requests: Vec<(&str, String, Option<Value>)> = vec![
        (
            "POST",
            format!("/accounts/{a}/invitations"),
            Some(invite_body.clone()),
        ),
        (
            "POST",
            format!("/accounts/{a}/invitations/quote"),
            Some(invite_body),
        ),
        ("GET", format!("/accounts/{a}/invitations"), None),
        ("GET", format!("/accounts/{a}/invitations/{i}"), None),
        ("DELETE", format!("/accounts/{a}/invitations/{i}"), None),
        (
            "POST",
            format!("/accounts/{a}/invitations/{i}/resend"),
            None,
        ),
        ("GET", format!("/accounts/{a}/users"), None),
        (
            "POST",
            format!("/accounts/{a}/users/{}/disable", owner.user_id),
            None,
        ),
        ("GET", format!("/accounts/{a}/licenses"), None),
        (
            "POST",
            format!("/accounts/{a}/licenses"),
            Some(json!({"license_type": "attorney", "quantity": 1})),
        ),
        ("GET", format!("/accounts/{a}/charges"), None),
        ("GET", format!("/accounts/{a}/groups"), None),
        (
            "POST",
            format!("/accounts/{a}/groups"),
            Some(json!({"name": "Mine"})),
        ),
    ];
    for (method, path, body) in &requests {
        let reply = app.request(method, path, Some(&token), body.as_ref()).await;
        assert_eq!(reply.status, 403, "{method} {path}: {}", reply.text);
        reply.problem(403, "forbidden");
    }
    // Nothing changed.
    let still = app
        .get(&format!("/accounts/{a}/invitations/{i}"), &owner.token)
        .await;
    assert_eq!(still.ok(200)["status"], "pending");
    assert_eq!(still.body["send_count"], 1);
    let listed = app
        .get(&format!("/accounts/{a}/invitations"), &owner.token)
        .await;
    assert_eq!(item_ids(listed.ok(200)).len(), 2, "{}", listed.text);
}

async fn a_standard_user_may_read_the_account_and_themselves_but_not_another_user(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (me, token) = member(&app, &owner, "staff@example.com", "standard").await;
    let (colleague, _) = member(&app, &owner, "colleague@example.com", "standard").await;

    let account = app.get(&account_path(&owner), &token).await;
    assert_eq!(account.ok(200)["id"], owner.account_id);
    assert_eq!(account.body["name"], "Smith & Jones LLP");

    let mine = app
        .get(
            &format!("/accounts/{}/users/{me}", owner.account_id),
            &token,
        )
        .await;
    assert_eq!(mine.ok(200)["id"], me);
    assert_eq!(mine.body["email"], "staff@example.com");
    assert_eq!(mine.body["role"], "standard");

    for other in [owner.user_id, colleague] {
        app.get(
            &format!("/accounts/{}/users/{other}", owner.account_id),
            &token,
        )
        .await
        .problem(403, "forbidden");
    }
}

// ---------------------------------------------------------------- tenancy

async fn another_tenants_resources_answer_404_never_403(app: TestApp) {
    let a = app.bootstrap(&AccountSpec::classic_annual());
    let b = app.bootstrap(&AccountSpec::classic_annual());
    let (_, a_standard) = member(&app, &a, "staff@a.example", "standard").await;
    let b_invitation = app
        .invite(
            &b,
            json!({"email": "someone@b.example", "subscriber_type": "attorney"}),
        )
        .await;
    let b_id = b.account_id;
    let bi = &b_invitation["id"];
    let invite_body = json!({"email": "x@example.com", "subscriber_type": "attorney"});
    let requests: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/accounts/{b_id}"), None),
        ("GET", format!("/accounts/{b_id}/invitations"), None),
        (
            "POST",
            format!("/accounts/{b_id}/invitations"),
            Some(invite_body.clone()),
        ),
        (
            "POST",
            format!("/accounts/{b_id}/invitations/quote"),
            Some(invite_body),
        ),
        ("GET", format!("/accounts/{b_id}/invitations/{bi}"), None),
        ("DELETE", format!("/accounts/{b_id}/invitations/{bi}"), None),
        (
            "POST",
            format!("/accounts/{b_id}/invitations/{bi}/resend"),
            None,
        ),
        ("GET", format!("/accounts/{b_id}/users"), None),
        ("GET", format!("/accounts/{b_id}/users/{}", b.user_id), None),
        (
            "POST",
            format!("/accounts/{b_id}/users/{}/disable", b.user_id),
            None,
        ),
        ("GET", format!("/accounts/{b_id}/licenses"), None),
        ("GET", format!("/accounts/{b_id}/charges"), None),
        ("GET", format!("/accounts/{b_id}/groups"), None),
    ];
    // B's ids under A's own account (for A's manager; A's standard user is
    // rightly refused these paths of its own account with 403).
    let foreign_ids: Vec<(&str, String, Option<Value>)> = vec![
        (
            "GET",
            format!("/accounts/{}/invitations/{bi}", a.account_id),
            None,
        ),
        (
            "DELETE",
            format!("/accounts/{}/invitations/{bi}", a.account_id),
            None,
        ),
        (
            "POST",
            format!("/accounts/{}/invitations/{bi}/resend", a.account_id),
            None,
        ),
        (
            "GET",
            format!("/accounts/{}/users/{}", a.account_id, b.user_id),
            None,
        ),
        (
            "POST",
            format!("/accounts/{}/users/{}/disable", a.account_id, b.user_id),
            None,
        ),
    ];
    let nonexistent = app.get("/accounts/987654", &a.token).await;
    nonexistent.problem(404, "not_found");
    let cases = requests
        .iter()
        .map(|r| (&a.token, r))
        .chain(requests.iter().map(|r| (&a_standard, r)))
        .chain(foreign_ids.iter().map(|r| (&a.token, r)));
    for (token, (method, path, body)) in cases {
        let reply = app.request(method, path, Some(token), body.as_ref()).await;
        assert_eq!(reply.status, 404, "{method} {path}: {}", reply.text);
        reply.problem(404, "not_found");
        for same in ["type", "title", "detail", "code"] {
            assert_eq!(reply.body[same], nonexistent.body[same], "{method} {path}");
        }
    }
    // B's invitation and owner are untouched.
    let still = app
        .get(&format!("/accounts/{b_id}/invitations/{bi}"), &b.token)
        .await;
    assert_eq!(still.ok(200)["status"], "pending");
    assert_eq!(still.body["send_count"], 1);
    let owner = app
        .get(&format!("/accounts/{b_id}/users/{}", b.user_id), &b.token)
        .await;
    assert_eq!(owner.ok(200)["status"], "active");
}

async fn an_unknown_route_answers_404_problem_json(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    for path in [
        "/nope",
        "/accounts",
        "/accounts/1/nothing-here",
        "/v2/healthz",
    ] {
        without_token(&app, "GET", path)
            .await
            .problem(404, "not_found");
    }
    app.get(
        &format!("/accounts/{}/unknown", owner.account_id),
        &owner.token,
    )
    .await
    .problem(404, "not_found");
}

// ---------------------------------------------------------------- sessions

async fn signing_in_with_the_right_password_returns_a_bearer_token(app: TestApp) {
    let owner = app.bootstrap_with_owner(
        &AccountSpec::classic_annual(),
        "Ann.Smith@Firm.Example",
        "owner password",
    );
    for spelling in ["Ann.Smith@Firm.Example", "  ann.smith@firm.example "] {
        let reply = sign_in(
            &app,
            json!({"email": spelling, "password": "owner password"}),
        )
        .await;
        let grant = reply.ok(200);
        let keys: BTreeSet<&str> = grant
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from(["access_token", "token_type", "expires_in", "user"])
        );
        assert_eq!(grant["token_type"], "Bearer");
        assert!(
            grant["expires_in"].as_u64().is_some_and(|s| s > 0),
            "{grant}"
        );
        assert_eq!(grant["user"]["id"], owner.user_id);
        assert_eq!(grant["user"]["account_id"], owner.account_id);
        assert_eq!(grant["user"]["email"], "Ann.Smith@Firm.Example");
        assert_eq!(grant["user"]["role"], "primary_subscriber");
        assert!(grant["user"].get("password_hash").is_none());
        assert!(!reply.text.contains("argon2"));

        let token = grant["access_token"].as_str().expect("token");
        let account = app.get(&account_path(&owner), token).await;
        assert_eq!(account.ok(200)["id"], owner.account_id);
    }
}

async fn a_wrong_password_or_unknown_email_answers_401_invalid_credentials(app: TestApp) {
    app.bootstrap_with_owner(
        &AccountSpec::classic_annual(),
        "ann.smith@firm.example",
        "owner password",
    );
    let wrong = sign_in(
        &app,
        json!({"email": "ann.smith@firm.example", "password": "Owner password"}),
    )
    .await;
    wrong.problem(401, "invalid_credentials");
    let unknown = sign_in(
        &app,
        json!({"email": "nobody@firm.example", "password": "owner password"}),
    )
    .await;
    unknown.problem(401, "invalid_credentials");
    // Indistinguishable apart from the request id.
    for same in ["type", "title", "detail", "code", "status"] {
        assert_eq!(wrong.body[same], unknown.body[same]);
    }
}

async fn a_disabled_user_cannot_sign_in(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (user_id, _) = member(&app, &owner, "bob@example.com", "standard").await;
    sign_in(
        &app,
        json!({"email": "bob@example.com", "password": "bob's password"}),
    )
    .await
    .ok(200);
    disable(&app, &owner, user_id).await.ok(200);
    sign_in(
        &app,
        json!({"email": "bob@example.com", "password": "bob's password"}),
    )
    .await
    .problem(401, "invalid_credentials");
    sign_in(
        &app,
        json!({"email": "bob@example.com", "password": "wrong password"}),
    )
    .await
    .problem(401, "invalid_credentials");
}

async fn signing_in_without_email_or_password_answers_422(app: TestApp) {
    app.bootstrap(&AccountSpec::classic_annual());
    let fields = |reply: &Reply| {
        let mut got = reply.error_fields();
        got.sort();
        got
    };
    assert_eq!(
        fields(&sign_in(&app, json!({})).await),
        ["email", "password"]
    );
    assert_eq!(
        fields(&sign_in(&app, json!({"email": "a@example.com"})).await),
        ["password"]
    );
    assert_eq!(
        fields(&sign_in(&app, json!({"password": "secret password"})).await),
        ["email"]
    );
    assert_eq!(
        fields(
            &sign_in(
                &app,
                json!({"email": "a@example.com", "password": "x", "remember": true})
            )
            .await
        ),
        ["remember"]
    );
    app.post_raw(
        "/sessions",
        None,
        Some("application/json"),
        "email=a@example.com",
    )
    .await
    .problem(400, "malformed_json");
}

// ---------------------------------------------------------------- users

async fn users_are_listed_newest_first_with_a_status_filter_and_paging(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let mut joined = vec![owner.user_id];
    for n in 0..3 {
        let (_, token) = app
            .invite_and_read_token(
                &owner,
                json!({"email": format!("u{n}@example.com"), "role": "standard"}),
            )
            .await;
        joined.push(
            app.accept(&token).await.ok(201)["user"]["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let disabled = joined[2];
    disable(&app, &owner, disabled).await.ok(200);
    let newest_first: Vec<i64> = joined.iter().rev().copied().collect();

    let users = format!("/accounts/{}/users", owner.account_id);
    let all = app.get(&users, &owner.token).await;
    let body = all.ok(200);
    let keys: BTreeSet<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, BTreeSet::from(["items", "next_cursor"]));
    assert_eq!(item_ids(body), newest_first);
    assert_eq!(body["next_cursor"], Value::Null);
    for user in body["items"].as_array().expect("items") {
        for key in [
            "id",
            "account_id",
            "email",
            "first_name",
            "last_name",
            "role",
            "subscriber_type",
            "permissions",
            "group_ids",
            "status",
            "created_at",
        ] {
            assert!(user.get(key).is_some(), "missing {key}: {user}");
        }
        assert!(user.get("password_hash").is_none());
    }

    let active = app
        .get(&format!("{users}?status=active"), &owner.token)
        .await;
    let active_ids = item_ids(active.ok(200));
    assert_eq!(
        active_ids,
        newest_first
            .iter()
            .copied()
            .filter(|id| *id != disabled)
            .collect::<Vec<_>>()
    );
    assert!(
        active.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["status"] == "active")
    );
    let only_disabled = app
        .get(&format!("{users}?status=disabled"), &owner.token)
        .await;
    assert_eq!(item_ids(only_disabled.ok(200)), vec![disabled]);
    assert_eq!(only_disabled.body["items"][0]["status"], "disabled");

    // Paging: 3 + 1, then null.
    let first = app.get(&format!("{users}?limit=3"), &owner.token).await;
    assert_eq!(item_ids(first.ok(200)), newest_first[..3].to_vec());
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = app
        .get(&format!("{users}?limit=3&cursor={cursor}"), &owner.token)
        .await;
    assert_eq!(item_ids(second.ok(200)), newest_first[3..].to_vec());
    assert_eq!(second.body["next_cursor"], Value::Null);

    // Paging with a filter.
    let first = app
        .get(&format!("{users}?status=active&limit=2"), &owner.token)
        .await;
    let cursor = first.ok(200)["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = app
        .get(
            &format!("{users}?status=active&limit=2&cursor={cursor}"),
            &owner.token,
        )
        .await;
    let mut seen = item_ids(&first.body);
    seen.extend(item_ids(second.ok(200)));
    assert_eq!(seen, active_ids);
    assert_eq!(second.body["next_cursor"], Value::Null);

    for (query, field) in [
        ("status=gone", "status"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("cursor=garbage!", "cursor"),
    ] {
        let reply = app.get(&format!("{users}?{query}"), &owner.token).await;
        assert_eq!(reply.error_fields(), [field], "{query}");
    }
}

async fn the_primary_subscriber_cannot_be_disabled(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    disable(&app, &owner, owner.user_id)
        .await
        .problem(409, "primary_subscriber_protected");
    // Nor by an administrator.
    let (_, admin) = member(&app, &owner, "admin@example.com", "administrator").await;
    app.request(
        "POST",
        &format!(
            "/accounts/{}/users/{}/disable",
            owner.account_id, owner.user_id
        ),
        Some(&admin),
        None,
    )
    .await
    .problem(409, "primary_subscriber_protected");
    let me = app
        .get(
            &format!("/accounts/{}/users/{}", owner.account_id, owner.user_id),
            &owner.token,
        )
        .await;
    assert_eq!(me.ok(200)["status"], "active");
    app.get(&account_path(&owner), &owner.token).await.ok(200);
}

async fn disabling_twice_answers_200_both_times(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (user_id, _) = member(&app, &owner, "twice@example.com", "standard").await;
    let before = app.licenses(&owner).await["attorney"]["assigned"].clone();
    let first = disable(&app, &owner, user_id).await;
    assert_eq!(first.ok(200)["status"], "disabled");
    assert_eq!(first.body["id"], user_id);
    let second = disable(&app, &owner, user_id).await;
    assert_eq!(second.ok(200)["status"], "disabled");
    let after = app.licenses(&owner).await["attorney"]["assigned"].clone();
    assert_eq!(after.as_i64(), before.as_i64().map(|n| n - 1));

    disable(&app, &owner, 987_654)
        .await
        .problem(404, "not_found");
}

// ---------------------------------------------------------------- operations

async fn the_permission_catalog_lists_accounts_billing_and_reports(app: TestApp) {
    let reply = without_token(&app, "GET", "/permissions").await;
    let names: BTreeSet<String> = reply.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| {
            assert!(p["description"].is_string(), "{p}");
            p["name"].as_str().expect("name").to_owned()
        })
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["accounts".into(), "billing".into(), "reports".into()])
    );
}

async fn health_and_readiness_answer_200(app: TestApp) {
    for path in ["/healthz", "/readyz"] {
        let reply = without_token(&app, "GET", path).await;
        reply.ok(200);
        assert!(
            reply
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "{path}: {:?}",
            reply.header("content-type")
        );
    }
}

async fn the_openapi_document_and_the_docs_page_are_served(app: TestApp) {
    let spec = without_token(&app, "GET", "/openapi.json").await;
    let document = spec.ok(200);
    assert!(
        spec.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        spec.header("content-type")
    );
    assert!(document["openapi"].is_string(), "{}", spec.text);
    let paths = document["paths"].as_object().expect("paths");
    for path in [
        "/accounts/{account_id}/invitations",
        "/invitations/{token}/accept",
        "/sessions",
    ] {
        assert!(paths.contains_key(path), "{path} not documented");
    }

    let docs = without_token(&app, "GET", "/docs/").await;
    assert_eq!(docs.status, 200, "{}", docs.text);
    assert!(
        docs.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{:?}",
        docs.header("content-type")
    );
    assert!(docs.text.to_ascii_lowercase().contains("<html"));
    // `/docs` itself answers with the same page (its assets resolve under /docs/).
    invitations::webhooks::install_tls_provider();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let bare = client
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 200);
    let page = bare.text().await.unwrap();
    assert!(page.contains("<base href=\"/docs/\">"), "{page}");
    let asset = client
        .get(format!("{}/docs/swagger-ui-bundle.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        asset.status(),
        200,
        "the UI's JavaScript is served from the binary"
    );
}

async fn every_error_is_problem_json_with_the_documented_fields(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (_, standard) = member(&app, &owner, "staff@example.com", "standard").await;
    let invitations = format!("/accounts/{}/invitations", owner.account_id);
    let (invitation, token) = app
        .invite_and_read_token(
            &owner,
            json!({"email": "x@example.com", "subscriber_type": "non_attorney"}),
        )
        .await;
    let raw = |body: String, content_type: &'static str| {
        let request = app
            .client
            .post(format!("{}{invitations}", app.base))
            .bearer_auth(&owner.token)
            .header("content-type", content_type)
            .body(body);
        async move { TestApp::reply(request.send().await.expect("request")).await }
    };

    let mut cases: Vec<(Reply, u16, &str)> = vec![
        (
            raw("{".into(), "application/json").await,
            400,
            "malformed_json",
        ),
        (raw("{}".into(), "text/plain").await, 400, "malformed_json"),
        (
            without_token(&app, "GET", &invitations).await,
            401,
            "unauthorized",
        ),
        (
            sign_in(
                &app,
                json!({"email": "x@y.example", "password": "nope nope"}),
            )
            .await,
            401,
            "invalid_credentials",
        ),
        (app.get(&invitations, &standard).await, 403, "forbidden"),
        (
            without_token(&app, "GET", "/nowhere").await,
            404,
            "not_found",
        ),
        (
            app.get(&format!("{invitations}/987654"), &owner.token)
                .await,
            404,
            "not_found",
        ),
        (
            app.post(
                &invitations,
                &owner.token,
                json!({"email": "x@example.com", "subscriber_type": "non_attorney"}),
            )
            .await,
            409,
            "invitation_pending",
        ),
    ];
    app.request(
        "DELETE",
        &format!("{invitations}/{}", invitation["id"]),
        Some(&owner.token),
        None,
    )
    .await
    .ok(200);
    cases.push((app.accept(&token).await, 410, "invitation_revoked"));
    cases.push((
        raw(
            json!({"email": "big@example.com", "message": "x".repeat(1_100_000)}).to_string(),
            "application/json",
        )
        .await,
        413,
        "payload_too_large",
    ));
    cases.push((
        app.post(&invitations, &owner.token, json!({"email": "nope"}))
            .await,
        422,
        "validation_failed",
    ));

    for (reply, status, code) in &cases {
        let body = reply.problem(*status, code);
        for field in ["type", "title", "detail", "instance", "code"] {
            assert!(
                body[field].as_str().is_some_and(|s| !s.is_empty()),
                "{status} {code} without {field}: {}",
                reply.text
            );
        }
        assert_eq!(body["status"], *status);
        if *status == 422 {
            let errors = body["errors"].as_array().expect("errors on 422");
            assert!(!errors.is_empty());
            for error in errors {
                for key in ["field", "code", "message"] {
                    assert!(error[key].is_string(), "{error}");
                }
            }
        }
        let lower = reply.text.to_ascii_lowercase();
        for leak in ["panicked", "stack backtrace", "diesel", "/src/", "select "] {
            assert!(
                !lower.contains(leak),
                "{status} {code} leaks {leak}: {}",
                reply.text
            );
        }
    }
}

async fn x_request_id_is_echoed_when_sent_and_generated_otherwise(app: TestApp) {
    for path in ["/healthz", "/nowhere"] {
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .header("x-request-id", "test-request-42")
            .send()
            .await
            .expect("request");
        let reply = TestApp::reply(response).await;
        assert_eq!(
            reply.header("x-request-id"),
            Some("test-request-42"),
            "{path}"
        );
    }

    let mut generated = BTreeSet::new();
    for path in ["/healthz", "/healthz", "/nowhere"] {
        let reply = without_token(&app, "GET", path).await;
        let id = reply
            .header("x-request-id")
            .expect("a generated request id");
        assert!(!id.is_empty());
        generated.insert(id.to_owned());
    }
    assert_eq!(
        generated.len(),
        3,
        "each request gets its own id: {generated:?}"
    );
}
