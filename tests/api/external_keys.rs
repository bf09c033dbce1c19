//! Tokens from an external identity provider: RS256/EdDSA verified with
//! `INVITATIONS_JWT_PUBLIC_KEY`, with the same `exp`, `iss` and `aud` rules.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::helpers::{AccountSpec, Backend, TestApp};

// A throwaway Ed25519 key pair made for this test only.
const PRIVATE_KEY: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIPvmTD0yH33vV+2ArZQRuJ+1YRN7fGvN8A8Bsgp8TqPU
-----END PRIVATE KEY-----
";
const PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA1//joiRv3dWw0giLBcyM6qpYrXBs56vUSE+/WpSjN9k=
-----END PUBLIC KEY-----
";

fn ed25519_token(account_id: i64, user_id: i64, exp_offset: i64, audience: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": user_id.to_string(), "account_id": account_id,
        "iat": now, "exp": now + exp_offset, "iss": "invitations", "aud": audience,
    });
    let key = EncodingKey::from_ed_pem(PRIVATE_KEY.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &key).unwrap()
}

#[actix_web::test]
async fn eddsa_tokens_signed_by_the_configured_public_key_are_accepted() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[("INVITATIONS_JWT_PUBLIC_KEY", PUBLIC_KEY)],
    )
    .await
    .unwrap();
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let path = format!("/accounts/{}", owner.account_id);

    let good = ed25519_token(owner.account_id, owner.user_id, 600, "invitations");
    app.get(&path, &good).await.ok(200);
    // The service's own HS256 tokens keep working alongside.
    app.get(&path, &owner.token).await.ok(200);

    let expired = ed25519_token(owner.account_id, owner.user_id, -60, "invitations");
    app.get(&path, &expired).await.problem(401, "unauthorized");
    let wrong_audience = ed25519_token(owner.account_id, owner.user_id, 600, "someone-else");
    app.get(&path, &wrong_audience)
        .await
        .problem(401, "unauthorized");
}

#[actix_web::test]
async fn eddsa_tokens_are_refused_when_no_public_key_is_configured() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let token = ed25519_token(owner.account_id, owner.user_id, 600, "invitations");
    app.get(&format!("/accounts/{}", owner.account_id), &token)
        .await
        .problem(401, "unauthorized");
}
