//! Billing system × plan: when an invite reuses an open license, buys a prorated one, or is refused.

use super::*;

crate::db_tests!(
    classic_annual_reuses_an_open_license_without_charge,
    classic_annual_refuses_when_no_license_is_open,
    classic_annual_invites_for_free_once_a_license_is_bought,
    classic_monthly_reuses_an_open_license_without_charge,
    classic_monthly_buys_a_prorated_license_when_none_is_open,
    new_annual_reuses_an_open_license_without_charge,
    new_annual_buys_a_prorated_license_when_none_is_open,
    new_monthly_reuses_an_open_license_without_charge,
    new_monthly_buys_a_prorated_license_when_none_is_open,
);

async fn classic_annual_reuses_an_open_license_without_charge(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let full = [("attorney", 2, 0, 1), ("non_attorney", 2, 0, 0)];
    assert_licenses(&app, &owner, "bootstrapped", &full).await;

    let invitation = invite_free(&app, &owner, classic_attorney("a@example.com")).await;
    assert_eq!(invitation["license_type"], "attorney");
    assert_licenses(
        &app,
        &owner,
        "attorney invited",
        &[("attorney", 1, 1, 1), ("non_attorney", 2, 0, 0)],
    )
    .await;

    let invitation = invite_free(&app, &owner, non_attorney("n@example.com")).await;
    assert_eq!(invitation["license_type"], "non_attorney");
    assert_licenses(
        &app,
        &owner,
        "non-attorney invited",
        &[("attorney", 1, 1, 1), ("non_attorney", 1, 1, 0)],
    )
    .await;
    assert!(ledger(&app, &owner).await.is_empty());
}

async fn classic_annual_refuses_when_no_license_is_open(app: TestApp) {
    let owner = app.bootstrap(&classic_annual_with(
        &[(LicenseType::NonAttorney, 1)],
        days_ago(&app, 30),
    ));
    let start = [("attorney", 0, 0, 1), ("non_attorney", 1, 0, 0)];
    assert_licenses(&app, &owner, "bootstrapped", &start).await;

    let reply = app
        .post(
            &account_path(&owner, "/invitations"),
            &owner.token,
            classic_attorney("a@example.com"),
        )
        .await;
    assert_no_available_license(&reply, &owner, "attorney");
    assert_licenses(&app, &owner, "attorney refused", &start).await;
    assert!(ledger(&app, &owner).await.is_empty(), "nothing charged");
    assert!(
        list_invitations(&app, &owner).await.is_empty(),
        "no invitation was created"
    );

    // The other type still has an open license…
    invite_free(&app, &owner, non_attorney("n@example.com")).await;
    let used = [("attorney", 0, 0, 1), ("non_attorney", 0, 1, 0)];
    assert_licenses(&app, &owner, "non-attorney invited", &used).await;

    // …until it is used up too.
    let reply = app
        .post(
            &account_path(&owner, "/invitations"),
            &owner.token,
            non_attorney("m@example.com"),
        )
        .await;
    assert_no_available_license(&reply, &owner, "non_attorney");
    assert_licenses(&app, &owner, "second non-attorney refused", &used).await;
    assert!(ledger(&app, &owner).await.is_empty(), "nothing charged");
    assert_eq!(list_invitations(&app, &owner).await.len(), 1);
}

async fn classic_annual_invites_for_free_once_a_license_is_bought(app: TestApp) {
    let anchor = days_ago(&app, 30);
    let owner = app.bootstrap(&classic_annual_with(&[], anchor));
    let none = [("attorney", 0, 0, 1), ("non_attorney", 0, 0, 0)];
    assert_licenses(&app, &owner, "bootstrapped", &none).await;
    let reply = app
        .post(
            &account_path(&owner, "/invitations"),
            &owner.token,
            classic_attorney("a@example.com"),
        )
        .await;
    assert_no_available_license(&reply, &owner, "attorney");
    assert_licenses(&app, &owner, "refused", &none).await;

    let before = app.clock.now();
    let reply = app
        .post(
            &account_path(&owner, "/licenses"),
            &owner.token,
            json!({"license_type": "attorney", "quantity": 1}),
        )
        .await;
    let window = window_since(&app, before);
    let charge = reply.ok(201)["charge"].clone();
    assert_charge_line(&charge, "attorney", "license_purchase", 1, None, None);
    assert_prorated(
        &charge,
        CLASSIC_ATTORNEY_PRICE,
        1,
        period(anchor, 12, 0),
        window,
    );
    assert_licenses(
        &app,
        &owner,
        "one bought",
        &[("attorney", 1, 0, 1), ("non_attorney", 0, 0, 0)],
    )
    .await;

    invite_free(&app, &owner, classic_attorney("a@example.com")).await;
    assert_licenses(
        &app,
        &owner,
        "invited",
        &[("attorney", 0, 1, 1), ("non_attorney", 0, 0, 0)],
    )
    .await;
    assert_eq!(
        ledger(&app, &owner).await,
        vec![charge],
        "only the purchase"
    );
}

async fn classic_monthly_reuses_an_open_license_without_charge(app: TestApp) {
    let anchor = days_ago(&app, 10);
    let owner = app.bootstrap(&classic_monthly(&[(LicenseType::Attorney, 1)], anchor));
    assert_licenses(
        &app,
        &owner,
        "bootstrapped",
        &[("attorney", 1, 0, 1), ("non_attorney", 0, 0, 0)],
    )
    .await;

    let invitation = invite_free(&app, &owner, classic_attorney("a@example.com")).await;
    assert_eq!(invitation["license_type"], "attorney");
    assert_licenses(
        &app,
        &owner,
        "open license reused",
        &[("attorney", 0, 1, 1), ("non_attorney", 0, 0, 0)],
    )
    .await;
    assert!(ledger(&app, &owner).await.is_empty());

    // With the open one used, the next attorney is bought.
    invite_charged(
        &app,
        &owner,
        classic_attorney("b@example.com"),
        "attorney",
        CLASSIC_MONTHLY_ATTORNEY_PRICE,
        period(anchor, 1, 0),
    )
    .await;
    assert_licenses(
        &app,
        &owner,
        "second attorney bought",
        &[("attorney", 0, 2, 1), ("non_attorney", 0, 0, 0)],
    )
    .await;
}

async fn classic_monthly_buys_a_prorated_license_when_none_is_open(app: TestApp) {
    let anchor = days_ago(&app, 10);
    let owner = app.bootstrap(&classic_monthly(&[], anchor));
    assert_licenses(
        &app,
        &owner,
        "bootstrapped",
        &[("attorney", 0, 0, 1), ("non_attorney", 0, 0, 0)],
    )
    .await;

    invite_charged(
        &app,
        &owner,
        classic_attorney("a@example.com"),
        "attorney",
        CLASSIC_MONTHLY_ATTORNEY_PRICE,
        period(anchor, 1, 0),
    )
    .await;
    assert_licenses(
        &app,
        &owner,
        "attorney bought",
        &[("attorney", 0, 1, 1), ("non_attorney", 0, 0, 0)],
    )
    .await;

    // The subscriber type picks the license type and its price.
    invite_charged(
        &app,
        &owner,
        non_attorney("n@example.com"),
        "non_attorney",
        CLASSIC_MONTHLY_NON_ATTORNEY_PRICE,
        period(anchor, 1, 0),
    )
    .await;
    assert_licenses(
        &app,
        &owner,
        "non-attorney bought",
        &[("attorney", 0, 1, 1), ("non_attorney", 0, 1, 0)],
    )
    .await;
    assert_eq!(ledger(&app, &owner).await.len(), 2);
}

async fn new_annual_reuses_an_open_license_without_charge(app: TestApp) {
    let anchor = days_ago(&app, 100);
    let owner = app.bootstrap(&new_annual(&[(LicenseType::User, 1)], anchor));
    assert_licenses(&app, &owner, "bootstrapped", &[("user", 1, 0, 1)]).await;

    let invitation = invite_free(&app, &owner, user("a@example.com")).await;
    assert_eq!(invitation["license_type"], "user");
    assert_licenses(&app, &owner, "open license reused", &[("user", 0, 1, 1)]).await;
    assert!(ledger(&app, &owner).await.is_empty());

    invite_charged(
        &app,
        &owner,
        user("b@example.com"),
        "user",
        NEW_ANNUAL_PRICE,
        period(anchor, 12, 0),
    )
    .await;
    assert_licenses(&app, &owner, "second bought", &[("user", 0, 2, 1)]).await;
}

async fn new_annual_buys_a_prorated_license_when_none_is_open(app: TestApp) {
    let anchor = days_ago(&app, 100);
    let owner = app.bootstrap(&new_annual(&[], anchor));
    assert_licenses(&app, &owner, "bootstrapped", &[("user", 0, 0, 1)]).await;

    // A subscriber type is informational on new accounts: still a `user` license.
    invite_charged(
        &app,
        &owner,
        json!({"email": "a@example.com", "role": "administrator", "subscriber_type": "attorney"}),
        "user",
        NEW_ANNUAL_PRICE,
        period(anchor, 12, 0),
    )
    .await;
    assert_licenses(&app, &owner, "bought", &[("user", 0, 1, 1)]).await;

    invite_charged(
        &app,
        &owner,
        user("b@example.com"),
        "user",
        NEW_ANNUAL_PRICE,
        period(anchor, 12, 0),
    )
    .await;
    assert_licenses(&app, &owner, "bought again", &[("user", 0, 2, 1)]).await;
    assert_eq!(ledger(&app, &owner).await.len(), 2);
}

async fn new_monthly_reuses_an_open_license_without_charge(app: TestApp) {
    let anchor = days_ago(&app, 10);
    let owner = app.bootstrap(&new_monthly(&[(LicenseType::User, 2)], anchor));
    assert_licenses(&app, &owner, "bootstrapped", &[("user", 2, 0, 1)]).await;

    invite_free(&app, &owner, user("a@example.com")).await;
    assert_licenses(&app, &owner, "first reused", &[("user", 1, 1, 1)]).await;
    invite_free(&app, &owner, user("b@example.com")).await;
    assert_licenses(&app, &owner, "second reused", &[("user", 0, 2, 1)]).await;
    assert!(ledger(&app, &owner).await.is_empty());

    invite_charged(
        &app,
        &owner,
        user("c@example.com"),
        "user",
        NEW_MONTHLY_PRICE,
        period(anchor, 1, 0),
    )
    .await;
    assert_licenses(&app, &owner, "third bought", &[("user", 0, 3, 1)]).await;
}

async fn new_monthly_buys_a_prorated_license_when_none_is_open(app: TestApp) {
    let anchor = days_ago(&app, 10);
    let owner = app.bootstrap(&new_monthly(&[], anchor));
    assert_licenses(&app, &owner, "bootstrapped", &[("user", 0, 0, 1)]).await;

    let invitation = invite_charged(
        &app,
        &owner,
        user("a@example.com"),
        "user",
        NEW_MONTHLY_PRICE,
        period(anchor, 1, 0),
    )
    .await;
    assert_licenses(&app, &owner, "bought", &[("user", 0, 1, 1)]).await;

    // The charge stays on the invitation when read back.
    let again = get_invitation(&app, &owner, &invitation).await;
    assert_eq!(again["charge"], invitation["charge"]);
    assert_licenses(&app, &owner, "read back", &[("user", 0, 1, 1)]).await;
}
