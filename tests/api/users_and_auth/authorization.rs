//! Roles and tenants: 403 for standard users, 404 for another tenant's resources.

use super::*;

crate::db_tests!(
    a_standard_user_gets_403_on_management_endpoints,
    a_demoted_managers_still_valid_token_gets_403_on_the_list,
    a_standard_user_may_read_the_account_and_themselves_but_not_another_user,
    another_tenants_resources_answer_404_never_403,
    an_unknown_route_answers_404_problem_json,
);

async fn a_standard_user_gets_403_on_management_endpoints(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (_, token) = member(&app, &owner, "staff@example.com", "standard").await;
    let invitation = app
        .invite(
            &owner,
            json!({"email": "pending@example.com", "subscriber_type": "non_attorney"}),
        )
        .await;
    let a = owner.account_id;
    let i = &invitation["id"];
    let invite_body = json!({"email": "new@example.com", "subscriber_type": "non_attorney"});
    let requests: Vec<(&str, String, Option<Value>)> = vec![
        (
            "POST",
            format!("/accounts/{a}/invitations"),
            Some(invite_body.clone()),
        ),
        (
            "POST",
            format!("/accounts/{a}/invitations/quote"),
            Some(invite_body),
        ),
        ("GET", format!("/accounts/{a}/invitations"), None),
        ("GET", format!("/accounts/{a}/invitations/{i}"), None),
        ("DELETE", format!("/accounts/{a}/invitations/{i}"), None),
        (
            "POST",
            format!("/accounts/{a}/invitations/{i}/resend"),
            None,
        ),
        ("GET", format!("/accounts/{a}/users"), None),
        (
            "POST",
            format!("/accounts/{a}/users/{}/disable", owner.user_id),
            None,
        ),
        ("GET", format!("/accounts/{a}/licenses"), None),
        (
            "POST",
            format!("/accounts/{a}/licenses"),
            Some(json!({"license_type": "attorney", "quantity": 1})),
        ),
        ("GET", format!("/accounts/{a}/charges"), None),
        ("GET", format!("/accounts/{a}/groups"), None),
        (
            "POST",
            format!("/accounts/{a}/groups"),
            Some(json!({"name": "Mine"})),
        ),
    ];
    for (method, path, body) in &requests {
        let reply = app.request(method, path, Some(&token), body.as_ref()).await;
        assert_eq!(reply.status, 403, "{method} {path}: {}", reply.text);
        reply.problem(403, "forbidden");
    }
    // Nothing changed.
    let still = app
        .get(&format!("/accounts/{a}/invitations/{i}"), &owner.token)
        .await;
    assert_eq!(still.ok(200)["status"], "pending");
    assert_eq!(still.body["send_count"], 1);
    let listed = app
        .get(&format!("/accounts/{a}/invitations"), &owner.token)
        .await;
    assert_eq!(item_ids(listed.ok(200)).len(), 2, "{}", listed.text);
}

/// The list reads its caller's role in the page's own statement: a token
/// issued to an administrator who has since been demoted lists nothing,
/// whether the page has rows or not.
async fn a_demoted_managers_still_valid_token_gets_403_on_the_list(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (admin, token) = member(&app, &owner, "admin@example.com", "administrator").await;
    let a = owner.account_id;
    let listed = app.get(&format!("/accounts/{a}/invitations"), &token).await;
    assert_eq!(item_ids(listed.ok(200)).len(), 1, "{}", listed.text);
    app.request(
        "PATCH",
        &format!("/accounts/{a}/users/{admin}"),
        Some(&owner.token),
        Some(&json!({"role": "standard"})),
    )
    .await
    .ok(200);
    for query in ["", "?status=pending", "?status=expired", "?status=accepted"] {
        app.get(&format!("/accounts/{a}/invitations{query}"), &token)
            .await
            .problem(403, "forbidden");
    }
}

async fn a_standard_user_may_read_the_account_and_themselves_but_not_another_user(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (me, token) = member(&app, &owner, "staff@example.com", "standard").await;
    let (colleague, _) = member(&app, &owner, "colleague@example.com", "standard").await;

    let account = app.get(&account_path(&owner), &token).await;
    assert_eq!(account.ok(200)["id"], owner.account_id);
    assert_eq!(account.body["name"], "Smith & Jones LLP");

    let mine = app
        .get(
            &format!("/accounts/{}/users/{me}", owner.account_id),
            &token,
        )
        .await;
    assert_eq!(mine.ok(200)["id"], me);
    assert_eq!(mine.body["email"], "staff@example.com");
    assert_eq!(mine.body["role"], "standard");

    for other in [owner.user_id, colleague] {
        app.get(
            &format!("/accounts/{}/users/{other}", owner.account_id),
            &token,
        )
        .await
        .problem(403, "forbidden");
    }
}

// ---------------------------------------------------------------- tenancy

async fn another_tenants_resources_answer_404_never_403(app: TestApp) {
    let a = app.bootstrap(&AccountSpec::classic_annual());
    let b = app.bootstrap(&AccountSpec::classic_annual());
    let (_, a_standard) = member(&app, &a, "staff@a.example", "standard").await;
    let b_invitation = app
        .invite(
            &b,
            json!({"email": "someone@b.example", "subscriber_type": "attorney"}),
        )
        .await;
    let b_id = b.account_id;
    let bi = &b_invitation["id"];
    let invite_body = json!({"email": "x@example.com", "subscriber_type": "attorney"});
    let requests: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/accounts/{b_id}"), None),
        ("GET", format!("/accounts/{b_id}/invitations"), None),
        (
            "POST",
            format!("/accounts/{b_id}/invitations"),
            Some(invite_body.clone()),
        ),
        (
            "POST",
            format!("/accounts/{b_id}/invitations/quote"),
            Some(invite_body),
        ),
        ("GET", format!("/accounts/{b_id}/invitations/{bi}"), None),
        ("DELETE", format!("/accounts/{b_id}/invitations/{bi}"), None),
        (
            "POST",
            format!("/accounts/{b_id}/invitations/{bi}/resend"),
            None,
        ),
        ("GET", format!("/accounts/{b_id}/users"), None),
        ("GET", format!("/accounts/{b_id}/users/{}", b.user_id), None),
        (
            "POST",
            format!("/accounts/{b_id}/users/{}/disable", b.user_id),
            None,
        ),
        ("GET", format!("/accounts/{b_id}/licenses"), None),
        ("GET", format!("/accounts/{b_id}/charges"), None),
        ("GET", format!("/accounts/{b_id}/groups"), None),
    ];
    // B's ids under A's own account (for A's manager; A's standard user is
    // rightly refused these paths of its own account with 403).
    let foreign_ids: Vec<(&str, String, Option<Value>)> = vec![
        (
            "GET",
            format!("/accounts/{}/invitations/{bi}", a.account_id),
            None,
        ),
        (
            "DELETE",
            format!("/accounts/{}/invitations/{bi}", a.account_id),
            None,
        ),
        (
            "POST",
            format!("/accounts/{}/invitations/{bi}/resend", a.account_id),
            None,
        ),
        (
            "GET",
            format!("/accounts/{}/users/{}", a.account_id, b.user_id),
            None,
        ),
        (
            "POST",
            format!("/accounts/{}/users/{}/disable", a.account_id, b.user_id),
            None,
        ),
    ];
    let cases = requests
        .iter()
        .map(|r| (&a.token, r))
        .chain(requests.iter().map(|r| (&a_standard, r)))
        .chain(foreign_ids.iter().map(|r| (&a.token, r)));
    crate::helpers::assert_each_answers_like_a_missing_account(&app, &a.token, cases).await;
    // B's invitation and owner are untouched.
    let still = app
        .get(&format!("/accounts/{b_id}/invitations/{bi}"), &b.token)
        .await;
    assert_eq!(still.ok(200)["status"], "pending");
    assert_eq!(still.body["send_count"], 1);
    let owner = app
        .get(&format!("/accounts/{b_id}/users/{}", b.user_id), &b.token)
        .await;
    assert_eq!(owner.ok(200)["status"], "active");
}

async fn an_unknown_route_answers_404_problem_json(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    for path in [
        "/nope",
        "/accounts",
        "/accounts/1/nothing-here",
        "/v2/healthz",
    ] {
        without_token(&app, "GET", path)
            .await
            .problem(404, "not_found");
    }
    app.get(
        &format!("/accounts/{}/unknown", owner.account_id),
        &owner.token,
    )
    .await
    .problem(404, "not_found");
}
