use serde_json::json;

use crate::db_tests;
use crate::helpers::{AccountSpec, TestApp};

db_tests!(an_invitee_can_accept_and_sign_in,);

async fn an_invitee_can_accept_and_sign_in(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (invitation, token) = app
        .invite_and_read_token(
            &owner,
            json!({
                "email": "  Bob.Jones@Example.com ",
                "subscriber_type": "attorney",
                "role": "administrator",
                "permissions": ["billing", "reports"],
                "message": "Welcome <b>Bob</b>",
            }),
        )
        .await;
    assert_eq!(invitation["email"], "Bob.Jones@Example.com");
    assert_eq!(invitation["status"], "pending");
    assert_eq!(invitation["license_type"], "attorney");
    assert_eq!(invitation["charge"], serde_json::Value::Null);

    let email = app.email_to("Bob.Jones@Example.com").await;
    assert_eq!(email.subject, "You've been invited to Clio");
    assert!(email.text.contains("Ann Smith"));
    assert!(email.text.contains("Smith & Jones LLP"));
    assert!(
        email.html.contains("Welcome &#60;b&#62;Bob&#60;/b&#62;")
            || email.html.contains("Welcome &lt;b&gt;Bob&lt;/b&gt;")
    );
    assert!(email.raw.contains(&format!(
        "https://app.example.test/invitations/accept?token={token}"
    )));

    // The default accept link (INVITATIONS_APP_URL = the service) opens a built-in accept page.
    let page = app
        .client
        .get(format!("{}/invitations/accept?token={token}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Accept the invitation"));

    let preview = app
        .request("GET", &format!("/invitations/{token}"), None, None)
        .await;
    assert_eq!(preview.ok(200)["account_name"], "Smith & Jones LLP");
    assert_eq!(preview.body["inviter_name"], "Ann Smith");

    let accepted = app.accept(&token).await;
    let grant = accepted.ok(201);
    assert_eq!(grant["user"]["role"], "administrator");
    assert_eq!(grant["user"]["permissions"], json!(["billing", "reports"]));
    assert_eq!(grant["token_type"], "Bearer");
    let user_token = grant["access_token"].as_str().unwrap();
    let me = app
        .get(
            &format!(
                "/accounts/{}/users/{}",
                owner.account_id, grant["user"]["id"]
            ),
            user_token,
        )
        .await;
    assert_eq!(me.ok(200)["email"], "Bob.Jones@Example.com");

    let session = app
        .request(
            "POST",
            "/sessions",
            None,
            Some(&json!({"email": "bob.jones@example.com", "password": "bob's password"})),
        )
        .await;
    assert_eq!(session.ok(200)["user"]["id"], grant["user"]["id"]);

    let again = app.read_invitation(&owner, &invitation).await;
    assert_eq!(again.ok(200)["status"], "accepted");
    assert_eq!(again.body["accepted_user_id"], grant["user"]["id"]);
}
