//! The charge ledger and billing periods.

use super::*;

crate::db_tests!(
    the_charge_ledger_lists_every_charge_newest_first_in_pages,
    a_monthly_period_rolls_over_by_calendar_months_from_the_anchor,
    an_annual_period_rolls_over_by_calendar_years_from_the_anchor,
    the_period_rolls_over_while_the_service_runs,
);

async fn the_charge_ledger_lists_every_charge_newest_first_in_pages(app: TestApp) {
    let anchor = days_ago(&app, 10);
    let owner = app.bootstrap(&new_monthly(&[], anchor));
    assert_licenses(&app, &owner, "bootstrapped", &[("user", 0, 0, 1)]).await;

    let (a, a_token) = app
        .invite_and_read_token(&owner, user("a@example.com"))
        .await;
    assert_licenses(&app, &owner, "a invited", &[("user", 0, 1, 1)]).await;
    let b = app.invite(&owner, user("b@example.com")).await;
    assert_licenses(&app, &owner, "b invited", &[("user", 0, 2, 1)]).await;
    let a_user = accept(&app, &a_token).await;
    assert_licenses(&app, &owner, "a accepted", &[("user", 0, 1, 2)]).await;
    disable(&app, &owner, a_user).await;
    assert_licenses(&app, &owner, "a disabled", &[("user", 1, 1, 1)]).await;
    invite_free(&app, &owner, user("c@example.com")).await;
    assert_licenses(&app, &owner, "c invited", &[("user", 0, 2, 1)]).await;
    enable(&app, &owner, a_user).await.ok(200);
    assert_licenses(&app, &owner, "a enabled", &[("user", 0, 2, 2)]).await;
    let bought = buy_licenses(&app, &owner, "user", 2).await.ok(201)["charge"].clone();
    assert_licenses(&app, &owner, "2 bought", &[("user", 2, 2, 2)]).await;

    let all = ledger(&app, &owner).await;
    assert_eq!(all.len(), 4, "{all:?}");
    let reasons: Vec<&str> = all.iter().map(|c| c["reason"].as_str().unwrap()).collect();
    assert_eq!(
        reasons,
        [
            "license_purchase",
            "user_enabled",
            "invitation",
            "invitation"
        ]
    );
    assert_eq!(all[0], bought);
    assert_charge_line(&all[0], "user", "license_purchase", 2, None, None);
    assert_charge_line(&all[1], "user", "user_enabled", 1, None, Some(a_user));
    assert_charge_line(&all[2], "user", "invitation", 1, Some(id_of(&b)), None);
    assert_charge_line(&all[3], "user", "invitation", 1, Some(id_of(&a)), None);
    assert_eq!(all[2], b["charge"]);
    assert_eq!(all[3], a["charge"]);
    let ids: Vec<i64> = all.iter().map(id_of).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let created: Vec<NaiveDateTime> = all.iter().map(|c| ts(&c["created_at"])).collect();
    assert!(
        created.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {created:?}"
    );
    for line in &all {
        let quantity = line["quantity"].as_i64().unwrap();
        let whole = (ts(&line["period_end"]) - ts(&line["period_start"])).num_seconds();
        let remaining = line["seconds_remaining"].as_i64().unwrap();
        assert_eq!(
            line["amount_cents"],
            quantity * round_half_up(NEW_MONTHLY_PRICE, remaining, whole),
            "{line}"
        );
        assert_eq!(ts(&line["period_start"]), anchor, "{line}");
        assert_eq!(ts(&line["period_end"]), months_after(anchor, 1), "{line}");
    }

    // Pages of 3: three lines, then the last one.
    let page = |query: String| {
        let (app, owner) = (&app, &owner);
        async move {
            app.get(
                &account_path(owner, &format!("/charges?{query}")),
                &owner.token,
            )
            .await
            .ok(200)
            .clone()
        }
    };
    let first = page("limit=3".into()).await;
    assert_eq!(first["items"].as_array().unwrap()[..], all[..3]);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("next_cursor")
        .to_owned();
    let second = page(format!("limit=3&cursor={cursor}")).await;
    assert_eq!(second["items"].as_array().unwrap()[..], all[3..]);
    assert_eq!(second["next_cursor"], Value::Null);

    // Pages of 2: a full last page has no cursor either.
    let first = page("limit=2".into()).await;
    assert_eq!(first["items"].as_array().unwrap()[..], all[..2]);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("next_cursor")
        .to_owned();
    let second = page(format!("limit=2&cursor={cursor}")).await;
    assert_eq!(second["items"].as_array().unwrap()[..], all[2..]);
    assert_eq!(second["next_cursor"], Value::Null);

    // The default page holds them all.
    let default = page(String::new()).await;
    assert_eq!(default["items"].as_array().unwrap()[..], all[..]);
    assert_eq!(default["next_cursor"], Value::Null);

    for bad in ["limit=0", "limit=101"] {
        let reply = app
            .get(
                &account_path(&owner, &format!("/charges?{bad}")),
                &owner.token,
            )
            .await;
        assert_eq!(reply.error_fields(), vec!["limit".to_owned()], "{bad}");
    }
    assert_licenses(&app, &owner, "ledger read", &[("user", 2, 2, 2)]).await;
}

// ---------------------------------------------------------------------------
// Billing periods.

async fn a_monthly_period_rolls_over_by_calendar_months_from_the_anchor(app: TestApp) {
    let anchor = days_ago(&app, 40);
    let owner = app.bootstrap(&new_monthly(&[], anchor));
    assert_licenses(&app, &owner, "bootstrapped", &[("user", 0, 0, 1)]).await;
    let current = period(anchor, 1, 1);

    let account = read_account(&app, &owner).await;
    assert_eq!(account["billing_system"], "new", "{account}");
    assert_eq!(account["plan"], "monthly", "{account}");
    assert_eq!(account["currency"], "USD", "{account}");
    assert_eq!(
        account["prices"],
        json!({"user": NEW_MONTHLY_PRICE}),
        "{account}"
    );
    assert_period(&account, current);
    assert_licenses(&app, &owner, "account read", &[("user", 0, 0, 1)]).await;

    let before = app.clock.now();
    let answer = quote(&app, &owner, user("a@example.com")).await;
    assert_prorated(
        &answer["charge"],
        NEW_MONTHLY_PRICE,
        1,
        current,
        window_since(&app, before),
    );
    assert_licenses(&app, &owner, "quoted", &[("user", 0, 0, 1)]).await;

    invite_charged(
        &app,
        &owner,
        user("a@example.com"),
        "user",
        NEW_MONTHLY_PRICE,
        current,
    )
    .await;
    assert_licenses(&app, &owner, "bought", &[("user", 0, 1, 1)]).await;
}

async fn an_annual_period_rolls_over_by_calendar_years_from_the_anchor(app: TestApp) {
    let anchor = days_ago(&app, 400);
    let owner = app.bootstrap(&new_annual(&[], anchor));
    assert_licenses(&app, &owner, "bootstrapped", &[("user", 0, 0, 1)]).await;
    let current = period(anchor, 12, 1);

    let account = read_account(&app, &owner).await;
    assert_eq!(account["plan"], "annual", "{account}");
    assert_period(&account, current);
    assert_licenses(&app, &owner, "account read", &[("user", 0, 0, 1)]).await;

    invite_charged(
        &app,
        &owner,
        user("a@example.com"),
        "user",
        NEW_ANNUAL_PRICE,
        current,
    )
    .await;
    assert_licenses(&app, &owner, "bought", &[("user", 0, 1, 1)]).await;
}

async fn the_period_rolls_over_while_the_service_runs(app: TestApp) {
    let anchor = days_ago(&app, 25);
    let owner = app.bootstrap(&classic_monthly(&[], anchor));
    let start = [("attorney", 0, 0, 1), ("non_attorney", 0, 0, 0)];
    assert_licenses(&app, &owner, "bootstrapped", &start).await;
    let account = read_account(&app, &owner).await;
    assert_eq!(ts(&account["period_start"]), anchor, "{account}");
    assert_eq!(
        ts(&account["period_end"]),
        months_after(anchor, 1),
        "{account}"
    );
    assert_licenses(&app, &owner, "account read", &start).await;

    // 35 days after the anchor: always the second calendar month.
    app.clock.advance(Duration::days(10));
    let owner = app.renew(&owner);
    let current = period(anchor, 1, 1);
    let account = read_account(&app, &owner).await;
    assert_period(&account, current);
    assert_licenses(&app, &owner, "period rolled over", &start).await;

    invite_charged(
        &app,
        &owner,
        classic_attorney("a@example.com"),
        "attorney",
        CLASSIC_MONTHLY_ATTORNEY_PRICE,
        current,
    )
    .await;
    assert_licenses(
        &app,
        &owner,
        "bought",
        &[("attorney", 0, 1, 1), ("non_attorney", 0, 0, 0)],
    )
    .await;
}

/// `GET /accounts/{id}` as the owner.
async fn read_account(app: &TestApp, owner: &Owner) -> Value {
    app.get(&account_path(owner, ""), &owner.token)
        .await
        .ok(200)
        .clone()
}

/// Asserts the account's `period_start` and `period_end` are `period`.
fn assert_period(account: &Value, period: (NaiveDateTime, NaiveDateTime)) {
    assert_eq!(ts(&account["period_start"]), period.0, "{account}");
    assert_eq!(ts(&account["period_end"]), period.1, "{account}");
}
