//! Bodies that are not JSON or too large, and emails that are already members.

use super::*;

crate::db_tests!(
    a_body_that_is_not_json_answers_400_malformed_json,
    a_text_plain_body_answers_400_malformed_json,
    a_body_over_1_mib_answers_413_payload_too_large,
    inviting_a_member_in_any_case_answers_409_already_member,
    a_user_of_another_account_can_be_invited_but_accepting_answers_409_email_taken,
);

async fn a_body_that_is_not_json_answers_400_malformed_json(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    for body in ["{\"email\": ", "email=a@example.com", ""] {
        post_invitation_raw(&app, &owner, Some("application/json"), body)
            .await
            .problem(400, "malformed_json");
    }
}

async fn a_text_plain_body_answers_400_malformed_json(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let valid = attorney("plain@example.com").to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        post_invitation_raw(&app, &owner, content_type, valid.clone())
            .await
            .problem(400, "malformed_json");
    }
    // The same body as JSON is fine (and `; charset` is allowed).
    let json_with_charset = Some("application/json; charset=utf-8");
    post_invitation_raw(&app, &owner, json_with_charset, valid)
        .await
        .ok(201);
}

async fn a_body_over_1_mib_answers_413_payload_too_large(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let body = json!({
        "email": "big@example.com",
        "subscriber_type": "attorney",
        "message": "x".repeat(1024 * 1024),
    })
    .to_string();
    assert!(body.len() > 1024 * 1024);
    post_invitation_raw(&app, &owner, Some("application/json"), body)
        .await
        .problem(413, "payload_too_large");
    let listed = app.get(&invitations_of(&owner), &owner.token).await;
    assert_eq!(listed.ok(200)["items"], json!([]));
}

// ---------------------------------------------------------------- conflicts

async fn inviting_a_member_in_any_case_answers_409_already_member(app: TestApp) {
    let owner = app.bootstrap_with_owner(
        &AccountSpec::classic_annual(),
        "Ann.Smith@Firm.Example",
        "owner password",
    );
    for spelling in [
        "Ann.Smith@Firm.Example",
        "ann.smith@firm.example",
        "  ANN.SMITH@FIRM.EXAMPLE ",
    ] {
        try_invite(&app, &owner, attorney(spelling))
            .await
            .problem(409, "already_member");
    }

    // A member who joined by invitation, active or disabled.
    let (_, token) = app
        .invite_and_read_token(&owner, attorney("bob@example.com"))
        .await;
    let user_id = app.accept(&token).await.ok(201)["user"]["id"].clone();
    try_invite(&app, &owner, attorney("BOB@example.com"))
        .await
        .problem(409, "already_member");
    app.post(
        &format!("/accounts/{}/users/{user_id}/disable", owner.account_id),
        &owner.token,
        json!({}),
    )
    .await
    .ok(200);
    try_invite(&app, &owner, attorney("bob@EXAMPLE.com"))
        .await
        .problem(409, "already_member");
}

async fn a_user_of_another_account_can_be_invited_but_accepting_answers_409_email_taken(
    app: TestApp,
) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let _other = app.bootstrap_with_owner(
        &AccountSpec::classic_annual(),
        "bea.other@firm.example",
        "other password",
    );
    let (invitation, token) = app
        .invite_and_read_token(&owner, attorney("Bea.Other@Firm.Example"))
        .await;
    assert_eq!(invitation["status"], "pending");
    app.accept(&token).await.problem(409, "email_taken");

    let again = app.read_invitation(&owner, &invitation).await;
    assert_eq!(again.ok(200)["status"], "pending");
    assert_eq!(again.body["accepted_user_id"], Value::Null);
}

/// POSTs `body` as given, with this content type (or none), to the owner's invitations.
async fn post_invitation_raw(
    app: &TestApp,
    owner: &Owner,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Reply {
    app.post_raw(
        &invitations_of(owner),
        Some(&owner.token),
        content_type,
        body,
    )
    .await
}
