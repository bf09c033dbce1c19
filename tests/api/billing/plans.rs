//! Billing system × plan: when an invite reuses an open license, buys a prorated one, or is refused.

use super::*;

crate::db_tests!(
    classic_annual_reuses_an_open_license_without_charge,
    classic_annual_refuses_when_no_license_is_open,
    classic_annual_invites_for_free_once_a_license_is_bought,
);

async fn classic_annual_reuses_an_open_license_without_charge(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let full = CLASSIC_ANNUAL_LICENSES;
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

    assert_invite_refused_without_charge(
        &app,
        &owner,
        classic_attorney("a@example.com"),
        "attorney",
        "attorney refused",
        &start,
    )
    .await;
    assert!(
        list_invitations(&app, &owner).await.is_empty(),
        "no invitation was created"
    );

    // The other type still has an open license…
    invite_free(&app, &owner, non_attorney("n@example.com")).await;
    let used = [("attorney", 0, 0, 1), ("non_attorney", 0, 1, 0)];
    assert_licenses(&app, &owner, "non-attorney invited", &used).await;

    // …until it is used up too.
    assert_invite_refused_without_charge(
        &app,
        &owner,
        non_attorney("m@example.com"),
        "non_attorney",
        "second non-attorney refused",
        &used,
    )
    .await;
    assert_eq!(list_invitations(&app, &owner).await.len(), 1);
}

async fn classic_annual_invites_for_free_once_a_license_is_bought(app: TestApp) {
    let anchor = days_ago(&app, 30);
    let owner = app.bootstrap(&classic_annual_with(&[], anchor));
    let none = [("attorney", 0, 0, 1), ("non_attorney", 0, 0, 0)];
    assert_licenses(&app, &owner, "bootstrapped", &none).await;
    assert_invite_refused_without_charge(
        &app,
        &owner,
        classic_attorney("a@example.com"),
        "attorney",
        "refused",
        &none,
    )
    .await;
    let (charge, window) = buy_and_check_the_charge_line(&app, &owner, "attorney", 1).await;
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

// The other rows of billing system × plan, as two tables of cases.

/// Every open license of the account is reused, one invite at a time, for
/// free; the invite after them buys one at the prorated price.
struct ReuseCase {
    account: Account,
    license_type: &'static str,
    body: fn(&str) -> Value,
    price: i64,
}

async fn reuses_every_open_license_then_buys(app: TestApp, case: &ReuseCase) {
    let (owner, anchor, types) = case.account.bootstrap(&app);
    let at = |counts| types.at(case.license_type, counts);
    let open = case.account.open();
    assert_licenses(&app, &owner, "bootstrapped", &at((open, 0, 0))).await;
    for reused in 1..=open {
        let email = format!("reuse{reused}@example.com");
        let invitation = invite_free(&app, &owner, (case.body)(&email)).await;
        assert_eq!(invitation["license_type"], case.license_type);
        let step = format!("open license {reused} of {open} reused");
        assert_licenses(&app, &owner, &step, &at((open - reused, reused, 0))).await;
    }
    assert!(ledger(&app, &owner).await.is_empty());

    // With the open ones used, the next one is bought.
    invite_charged(
        &app,
        &owner,
        (case.body)("bought@example.com"),
        case.license_type,
        case.price,
        period(anchor, case.account.months(), 0),
    )
    .await;
    assert_licenses(&app, &owner, "one more bought", &at((0, open + 1, 0))).await;
}

case_tests!(reuses_every_open_license_then_buys {
    classic_monthly_reuses_an_open_license_without_charge => ReuseCase {
        account: Account { spec: classic_monthly, licenses: &[(LicenseType::Attorney, 1)], anchor_days_ago: 10 },
        license_type: "attorney",
        body: classic_attorney,
        price: CLASSIC_MONTHLY_ATTORNEY_PRICE,
    },
    new_annual_reuses_an_open_license_without_charge => ReuseCase {
        account: Account { spec: new_annual, licenses: &[(LicenseType::User, 1)], anchor_days_ago: 100 },
        license_type: "user",
        body: user,
        price: NEW_ANNUAL_PRICE,
    },
    new_monthly_reuses_an_open_license_without_charge => ReuseCase {
        account: Account { spec: new_monthly, licenses: &[(LicenseType::User, 2)], anchor_days_ago: 10 },
        license_type: "user",
        body: user,
        price: NEW_MONTHLY_PRICE,
    },
});

/// With no open license, every invite buys one of its type at that type's
/// prorated price, and the charge stays on the invitation when read back.
struct BuyCase {
    account: Account,
    invites: &'static [Invite],
}

/// One invite of a `BuyCase`: its body, the license type it takes and that type's price.
type Invite = (fn(&str) -> Value, &'static str, i64);

async fn every_invite_buys_a_prorated_license(app: TestApp, case: &BuyCase) {
    let (owner, anchor, types) = case.account.bootstrap(&app);
    assert_licenses(&app, &owner, "bootstrapped", &types.rows(|_| (0, 0, 0))).await;
    let mut bought: Vec<&str> = Vec::new();
    for (n, &(body, license_type, price)) in case.invites.iter().enumerate() {
        let email = format!("bought{n}@example.com");
        let invitation = invite_charged(
            &app,
            &owner,
            body(&email),
            license_type,
            price,
            period(anchor, case.account.months(), 0),
        )
        .await;
        bought.push(license_type);
        let reserved = |t: &str| bought.iter().filter(|b| **b == t).count() as i64;
        let counts = types.rows(|t| (0, reserved(t), 0));
        let step = format!("{license_type} bought for {email}");
        assert_licenses(&app, &owner, &step, &counts).await;

        let again = get_invitation(&app, &owner, &invitation).await;
        assert_eq!(again["charge"], invitation["charge"], "read back: {again}");
        assert_licenses(&app, &owner, "read back", &counts).await;
    }
    assert_eq!(ledger(&app, &owner).await.len(), case.invites.len());
}

/// On a new account a subscriber type is informational: still a `user` license.
fn administrator_with_a_subscriber_type(email: &str) -> Value {
    json!({"email": email, "role": "administrator", "subscriber_type": "attorney"})
}

case_tests!(every_invite_buys_a_prorated_license {
    // The subscriber type picks the license type and its price.
    classic_monthly_buys_a_prorated_license_when_none_is_open => BuyCase {
        account: Account { spec: classic_monthly, licenses: &[], anchor_days_ago: 10 },
        invites: &[
            (classic_attorney, "attorney", CLASSIC_MONTHLY_ATTORNEY_PRICE),
            (non_attorney, "non_attorney", CLASSIC_MONTHLY_NON_ATTORNEY_PRICE),
        ],
    },
    new_annual_buys_a_prorated_license_when_none_is_open => BuyCase {
        account: Account { spec: new_annual, licenses: &[], anchor_days_ago: 100 },
        invites: &[
            (administrator_with_a_subscriber_type, "user", NEW_ANNUAL_PRICE),
            (user, "user", NEW_ANNUAL_PRICE),
        ],
    },
    new_monthly_buys_a_prorated_license_when_none_is_open => BuyCase {
        account: Account { spec: new_monthly, licenses: &[], anchor_days_ago: 10 },
        invites: &[(user, "user", NEW_MONTHLY_PRICE)],
    },
});
