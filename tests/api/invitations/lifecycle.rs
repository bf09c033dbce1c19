//! Revoking, accepting, declining, expiry and resending: which state answers what.

use super::*;

crate::db_tests!(
    revoking_answers_200_and_revoking_again_answers_409_invitation_not_pending,
    accepting_or_declining_a_revoked_invitation_answers_410_invitation_revoked,
    accepting_twice_answers_409_invitation_not_pending,
    accepting_a_declined_invitation_answers_409_invitation_not_pending,
    an_invitation_past_its_expiry_reads_as_expired_and_answers_410_invitation_expired,
    resending_rotates_the_token_extends_the_expiry_and_sends_another_email,
    resending_an_expired_invitation_makes_it_pending_again,
    resending_an_accepted_or_revoked_invitation_answers_409_invitation_not_pending,
    unknown_and_malformed_tokens_answer_404,
);

async fn revoking_answers_200_and_revoking_again_answers_409_invitation_not_pending(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let invitation = app.invite(&owner, attorney("rev@example.com")).await;
    let revoked = app.revoke(&owner, &invitation).await;
    assert_eq!(revoked.ok(200)["status"], "revoked");
    assert_eq!(revoked.body["id"], invitation["id"]);
    assert_invitation_status(&app, &owner, &invitation, "revoked").await;
    app.revoke(&owner, &invitation)
        .await
        .problem(409, "invitation_not_pending");

    // The email is free again for a new invitation.
    app.invite(&owner, attorney("rev@example.com")).await;

    app.request(
        "DELETE",
        &format!("{}/987654", invitations_of(&owner)),
        Some(&owner.token),
        None,
    )
    .await
    .problem(404, "not_found");
}

async fn accepting_or_declining_a_revoked_invitation_answers_410_invitation_revoked(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (invitation, token) = app
        .invite_and_read_token(&owner, attorney("gone@example.com"))
        .await;
    app.revoke(&owner, &invitation).await.ok(200);
    assert_accept_and_decline_refused(&app, &token, 410, "invitation_revoked").await;
    assert_eq!(preview(&app, &token).await.ok(200)["status"], "revoked");
}

async fn accepting_twice_answers_409_invitation_not_pending(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (invitation, token) = app
        .invite_and_read_token(&owner, attorney("twice@example.com"))
        .await;
    app.accept(&token).await.ok(201);
    assert_accept_and_decline_refused(&app, &token, 409, "invitation_not_pending").await;
    app.revoke(&owner, &invitation)
        .await
        .problem(409, "invitation_not_pending");
    assert_invitation_status(&app, &owner, &invitation, "accepted").await;
}

async fn accepting_a_declined_invitation_answers_409_invitation_not_pending(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (invitation, token) = app
        .invite_and_read_token(&owner, attorney("nothanks@example.com"))
        .await;
    let declined = decline(&app, &token).await;
    assert_eq!(declined.ok(200)["status"], "declined");
    assert_accept_and_decline_refused(&app, &token, 409, "invitation_not_pending").await;
    assert_invitation_status(&app, &owner, &invitation, "declined").await;
}

async fn an_invitation_past_its_expiry_reads_as_expired_and_answers_410_invitation_expired(
    app: TestApp,
) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (invitation, token) = app
        .invite_and_read_token(&owner, attorney("late@example.com"))
        .await;
    app.clock.advance(chrono::Duration::days(8));
    let owner = app.renew(&owner);

    // Read first, before any write or sweeper has recorded the expiry.
    assert_invitation_status(&app, &owner, &invitation, "expired").await;
    assert_eq!(preview(&app, &token).await.ok(200)["status"], "expired");
    let expired = list_invitations(&app, &owner, "status=expired").await;
    assert_eq!(
        item_ids(expired.ok(200)),
        vec![invitation["id"].as_i64().unwrap()]
    );
    let pending = list_invitations(&app, &owner, "status=pending").await;
    assert_eq!(item_ids(pending.ok(200)), Vec::<i64>::new());

    assert_accept_and_decline_refused(&app, &token, 410, "invitation_expired").await;
    assert_invitation_status(&app, &owner, &invitation, "expired").await;
}

async fn resending_rotates_the_token_extends_the_expiry_and_sends_another_email(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (invitation, old_token) = app
        .invite_and_read_token(&owner, attorney("again@example.com"))
        .await;
    app.clock.advance(chrono::Duration::minutes(10));

    let resent = app.resend(&owner, &invitation).await;
    let body = resent.ok(200);
    assert_eq!(body["id"], invitation["id"]);
    assert_eq!(body["status"], "pending");
    assert_eq!(body["send_count"], 2);
    assert!(time(&body["expires_at"]) > time(&invitation["expires_at"]));
    assert!(time(&body["last_sent_at"]) > time(&invitation["last_sent_at"]));
    assert_eq!(body["created_at"], invitation["created_at"]);

    let emails = app.emails_to("again@example.com", 2).await;
    assert_eq!(emails.len(), 2);
    let new_token = emails[1].token.clone();
    assert_eq!(emails[0].token, old_token);
    assert!(
        new_token.starts_with("inv_") && new_token.len() == 47,
        "{new_token}"
    );
    assert_ne!(new_token, old_token);

    preview(&app, &old_token).await.problem(404, "not_found");
    assert_accept_and_decline_refused(&app, &old_token, 404, "not_found").await;

    assert_eq!(preview(&app, &new_token).await.ok(200)["status"], "pending");
    app.accept(&new_token).await.ok(201);
    assert_invitation_status(&app, &owner, &invitation, "accepted").await;
}

async fn resending_an_expired_invitation_makes_it_pending_again(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (invitation, old_token) = app
        .invite_and_read_token(&owner, attorney("revive@example.com"))
        .await;
    app.clock.advance(chrono::Duration::days(8));
    let owner = app.renew(&owner);
    assert_invitation_status(&app, &owner, &invitation, "expired").await;

    let resent = app.resend(&owner, &invitation).await;
    let body = resent.ok(200);
    assert_eq!(body["status"], "pending");
    assert_eq!(body["send_count"], 2);
    let now = app.clock.now().and_utc();
    assert!(time(&body["expires_at"]) > now + chrono::Duration::days(6));
    assert_eq!(app.licenses(&owner).await["attorney"]["reserved"], 1);

    let emails = app.emails_to("revive@example.com", 2).await;
    let new_token = emails.last().expect("email").token.clone();
    assert_ne!(new_token, old_token);
    app.accept(&old_token).await.problem(404, "not_found");
    app.accept(&new_token).await.ok(201);
}

async fn resending_an_accepted_or_revoked_invitation_answers_409_invitation_not_pending(
    app: TestApp,
) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (accepted, token) = app
        .invite_and_read_token(&owner, attorney("done@example.com"))
        .await;
    app.accept(&token).await.ok(201);
    app.resend(&owner, &accepted)
        .await
        .problem(409, "invitation_not_pending");

    let (declined, token) = app
        .invite_and_read_token(&owner, attorney("declined@example.com"))
        .await;
    decline(&app, &token).await.ok(200);
    app.resend(&owner, &declined)
        .await
        .problem(409, "invitation_not_pending");

    let revoked = app
        .invite(
            &owner,
            json!({"email": "revoked@example.com", "subscriber_type": "non_attorney"}),
        )
        .await;
    app.revoke(&owner, &revoked).await.ok(200);
    app.resend(&owner, &revoked)
        .await
        .problem(409, "invitation_not_pending");

    app.request(
        "POST",
        &format!("{}/987654/resend", invitations_of(&owner)),
        Some(&owner.token),
        None,
    )
    .await
    .problem(404, "not_found");
}

async fn unknown_and_malformed_tokens_answer_404(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    app.invite_and_read_token(&owner, attorney("real@example.com"))
        .await;
    let tokens = [
        format!("inv_{}", "A".repeat(43)),
        format!("tok_{}", "a".repeat(43)),
        format!("inv_{}", "a".repeat(44)),
        "abc".to_owned(),
        "inv_short".to_owned(),
        "inv_%21%21%21".to_owned(),
    ];
    for token in &tokens {
        preview(&app, token).await.problem(404, "not_found");
        app.accept(token).await.problem(404, "not_found");
        decline(&app, token).await.problem(404, "not_found");
    }
}
