//! Bearer tokens: missing, garbage, foreign, expired, wrong audience or issuer, disabled user.
//! Every 401 carries an RFC 6750 challenge and says which case it is.

use super::*;

/// A 401 whose challenge is `Bearer` alone (no credentials were sent) or
/// `Bearer error="invalid_token"` with a description containing `why`, which
/// the problem's `detail` repeats.
fn challenged(reply: &Reply, why: Option<&str>) {
    let detail = reply.problem(401, "unauthorized")["detail"]
        .as_str()
        .expect("detail")
        .to_owned();
    let challenge = reply.header("www-authenticate").expect("WWW-Authenticate");
    match why {
        None => {
            assert_eq!(challenge, "Bearer");
            assert!(detail.contains("required"), "{detail}");
        }
        Some(why) => {
            assert!(
                challenge.starts_with("Bearer error=\"invalid_token\", error_description=\""),
                "{challenge}"
            );
            assert!(challenge.contains(&detail), "{challenge} / {detail}");
            assert!(detail.contains(why), "{detail} should say {why:?}");
        }
    }
}

crate::db_tests!(
    a_request_without_a_bearer_token_answers_401,
    a_garbage_token_answers_401,
    a_token_signed_with_another_secret_answers_401,
    an_expired_token_answers_401,
    a_token_with_the_wrong_audience_or_issuer_answers_401,
    a_disabled_users_still_valid_token_answers_401,
);

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
        challenged(&without_token(&app, method, &path).await, None);
    }
    for authorization in [
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        owner.token.as_str(),
    ] {
        challenged(
            &with_authorization(&app, &account_path(&owner), authorization).await,
            Some("does not carry a bearer token"),
        );
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
    for token in ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."] {
        challenged(
            &app.get(&account_path(&owner), token).await,
            Some("not a valid JWT"),
        );
    }
    challenged(
        &app.get(&account_path(&owner), &tampered).await,
        Some("signature is not valid"),
    );
}

async fn a_token_signed_with_another_secret_answers_401(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let claims = claims_for(&app, &owner);
    let ours = sign(SECRET, &claims);
    app.get(&account_path(&owner), &ours).await.ok(200);

    let theirs = sign("another secret, also long enough", &claims);
    challenged(
        &app.get(&account_path(&owner), &theirs).await,
        Some("signature is not valid"),
    );
}

async fn an_expired_token_answers_401(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let now = app.clock.now().and_utc().timestamp();
    let mut claims = claims_for(&app, &owner);
    claims["iat"] = json!(now - 7_200);
    claims["exp"] = json!(now - 60);
    challenged(
        &app.get(&account_path(&owner), &sign(SECRET, &claims)).await,
        Some("expired"),
    );

    // A token the service issued expires with the service clock.
    app.get(&account_path(&owner), &owner.token).await.ok(200);
    app.clock.advance(chrono::Duration::hours(2));
    challenged(
        &app.get(&account_path(&owner), &owner.token).await,
        Some("expired"),
    );
}

async fn a_token_with_the_wrong_audience_or_issuer_answers_401(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    for (claim, value) in [
        ("aud", json!("someone-else")),
        ("iss", json!("someone-else")),
    ] {
        let mut claims = claims_for(&app, &owner);
        claims[claim] = value;
        challenged(
            &app.get(&account_path(&owner), &sign(SECRET, &claims)).await,
            Some("not issued for this service"),
        );
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
    challenged(
        &app.get(&account_path(&owner), &sign(SECRET, &claims)).await,
        Some("user does not exist"),
    );
    let other = app.bootstrap(&AccountSpec::classic_annual());
    let mut claims = claims_for(&app, &owner);
    claims["account_id"] = json!(other.account_id);
    challenged(
        &app.get(&account_path(&other), &sign(SECRET, &claims)).await,
        Some("user does not exist"),
    );
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
    challenged(
        &app.get(&account_path(&owner), &token).await,
        Some("disabled"),
    );
    challenged(&app.get(&me, &token).await, Some("disabled"));
    let invitations = format!("/accounts/{}/invitations", owner.account_id);
    challenged(&app.get(&invitations, &token).await, Some("disabled"));
    // The list checks its caller on its own connection: still before the query.
    challenged(
        &app.get(&format!("{invitations}?limit=0&status=bogus"), &token)
            .await,
        Some("disabled"),
    );
    // The invite itself checks its caller under the account lock: same answer.
    let invite = app
        .post(
            &invitations,
            &token,
            json!({"email": "late@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    challenged(&invite, Some("disabled"));
}
