//! Who may call the management endpoints, and tenant isolation.

use super::*;

crate::db_tests!(
    a_standard_user_gets_403_on_every_new_endpoint_even_with_a_bad_body,
    another_tenants_users_and_groups_answer_404,
);

async fn a_standard_user_gets_403_on_every_new_endpoint_even_with_a_bad_body(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let tax = app.create_group(&owner, "Tax").await;
    let (staff, staff_token) = member(&app, &owner, "staff@example.com", "standard").await;
    let (colleague, _) = member(&app, &owner, "colleague@example.com", "standard").await;

    let requests: Vec<(&str, String, Option<Value>)> = vec![
        (
            "PATCH",
            user_path(&owner, colleague),
            Some(json!({"role": "administrator"})),
        ),
        // Not even themselves: a member cannot promote themselves.
        (
            "PATCH",
            user_path(&owner, staff),
            Some(json!({"role": "administrator"})),
        ),
        (
            "PATCH",
            user_path(&owner, staff),
            Some(json!({"role": "owner", "colour": 1})),
        ),
        (
            "PATCH",
            user_path(&owner, owner.user_id),
            Some(json!({"role": "standard"})),
        ),
        ("PATCH", user_path(&owner, 987_654), Some(json!({}))),
        ("GET", group_path(&owner, tax), None),
        (
            "PATCH",
            group_path(&owner, tax),
            Some(json!({"name": "Mine"})),
        ),
        ("PATCH", group_path(&owner, tax), Some(json!({"name": 5}))),
        ("DELETE", group_path(&owner, tax), None),
        ("GET", group_path(&owner, 987_654), None),
    ];
    for (method, path, body) in &requests {
        let reply = app
            .request(method, path, Some(&staff_token), body.as_ref())
            .await;
        assert_eq!(reply.status, 403, "{method} {path}: {}", reply.text);
        reply.problem(403, "forbidden");
    }
    // A body that is not JSON is not judged either.
    app.send_not_json(
        reqwest::Method::PATCH,
        &user_path(&owner, staff),
        &staff_token,
    )
    .await
    .problem(403, "forbidden");

    // Nothing changed.
    assert_eq!(read_user(&app, &owner, staff).await["role"], "standard");
    assert_eq!(read_user(&app, &owner, colleague).await["role"], "standard");
    assert_eq!(
        app.get(&group_path(&owner, tax), &owner.token)
            .await
            .ok(200)["name"],
        "Tax"
    );
}

async fn another_tenants_users_and_groups_answer_404(app: TestApp) {
    let a = app.bootstrap(&AccountSpec::new_monthly());
    let b = app.bootstrap(&AccountSpec::new_monthly());
    let (_, a_standard) = member(&app, &a, "staff@a.example", "standard").await;
    let (b_member, _) = member(&app, &b, "member@b.example", "standard").await;
    let b_group = app.create_group(&b, "Theirs").await;
    let b_id = b.account_id;

    // B's account, whatever the body.
    let in_b: Vec<(&str, String, Option<Value>)> = vec![
        (
            "PATCH",
            format!("/accounts/{b_id}/users/{b_member}"),
            Some(json!({"role": "administrator"})),
        ),
        (
            "PATCH",
            format!("/accounts/{b_id}/users/{b_member}"),
            Some(json!({"role": 5, "colour": "red"})),
        ),
        (
            "PATCH",
            format!("/accounts/{b_id}/users/{}", b.user_id),
            Some(json!({})),
        ),
        ("GET", format!("/accounts/{b_id}/groups/{b_group}"), None),
        (
            "PATCH",
            format!("/accounts/{b_id}/groups/{b_group}"),
            Some(json!({"name": "Ours"})),
        ),
        (
            "PATCH",
            format!("/accounts/{b_id}/groups/{b_group}"),
            Some(json!({"name": ""})),
        ),
        ("DELETE", format!("/accounts/{b_id}/groups/{b_group}"), None),
    ];
    // B's ids under A's own account, and ids that exist nowhere.
    let under_a: Vec<(&str, String, Option<Value>)> = vec![
        (
            "PATCH",
            user_path(&a, b_member),
            Some(json!({"role": "administrator"})),
        ),
        ("PATCH", user_path(&a, b_member), Some(json!({"role": 5}))),
        ("PATCH", user_path(&a, 987_654), Some(json!({}))),
        ("GET", group_path(&a, b_group), None),
        (
            "PATCH",
            group_path(&a, b_group),
            Some(json!({"name": "Ours"})),
        ),
        ("PATCH", group_path(&a, b_group), Some(json!({"name": ""}))),
        ("PATCH", group_path(&a, b_group), Some(json!({"name": 5}))),
        ("DELETE", group_path(&a, b_group), None),
        ("DELETE", group_path(&a, 987_654), None),
    ];
    let cases = in_b
        .iter()
        .map(|r| (&a.token, r))
        .chain(in_b.iter().map(|r| (&a_standard, r)))
        .chain(under_a.iter().map(|r| (&a.token, r)));
    crate::helpers::assert_each_answers_like_a_missing_account(&app, &a.token, cases).await;

    // B's user and group are untouched.
    let theirs = app
        .get(&format!("/accounts/{b_id}/users/{b_member}"), &b.token)
        .await;
    assert_eq!(theirs.ok(200)["role"], "standard");
    let group = app
        .get(&format!("/accounts/{b_id}/groups/{b_group}"), &b.token)
        .await;
    assert_eq!(group.ok(200)["name"], "Theirs");
}
