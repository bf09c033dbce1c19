//! Managing firm members (`PATCH .../users/{id}`) and groups
//! (`GET/PATCH/DELETE .../groups/{id}`), through HTTP only.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::db_tests;
use crate::helpers::{AccountSpec, Owner, Reply, TestApp, assert_fields, error_code};

db_tests!(
    // PATCH /accounts/{id}/users/{user_id}.
    a_manager_changes_a_members_role_permissions_and_groups,
    a_role_change_takes_effect_on_the_members_next_request,
    permissions_and_group_ids_replace_the_whole_set,
    an_empty_body_or_a_partial_body_leaves_the_other_fields_unchanged,
    the_primary_subscribers_role_cannot_be_changed_but_permissions_and_groups_can,
    primary_subscriber_cannot_be_given_as_a_role,
    group_ids_must_be_distinct_groups_of_this_account_at_most_100,
    another_accounts_group_id_is_422_not_found_exactly_like_an_unknown_one,
    every_invalid_field_is_listed_in_one_422_and_nothing_changes,
    null_is_not_unchanged_but_a_422,
    a_body_that_is_not_json_answers_400_malformed_json,
    a_disabled_user_can_be_changed_and_stays_disabled,
    // Groups.
    a_group_is_read_by_id_as_id_name_and_created_at,
    a_group_is_renamed_with_the_same_name_rules_as_creation,
    renaming_to_another_groups_name_in_any_case_answers_409_group_name_taken,
    deleting_a_group_answers_204_and_it_is_gone,
    deleting_a_group_removes_it_from_members_and_invitations,
    // Who may.
    a_standard_user_gets_403_on_every_new_endpoint_even_with_a_bad_body,
    another_tenants_users_and_groups_answer_404,
);

// ---------------------------------------------------------------- helpers

fn user_path(owner: &Owner, user_id: i64) -> String {
    format!("/accounts/{}/users/{user_id}", owner.account_id)
}

fn groups_path(owner: &Owner) -> String {
    format!("/accounts/{}/groups", owner.account_id)
}

fn group_path(owner: &Owner, group_id: i64) -> String {
    format!("{}/{group_id}", groups_path(owner))
}

async fn patch(app: &TestApp, path: &str, token: &str, body: Value) -> Reply {
    app.request("PATCH", path, Some(token), Some(&body)).await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> Reply {
    app.request("DELETE", path, Some(token), None).await
}

/// A member of a `new` account (licenses are bought, never refused): (user id, token).
async fn member(app: &TestApp, owner: &Owner, email: &str, role: &str) -> (i64, String) {
    app.join(owner, json!({"email": email, "role": role})).await
}

fn ids(value: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_i64().expect("id"))
        .collect();
    ids.sort_unstable();
    ids
}

fn sorted(mut ids: Vec<i64>) -> Vec<i64> {
    ids.sort_unstable();
    ids
}

async fn read_user(app: &TestApp, owner: &Owner, user_id: i64) -> Value {
    app.get(&user_path(owner, user_id), &owner.token)
        .await
        .ok(200)
        .clone()
}

// ---------------------------------------------------------------- PATCH user

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
    let listed = app
        .get(
            &format!("/accounts/{}/users", owner.account_id),
            &owner.token,
        )
        .await;
    let in_list = listed.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|u| u["id"] == bob)
        .expect("bob is listed")
        .clone();
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
    let tax = app.create_group(&owner, "Tax").await;
    let (bob, _) = member(&app, &owner, "bob@example.com", "administrator").await;
    let path = user_path(&owner, bob);
    patch(
        &app,
        &path,
        &owner.token,
        json!({"permissions": ["billing"], "group_ids": [tax]}),
    )
    .await
    .ok(200);
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
    let tax = app.create_group(&owner, "Tax").await;
    let (bob, _) = member(&app, &owner, "bob@example.com", "standard").await;
    let path = user_path(&owner, bob);
    patch(
        &app,
        &path,
        &owner.token,
        json!({"permissions": ["billing"], "group_ids": [tax]}),
    )
    .await
    .ok(200);
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

// ---------------------------------------------------------------- groups

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
    let keys: BTreeSet<&str> = group
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
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
    let listed = app
        .get(
            &format!("/accounts/{}/invitations", owner.account_id),
            &owner.token,
        )
        .await;
    let in_list = listed.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == pending["id"])
        .expect("listed")
        .clone();
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

// ---------------------------------------------------------------- who may

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
    let raw = app
        .client
        .patch(format!("{}{}", app.base, user_path(&owner, staff)))
        .bearer_auth(&staff_token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    TestApp::reply(raw).await.problem(403, "forbidden");

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
    let nonexistent = app.get("/accounts/987654", &a.token).await;
    nonexistent.problem(404, "not_found");
    let cases = in_b
        .iter()
        .map(|r| (&a.token, r))
        .chain(in_b.iter().map(|r| (&a_standard, r)))
        .chain(under_a.iter().map(|r| (&a.token, r)));
    for (token, (method, path, body)) in cases {
        let reply = app.request(method, path, Some(token), body.as_ref()).await;
        assert_eq!(reply.status, 404, "{method} {path}: {}", reply.text);
        reply.problem(404, "not_found");
        for same in ["type", "title", "detail", "code"] {
            assert_eq!(reply.body[same], nonexistent.body[same], "{method} {path}");
        }
    }

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
