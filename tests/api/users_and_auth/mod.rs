//! Authentication, authorization, tenancy, sessions, firm members and the
//! operational endpoints, through HTTP only.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{AccountSpec, Owner, Reply, TestApp, item_ids};

mod authentication;
mod authorization;
mod service_endpoints;
mod sign_in;
mod users;

// ---------------------------------------------------------------- helpers

/// The secret the harness configures (`INVITATIONS_JWT_SECRET`).
const SECRET: &str = "test secret that is long enough for HS256";

fn sign(secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).expect("key"),
    )
    .expect("sign")
}

/// Claims of the shape the service issues, valid for an hour from the service clock.
fn claims_for(app: &TestApp, owner: &Owner) -> Value {
    let now = app.clock.now().and_utc().timestamp();
    json!({
        "sub": owner.user_id.to_string(),
        "account_id": owner.account_id,
        "iat": now,
        "exp": now + 3_600,
        "iss": "invitations",
        "aud": "invitations",
    })
}

fn account_path(owner: &Owner) -> String {
    format!("/accounts/{}", owner.account_id)
}

async fn without_token(app: &TestApp, method: &str, path: &str) -> Reply {
    app.request(method, path, None, None).await
}

/// Sends `Authorization` exactly as given.
async fn with_authorization(app: &TestApp, path: &str, authorization: &str) -> Reply {
    let response = app
        .client
        .get(format!("{}{path}", app.base))
        .header("authorization", authorization)
        .send()
        .await
        .expect("request");
    TestApp::reply(response).await
}

/// A firm member who joined by invitation: (user id, access token).
async fn member(app: &TestApp, owner: &Owner, email: &str, role: &str) -> (i64, String) {
    app.join(
        owner,
        json!({"email": email, "subscriber_type": "attorney", "role": role}),
    )
    .await
}

async fn disable(app: &TestApp, owner: &Owner, user_id: i64) -> Reply {
    app.request(
        "POST",
        &format!("/accounts/{}/users/{user_id}/disable", owner.account_id),
        Some(&owner.token),
        None,
    )
    .await
}

async fn sign_in(app: &TestApp, body: Value) -> Reply {
    app.request("POST", "/sessions", None, Some(&body)).await
}
