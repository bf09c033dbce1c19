//! Releasing licenses: accepting assigns; revoking, declining, expiry and
//! disabling open the license for free reuse (one table of cases).

use super::*;

crate::db_tests!(accepting_turns_the_reserved_license_into_an_assigned_one,);

async fn accepting_turns_the_reserved_license_into_an_assigned_one(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    assert_licenses(&app, &owner, "bootstrapped", &CLASSIC_ANNUAL_LICENSES).await;
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

/// How a bought license is let go again.
enum Release {
    /// The owner revokes the pending invitation.
    Revoke,
    /// The invitee declines it.
    Decline,
    /// It expires (7 days; the clock moves 8).
    Expire,
    /// The invitee accepts, and the owner disables the new member.
    Disable,
}

/// On a new monthly account a bought license, once released, is open: a
/// quote promises it for free, the next invite takes it for free, and the
/// ledger never changes (nothing is refunded).
async fn a_released_license_is_reused_for_free(app: TestApp, release: &Release) {
    let anchor = days_ago(&app, 1);
    let owner = app.bootstrap(&new_monthly(&[], anchor));
    assert_licenses(&app, &owner, "bootstrapped", &[("user", 0, 0, 1)]).await;
    let body = json!({"email": "a@example.com", "role": "standard", "expires_in_days": 7});
    let period = period(anchor, 1, 0);
    let first = invite_charged(&app, &owner, body, "user", NEW_MONTHLY_PRICE, period).await;
    assert_licenses(&app, &owner, "invited", &[("user", 0, 1, 1)]).await;
    let lines = ledger(&app, &owner).await;
    assert_eq!(lines.len(), 1);

    let (owner, status) = match release {
        Release::Revoke => {
            let path = invitation_path(&owner, &first);
            let reply = app.request("DELETE", &path, Some(&owner.token), None).await;
            assert_eq!(reply.ok(200)["status"], "revoked");
            (owner, "revoked")
        }
        Release::Decline => {
            let token = app.email_to("a@example.com").await.token;
            let path = format!("/invitations/{token}/decline");
            let reply = app.request("POST", &path, None, None).await;
            assert_eq!(reply.ok(200)["status"], "declined");
            (owner, "declined")
        }
        Release::Expire => {
            app.clock.advance(Duration::days(8));
            (app.renew(&owner), "expired")
        }
        Release::Disable => {
            let token = app.email_to("a@example.com").await.token;
            let user_id = accept(&app, &token).await;
            assert_licenses(&app, &owner, "accepted", &[("user", 0, 0, 2)]).await;
            disable(&app, &owner, user_id).await;
            (owner, "accepted")
        }
    };
    assert_licenses(&app, &owner, "released", &[("user", 1, 0, 1)]).await;
    assert_eq!(ledger(&app, &owner).await, lines, "never refunded");
    let again = get_invitation(&app, &owner, &first).await;
    assert_eq!(again["status"], status, "{again}");
    assert_licenses(&app, &owner, "read back", &[("user", 1, 0, 1)]).await;

    let answer = quote(&app, &owner, user("b@example.com")).await;
    assert_eq!(answer["license_available"], true, "{answer}");
    assert_eq!(answer["charge"], Value::Null, "{answer}");
    assert_licenses(&app, &owner, "quoted", &[("user", 1, 0, 1)]).await;

    invite_free(&app, &owner, user("b@example.com")).await;
    assert_licenses(&app, &owner, "reused", &[("user", 0, 1, 1)]).await;
    assert_eq!(ledger(&app, &owner).await, lines);
}

case_tests!(a_released_license_is_reused_for_free {
    revoking_an_invitation_opens_its_license_for_free_reuse => Release::Revoke,
    declining_an_invitation_opens_its_license_for_free_reuse => Release::Decline,
    an_expired_invitation_opens_its_license_for_free_reuse => Release::Expire,
    disabling_a_user_opens_their_license_for_free_reuse => Release::Disable,
});
