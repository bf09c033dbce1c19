//! Which error wins when several apply: who may call first (401, 404, 403),
//! then the invitation's state (404, 409, 410), then the body (400, 413, 422).
//! And every field error of a body in one 422.

use serde_json::json;

use crate::db_tests;
use crate::helpers::{AccountSpec, TestApp, classic_attorney};

db_tests!(
    a_standard_user_gets_403_even_with_an_invalid_body,
    another_tenant_gets_404_even_with_an_invalid_body_or_query,
    a_dead_token_is_reported_before_the_accept_body_is_judged,
    accept_lists_wrong_types_and_rule_violations_together,
    buying_lists_wrong_types_and_rule_violations_together,
    a_bad_filter_and_bad_paging_are_listed_together,
);

async fn a_bad_filter_and_bad_paging_are_listed_together(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let reply = app
        .get(
            &format!(
                "/accounts/{}/invitations?status=bogus&limit=0",
                owner.account_id
            ),
            &owner.token,
        )
        .await;
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["limit", "status"], "{}", reply.text);
}

async fn standard_user(app: &TestApp, owner: &crate::helpers::Owner) -> String {
    let (_, token) = app
        .invite_and_read_token(
            owner,
            json!({"email": "staff@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    app.accept(&token).await.ok(201)["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_standard_user_gets_403_even_with_an_invalid_body(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let staff = standard_user(&app, &owner).await;
    let account = owner.account_id;
    for path in [
        format!("/accounts/{account}/invitations"),
        format!("/accounts/{account}/invitations/quote"),
        format!("/accounts/{account}/licenses"),
        format!("/accounts/{account}/groups"),
    ] {
        app.post(&path, &staff, json!({"nonsense": true}))
            .await
            .problem(403, "forbidden");
        app.send_not_json(reqwest::Method::POST, &path, &staff)
            .await
            .problem(403, "forbidden");
    }
    app.get(&format!("/accounts/{account}/invitations?limit=0"), &staff)
        .await
        .problem(403, "forbidden");
}

async fn another_tenant_gets_404_even_with_an_invalid_body_or_query(app: TestApp) {
    let mine = app.bootstrap(&AccountSpec::classic_annual());
    let theirs = app.bootstrap(&AccountSpec::classic_annual());
    let account = theirs.account_id;
    app.post(
        &format!("/accounts/{account}/invitations"),
        &mine.token,
        json!({"email": 5}),
    )
    .await
    .problem(404, "not_found");
    app.post(
        &format!("/accounts/{account}/licenses"),
        &mine.token,
        json!({"quantity": 0}),
    )
    .await
    .problem(404, "not_found");
    app.get(&format!("/accounts/{account}/users?limit=abc"), &mine.token)
        .await
        .problem(404, "not_found");
    app.get(
        &format!("/accounts/{account}/charges?cursor=!!"),
        &mine.token,
    )
    .await
    .problem(404, "not_found");
}

async fn a_dead_token_is_reported_before_the_accept_body_is_judged(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let bad_body = json!({"first_name": 5});
    let unknown = format!("inv_{}", "A".repeat(43));
    app.accept_with(&unknown, &bad_body)
        .await
        .problem(404, "not_found");

    let (invitation, token) = app
        .invite_and_read_token(&owner, classic_attorney("gone@example.com"))
        .await;
    app.revoke(&owner, &invitation).await.ok(200);
    app.accept_with(&token, &bad_body)
        .await
        .problem(410, "invitation_revoked");

    let (_, token) = app
        .invite_and_read_token(&owner, classic_attorney("late@example.com"))
        .await;
    app.clock.advance(chrono::Duration::days(8));
    app.accept_with(&token, &bad_body)
        .await
        .problem(410, "invitation_expired");
}

async fn accept_lists_wrong_types_and_rule_violations_together(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (_, token) = app
        .invite_and_read_token(
            &owner,
            json!({"email": "both@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    let reply = app
        .accept_with(
            &token,
            &json!({"first_name": 5, "last_name": "", "password": "short", "nickname": "x"}),
        )
        .await;
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        ["first_name", "last_name", "nickname", "password"],
        "{}",
        reply.text
    );
    // Nothing happened: the invitation can still be accepted.
    app.accept(&token).await.ok(201);
}

async fn buying_lists_wrong_types_and_rule_violations_together(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let reply = app
        .post(
            &format!("/accounts/{}/licenses", owner.account_id),
            &owner.token,
            json!({"license_type": "user", "quantity": "ten"}),
        )
        .await;
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["license_type", "quantity"], "{}", reply.text);
}
