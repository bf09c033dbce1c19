//! The worked examples of the README's billing section, to the cent.

use chrono::{NaiveDate, NaiveDateTime, Utc};
use invitations::domain::billing::{BillingSystem, LicenseType, Plan};
use serde_json::json;

use crate::db_tests;
use crate::helpers::{AccountSpec, TestApp};

db_tests!(
    half_a_november_of_a_monthly_non_attorney_costs_2450_cents,
    october_first_on_a_yearly_user_license_costs_9074_cents,
    classic_annual_without_an_open_license_charges_nothing_and_refuses,
);

fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
}

/// Moves the service clock so that "now" is `moment` (plus the time the test takes).
fn set_clock(app: &TestApp, moment: NaiveDateTime) {
    let offset = moment - Utc::now().naive_utc();
    app.clock
        .advance(chrono::Duration::seconds(offset.num_seconds()));
}

async fn half_a_november_of_a_monthly_non_attorney_costs_2450_cents(app: TestApp) {
    set_clock(&app, at(2026, 11, 16));
    let owner = app.bootstrap(&AccountSpec {
        billing_system: BillingSystem::Classic,
        plan: Plan::Monthly,
        prices: &[
            (LicenseType::Attorney, 9_900),
            (LicenseType::NonAttorney, 4_900),
        ],
        licenses: &[],
        period_start: Some(at(2026, 11, 1)),
    });
    let invitation = app
        .invite(
            &owner,
            json!({"email": "para@example.com", "subscriber_type": "non_attorney"}),
        )
        .await;
    let charge = &invitation["charge"];
    assert_eq!(charge["amount_cents"], 2_450, "{invitation}");
    assert_eq!(charge["period_start"], "2026-11-01T00:00:00Z");
    assert_eq!(charge["period_end"], "2026-12-01T00:00:00Z");
    assert_eq!(charge["currency"], "USD");
}

async fn october_first_on_a_yearly_user_license_costs_9074_cents(app: TestApp) {
    set_clock(&app, at(2026, 10, 1));
    let owner = app.bootstrap(&AccountSpec {
        billing_system: BillingSystem::New,
        plan: Plan::Annual,
        prices: &[(LicenseType::User, 36_000)],
        licenses: &[],
        period_start: Some(at(2026, 1, 1)),
    });
    let invitation = app
        .invite(
            &owner,
            json!({"email": "user@example.com", "role": "standard"}),
        )
        .await;
    assert_eq!(invitation["charge"]["amount_cents"], 9_074, "{invitation}");
    assert_eq!(invitation["charge"]["period_end"], "2027-01-01T00:00:00Z");
}

async fn classic_annual_without_an_open_license_charges_nothing_and_refuses(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec {
        billing_system: BillingSystem::Classic,
        plan: Plan::Annual,
        prices: &[
            (LicenseType::Attorney, 120_000),
            (LicenseType::NonAttorney, 60_000),
        ],
        licenses: &[],
        period_start: None,
    });
    let reply = app
        .post(
            &format!("/accounts/{}/invitations", owner.account_id),
            &owner.token,
            json!({"email": "lawyer@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    assert_eq!(
        reply.problem(409, "no_available_license")["license_type"],
        "attorney"
    );
    let charges = app
        .get(
            &format!("/accounts/{}/charges", owner.account_id),
            &owner.token,
        )
        .await;
    assert_eq!(charges.ok(200)["items"], json!([]));
}
