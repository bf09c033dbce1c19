//! Enabling users and resending expired invitations take a license again: free, charged or refused.

use super::*;

crate::db_tests!(
    enabling_a_user_reuses_an_open_license_without_charge,
    enabling_a_user_on_new_monthly_without_an_open_license_charges_user_enabled,
    enabling_a_non_attorney_on_classic_monthly_charges_the_non_attorney_price,
    enabling_a_user_on_classic_annual_without_an_open_license_is_refused,
    resending_an_expired_invitation_reuses_an_open_license_without_charge,
    resending_an_expired_invitation_on_a_monthly_account_without_an_open_license_charges_again,
    resending_an_expired_invitation_on_classic_annual_without_an_open_license_is_refused,
);

async fn enabling_a_user_reuses_an_open_license_without_charge(app: TestApp) {
    let owner = app.bootstrap(&new_monthly(&[], days_ago(&app, 10)));
    assert_licenses(&app, &owner, "bootstrapped", &[("user", 0, 0, 1)]).await;
    let (_, token) = app
        .invite_and_read_token(&owner, user("a@example.com"))
        .await;
    assert_licenses(&app, &owner, "invited", &[("user", 0, 1, 1)]).await;
    let user_id = accept(&app, &token).await;
    assert_licenses(&app, &owner, "accepted", &[("user", 0, 0, 2)]).await;
    disable(&app, &owner, user_id).await;
    assert_licenses(&app, &owner, "disabled", &[("user", 1, 0, 1)]).await;
    let lines = ledger(&app, &owner).await;

    let reply = enable(&app, &owner, user_id).await;
    assert_eq!(reply.ok(200)["status"], "active");
    assert_licenses(&app, &owner, "enabled", &[("user", 0, 0, 2)]).await;
    assert_eq!(ledger(&app, &owner).await, lines, "no charge");
}

async fn enabling_a_user_on_new_monthly_without_an_open_license_charges_user_enabled(app: TestApp) {
    let anchor = days_ago(&app, 10);
    let owner = app.bootstrap(&new_monthly(&[], anchor));
    assert_licenses(&app, &owner, "bootstrapped", &[("user", 0, 0, 1)]).await;
    let (_, token) = app
        .invite_and_read_token(&owner, user("a@example.com"))
        .await;
    assert_licenses(&app, &owner, "invited", &[("user", 0, 1, 1)]).await;
    let user_id = accept(&app, &token).await;
    assert_licenses(&app, &owner, "accepted", &[("user", 0, 0, 2)]).await;
    disable(&app, &owner, user_id).await;
    assert_licenses(&app, &owner, "disabled", &[("user", 1, 0, 1)]).await;
    invite_free(&app, &owner, user("b@example.com")).await;
    assert_licenses(&app, &owner, "license reused", &[("user", 0, 1, 1)]).await;
    let lines = ledger(&app, &owner).await;
    assert_eq!(lines.len(), 1);

    let before = app.clock.now();
    let reply = enable(&app, &owner, user_id).await;
    let window = window_since(&app, before);
    assert_eq!(reply.ok(200)["status"], "active");
    assert_licenses(&app, &owner, "enabled", &[("user", 0, 1, 2)]).await;
    let now = ledger(&app, &owner).await;
    assert_eq!(now.len(), 2, "one new ledger line");
    assert_charge_line(&now[0], "user", "user_enabled", 1, None, Some(user_id));
    assert_prorated(&now[0], NEW_MONTHLY_PRICE, 1, period(anchor, 1, 0), window);
    assert_eq!(now[1], lines[0]);
}

async fn enabling_a_non_attorney_on_classic_monthly_charges_the_non_attorney_price(app: TestApp) {
    let anchor = days_ago(&app, 20);
    let owner = app.bootstrap(&classic_monthly(&[(LicenseType::NonAttorney, 1)], anchor));
    assert_licenses(
        &app,
        &owner,
        "bootstrapped",
        &[("attorney", 0, 0, 1), ("non_attorney", 1, 0, 0)],
    )
    .await;
    let (_, token) = app
        .invite_and_read_token(&owner, non_attorney("n@example.com"))
        .await;
    assert_licenses(
        &app,
        &owner,
        "invited",
        &[("attorney", 0, 0, 1), ("non_attorney", 0, 1, 0)],
    )
    .await;
    let user_id = accept(&app, &token).await;
    assert_licenses(
        &app,
        &owner,
        "accepted",
        &[("attorney", 0, 0, 1), ("non_attorney", 0, 0, 1)],
    )
    .await;
    disable(&app, &owner, user_id).await;
    assert_licenses(
        &app,
        &owner,
        "disabled",
        &[("attorney", 0, 0, 1), ("non_attorney", 1, 0, 0)],
    )
    .await;
    invite_free(&app, &owner, non_attorney("m@example.com")).await;
    assert_licenses(
        &app,
        &owner,
        "license reused",
        &[("attorney", 0, 0, 1), ("non_attorney", 0, 1, 0)],
    )
    .await;
    assert!(ledger(&app, &owner).await.is_empty());

    let before = app.clock.now();
    let reply = enable(&app, &owner, user_id).await;
    let window = window_since(&app, before);
    assert_eq!(reply.ok(200)["status"], "active");
    assert_licenses(
        &app,
        &owner,
        "enabled",
        &[("attorney", 0, 0, 1), ("non_attorney", 0, 1, 1)],
    )
    .await;
    let lines = ledger(&app, &owner).await;
    assert_eq!(lines.len(), 1);
    assert_charge_line(
        &lines[0],
        "non_attorney",
        "user_enabled",
        1,
        None,
        Some(user_id),
    );
    assert_prorated(
        &lines[0],
        CLASSIC_MONTHLY_NON_ATTORNEY_PRICE,
        1,
        period(anchor, 1, 0),
        window,
    );
}

async fn enabling_a_user_on_classic_annual_without_an_open_license_is_refused(app: TestApp) {
    let owner = app.bootstrap(&classic_annual_with(
        &[(LicenseType::Attorney, 1)],
        days_ago(&app, 30),
    ));
    assert_licenses(
        &app,
        &owner,
        "bootstrapped",
        &[("attorney", 1, 0, 1), ("non_attorney", 0, 0, 0)],
    )
    .await;
    let (_, token) = app
        .invite_and_read_token(&owner, classic_attorney("a@example.com"))
        .await;
    assert_licenses(
        &app,
        &owner,
        "invited",
        &[("attorney", 0, 1, 1), ("non_attorney", 0, 0, 0)],
    )
    .await;
    let user_id = accept(&app, &token).await;
    assert_licenses(
        &app,
        &owner,
        "accepted",
        &[("attorney", 0, 0, 2), ("non_attorney", 0, 0, 0)],
    )
    .await;
    disable(&app, &owner, user_id).await;
    assert_licenses(
        &app,
        &owner,
        "disabled",
        &[("attorney", 1, 0, 1), ("non_attorney", 0, 0, 0)],
    )
    .await;
    invite_free(&app, &owner, classic_attorney("b@example.com")).await;
    let taken = [("attorney", 0, 1, 1), ("non_attorney", 0, 0, 0)];
    assert_licenses(&app, &owner, "license reused", &taken).await;

    let reply = enable(&app, &owner, user_id).await;
    assert_no_available_license(&reply, &owner, "attorney");
    assert_licenses(&app, &owner, "enable refused", &taken).await;
    assert_eq!(user_status(&app, &owner, user_id).await, "disabled");
    assert_licenses(&app, &owner, "read back", &taken).await;
    assert!(ledger(&app, &owner).await.is_empty());

    // After buying one, enabling takes it for free.
    let reply = app
        .post(
            &account_path(&owner, "/licenses"),
            &owner.token,
            json!({"license_type": "attorney", "quantity": 1}),
        )
        .await;
    reply.ok(201);
    assert_licenses(
        &app,
        &owner,
        "bought",
        &[("attorney", 1, 1, 1), ("non_attorney", 0, 0, 0)],
    )
    .await;
    let lines = ledger(&app, &owner).await;
    assert_eq!(lines.len(), 1);
    assert_eq!(
        enable(&app, &owner, user_id).await.ok(200)["status"],
        "active"
    );
    assert_licenses(
        &app,
        &owner,
        "enabled",
        &[("attorney", 0, 1, 2), ("non_attorney", 0, 0, 0)],
    )
    .await;
    assert_eq!(ledger(&app, &owner).await, lines);
}

async fn resending_an_expired_invitation_reuses_an_open_license_without_charge(app: TestApp) {
    let anchor = days_ago(&app, 1);
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

    app.clock.advance(Duration::days(8));
    let owner = app.renew(&owner);
    assert_licenses(&app, &owner, "expired", &[("user", 1, 0, 1)]).await;

    let reply = resend(&app, &owner, &first).await;
    let resent = reply.ok(200);
    assert_eq!(resent["status"], "pending", "{resent}");
    assert_eq!(resent["send_count"], 2, "{resent}");
    assert_eq!(resent["charge"], first["charge"], "no new charge");
    assert_licenses(&app, &owner, "resent", &[("user", 0, 1, 1)]).await;
    assert_eq!(ledger(&app, &owner).await, lines);
}

async fn resending_an_expired_invitation_on_a_monthly_account_without_an_open_license_charges_again(
    app: TestApp,
) {
    let anchor = days_ago(&app, 1);
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

    app.clock.advance(Duration::days(8));
    let owner = app.renew(&owner);
    assert_licenses(&app, &owner, "expired", &[("user", 1, 0, 1)]).await;
    invite_free(&app, &owner, user("b@example.com")).await;
    assert_licenses(&app, &owner, "license reused", &[("user", 0, 1, 1)]).await;
    let lines = ledger(&app, &owner).await;
    assert_eq!(lines.len(), 1);

    let before = app.clock.now();
    let reply = resend(&app, &owner, &first).await;
    let window = window_since(&app, before);
    let resent = reply.ok(200).clone();
    assert_eq!(resent["status"], "pending", "{resent}");
    assert_licenses(&app, &owner, "resent", &[("user", 0, 2, 1)]).await;
    let charge = &resent["charge"];
    assert_charge_line(charge, "user", "invitation", 1, Some(id_of(&first)), None);
    assert_prorated(charge, NEW_MONTHLY_PRICE, 1, period(anchor, 1, 0), window);
    assert_ne!(charge["id"], first["charge"]["id"], "a new charge");
    let now = ledger(&app, &owner).await;
    assert_eq!(now.len(), 2);
    assert_eq!(&now[0], charge);
    assert_eq!(now[1], lines[0]);
}

async fn resending_an_expired_invitation_on_classic_annual_without_an_open_license_is_refused(
    app: TestApp,
) {
    let owner = app.bootstrap(&classic_annual_with(
        &[(LicenseType::Attorney, 1)],
        days_ago(&app, 30),
    ));
    assert_licenses(
        &app,
        &owner,
        "bootstrapped",
        &[("attorney", 1, 0, 1), ("non_attorney", 0, 0, 0)],
    )
    .await;
    let first = invite_free(&app, &owner, classic_attorney("a@example.com")).await;
    assert_licenses(
        &app,
        &owner,
        "invited",
        &[("attorney", 0, 1, 1), ("non_attorney", 0, 0, 0)],
    )
    .await;

    app.clock.advance(Duration::days(8));
    let owner = app.renew(&owner);
    assert_licenses(
        &app,
        &owner,
        "expired",
        &[("attorney", 1, 0, 1), ("non_attorney", 0, 0, 0)],
    )
    .await;
    invite_free(&app, &owner, classic_attorney("b@example.com")).await;
    let taken = [("attorney", 0, 1, 1), ("non_attorney", 0, 0, 0)];
    assert_licenses(&app, &owner, "license reused", &taken).await;

    let reply = resend(&app, &owner, &first).await;
    assert_no_available_license(&reply, &owner, "attorney");
    assert_licenses(&app, &owner, "resend refused", &taken).await;
    let again = get_invitation(&app, &owner, &first).await;
    assert_eq!(again["status"], "expired", "{again}");
    assert_eq!(again["send_count"], 1, "{again}");
    assert_licenses(&app, &owner, "read back", &taken).await;
    assert!(ledger(&app, &owner).await.is_empty());
}
