//! Inviting, listing, answering and managing invitations, through HTTP only.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::helpers::{AccountSpec, Owner, Reply, TestApp, assert_fields, error_code, item_ids};

mod acceptance;
mod lifecycle;
mod listing_and_reading;
mod request_bodies_and_conflicts;
mod validation;

// ---------------------------------------------------------------- helpers

fn invitations_of(owner: &Owner) -> String {
    format!("/accounts/{}/invitations", owner.account_id)
}

fn invitation_path(owner: &Owner, invitation: &Value) -> String {
    format!("{}/{}", invitations_of(owner), invitation["id"])
}

async fn try_invite(app: &TestApp, owner: &Owner, body: Value) -> Reply {
    app.post(&invitations_of(owner), &owner.token, body).await
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().expect("a timestamp string"))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

async fn preview(app: &TestApp, token: &str) -> Reply {
    app.request("GET", &format!("/invitations/{token}"), None, None)
        .await
}

async fn decline(app: &TestApp, token: &str) -> Reply {
    app.request("POST", &format!("/invitations/{token}/decline"), None, None)
        .await
}

async fn revoke(app: &TestApp, owner: &Owner, invitation: &Value) -> Reply {
    app.request(
        "DELETE",
        &invitation_path(owner, invitation),
        Some(&owner.token),
        None,
    )
    .await
}

async fn resend(app: &TestApp, owner: &Owner, invitation: &Value) -> Reply {
    app.request(
        "POST",
        &format!("{}/resend", invitation_path(owner, invitation)),
        Some(&owner.token),
        None,
    )
    .await
}

async fn get_invitation(app: &TestApp, owner: &Owner, invitation: &Value) -> Reply {
    app.get(&invitation_path(owner, invitation), &owner.token)
        .await
}

fn attorney(email: &str) -> Value {
    json!({"email": email, "subscriber_type": "attorney"})
}

fn new_standard(email: &str) -> Value {
    json!({"email": email, "role": "standard"})
}
