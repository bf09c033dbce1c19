//! Buying licenses: quantity × the prorated single-license price, and the errors.

use super::*;

crate::db_tests!(
    buying_licenses_charges_quantity_times_the_prorated_single_license_price,
    bought_user_licenses_are_reused_for_free_by_later_invites,
    buying_zero_or_more_than_a_hundred_licenses_is_a_quantity_error,
    buying_a_license_type_the_account_does_not_have_is_a_license_type_error,
);

async fn buying_licenses_charges_quantity_times_the_prorated_single_license_price(app: TestApp) {
    let anchor = days_ago(&app, 100);
    let owner = app.bootstrap(&classic_annual_with(
        &[(LicenseType::Attorney, 2), (LicenseType::NonAttorney, 2)],
        anchor,
    ));
    assert_licenses(&app, &owner, "bootstrapped", &CLASSIC_ANNUAL_LICENSES).await;

    let before = app.clock.now();
    let reply = buy_licenses(&app, &owner, "attorney", 3).await;
    let window = window_since(&app, before);
    let body = reply.ok(201).clone();
    let charge = &body["charge"];
    assert_charge_line(charge, "attorney", "license_purchase", 3, None, None);
    assert_prorated(
        charge,
        CLASSIC_ATTORNEY_PRICE,
        3,
        period(anchor, 12, 0),
        window,
    );
    let attorney = body["licenses"]["items"]
        .as_array()
        .expect("licenses.items")
        .iter()
        .find(|item| item["license_type"] == "attorney")
        .expect("attorney licenses")
        .clone();
    assert_eq!(
        (&attorney["total"], &attorney["open"], &attorney["assigned"]),
        (&json!(6), &json!(5), &json!(1)),
        "{attorney}"
    );
    assert_eq!(attorney["price_cents"], CLASSIC_ATTORNEY_PRICE);
    assert_licenses(
        &app,
        &owner,
        "3 attorneys bought",
        &[("attorney", 5, 0, 1), ("non_attorney", 2, 0, 0)],
    )
    .await;
    assert_eq!(ledger(&app, &owner).await, vec![charge.clone()]);

    let (single, window) = buy_and_check_the_charge_line(&app, &owner, "non_attorney", 1).await;
    assert_prorated(&single, 60_000, 1, period(anchor, 12, 0), window);
    assert_licenses(
        &app,
        &owner,
        "1 non-attorney bought",
        &[("attorney", 5, 0, 1), ("non_attorney", 3, 0, 0)],
    )
    .await;
    assert_eq!(ledger(&app, &owner).await, vec![single, charge.clone()]);
}

async fn bought_user_licenses_are_reused_for_free_by_later_invites(app: TestApp) {
    let anchor = days_ago(&app, 10);
    let owner = app.bootstrap(&new_monthly(&[], anchor));
    assert_licenses(&app, &owner, "bootstrapped", &[("user", 0, 0, 1)]).await;

    let (charge, window) = buy_and_check_the_charge_line(&app, &owner, "user", 2).await;
    assert_prorated(&charge, NEW_MONTHLY_PRICE, 2, period(anchor, 1, 0), window);
    assert_licenses(&app, &owner, "2 bought", &[("user", 2, 0, 1)]).await;

    invite_free(&app, &owner, user("a@example.com")).await;
    assert_licenses(&app, &owner, "first reused", &[("user", 1, 1, 1)]).await;
    invite_free(&app, &owner, user("b@example.com")).await;
    assert_licenses(&app, &owner, "second reused", &[("user", 0, 2, 1)]).await;
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
    assert_eq!(ledger(&app, &owner).await.len(), 2);
}

async fn buying_zero_or_more_than_a_hundred_licenses_is_a_quantity_error(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let full = CLASSIC_ANNUAL_LICENSES;
    assert_licenses(&app, &owner, "bootstrapped", &full).await;

    for quantity in [0, 101, -1] {
        let reply = buy_licenses(&app, &owner, "attorney", quantity).await;
        assert_eq!(
            reply.error_fields(),
            vec!["quantity".to_owned()],
            "quantity {quantity}"
        );
        assert_licenses(&app, &owner, &format!("quantity {quantity} refused"), &full).await;
    }
    assert!(ledger(&app, &owner).await.is_empty());

    // The bounds themselves are fine.
    let reply = buy_licenses(&app, &owner, "attorney", 100).await;
    assert_eq!(reply.ok(201)["charge"]["quantity"], 100);
    assert_licenses(
        &app,
        &owner,
        "100 bought",
        &[("attorney", 102, 0, 1), ("non_attorney", 2, 0, 0)],
    )
    .await;
    assert_eq!(ledger(&app, &owner).await.len(), 1);
}

async fn buying_a_license_type_the_account_does_not_have_is_a_license_type_error(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let full = CLASSIC_ANNUAL_LICENSES;
    assert_licenses(&app, &owner, "bootstrapped", &full).await;
    let reply = buy_licenses(&app, &owner, "user", 1).await;
    assert_eq!(reply.error_fields(), vec!["license_type".to_owned()]);
    assert_licenses(&app, &owner, "user refused on classic", &full).await;
    assert!(ledger(&app, &owner).await.is_empty());

    let owner = app.bootstrap(&new_monthly(&[], days_ago(&app, 3)));
    assert_licenses(&app, &owner, "new bootstrapped", &[("user", 0, 0, 1)]).await;
    let reply = buy_licenses(&app, &owner, "attorney", 1).await;
    assert_eq!(reply.error_fields(), vec!["license_type".to_owned()]);
    assert_licenses(
        &app,
        &owner,
        "attorney refused on new",
        &[("user", 0, 0, 1)],
    )
    .await;
    assert!(ledger(&app, &owner).await.is_empty());
}
