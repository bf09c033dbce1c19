//! Changing a member's role, permissions and groups.

use super::*;

crate::db_tests!(
    a_manager_changes_a_members_role_permissions_and_groups,
    a_role_change_takes_effect_on_the_members_next_request,
    permissions_and_group_ids_replace_the_whole_set,
    an_empty_body_or_a_partial_body_leaves_the_other_fields_unchanged,
    the_primary_subscribers_role_cannot_be_changed_but_permissions_and_groups_can,
);

async fn a_manager_changes_a_members_role_permissions_and_groups(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let tax = app.create_group(&owner, "Tax").await;
    let estates = app.create_group(&owner, "Estates").await;
    let (bob, _) = member(&app, &owner, "bob@example.com", "standard").await;
    let before = read_user(&app, &owner, bob).await;
    assert_eq!(before["role"], "standard");
    assert_eq!(before["permissions"], json!([]));
    assert_eq!(before["group_ids"], json!([]));

    let reply = patch(
        &app,
        &user_path(&owner, bob),
        &owner.token,
        json!({"role": "administrator", "permissions": ["reports", "billing"], "group_ids": [tax, estates]}),
    )
    .await;
    let changed = reply.ok(200);
    assert_eq!(
        reply.header("content-type"),
        Some("application/json; charset=utf-8"),
        "{}",
        reply.text
    );
    assert_eq!(changed["id"], bob);
    assert_eq!(changed["role"], "administrator");
    assert_eq!(changed["permissions"], json!(["billing", "reports"]));
    assert_eq!(ids(&changed["group_ids"]), sorted(vec![tax, estates]));
    // Everything else is as it was.
    for same in [
        "account_id",
        "email",
        "first_name",
        "last_name",
        "subscriber_type",
        "status",
        "created_at",
    ] {
        assert_eq!(changed[same], before[same], "{same}");
    }

    // Reading the user, and listing users, show the change.
    let read = read_user(&app, &owner, bob).await;
    assert_eq!(&read, changed);
    let in_list = listed_item(&app, &owner, "users", &json!(bob)).await;
    assert_eq!(&in_list, changed);

    // An administrator (not only the primary subscriber) may change members too.
    let (_, carol_token) = member(&app, &owner, "carol@example.com", "administrator").await;
    let by_admin = patch(
        &app,
        &user_path(&owner, bob),
        &carol_token,
        json!({"role": "standard", "group_ids": [estates]}),
    )
    .await;
    assert_eq!(by_admin.ok(200)["role"], "standard");
    assert_eq!(by_admin.body["group_ids"], json!([estates]));
    assert_eq!(by_admin.body["permissions"], json!(["billing", "reports"]));
}

async fn a_role_change_takes_effect_on_the_members_next_request(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let (bob, bob_token) = member(&app, &owner, "bob@example.com", "standard").await;
    let users = format!("/accounts/{}/users", owner.account_id);
    app.get(&users, &bob_token).await.problem(403, "forbidden");

    patch(
        &app,
        &user_path(&owner, bob),
        &owner.token,
        json!({"role": "administrator"}),
    )
    .await
    .ok(200);
    // The same token: the principal is re-read on every request.
    app.get(&users, &bob_token).await.ok(200);
    app.create_group(
        &Owner {
            token: bob_token.clone(),
            ..owner.clone()
        },
        "Made by Bob",
    )
    .await;

    patch(
        &app,
        &user_path(&owner, bob),
        &owner.token,
        json!({"role": "standard"}),
    )
    .await
    .ok(200);
    app.get(&users, &bob_token).await.problem(403, "forbidden");
    // They may still read themselves.
    assert_eq!(
        app.get(&user_path(&owner, bob), &bob_token).await.ok(200)["role"],
        "standard"
    );
}

async fn permissions_and_group_ids_replace_the_whole_set(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let a = app.create_group(&owner, "A").await;
    let b = app.create_group(&owner, "B").await;
    let c = app.create_group(&owner, "C").await;
    let (bob, _) = member(&app, &owner, "bob@example.com", "standard").await;
    let path = user_path(&owner, bob);

    let first = patch(
        &app,
        &path,
        &owner.token,
        json!({"permissions": ["accounts", "billing"], "group_ids": [a, b]}),
    )
    .await;
    assert_eq!(first.ok(200)["permissions"], json!(["accounts", "billing"]));
    assert_eq!(ids(&first.body["group_ids"]), sorted(vec![a, b]));

    let second = patch(
        &app,
        &path,
        &owner.token,
        json!({"permissions": ["reports"], "group_ids": [c, b]}),
    )
    .await;
    assert_eq!(second.ok(200)["permissions"], json!(["reports"]));
    assert_eq!(ids(&second.body["group_ids"]), sorted(vec![b, c]));

    let cleared = patch(
        &app,
        &path,
        &owner.token,
        json!({"permissions": [], "group_ids": []}),
    )
    .await;
    assert_eq!(cleared.ok(200)["permissions"], json!([]));
    assert_eq!(cleared.body["group_ids"], json!([]));
    let read = read_user(&app, &owner, bob).await;
    assert_eq!(read["permissions"], json!([]));
    assert_eq!(read["group_ids"], json!([]));
}

async fn an_empty_body_or_a_partial_body_leaves_the_other_fields_unchanged(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let (bob, path, tax) = bob_in_tax_with_billing(&app, &owner, "administrator").await;
    let before = read_user(&app, &owner, bob).await;

    let empty = patch(&app, &path, &owner.token, json!({})).await;
    assert_eq!(empty.ok(200), &before);
    assert_eq!(read_user(&app, &owner, bob).await, before);

    let role_only = patch(&app, &path, &owner.token, json!({"role": "standard"})).await;
    assert_eq!(role_only.ok(200)["role"], "standard");
    assert_eq!(role_only.body["permissions"], json!(["billing"]));
    assert_eq!(role_only.body["group_ids"], json!([tax]));

    let permissions_only = patch(&app, &path, &owner.token, json!({"permissions": []})).await;
    assert_eq!(permissions_only.ok(200)["role"], "standard");
    assert_eq!(permissions_only.body["permissions"], json!([]));
    assert_eq!(permissions_only.body["group_ids"], json!([tax]));

    let groups_only = patch(&app, &path, &owner.token, json!({"group_ids": []})).await;
    assert_eq!(groups_only.ok(200)["role"], "standard");
    assert_eq!(groups_only.body["permissions"], json!([]));
    assert_eq!(groups_only.body["group_ids"], json!([]));

    // The same role again is fine.
    patch(&app, &path, &owner.token, json!({"role": "standard"}))
        .await
        .ok(200);
}

async fn the_primary_subscribers_role_cannot_be_changed_but_permissions_and_groups_can(
    app: TestApp,
) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let tax = app.create_group(&owner, "Tax").await;
    let (_, admin) = member(&app, &owner, "admin@example.com", "administrator").await;
    let path = user_path(&owner, owner.user_id);
    let before = read_user(&app, &owner, owner.user_id).await;
    assert_eq!(before["role"], "primary_subscriber");

    for (token, role) in [
        (&owner.token, "administrator"),
        (&owner.token, "standard"),
        (&admin, "standard"),
        (&admin, "administrator"),
    ] {
        let reply = patch(
            &app,
            &path,
            token,
            json!({"role": role, "permissions": ["billing"], "group_ids": [tax]}),
        )
        .await;
        reply.problem(409, "primary_subscriber_protected");
    }
    // Refused as a whole: the permissions and groups sent along did not change either.
    assert_eq!(read_user(&app, &owner, owner.user_id).await, before);

    let changed = patch(
        &app,
        &path,
        &admin,
        json!({"permissions": ["billing"], "group_ids": [tax]}),
    )
    .await;
    assert_eq!(changed.ok(200)["role"], "primary_subscriber");
    assert_eq!(changed.body["permissions"], json!(["billing"]));
    assert_eq!(changed.body["group_ids"], json!([tax]));
    let own = patch(&app, &path, &owner.token, json!({"permissions": []})).await;
    assert_eq!(own.ok(200)["role"], "primary_subscriber");
    assert_eq!(own.body["permissions"], json!([]));
}
