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

async fn read_user(app: &TestApp, owner: &Owner, user_id: i64) -> Value {
    app.get(&user_path(owner, user_id), &owner.token)
        .await
        .ok(200)
        .clone()
}
