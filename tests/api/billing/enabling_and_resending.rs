//! Enabling users and resending expired invitations take a license again:
//! free when one is open, otherwise charged or refused by the plan. One table
//! of cases for each.

use super::*;

/// A license is taken again: `license_type` (of the invite `body`, at
/// `price`) was used by a member or an invitation that then let it go; with
/// `taken_by_another_invite` a new invite takes the freed license first.
struct AgainCase {
    account: Account,
    license_type: &'static str,
    body: fn(&str) -> Value,
    price: i64,
    taken_by_another_invite: bool,
    outcome: Outcome,
}

impl AgainCase {
    /// Bootstraps the case's account and asserts it starts with its (at most
    /// one) open license: (owner, anchor, types, open).
    async fn bootstrap(&self, app: &TestApp) -> (Owner, NaiveDateTime, Types, i64) {
        let (owner, anchor, types) = self.account.bootstrap(app);
        let open = self.account.open();
        assert!(
            open <= 1,
            "the table's accounts start with at most one open license"
        );
        let start = types.at(self.license_type, (open, 0, 0));
        assert_licenses(app, &owner, "bootstrapped", &start).await;
        (owner, anchor, types, open)
    }

    /// With `taken_by_another_invite`, invites `b@example.com` for free into
    /// the license the first one freed. Asserts the counts (`step`) and that
    /// the ledger holds only the first invite's charge, if it had one:
    /// (the counts, the ledger).
    async fn maybe_take_the_freed_license(
        &self,
        app: &TestApp,
        owner: &Owner,
        types: &Types,
        open: i64,
        step: &str,
    ) -> ((i64, i64, i64), Vec<Value>) {
        let counts = if self.taken_by_another_invite {
            invite_free(app, owner, (self.body)("b@example.com")).await;
            (0, 1, 0)
        } else {
            (1, 0, 0)
        };
        assert_licenses(app, owner, step, &types.at(self.license_type, counts)).await;
        let lines = ledger(app, owner).await;
        assert_eq!(
            lines.len(),
            usize::from(open == 0),
            "only the first invite's charge"
        );
        (counts, lines)
    }

    /// Invites `a@example.com` (free or bought, as the account allows) and
    /// checks its billing; returns the invitation.
    async fn first_invite(&self, app: &TestApp, owner: &Owner, anchor: NaiveDateTime) -> Value {
        let body = (self.body)("a@example.com");
        if self.account.open() == 0 {
            let period = period(anchor, self.account.months(), 0);
            invite_charged(app, owner, body, self.license_type, self.price, period).await
        } else {
            invite_free(app, owner, body).await
        }
    }
}

async fn enabling_a_disabled_user(app: TestApp, case: &AgainCase) {
    let (owner, anchor, types, open) = case.bootstrap(&app).await;
    let at = |counts| types.at(case.license_type, counts);
    case.first_invite(&app, &owner, anchor).await;
    assert_licenses(&app, &owner, "invited", &at((0, 1, 0))).await;
    let token = app.email_to("a@example.com").await.token;
    let user_id = accept(&app, &token).await;
    assert_licenses(&app, &owner, "accepted", &at((0, 0, 1))).await;
    disable(&app, &owner, user_id).await;
    assert_licenses(&app, &owner, "disabled", &at((1, 0, 0))).await;
    let (before_enable, lines) = case
        .maybe_take_the_freed_license(&app, &owner, &types, open, "before enabling")
        .await;

    let (open_before, reserved, _) = before_enable;
    let before = app.clock.now();
    let reply = enable(&app, &owner, user_id).await;
    let window = window_since(&app, before);
    match case.outcome {
        Outcome::Free => {
            assert_eq!(reply.ok(200)["status"], "active");
            let enabled = at((open_before - 1, reserved, 1));
            assert_licenses(&app, &owner, "enabled", &enabled).await;
            assert_eq!(ledger(&app, &owner).await, lines, "no charge");
        }
        Outcome::Charged => {
            assert_eq!(reply.ok(200)["status"], "active");
            assert_licenses(&app, &owner, "enabled", &at((0, reserved, 1))).await;
            let now = ledger(&app, &owner).await;
            assert_eq!(now.len(), lines.len() + 1, "one new ledger line");
            let line = &now[0];
            assert_charge_line(
                line,
                case.license_type,
                "user_enabled",
                1,
                None,
                Some(user_id),
            );
            let period = period(anchor, case.account.months(), 0);
            assert_prorated(line, case.price, 1, period, window);
            assert_eq!(now[1..], lines[..]);
        }
        Outcome::Refused => {
            assert_no_available_license(&reply, &owner, case.license_type);
            assert_licenses(&app, &owner, "enable refused", &at(before_enable)).await;
            assert_eq!(user_status(&app, &owner, user_id).await, "disabled");
            assert_licenses(&app, &owner, "read back", &at(before_enable)).await;
            assert_eq!(ledger(&app, &owner).await, lines, "nothing charged");

            // After buying one, enabling takes it for free.
            buy_licenses(&app, &owner, case.license_type, 1)
                .await
                .ok(201);
            assert_licenses(&app, &owner, "bought", &at((1, reserved, 0))).await;
            let lines = ledger(&app, &owner).await;
            let enabled = enable(&app, &owner, user_id).await;
            assert_eq!(enabled.ok(200)["status"], "active");
            assert_licenses(&app, &owner, "enabled", &at((0, reserved, 1))).await;
            assert_eq!(ledger(&app, &owner).await, lines);
        }
    }
}

/// Classic annual with one attorney license, taken by another invite before
/// the first user takes a license again: refused (annual plans never buy).
const REFUSED_ON_CLASSIC_ANNUAL: AgainCase = AgainCase {
    account: Account {
        spec: classic_annual_with,
        licenses: &[(LicenseType::Attorney, 1)],
        anchor_days_ago: 30,
    },
    license_type: "attorney",
    body: classic_attorney,
    price: CLASSIC_ATTORNEY_PRICE,
    taken_by_another_invite: true,
    outcome: Outcome::Refused,
};

case_tests!(enabling_a_disabled_user {
    enabling_a_user_reuses_an_open_license_without_charge => AgainCase {
        account: Account { spec: new_monthly, licenses: &[], anchor_days_ago: 10 },
        license_type: "user",
        body: user,
        price: NEW_MONTHLY_PRICE,
        taken_by_another_invite: false,
        outcome: Outcome::Free,
    },
    enabling_a_user_on_new_monthly_without_an_open_license_charges_user_enabled => AgainCase {
        account: Account { spec: new_monthly, licenses: &[], anchor_days_ago: 10 },
        license_type: "user",
        body: user,
        price: NEW_MONTHLY_PRICE,
        taken_by_another_invite: true,
        outcome: Outcome::Charged,
    },
    enabling_a_non_attorney_on_classic_monthly_charges_the_non_attorney_price => AgainCase {
        account: Account {
            spec: classic_monthly,
            licenses: &[(LicenseType::NonAttorney, 1)],
            anchor_days_ago: 20,
        },
        license_type: "non_attorney",
        body: non_attorney,
        price: CLASSIC_MONTHLY_NON_ATTORNEY_PRICE,
        taken_by_another_invite: true,
        outcome: Outcome::Charged,
    },
    enabling_a_user_on_classic_annual_without_an_open_license_is_refused => REFUSED_ON_CLASSIC_ANNUAL,
});

async fn resending_an_expired_invitation(app: TestApp, case: &AgainCase) {
    let (owner, anchor, types, open) = case.bootstrap(&app).await;
    let at = |counts| types.at(case.license_type, counts);
    let first = case.first_invite(&app, &owner, anchor).await;
    assert_licenses(&app, &owner, "invited", &at((0, 1, 0))).await;

    app.clock.advance(Duration::days(8));
    let owner = app.renew(&owner);
    assert_licenses(&app, &owner, "expired", &at((1, 0, 0))).await;
    let (before_resend, lines) = case
        .maybe_take_the_freed_license(&app, &owner, &types, open, "before resending")
        .await;

    let (open_before, reserved, _) = before_resend;
    let before = app.clock.now();
    let reply = app.resend(&owner, &first).await;
    let window = window_since(&app, before);
    match case.outcome {
        Outcome::Free => {
            let resent = reply.ok(200);
            assert_eq!(resent["status"], "pending", "{resent}");
            assert_eq!(resent["send_count"], 2, "{resent}");
            assert_eq!(resent["charge"], first["charge"], "no new charge");
            let taken = at((open_before - 1, reserved + 1, 0));
            assert_licenses(&app, &owner, "resent", &taken).await;
            assert_eq!(ledger(&app, &owner).await, lines);
        }
        Outcome::Charged => {
            let resent = reply.ok(200).clone();
            assert_eq!(resent["status"], "pending", "{resent}");
            assert_licenses(&app, &owner, "resent", &at((0, reserved + 1, 0))).await;
            let charge = &resent["charge"];
            let invitation_id = Some(id_of(&first));
            assert_charge_line(
                charge,
                case.license_type,
                "invitation",
                1,
                invitation_id,
                None,
            );
            let period = period(anchor, case.account.months(), 0);
            assert_prorated(charge, case.price, 1, period, window);
            assert_ne!(charge["id"], first["charge"]["id"], "a new charge");
            let now = ledger(&app, &owner).await;
            assert_eq!(now.len(), lines.len() + 1, "one new ledger line");
            assert_eq!(&now[0], charge);
            assert_eq!(now[1..], lines[..]);
        }
        Outcome::Refused => {
            assert_no_available_license(&reply, &owner, case.license_type);
            assert_licenses(&app, &owner, "resend refused", &at(before_resend)).await;
            let again = get_invitation(&app, &owner, &first).await;
            assert_eq!(again["status"], "expired", "{again}");
            assert_eq!(again["send_count"], 1, "{again}");
            assert_licenses(&app, &owner, "read back", &at(before_resend)).await;
            assert_eq!(ledger(&app, &owner).await, lines, "nothing charged");
        }
    }
}

case_tests!(resending_an_expired_invitation {
    resending_an_expired_invitation_reuses_an_open_license_without_charge => AgainCase {
        account: Account { spec: new_monthly, licenses: &[], anchor_days_ago: 1 },
        license_type: "user",
        body: user,
        price: NEW_MONTHLY_PRICE,
        taken_by_another_invite: false,
        outcome: Outcome::Free,
    },
    resending_an_expired_invitation_on_a_monthly_account_without_an_open_license_charges_again => AgainCase {
        account: Account { spec: new_monthly, licenses: &[], anchor_days_ago: 1 },
        license_type: "user",
        body: user,
        price: NEW_MONTHLY_PRICE,
        taken_by_another_invite: true,
        outcome: Outcome::Charged,
    },
    resending_an_expired_invitation_on_classic_annual_without_an_open_license_is_refused => REFUSED_ON_CLASSIC_ANNUAL,
});
