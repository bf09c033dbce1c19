//! Quotes: they change nothing and agree with the invite to the cent.

use super::*;

crate::db_tests!(
    a_quote_changes_nothing_and_agrees_with_the_invite_to_the_cent,
    a_quote_with_an_open_license_promises_a_free_reuse,
    a_classic_annual_quote_without_an_open_license_is_refused,
    a_quote_for_an_email_with_a_pending_invitation_says_invitation_pending,
);

async fn a_quote_changes_nothing_and_agrees_with_the_invite_to_the_cent(app: TestApp) {
    let anchor = days_ago(&app, 10);
    let owner = app.bootstrap(&new_monthly(&[], anchor));
    assert_licenses(&app, &owner, "bootstrapped", &[("user", 0, 0, 1)]).await;
    let licenses_before = app.licenses(&owner).await;
    let ledger_before = ledger(&app, &owner).await;

    let before = app.clock.now();
    let answer = quote(&app, &owner, user("a@example.com")).await;
    let window = window_since(&app, before);
    assert_eq!(answer["allowed"], true, "{answer}");
    assert_eq!(answer["refusal_code"], Value::Null, "{answer}");
    assert_eq!(answer["license_available"], false, "{answer}");
    assert_eq!(answer["license_type"], "user", "{answer}");
    assert_prorated(
        &answer["charge"],
        NEW_MONTHLY_PRICE,
        1,
        period(anchor, 1, 0),
        window,
    );

    // Nothing changed, however often one asks.
    quote(&app, &owner, user("a@example.com")).await;
    assert_licenses(&app, &owner, "quoted", &[("user", 0, 0, 1)]).await;
    assert_eq!(app.licenses(&owner).await, licenses_before);
    assert_eq!(ledger(&app, &owner).await, ledger_before);
    assert!(list_invitations(&app, &owner).await.is_empty());

    let invitation = invite_charged(
        &app,
        &owner,
        user("a@example.com"),
        "user",
        NEW_MONTHLY_PRICE,
        period(anchor, 1, 0),
    )
    .await;
    assert_licenses(&app, &owner, "invited", &[("user", 0, 1, 1)]).await;
    let (quoted, charged) = (&answer["charge"], &invitation["charge"]);
    for field in ["currency", "period_start", "period_end"] {
        assert_eq!(quoted[field], charged[field], "{field}");
    }
    let quoted_amount = quoted["amount_cents"].as_i64().expect("amount");
    let charged_amount = charged["amount_cents"].as_i64().expect("amount");
    if quoted["seconds_remaining"] == charged["seconds_remaining"] {
        assert_eq!(quoted_amount, charged_amount, "same second, same cents");
    } else {
        assert!(
            (quoted_amount - charged_amount).abs() <= 1,
            "quote {quoted} vs charge {charged}"
        );
    }
}

async fn a_quote_with_an_open_license_promises_a_free_reuse(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let full = CLASSIC_ANNUAL_LICENSES;
    assert_licenses(&app, &owner, "bootstrapped", &full).await;

    let answer = quote(&app, &owner, classic_attorney("a@example.com")).await;
    assert_eq!(
        answer,
        json!({
            "allowed": true,
            "refusal_code": null,
            "license_available": true,
            "license_type": "attorney",
            "charge": null,
        })
    );
    assert_licenses(&app, &owner, "quoted", &full).await;

    invite_free(&app, &owner, classic_attorney("a@example.com")).await;
    assert_licenses(
        &app,
        &owner,
        "invited",
        &[("attorney", 1, 1, 1), ("non_attorney", 2, 0, 0)],
    )
    .await;

    // The same on a monthly account that has an open license.
    let owner = app.bootstrap(&new_monthly(&[(LicenseType::User, 1)], days_ago(&app, 3)));
    assert_licenses(&app, &owner, "monthly bootstrapped", &[("user", 1, 0, 1)]).await;
    let answer = quote(&app, &owner, user("b@example.com")).await;
    assert_eq!(answer["allowed"], true);
    assert_eq!(answer["license_available"], true);
    assert_eq!(answer["charge"], Value::Null);
    assert_licenses(&app, &owner, "monthly quoted", &[("user", 1, 0, 1)]).await;
    invite_free(&app, &owner, user("b@example.com")).await;
    assert_licenses(&app, &owner, "monthly invited", &[("user", 0, 1, 1)]).await;
}

async fn a_classic_annual_quote_without_an_open_license_is_refused(app: TestApp) {
    let owner = app.bootstrap(&classic_annual_with(
        &[(LicenseType::Attorney, 1)],
        days_ago(&app, 30),
    ));
    let start = [("attorney", 1, 0, 1), ("non_attorney", 0, 0, 0)];
    assert_licenses(&app, &owner, "bootstrapped", &start).await;

    let answer = quote(&app, &owner, non_attorney("n@example.com")).await;
    assert_eq!(
        answer,
        json!({
            "allowed": false,
            "refusal_code": "no_available_license",
            "license_available": false,
            "license_type": "non_attorney",
            "charge": null,
        })
    );
    assert_licenses(&app, &owner, "quoted", &start).await;

    // A quote needs a valid body, like the invite (the subscriber type picks the license).
    let reply = app
        .post(
            &account_path(&owner, "/invitations/quote"),
            &owner.token,
            json!({"email": "n@example.com"}),
        )
        .await;
    assert_eq!(reply.error_fields(), vec!["subscriber_type".to_owned()]);
    assert_licenses(&app, &owner, "invalid quote", &start).await;

    // The invite agrees.
    assert_invite_refused_without_charge(
        &app,
        &owner,
        non_attorney("n@example.com"),
        "non_attorney",
        "refused",
        &start,
    )
    .await;
}

async fn a_quote_for_an_email_with_a_pending_invitation_says_invitation_pending(app: TestApp) {
    let anchor = days_ago(&app, 10);
    let owner = app.bootstrap(&new_monthly(&[], anchor));
    assert_licenses(&app, &owner, "bootstrapped", &[("user", 0, 0, 1)]).await;
    let (_, token) = app
        .invite_and_read_token(&owner, user("Pat@Example.com"))
        .await;
    assert_licenses(&app, &owner, "invited", &[("user", 0, 1, 1)]).await;
    let lines = ledger(&app, &owner).await;
    assert_eq!(lines.len(), 1);

    let answer = quote(&app, &owner, user(" pat@example.COM ")).await;
    assert_eq!(answer["allowed"], false, "{answer}");
    assert_eq!(answer["refusal_code"], "invitation_pending", "{answer}");
    assert_eq!(answer["license_type"], "user", "{answer}");
    assert_eq!(answer["charge"], Value::Null, "{answer}");
    assert_licenses(&app, &owner, "quoted", &[("user", 0, 1, 1)]).await;
    assert_eq!(ledger(&app, &owner).await, lines);

    // Once accepted, the quote says the email is already a member.
    accept(&app, &token).await;
    assert_licenses(&app, &owner, "accepted", &[("user", 0, 0, 2)]).await;
    let answer = quote(&app, &owner, user("pat@example.com")).await;
    assert_eq!(answer["allowed"], false, "{answer}");
    assert_eq!(answer["refusal_code"], "already_member", "{answer}");
    assert_eq!(answer["charge"], Value::Null, "{answer}");
    assert_licenses(&app, &owner, "quoted again", &[("user", 0, 0, 2)]).await;
    assert_eq!(ledger(&app, &owner).await, lines);
}
