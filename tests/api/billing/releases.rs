//! Releasing licenses: accepting assigns; revoking, declining, expiry and disabling open the license for free reuse.

use super::*;

crate::db_tests!(
    accepting_turns_the_reserved_license_into_an_assigned_one,
    revoking_an_invitation_opens_its_license_for_free_reuse,
    declining_an_invitation_opens_its_license_for_free_reuse,
    an_expired_invitation_opens_its_license_for_free_reuse,
    disabling_a_user_opens_their_license_for_free_reuse,
);

async fn accepting_turns_the_reserved_license_into_an_assigned_one(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    assert_licenses(
        &app,
        &owner,
        "bootstrapped",
        &[("attorney", 2, 0, 1), ("non_attorney", 2, 0, 0)],
    )
    .await;
    let (_, attorney_token) = app
        .invite_and_read_token(&owner, classic_attorney("a@example.com"))
        .await;
    let (_, other_token) = app
        .invite_and_read_token(&owner, non_attorney("n@example.com"))
        .await;
    assert_licenses(
        &app,
        &owner,
        "invited",
        &[("attorney", 1, 1, 1), ("non_attorney", 1, 1, 0)],
    )
    .await;

    accept(&app, &attorney_token).await;
    assert_licenses(
        &app,
        &owner,
        "attorney accepted",
        &[("attorney", 1, 0, 2), ("non_attorney", 1, 1, 0)],
    )
    .await;
    accept(&app, &other_token).await;
    assert_licenses(
        &app,
        &owner,
        "non-attorney accepted",
        &[("attorney", 1, 0, 2), ("non_attorney", 1, 0, 1)],
    )
    .await;
    assert!(ledger(&app, &owner).await.is_empty());
}

async fn revoking_an_invitation_opens_its_license_for_free_reuse(app: TestApp) {
    let anchor = days_ago(&app, 10);
    let owner = app.bootstrap(&new_monthly(&[], anchor));
    assert_licenses(&app, &owner, "bootstrapped", &[("user", 0, 0, 1)]).await;
    let first = invite_charged(
        &app,
        &owner,
        user("a@example.com"),
        "user",
        NEW_MONTHLY_PRICE,
        period(anchor, 1, 0),
    )
    .await;
    assert_licenses(&app, &owner, "invited", &[("user", 0, 1, 1)]).await;
    let lines = ledger(&app, &owner).await;

    let reply = app
        .request(
            "DELETE",
            &invitation_path(&owner, &first),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(reply.ok(200)["status"], "revoked");
    assert_licenses(&app, &owner, "revoked", &[("user", 1, 0, 1)]).await;
    assert_eq!(ledger(&app, &owner).await, lines, "never refunded");

    let answer = quote(&app, &owner, user("b@example.com")).await;
    assert_eq!(answer["license_available"], true, "{answer}");
    assert_eq!(answer["charge"], Value::Null, "{answer}");
    assert_licenses(&app, &owner, "quoted", &[("user", 1, 0, 1)]).await;

    invite_free(&app, &owner, user("b@example.com")).await;
    assert_licenses(&app, &owner, "reused", &[("user", 0, 1, 1)]).await;
    assert_eq!(ledger(&app, &owner).await, lines);
}

async fn declining_an_invitation_opens_its_license_for_free_reuse(app: TestApp) {
    let anchor = days_ago(&app, 10);
    let owner = app.bootstrap(&new_monthly(&[], anchor));
    assert_licenses(&app, &owner, "bootstrapped", &[("user", 0, 0, 1)]).await;
    let (first, token) = app
        .invite_and_read_token(&owner, user("a@example.com"))
        .await;
    assert!(first["charge"].is_object(), "bought: {first}");
    assert_licenses(&app, &owner, "invited", &[("user", 0, 1, 1)]).await;
    let lines = ledger(&app, &owner).await;
    assert_eq!(lines.len(), 1);

    let reply = app
        .request("POST", &format!("/invitations/{token}/decline"), None, None)
        .await;
    assert_eq!(reply.ok(200)["status"], "declined");
    assert_licenses(&app, &owner, "declined", &[("user", 1, 0, 1)]).await;
    assert_eq!(
        get_invitation(&app, &owner, &first).await["status"],
        "declined"
    );
    assert_licenses(&app, &owner, "read back", &[("user", 1, 0, 1)]).await;

    invite_free(&app, &owner, user("b@example.com")).await;
    assert_licenses(&app, &owner, "reused", &[("user", 0, 1, 1)]).await;
    assert_eq!(ledger(&app, &owner).await, lines);
}

async fn an_expired_invitation_opens_its_license_for_free_reuse(app: TestApp) {
    let anchor = days_ago(&app, 1);
    let owner = app.bootstrap(&new_monthly(&[], anchor));
    assert_licenses(&app, &owner, "bootstrapped", &[("user", 0, 0, 1)]).await;
    let first = invite_charged(
        &app,
        &owner,
        json!({"email": "a@example.com", "role": "standard", "expires_in_days": 7}),
        "user",
        NEW_MONTHLY_PRICE,
        period(anchor, 1, 0),
    )
    .await;
    assert_licenses(&app, &owner, "invited", &[("user", 0, 1, 1)]).await;
    let lines = ledger(&app, &owner).await;

    app.clock.advance(Duration::days(8));
    let owner = app.renew(&owner);
    assert_licenses(&app, &owner, "expired", &[("user", 1, 0, 1)]).await;
    assert_eq!(
        get_invitation(&app, &owner, &first).await["status"],
        "expired"
    );
    assert_licenses(&app, &owner, "read back", &[("user", 1, 0, 1)]).await;

    invite_free(&app, &owner, user("b@example.com")).await;
    assert_licenses(&app, &owner, "reused", &[("user", 0, 1, 1)]).await;
    assert_eq!(ledger(&app, &owner).await, lines);
}

async fn disabling_a_user_opens_their_license_for_free_reuse(app: TestApp) {
    let anchor = days_ago(&app, 10);
    let owner = app.bootstrap(&new_monthly(&[], anchor));
    assert_licenses(&app, &owner, "bootstrapped", &[("user", 0, 0, 1)]).await;
    let (_, token) = app
        .invite_and_read_token(&owner, user("a@example.com"))
        .await;
    assert_licenses(&app, &owner, "invited", &[("user", 0, 1, 1)]).await;
    let user_id = accept(&app, &token).await;
    assert_licenses(&app, &owner, "accepted", &[("user", 0, 0, 2)]).await;
    let lines = ledger(&app, &owner).await;
    assert_eq!(lines.len(), 1);

    disable(&app, &owner, user_id).await;
    assert_licenses(&app, &owner, "disabled", &[("user", 1, 0, 1)]).await;
    assert_eq!(ledger(&app, &owner).await, lines, "never refunded");

    invite_free(&app, &owner, user("b@example.com")).await;
    assert_licenses(&app, &owner, "reused", &[("user", 0, 1, 1)]).await;
    assert_eq!(ledger(&app, &owner).await, lines);
}
