//! Signing in with POST /sessions.

use super::*;

crate::db_tests!(
    signing_in_with_the_right_password_returns_a_bearer_token,
    a_wrong_password_or_unknown_email_answers_401_invalid_credentials,
    a_disabled_user_cannot_sign_in,
    signing_in_without_email_or_password_answers_422,
);

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
        let keys = crate::helpers::keys_of(grant);
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
