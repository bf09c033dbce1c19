//! Reading, renaming and deleting groups.

use super::*;

crate::db_tests!(
    a_group_is_read_by_id_as_id_name_and_created_at,
    a_group_is_renamed_with_the_same_name_rules_as_creation,
    renaming_to_another_groups_name_in_any_case_answers_409_group_name_taken,
    deleting_a_group_answers_204_and_it_is_gone,
    deleting_a_group_removes_it_from_members_and_invitations,
);

async fn a_group_is_read_by_id_as_id_name_and_created_at(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let created = app
        .post(
            &groups_path(&owner),
            &owner.token,
            json!({"name": "  Tax  "}),
        )
        .await;
    let created = created.ok(201).clone();
    let id = created["id"].as_i64().expect("id");
    let reply = app.get(&group_path(&owner, id), &owner.token).await;
    let group = reply.ok(200);
    assert_eq!(group, &created);
    assert_eq!(group["name"], "Tax");
    let keys = crate::helpers::keys_of(group);
    assert_eq!(keys, BTreeSet::from(["id", "name", "created_at"]));

    app.get(&group_path(&owner, 987_654), &owner.token)
        .await
        .problem(404, "not_found");
}

async fn a_group_is_renamed_with_the_same_name_rules_as_creation(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let tax = app.create_group(&owner, "Tax").await;
    let path = group_path(&owner, tax);
    let before = app.get(&path, &owner.token).await.ok(200).clone();

    let renamed = patch(&app, &path, &owner.token, json!({"name": "  Tax law  "})).await;
    let renamed = renamed.ok(200);
    assert_eq!(renamed["id"], tax);
    assert_eq!(renamed["name"], "Tax law");
    assert_eq!(renamed["created_at"], before["created_at"]);
    assert_eq!(app.get(&path, &owner.token).await.ok(200), renamed);
    let listed = app.get(&groups_path(&owner), &owner.token).await;
    assert_eq!(listed.ok(200)["items"], json!([renamed]));

    // Another spelling of its own name is not a conflict with itself.
    let respelled = patch(&app, &path, &owner.token, json!({"name": "TAX LAW"})).await;
    assert_eq!(respelled.ok(200)["name"], "TAX LAW");

    let long = "x".repeat(101);
    for (body, code) in [
        (json!({"name": ""}), "required"),
        (json!({"name": "   "}), "required"),
        (json!({}), "required"),
        (json!({ "name": long }), "too_long"),
        (json!({"name": 5}), "invalid_type"),
    ] {
        let reply = patch(&app, &path, &owner.token, body.clone()).await;
        assert_fields(&reply, &["name"]);
        assert_eq!(error_code(&reply, "name"), code, "{body}");
    }
    let reply = patch(
        &app,
        &path,
        &owner.token,
        json!({"name": "Estates", "colour": "red"}),
    )
    .await;
    assert_fields(&reply, &["colour"]);
    assert_eq!(error_code(&reply, "colour"), "unknown_field");
    // A wrong type and an unknown field are listed together.
    let reply = patch(
        &app,
        &path,
        &owner.token,
        json!({"name": 5, "colour": "red"}),
    )
    .await;
    assert_fields(&reply, &["name", "colour"]);
    assert_eq!(
        app.get(&path, &owner.token).await.ok(200)["name"],
        "TAX LAW"
    );
    // 100 characters is fine.
    let longest = "y".repeat(100);
    let reply = patch(&app, &path, &owner.token, json!({ "name": longest })).await;
    assert_eq!(reply.ok(200)["name"], longest.as_str());

    // An unknown group is 404 before its body is judged.
    for body in [json!({"name": ""}), json!({"name": 5, "colour": "red"})] {
        patch(&app, &group_path(&owner, 987_654), &owner.token, body)
            .await
            .problem(404, "not_found");
    }
}

async fn renaming_to_another_groups_name_in_any_case_answers_409_group_name_taken(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let tax = app.create_group(&owner, "Tax").await;
    app.create_group(&owner, "Estates").await;
    for name in ["Estates", "estates", " ESTATES "] {
        patch(
            &app,
            &group_path(&owner, tax),
            &owner.token,
            json!({ "name": name }),
        )
        .await
        .problem(409, "group_name_taken");
    }
    assert_eq!(
        app.get(&group_path(&owner, tax), &owner.token)
            .await
            .ok(200)["name"],
        "Tax"
    );
    // Unique per account only: another account may use the name.
    let other = app.bootstrap(&AccountSpec::classic_annual());
    let theirs = app.create_group(&other, "Theirs").await;
    let reply = patch(
        &app,
        &group_path(&other, theirs),
        &other.token,
        json!({"name": "Estates"}),
    )
    .await;
    assert_eq!(reply.ok(200)["name"], "Estates");
    // The old name is free again once renamed away.
    let reply = patch(
        &app,
        &group_path(&owner, tax),
        &owner.token,
        json!({"name": "Probate"}),
    )
    .await;
    reply.ok(200);
    app.create_group(&owner, "tax").await;
}

async fn deleting_a_group_answers_204_and_it_is_gone(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let tax = app.create_group(&owner, "Tax").await;
    let estates = app.create_group(&owner, "Estates").await;
    let path = group_path(&owner, tax);

    let reply = delete(&app, &path, &owner.token).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(reply.text, "");

    app.get(&path, &owner.token).await.problem(404, "not_found");
    delete(&app, &path, &owner.token)
        .await
        .problem(404, "not_found");
    patch(&app, &path, &owner.token, json!({"name": "Back"}))
        .await
        .problem(404, "not_found");
    let listed = app.get(&groups_path(&owner), &owner.token).await;
    let remaining: Vec<i64> = listed.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|g| g["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(remaining, [estates]);
    // Its name is free again.
    app.create_group(&owner, "TAX").await;
}

async fn deleting_a_group_removes_it_from_members_and_invitations(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let tax = app.create_group(&owner, "Tax").await;
    let estates = app.create_group(&owner, "Estates").await;
    let (bob, _) = member(&app, &owner, "bob@example.com", "standard").await;
    patch(
        &app,
        &user_path(&owner, bob),
        &owner.token,
        json!({"group_ids": [tax, estates]}),
    )
    .await
    .ok(200);
    let (pending, token) = app
        .invite_and_read_token(
            &owner,
            json!({"email": "carol@example.com", "role": "standard", "group_ids": [tax, estates]}),
        )
        .await;
    assert_eq!(ids(&pending["group_ids"]), sorted(vec![tax, estates]));
    let invitation_path = format!(
        "/accounts/{}/invitations/{}",
        owner.account_id, pending["id"]
    );

    let reply = delete(&app, &group_path(&owner, tax), &owner.token).await;
    assert_eq!(reply.status, 204, "{}", reply.text);

    // The user and the invitation stay, without the group.
    let read = read_user(&app, &owner, bob).await;
    assert_eq!(read["group_ids"], json!([estates]));
    assert_eq!(read["status"], "active");
    let invitation = app.get(&invitation_path, &owner.token).await;
    assert_eq!(invitation.ok(200)["group_ids"], json!([estates]));
    assert_eq!(invitation.body["status"], "pending");
    let in_list = listed_item(&app, &owner, "invitations", &pending["id"]).await;
    assert_eq!(in_list["group_ids"], json!([estates]));

    // Accepting it later joins only the groups that still exist.
    let accepted = app.accept(&token).await;
    assert_eq!(accepted.ok(201)["user"]["group_ids"], json!([estates]));

    // Deleting the last group leaves empty lists.
    let reply = delete(&app, &group_path(&owner, estates), &owner.token).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(read_user(&app, &owner, bob).await["group_ids"], json!([]));
    assert_eq!(
        app.get(&invitation_path, &owner.token).await.ok(200)["group_ids"],
        json!([])
    );
}
