//! Inviting, listing, answering and managing invitations, through HTTP only.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::helpers::{
    AccountSpec, Owner, Reply, TestApp, assert_fields, error_code, invitation_path, item_ids,
    keys_of,
};

mod acceptance;
mod lifecycle;
mod listing_and_reading;
mod request_bodies_and_conflicts;
mod validation;

// ---------------------------------------------------------------- helpers

fn invitations_of(owner: &Owner) -> String {
    format!("/accounts/{}/invitations", owner.account_id)
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

/// Asserts the owner reads the invitation in this `status`.
async fn assert_invitation_status(app: &TestApp, owner: &Owner, invitation: &Value, status: &str) {
    assert_eq!(
        app.read_invitation(owner, invitation).await.ok(200)["status"],
        status
    );
}

/// Asserts that accepting and declining `token` both answer this problem.
async fn assert_accept_and_decline_refused(app: &TestApp, token: &str, status: u16, code: &str) {
    app.accept(token).await.problem(status, code);
    decline(app, token).await.problem(status, code);
}

/// `GET …/invitations?{query}` as the owner.
async fn list_invitations(app: &TestApp, owner: &Owner, query: &str) -> Reply {
    app.get(&format!("{}?{query}", invitations_of(owner)), &owner.token)
        .await
}

fn attorney(email: &str) -> Value {
    json!({"email": email, "subscriber_type": "attorney"})
}

fn new_standard(email: &str) -> Value {
    json!({"email": email, "role": "standard"})
}
