//! Managing firm members (`PATCH .../users/{id}`) and groups
//! (`GET/PATCH/DELETE .../groups/{id}`), through HTTP only.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{AccountSpec, Owner, Reply, TestApp, assert_fields, error_code};

mod access;
mod groups;
mod member_changes;
mod member_validation;

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

/// Bob, a member with `role`, granted `billing` and put in a new group "Tax":
/// (Bob's id, his user path, the group's id).
async fn bob_in_tax_with_billing(app: &TestApp, owner: &Owner, role: &str) -> (i64, String, i64) {
    let tax = app.create_group(owner, "Tax").await;
    let (bob, _) = member(app, owner, "bob@example.com", role).await;
    let path = user_path(owner, bob);
    patch(
        app,
        &path,
        &owner.token,
        json!({"permissions": ["billing"], "group_ids": [tax]}),
    )
    .await
    .ok(200);
    (bob, path, tax)
}

/// The item with this `id` in the first page of `GET /accounts/{id}/{collection}`.
async fn listed_item(app: &TestApp, owner: &Owner, collection: &str, id: &Value) -> Value {
    let listed = app
        .get(
            &format!("/accounts/{}/{collection}", owner.account_id),
            &owner.token,
        )
        .await;
    listed.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|item| &item["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not listed in {collection}"))
        .clone()
}

async fn read_user(app: &TestApp, owner: &Owner, user_id: i64) -> Value {
    app.get(&user_path(owner, user_id), &owner.token)
        .await
        .ok(200)
        .clone()
}
