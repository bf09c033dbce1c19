//! What a member change refuses, and that a refused change changes nothing.

use super::*;

crate::db_tests!(
    primary_subscriber_cannot_be_given_as_a_role,
    group_ids_must_be_distinct_groups_of_this_account_at_most_100,
    another_accounts_group_id_is_422_not_found_exactly_like_an_unknown_one,
    every_invalid_field_is_listed_in_one_422_and_nothing_changes,
    null_is_not_unchanged_but_a_422,
    a_body_that_is_not_json_answers_400_malformed_json,
    a_disabled_user_can_be_changed_and_stays_disabled,
);

async fn primary_subscriber_cannot_be_given_as_a_role(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let (bob, _) = member(&app, &owner, "bob@example.com", "standard").await;
    for role in [json!("primary_subscriber"), json!("owner"), json!(7)] {
        let reply = patch(
            &app,
            &user_path(&owner, bob),
            &owner.token,
            json!({ "role": role }),
        )
        .await;
        assert_fields(&reply, &["role"]);
    }
    // Not even to the primary subscriber themselves: the field is judged first.
    let reply = patch(
        &app,
        &user_path(&owner, owner.user_id),
        &owner.token,
        json!({"role": "primary_subscriber"}),
    )
    .await;
    assert_fields(&reply, &["role"]);
    assert_eq!(read_user(&app, &owner, bob).await["role"], "standard");
}

async fn group_ids_must_be_distinct_groups_of_this_account_at_most_100(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let tax = app.create_group(&owner, "Tax").await;
    let (bob, _) = member(&app, &owner, "bob@example.com", "standard").await;
    let path = user_path(&owner, bob);

    let duplicate = patch(&app, &path, &owner.token, json!({"group_ids": [tax, tax]})).await;
    assert_fields(&duplicate, &["group_ids[1]"]);
    assert_eq!(error_code(&duplicate, "group_ids[1]"), "duplicate");

    let unknown = patch(
        &app,
        &path,
        &owner.token,
        json!({"group_ids": [tax, 987_654]}),
    )
    .await;
    assert_fields(&unknown, &["group_ids[1]"]);
    assert_eq!(error_code(&unknown, "group_ids[1]"), "not_found");

    let too_many: Vec<i64> = (0..101).map(|i| tax + i).collect();
    let reply = patch(&app, &path, &owner.token, json!({ "group_ids": too_many })).await;
    assert_fields(&reply, &["group_ids"]);
    assert_eq!(error_code(&reply, "group_ids"), "too_long");

    let not_ids = patch(&app, &path, &owner.token, json!({"group_ids": ["tax"]})).await;
    assert_fields(&not_ids, &["group_ids"]);
    assert_eq!(error_code(&not_ids, "group_ids"), "invalid_type");

    assert_eq!(read_user(&app, &owner, bob).await["group_ids"], json!([]));
}

async fn another_accounts_group_id_is_422_not_found_exactly_like_an_unknown_one(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let other = app.bootstrap(&AccountSpec::new_monthly());
    let foreign = app.create_group(&other, "Litigation").await;
    let (bob, _) = member(&app, &owner, "bob@example.com", "standard").await;
    let path = user_path(&owner, bob);

    let foreign_reply = patch(&app, &path, &owner.token, json!({"group_ids": [foreign]})).await;
    assert_fields(&foreign_reply, &["group_ids[0]"]);
    assert_eq!(error_code(&foreign_reply, "group_ids[0]"), "not_found");
    let unknown_reply = patch(&app, &path, &owner.token, json!({"group_ids": [987_654]})).await;
    assert_fields(&unknown_reply, &["group_ids[0]"]);
    let message = |r: &Reply, id: i64| {
        r.body["errors"][0]["message"]
            .as_str()
            .expect("message")
            .replace(&id.to_string(), "ID")
    };
    assert_eq!(
        message(&foreign_reply, foreign),
        message(&unknown_reply, 987_654)
    );

    // The same rule, and the same answer, as an invitation naming that group.
    let invited = app
        .post(
            &format!("/accounts/{}/invitations", owner.account_id),
            &owner.token,
            json!({"email": "x@example.com", "role": "standard", "group_ids": [foreign]}),
        )
        .await;
    assert_fields(&invited, &["group_ids[0]"]);
    assert_eq!(invited.body["errors"], foreign_reply.body["errors"]);
}

async fn every_invalid_field_is_listed_in_one_422_and_nothing_changes(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let tax = app.create_group(&owner, "Tax").await;
    let (bob, _) = member(&app, &owner, "bob@example.com", "standard").await;
    let path = user_path(&owner, bob);
    let before = read_user(&app, &owner, bob).await;

    // Rule violations of several fields, and an unknown field, at once.
    let reply = patch(
        &app,
        &path,
        &owner.token,
        json!({
            "role": "owner",
            "permissions": ["billing", "reports", "billing"],
            "group_ids": [tax, 987_654, tax],
            "colour": "red",
        }),
    )
    .await;
    assert_fields(
        &reply,
        &[
            "role",
            "permissions[2]",
            "group_ids[1]",
            "group_ids[2]",
            "colour",
        ],
    );
    assert_eq!(error_code(&reply, "role"), "invalid_value");
    assert_eq!(error_code(&reply, "permissions[2]"), "duplicate");
    assert_eq!(error_code(&reply, "group_ids[1]"), "not_found");
    assert_eq!(error_code(&reply, "group_ids[2]"), "duplicate");
    assert_eq!(error_code(&reply, "colour"), "unknown_field");

    // A wrong type does not hide a rule violation in another field.
    let reply = patch(
        &app,
        &path,
        &owner.token,
        json!({"permissions": "billing", "group_ids": [987_654], "role": "administrator"}),
    )
    .await;
    assert_fields(&reply, &["permissions", "group_ids[0]"]);
    assert_eq!(error_code(&reply, "permissions"), "invalid_type");

    // A name that is not in the catalog.
    let reply = patch(
        &app,
        &path,
        &owner.token,
        json!({"permissions": ["administrator"]}),
    )
    .await;
    assert_fields(&reply, &["permissions"]);
    assert_eq!(error_code(&reply, "permissions"), "invalid_value");

    // A typo of a real field.
    let reply = patch(&app, &path, &owner.token, json!({"group_id": [tax]})).await;
    assert_fields(&reply, &["group_id"]);
    assert_eq!(error_code(&reply, "group_id"), "unknown_field");

    // Not an object.
    let reply = patch(&app, &path, &owner.token, json!(["role"])).await;
    reply.problem(422, "validation_failed");

    // None of it changed anything, not even the valid `role` sent along.
    assert_eq!(read_user(&app, &owner, bob).await, before);
}

async fn null_is_not_unchanged_but_a_422(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let (bob, path, tax) = bob_in_tax_with_billing(&app, &owner, "standard").await;
    let reply = patch(
        &app,
        &path,
        &owner.token,
        json!({"role": null, "permissions": null, "group_ids": null}),
    )
    .await;
    assert_fields(&reply, &["role", "permissions", "group_ids"]);
    for field in ["role", "permissions", "group_ids"] {
        assert_eq!(error_code(&reply, field), "invalid_type");
    }
    let read = read_user(&app, &owner, bob).await;
    assert_eq!(read["permissions"], json!(["billing"]));
    assert_eq!(read["group_ids"], json!([tax]));
}

async fn a_body_that_is_not_json_answers_400_malformed_json(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let group = app.create_group(&owner, "Tax").await;
    for path in [user_path(&owner, owner.user_id), group_path(&owner, group)] {
        for (content_type, body) in [
            ("application/json", "{\"role\": "),
            ("text/plain", "{\"name\": \"x\"}"),
        ] {
            let raw = app
                .client
                .patch(format!("{}{path}", app.base))
                .bearer_auth(&owner.token)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            TestApp::reply(raw).await.problem(400, "malformed_json");
        }
    }
}

async fn a_disabled_user_can_be_changed_and_stays_disabled(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let (bob, _) = member(&app, &owner, "bob@example.com", "standard").await;
    app.request(
        "POST",
        &format!("{}/disable", user_path(&owner, bob)),
        Some(&owner.token),
        None,
    )
    .await
    .ok(200);
    let licenses_before = app.licenses(&owner).await;
    let reply = patch(
        &app,
        &user_path(&owner, bob),
        &owner.token,
        json!({"role": "administrator", "permissions": ["reports"]}),
    )
    .await;
    assert_eq!(reply.ok(200)["status"], "disabled");
    assert_eq!(reply.body["role"], "administrator");
    // Changing a member never touches licenses.
    assert_eq!(app.licenses(&owner).await, licenses_before);
}
