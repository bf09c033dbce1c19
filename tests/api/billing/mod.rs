//! Billing rules of API.md, black-box: which invite (or enable, or resend)
//! reuses an open license, which buys one with a prorated charge, which is
//! refused; quotes; releases; buying licenses; the ledger; billing periods.
//! Every step re-reads the license summary (which asserts
//! `total = open + reserved + assigned`) and checks the counts.

use chrono::{DateTime, Duration, Months, NaiveDateTime};
use invitations::domain::billing::{BillingSystem, LicenseType, Plan};
use serde_json::{Value, json};

use crate::helpers::{AccountSpec, Owner, TestApp, classic_attorney};

/// One `db_tests!` pair per row of a case table: each `name => CASE` becomes
/// `async fn name(app)` running `run(app, &CASE)`.
macro_rules! case_tests {
    ($run:ident { $($name:ident => $case:expr),* $(,)? }) => {
        $(
            async fn $name(app: TestApp) {
                $run(app, &$case).await;
            }
        )*
        crate::db_tests!($($name),*);
    };
}

mod buying;
mod enabling_and_resending;
mod ledger_and_periods;
mod plans;
mod quotes;
mod releases;

// ---------------------------------------------------------------------------
// Accounts used below.

const CLASSIC_ATTORNEY_PRICE: i64 = 120_000; // AccountSpec::classic_annual()
/// The license counts (type, open, reserved, assigned) of a fresh
/// `AccountSpec::classic_annual()`: two open of each type, the owner's seat.
const CLASSIC_ANNUAL_LICENSES: [(&str, i64, i64, i64); 2] =
    [("attorney", 2, 0, 1), ("non_attorney", 2, 0, 0)];
const CLASSIC_MONTHLY_PRICES: &[(LicenseType, i64)] = &[
    (LicenseType::Attorney, 9_999),
    (LicenseType::NonAttorney, 4_999),
];
const CLASSIC_MONTHLY_ATTORNEY_PRICE: i64 = 9_999;
const CLASSIC_MONTHLY_NON_ATTORNEY_PRICE: i64 = 4_999;
const NEW_ANNUAL_PRICE: i64 = 119_999;
const NEW_MONTHLY_PRICE: i64 = 3_000; // AccountSpec::new_monthly()

/// `spec` with these licenses bought and its billing period anchored at `anchor`.
fn anchored(
    spec: AccountSpec<'static>,
    licenses: &'static [(LicenseType, i64)],
    anchor: NaiveDateTime,
) -> AccountSpec<'static> {
    AccountSpec {
        licenses,
        period_start: Some(anchor),
        ..spec
    }
}

fn classic_annual_with(
    licenses: &'static [(LicenseType, i64)],
    anchor: NaiveDateTime,
) -> AccountSpec<'static> {
    anchored(AccountSpec::classic_annual(), licenses, anchor)
}

fn classic_monthly(
    licenses: &'static [(LicenseType, i64)],
    anchor: NaiveDateTime,
) -> AccountSpec<'static> {
    let spec = AccountSpec {
        plan: Plan::Monthly,
        prices: CLASSIC_MONTHLY_PRICES,
        ..AccountSpec::classic_annual()
    };
    anchored(spec, licenses, anchor)
}

fn new_annual(
    licenses: &'static [(LicenseType, i64)],
    anchor: NaiveDateTime,
) -> AccountSpec<'static> {
    let spec = AccountSpec {
        plan: Plan::Annual,
        prices: &[(LicenseType::User, NEW_ANNUAL_PRICE)],
        ..AccountSpec::new_monthly()
    };
    anchored(spec, licenses, anchor)
}

fn new_monthly(
    licenses: &'static [(LicenseType, i64)],
    anchor: NaiveDateTime,
) -> AccountSpec<'static> {
    anchored(AccountSpec::new_monthly(), licenses, anchor)
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

/// `POST /accounts/{id}/licenses` for `quantity` licenses of `license_type`.
async fn buy_licenses(
    app: &TestApp,
    owner: &Owner,
    license_type: &str,
    quantity: i64,
) -> crate::helpers::Reply {
    app.post(
        &account_path(owner, "/licenses"),
        &owner.token,
        json!({"license_type": license_type, "quantity": quantity}),
    )
    .await
}

/// Buys licenses and asserts the 201's charge is a `license_purchase` line
/// for them; returns the charge and the window it was made in.
async fn buy_and_check_the_charge_line(
    app: &TestApp,
    owner: &Owner,
    license_type: &str,
    quantity: i64,
) -> (Value, Window) {
    let before = app.clock.now();
    let reply = buy_licenses(app, owner, license_type, quantity).await;
    let window = window_since(app, before);
    let charge = reply.ok(201)["charge"].clone();
    assert_charge_line(
        &charge,
        license_type,
        "license_purchase",
        quantity,
        None,
        None,
    );
    (charge, window)
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

/// Invites with `body` expecting 409 `no_available_license` for
/// `license_type`: the counts stay `expected` and nothing is charged.
async fn assert_invite_refused_without_charge(
    app: &TestApp,
    owner: &Owner,
    body: Value,
    license_type: &str,
    step: &str,
    expected: &[(&str, i64, i64, i64)],
) {
    let reply = app
        .post(&account_path(owner, "/invitations"), &owner.token, body)
        .await;
    assert_no_available_license(&reply, owner, license_type);
    assert_licenses(app, owner, step, expected).await;
    assert!(ledger(app, owner).await.is_empty(), "nothing charged");
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
// Case tables.

/// An account of a case table: how it is billed, the open licenses it starts
/// with, and how long ago its billing period began.
#[derive(Clone, Copy)]
struct Account {
    spec: fn(&'static [(LicenseType, i64)], NaiveDateTime) -> AccountSpec<'static>,
    licenses: &'static [(LicenseType, i64)],
    anchor_days_ago: i64,
}

impl Account {
    /// Bootstraps it: the owner, the period's anchor and the account's license types.
    fn bootstrap(&self, app: &TestApp) -> (Owner, NaiveDateTime, Types) {
        let anchor = days_ago(app, self.anchor_days_ago);
        let spec = (self.spec)(self.licenses, anchor);
        let types = if matches!(spec.billing_system, BillingSystem::Classic) {
            Types {
                all: &["attorney", "non_attorney"],
                owner: "attorney",
            }
        } else {
            Types {
                all: &["user"],
                owner: "user",
            }
        };
        (app.bootstrap(&spec), anchor, types)
    }

    /// Months in a billing period: 1 (monthly) or 12 (annual).
    fn months(&self) -> u32 {
        if matches!(
            (self.spec)(&[], NaiveDateTime::default()).plan,
            Plan::Monthly
        ) {
            1
        } else {
            12
        }
    }

    /// Open licenses at the start, all types together.
    fn open(&self) -> i64 {
        self.licenses.iter().map(|(_, n)| n).sum()
    }
}

/// An account's license types, and the one its owner holds.
#[derive(Clone, Copy)]
struct Types {
    all: &'static [&'static str],
    owner: &'static str,
}

impl Types {
    /// The summary rows with `license_type` at (open, reserved, assigned
    /// besides the owner) and every other type empty but for the owner.
    fn at(
        &self,
        license_type: &str,
        (open, reserved, assigned): (i64, i64, i64),
    ) -> Vec<(&'static str, i64, i64, i64)> {
        self.rows(|t| {
            if t == license_type {
                (open, reserved, assigned)
            } else {
                (0, 0, 0)
            }
        })
    }

    /// The summary rows, `of(type)` = (open, reserved, assigned besides the owner).
    fn rows(&self, of: impl Fn(&str) -> (i64, i64, i64)) -> Vec<(&'static str, i64, i64, i64)> {
        self.all
            .iter()
            .map(|&t| {
                let (open, reserved, assigned) = of(t);
                (t, open, reserved, assigned + i64::from(t == self.owner))
            })
            .collect()
    }
}

/// What taking a license again (enabling a user, resending an expired
/// invitation) does.
#[derive(Clone, Copy, Debug)]
enum Outcome {
    /// An open license is reused; no charge.
    Free,
    /// None is open: one is bought at the prorated price.
    Charged,
    /// None is open and the plan does not buy: 409 no_available_license.
    Refused,
}
