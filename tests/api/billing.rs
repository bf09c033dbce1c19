//! Billing rules of API.md, black-box: which invite (or enable, or resend)
//! reuses an open license, which buys one with a prorated charge, which is
//! refused; quotes; releases; buying licenses; the ledger; billing periods.
//! Every step re-reads the license summary (which asserts
//! `total = open + reserved + assigned`) and checks the counts.

use chrono::{DateTime, Duration, Months, NaiveDateTime};
use invitations::domain::billing::{BillingSystem, LicenseType, Plan};
use serde_json::{Value, json};

use crate::db_tests;
use crate::helpers::{AccountSpec, Owner, TestApp, classic_attorney};

db_tests!(
    // Every row of billing system × plan.
    classic_annual_reuses_an_open_license_without_charge,
    classic_annual_refuses_when_no_license_is_open,
    classic_annual_invites_for_free_once_a_license_is_bought,
    classic_monthly_reuses_an_open_license_without_charge,
    classic_monthly_buys_a_prorated_license_when_none_is_open,
    new_annual_reuses_an_open_license_without_charge,
    new_annual_buys_a_prorated_license_when_none_is_open,
    new_monthly_reuses_an_open_license_without_charge,
    new_monthly_buys_a_prorated_license_when_none_is_open,
    // Quotes.
    a_quote_changes_nothing_and_agrees_with_the_invite_to_the_cent,
    a_quote_with_an_open_license_promises_a_free_reuse,
    a_classic_annual_quote_without_an_open_license_is_refused,
    a_quote_for_an_email_with_a_pending_invitation_says_invitation_pending,
    // Releasing licenses.
    accepting_turns_the_reserved_license_into_an_assigned_one,
    revoking_an_invitation_opens_its_license_for_free_reuse,
    declining_an_invitation_opens_its_license_for_free_reuse,
    an_expired_invitation_opens_its_license_for_free_reuse,
    disabling_a_user_opens_their_license_for_free_reuse,
    // Enabling users and resending expired invitations take a license again.
    enabling_a_user_reuses_an_open_license_without_charge,
    enabling_a_user_on_new_monthly_without_an_open_license_charges_user_enabled,
    enabling_a_non_attorney_on_classic_monthly_charges_the_non_attorney_price,
    enabling_a_user_on_classic_annual_without_an_open_license_is_refused,
    resending_an_expired_invitation_reuses_an_open_license_without_charge,
    resending_an_expired_invitation_on_a_monthly_account_without_an_open_license_charges_again,
    resending_an_expired_invitation_on_classic_annual_without_an_open_license_is_refused,
    // Buying licenses.
    buying_licenses_charges_quantity_times_the_prorated_single_license_price,
    bought_user_licenses_are_reused_for_free_by_later_invites,
    buying_zero_or_more_than_a_hundred_licenses_is_a_quantity_error,
    buying_a_license_type_the_account_does_not_have_is_a_license_type_error,
    // The ledger.
    the_charge_ledger_lists_every_charge_newest_first_in_pages,
    // Billing periods.
    a_monthly_period_rolls_over_by_calendar_months_from_the_anchor,
    an_annual_period_rolls_over_by_calendar_years_from_the_anchor,
    the_period_rolls_over_while_the_service_runs,
);

// ---------------------------------------------------------------------------
// Accounts used below.

const CLASSIC_ATTORNEY_PRICE: i64 = 120_000; // AccountSpec::classic_annual()
const CLASSIC_MONTHLY_PRICES: &[(LicenseType, i64)] = &[
    (LicenseType::Attorney, 9_999),
    (LicenseType::NonAttorney, 4_999),
];
const CLASSIC_MONTHLY_ATTORNEY_PRICE: i64 = 9_999;
const CLASSIC_MONTHLY_NON_ATTORNEY_PRICE: i64 = 4_999;
const NEW_ANNUAL_PRICE: i64 = 119_999;
const NEW_MONTHLY_PRICE: i64 = 3_000; // AccountSpec::new_monthly()

fn classic_annual_with(
    licenses: &'static [(LicenseType, i64)],
    anchor: NaiveDateTime,
) -> AccountSpec<'static> {
    AccountSpec {
        licenses,
        period_start: Some(anchor),
        ..AccountSpec::classic_annual()
    }
}

fn classic_monthly(
    licenses: &'static [(LicenseType, i64)],
    anchor: NaiveDateTime,
) -> AccountSpec<'static> {
    AccountSpec {
        billing_system: BillingSystem::Classic,
        plan: Plan::Monthly,
        prices: CLASSIC_MONTHLY_PRICES,
        licenses,
        period_start: Some(anchor),
    }
}

fn new_annual(
    licenses: &'static [(LicenseType, i64)],
    anchor: NaiveDateTime,
) -> AccountSpec<'static> {
    AccountSpec {
        billing_system: BillingSystem::New,
        plan: Plan::Annual,
        prices: &[(LicenseType::User, NEW_ANNUAL_PRICE)],
        licenses,
        period_start: Some(anchor),
    }
}

fn new_monthly(
    licenses: &'static [(LicenseType, i64)],
    anchor: NaiveDateTime,
) -> AccountSpec<'static> {
    AccountSpec {
        licenses,
        period_start: Some(anchor),
        ..AccountSpec::new_monthly()
    }
}

// ---------------------------------------------------------------------------
// Request bodies and paths.

fn non_attorney(email: &str) -> Value {
    json!({"email": email, "subscriber_type": "non_attorney"})
}

fn user(email: &str) -> Value {
    json!({"email": email, "role": "standard"})
}

fn account_path(owner: &Owner, rest: &str) -> String {
    format!("/accounts/{}{rest}", owner.account_id)
}

fn invitation_path(owner: &Owner, invitation: &Value) -> String {
    account_path(owner, &format!("/invitations/{}", id_of(invitation)))
}

fn id_of(object: &Value) -> i64 {
    object["id"].as_i64().expect("an id")
}

// ---------------------------------------------------------------------------
// Time and money.

fn days_ago(app: &TestApp, days: i64) -> NaiveDateTime {
    app.clock.now() - Duration::days(days)
}

fn months_after(t: NaiveDateTime, months: u32) -> NaiveDateTime {
    t.checked_add_months(Months::new(months))
        .expect("a representable date")
}

/// The billing period `k` periods after the anchor (`months` = 1 monthly, 12 annual).
fn period(anchor: NaiveDateTime, months: u32, k: u32) -> (NaiveDateTime, NaiveDateTime) {
    (
        months_after(anchor, months * k),
        months_after(anchor, months * (k + 1)),
    )
}

fn ts(value: &Value) -> NaiveDateTime {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("a timestamp: {value}"));
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text} is not RFC 3339: {e}"))
        .naive_utc()
}

/// `round_half_up(price × part / whole)`, computed independently of the service.
fn round_half_up(price_cents: i64, part: i64, whole: i64) -> i64 {
    let (price, part, whole) = (i128::from(price_cents), i128::from(part), i128::from(whole));
    i64::try_from((2 * price * part + whole) / (2 * whole)).expect("fits")
}

/// The service's clock before and after one request: its `now` lies within.
#[derive(Debug, Clone, Copy)]
struct Window {
    before: NaiveDateTime,
    after: NaiveDateTime,
}

fn window_since(app: &TestApp, before: NaiveDateTime) -> Window {
    Window {
        before,
        after: app.clock.now(),
    }
}

/// Checks a charge (a ledger line, an invitation's `charge`, or a quote's
/// `charge`) against the contract: it covers `period`, its `seconds_remaining`
/// is `period_end − now` for a `now` during the request, and
/// `amount_cents = quantity × round_half_up(price × seconds_remaining / period_seconds)`.
fn assert_prorated(
    charge: &Value,
    price_cents: i64,
    quantity: i64,
    (start, end): (NaiveDateTime, NaiveDateTime),
    window: Window,
) {
    assert!(charge.is_object(), "expected a charge, got {charge}");
    assert_eq!(ts(&charge["period_start"]), start, "period_start: {charge}");
    assert_eq!(ts(&charge["period_end"]), end, "period_end: {charge}");
    assert_eq!(charge["currency"], "USD", "{charge}");
    let remaining = charge["seconds_remaining"]
        .as_i64()
        .unwrap_or_else(|| panic!("seconds_remaining: {charge}"));
    let most = (end - window.before).num_seconds();
    let least = (end - window.after).num_seconds();
    assert!(
        (least..=most).contains(&remaining),
        "seconds_remaining {remaining} is not period_end − now (between {least} and {most}): {charge}"
    );
    let whole = (end - start).num_seconds();
    let amount = charge["amount_cents"]
        .as_i64()
        .unwrap_or_else(|| panic!("amount_cents: {charge}"));
    assert_eq!(
        amount,
        quantity * round_half_up(price_cents, remaining, whole),
        "amount_cents = {quantity} × round_half_up({price_cents} × {remaining} / {whole}): {charge}"
    );
    // Independently of the reported seconds: within a cent per license of the price at the request's start.
    let expected = quantity * round_half_up(price_cents, most, whole);
    assert!(
        (amount - expected).abs() <= quantity,
        "amount {amount} vs about {expected}: {charge}"
    );
}

const CHARGE_FIELDS: [&str; 12] = [
    "id",
    "amount_cents",
    "currency",
    "license_type",
    "reason",
    "quantity",
    "invitation_id",
    "user_id",
    "period_start",
    "period_end",
    "seconds_remaining",
    "created_at",
];

/// Checks the ledger facts of a charge other than its amount.
fn assert_charge_line(
    line: &Value,
    license_type: &str,
    reason: &str,
    quantity: i64,
    invitation_id: Option<i64>,
    user_id: Option<i64>,
) {
    for field in CHARGE_FIELDS {
        assert!(line.get(field).is_some(), "charge without {field}: {line}");
    }
    assert!(line["id"].is_i64(), "{line}");
    assert_eq!(line["license_type"], license_type, "{line}");
    assert_eq!(line["reason"], reason, "{line}");
    assert_eq!(line["quantity"], quantity, "{line}");
    assert_eq!(line["invitation_id"], json!(invitation_id), "{line}");
    assert_eq!(line["user_id"], json!(user_id), "{line}");
    assert_eq!(line["currency"], "USD", "{line}");
    ts(&line["created_at"]);
}

// ---------------------------------------------------------------------------
// Reading state over HTTP.

/// Reads the license summary (which asserts `total = open + reserved + assigned`)
/// and checks `(type, open, reserved, assigned)` for exactly the listed types,
/// both as the summary reports them and counted row by row in the database.
async fn assert_licenses(
    app: &TestApp,
    owner: &Owner,
    step: &str,
    expected: &[(&str, i64, i64, i64)],
) {
    let licenses = app.licenses(owner).await;
    let mut types: Vec<&str> = licenses.keys().map(String::as_str).collect();
    types.sort_unstable();
    let mut wanted: Vec<&str> = expected.iter().map(|e| e.0).collect();
    wanted.sort_unstable();
    assert_eq!(types, wanted, "{step}: license types");
    for &(license_type, open, reserved, assigned) in expected {
        let item = &licenses[license_type];
        let n = |k: &str| item[k].as_i64().unwrap_or_else(|| panic!("{k}: {item}"));
        assert_eq!(
            (n("open"), n("reserved"), n("assigned")),
            (open, reserved, assigned),
            "{step}: {license_type} licenses as (open, reserved, assigned): {item}"
        );
        assert_eq!(n("total"), open + reserved + assigned, "{step}: {item}");
        assert_eq!(
            app.licenses_counted_in_db(owner.account_id, license_type),
            (open, reserved, assigned),
            "{step}: {license_type} licenses counted row by row in the database"
        );
    }
}

/// The whole ledger, newest first.
async fn ledger(app: &TestApp, owner: &Owner) -> Vec<Value> {
    let reply = app
        .get(&account_path(owner, "/charges?limit=100"), &owner.token)
        .await;
    let body = reply.ok(200);
    assert_eq!(body["next_cursor"], Value::Null, "{body}");
    body["items"].as_array().expect("items").clone()
}

async fn get_invitation(app: &TestApp, owner: &Owner, invitation: &Value) -> Value {
    app.get(&invitation_path(owner, invitation), &owner.token)
        .await
        .ok(200)
        .clone()
}

async fn list_invitations(app: &TestApp, owner: &Owner) -> Vec<Value> {
    app.get(&account_path(owner, "/invitations?limit=100"), &owner.token)
        .await
        .ok(200)["items"]
        .as_array()
        .expect("items")
        .clone()
}

async fn quote(app: &TestApp, owner: &Owner, body: Value) -> Value {
    app.post(
        &account_path(owner, "/invitations/quote"),
        &owner.token,
        body,
    )
    .await
    .ok(200)
    .clone()
}

// ---------------------------------------------------------------------------
// Steps that check their own billing outcome.

/// Invites expecting a free reuse: `charge` is null and the ledger gains nothing.
async fn invite_free(app: &TestApp, owner: &Owner, body: Value) -> Value {
    let lines = ledger(app, owner).await;
    let invitation = app.invite(owner, body).await;
    assert_eq!(invitation["charge"], Value::Null, "no charge: {invitation}");
    assert_eq!(ledger(app, owner).await, lines, "no new ledger line");
    invitation
}

/// Invites expecting a bought license: the invitation's `charge` is the prorated
/// price and is the newest ledger line, exactly.
async fn invite_charged(
    app: &TestApp,
    owner: &Owner,
    body: Value,
    license_type: &str,
    price_cents: i64,
    period: (NaiveDateTime, NaiveDateTime),
) -> Value {
    let lines = ledger(app, owner).await;
    let before = app.clock.now();
    let invitation = app.invite(owner, body).await;
    let window = window_since(app, before);
    assert_eq!(invitation["license_type"], license_type, "{invitation}");
    let charge = &invitation["charge"];
    assert_charge_line(
        charge,
        license_type,
        "invitation",
        1,
        Some(id_of(&invitation)),
        None,
    );
    assert_prorated(charge, price_cents, 1, period, window);
    let now = ledger(app, owner).await;
    assert_eq!(now.len(), lines.len() + 1, "one new ledger line");
    assert_eq!(
        &now[0], charge,
        "the newest ledger line is the invitation's charge"
    );
    invitation
}

/// Answers the invitation with the token and returns the new user's id.
async fn accept(app: &TestApp, token: &str) -> i64 {
    let reply = app.accept(token).await;
    reply.ok(201)["user"]["id"].as_i64().expect("user id")
}

async fn disable(app: &TestApp, owner: &Owner, user_id: i64) {
    let reply = app
        .request(
            "POST",
            &account_path(owner, &format!("/users/{user_id}/disable")),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(reply.ok(200)["status"], "disabled");
}

async fn enable(app: &TestApp, owner: &Owner, user_id: i64) -> crate::helpers::Reply {
    app.request(
        "POST",
        &account_path(owner, &format!("/users/{user_id}/enable")),
        Some(&owner.token),
        None,
    )
    .await
}

async fn resend(app: &TestApp, owner: &Owner, invitation: &Value) -> crate::helpers::Reply {
    app.request(
        "POST",
        &format!("{}/resend", invitation_path(owner, invitation)),
        Some(&owner.token),
        None,
    )
    .await
}

async fn user_status(app: &TestApp, owner: &Owner, user_id: i64) -> Value {
    app.get(
        &account_path(owner, &format!("/users/{user_id}")),
        &owner.token,
    )
    .await
    .ok(200)["status"]
        .clone()
}

fn assert_no_available_license(reply: &crate::helpers::Reply, owner: &Owner, license_type: &str) {
    let problem = reply.problem(409, "no_available_license");
    assert_eq!(problem["license_type"], license_type, "{problem}");
    let url = problem["buy_licenses_url"]
        .as_str()
        .unwrap_or_else(|| panic!("buy_licenses_url: {problem}"));
    assert!(
        url.ends_with(&format!("/accounts/{}/licenses", owner.account_id)),
        "buy_licenses_url {url}"
    );
}

// ---------------------------------------------------------------------------
// Billing system × plan.

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

// ---------------------------------------------------------------------------
// Quotes.

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
    let full = [("attorney", 2, 0, 1), ("non_attorney", 2, 0, 0)];
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
    let reply = app
        .post(
            &account_path(&owner, "/invitations"),
            &owner.token,
            non_attorney("n@example.com"),
        )
        .await;
    assert_no_available_license(&reply, &owner, "non_attorney");
    assert_licenses(&app, &owner, "refused", &start).await;
    assert!(ledger(&app, &owner).await.is_empty());
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

// ---------------------------------------------------------------------------
// Releasing licenses.

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

// ---------------------------------------------------------------------------
// Enabling and resending.

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

// ---------------------------------------------------------------------------
// Buying licenses.

async fn buying_licenses_charges_quantity_times_the_prorated_single_license_price(app: TestApp) {
    let anchor = days_ago(&app, 100);
    let owner = app.bootstrap(&classic_annual_with(
        &[(LicenseType::Attorney, 2), (LicenseType::NonAttorney, 2)],
        anchor,
    ));
    assert_licenses(
        &app,
        &owner,
        "bootstrapped",
        &[("attorney", 2, 0, 1), ("non_attorney", 2, 0, 0)],
    )
    .await;

    let before = app.clock.now();
    let reply = app
        .post(
            &account_path(&owner, "/licenses"),
            &owner.token,
            json!({"license_type": "attorney", "quantity": 3}),
        )
        .await;
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

    let before = app.clock.now();
    let reply = app
        .post(
            &account_path(&owner, "/licenses"),
            &owner.token,
            json!({"license_type": "non_attorney", "quantity": 1}),
        )
        .await;
    let window = window_since(&app, before);
    let single = reply.ok(201)["charge"].clone();
    assert_charge_line(&single, "non_attorney", "license_purchase", 1, None, None);
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

    let before = app.clock.now();
    let reply = app
        .post(
            &account_path(&owner, "/licenses"),
            &owner.token,
            json!({"license_type": "user", "quantity": 2}),
        )
        .await;
    let window = window_since(&app, before);
    let charge = reply.ok(201)["charge"].clone();
    assert_charge_line(&charge, "user", "license_purchase", 2, None, None);
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
    let full = [("attorney", 2, 0, 1), ("non_attorney", 2, 0, 0)];
    assert_licenses(&app, &owner, "bootstrapped", &full).await;

    for quantity in [0, 101, -1] {
        let reply = app
            .post(
                &account_path(&owner, "/licenses"),
                &owner.token,
                json!({"license_type": "attorney", "quantity": quantity}),
            )
            .await;
        assert_eq!(
            reply.error_fields(),
            vec!["quantity".to_owned()],
            "quantity {quantity}"
        );
        assert_licenses(&app, &owner, &format!("quantity {quantity} refused"), &full).await;
    }
    assert!(ledger(&app, &owner).await.is_empty());

    // The bounds themselves are fine.
    let reply = app
        .post(
            &account_path(&owner, "/licenses"),
            &owner.token,
            json!({"license_type": "attorney", "quantity": 100}),
        )
        .await;
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
    let full = [("attorney", 2, 0, 1), ("non_attorney", 2, 0, 0)];
    assert_licenses(&app, &owner, "bootstrapped", &full).await;
    let reply = app
        .post(
            &account_path(&owner, "/licenses"),
            &owner.token,
            json!({"license_type": "user", "quantity": 1}),
        )
        .await;
    assert_eq!(reply.error_fields(), vec!["license_type".to_owned()]);
    assert_licenses(&app, &owner, "user refused on classic", &full).await;
    assert!(ledger(&app, &owner).await.is_empty());

    let owner = app.bootstrap(&new_monthly(&[], days_ago(&app, 3)));
    assert_licenses(&app, &owner, "new bootstrapped", &[("user", 0, 0, 1)]).await;
    let reply = app
        .post(
            &account_path(&owner, "/licenses"),
            &owner.token,
            json!({"license_type": "attorney", "quantity": 1}),
        )
        .await;
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

// ---------------------------------------------------------------------------
// The ledger.

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
    let bought = app
        .post(
            &account_path(&owner, "/licenses"),
            &owner.token,
            json!({"license_type": "user", "quantity": 2}),
        )
        .await
        .ok(201)["charge"]
        .clone();
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

    let account = app
        .get(&account_path(&owner, ""), &owner.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(account["billing_system"], "new", "{account}");
    assert_eq!(account["plan"], "monthly", "{account}");
    assert_eq!(account["currency"], "USD", "{account}");
    assert_eq!(
        account["prices"],
        json!({"user": NEW_MONTHLY_PRICE}),
        "{account}"
    );
    assert_eq!(ts(&account["period_start"]), current.0, "{account}");
    assert_eq!(ts(&account["period_end"]), current.1, "{account}");
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

    let account = app
        .get(&account_path(&owner, ""), &owner.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(account["plan"], "annual", "{account}");
    assert_eq!(ts(&account["period_start"]), current.0, "{account}");
    assert_eq!(ts(&account["period_end"]), current.1, "{account}");
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
    let account = app
        .get(&account_path(&owner, ""), &owner.token)
        .await
        .ok(200)
        .clone();
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
    let account = app
        .get(&account_path(&owner, ""), &owner.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(ts(&account["period_start"]), current.0, "{account}");
    assert_eq!(ts(&account["period_end"]), current.1, "{account}");
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
