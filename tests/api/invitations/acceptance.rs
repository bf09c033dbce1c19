//! Delivery, token secrecy, and what accepting creates.

use super::*;

crate::db_tests!(
    delivery_becomes_sent_once_the_worker_wrote_the_email,
    the_token_never_appears_in_any_api_response,
    accepting_needs_names_and_a_password_of_at_least_8_characters,
    the_accepted_user_has_the_role_subscriber_type_permissions_and_groups_of_the_invitation,
);

async fn delivery_becomes_sent_once_the_worker_wrote_the_email(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let invitation = app.invite(&owner, attorney("mail@example.com")).await;
    assert_eq!(invitation["delivery"], "queued");
    app.email_to("mail@example.com").await;
    app.wait_for_delivery(&owner, &invitation, "sent").await;
}

async fn the_token_never_appears_in_any_api_response(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let mut texts: Vec<(String, String)> = Vec::new();
    let mut keep = |what: &str, reply: &Reply| {
        let headers = format!("{:?}", reply.headers);
        texts.push((what.to_owned(), format!("{headers}\n{}", reply.text)));
    };

    let body =
        json!({"email": "secret@example.com", "subscriber_type": "attorney", "message": "hi"});
    let quote = app
        .post(
            &format!("{}/quote", invitations_of(&owner)),
            &owner.token,
            body.clone(),
        )
        .await;
    keep("quote", &quote);
    let created = try_invite(&app, &owner, body).await;
    keep("create", &created);
    let invitation = created.ok(201).clone();
    let first_token = app.email_to("secret@example.com").await.token;
    assert!(first_token.starts_with("inv_"), "{first_token}");

    keep(
        "list",
        &app.get(&invitations_of(&owner), &owner.token).await,
    );
    keep("get", &app.read_invitation(&owner, &invitation).await);
    keep("preview", &preview(&app, &first_token).await);
    app.clock.advance(chrono::Duration::minutes(5));
    keep("resend", &app.resend(&owner, &invitation).await);
    let second_token = app
        .emails_to("secret@example.com", 2)
        .await
        .pop()
        .expect("email")
        .token;
    keep(
        "list after resend",
        &app.get(&invitations_of(&owner), &owner.token).await,
    );
    keep(
        "get after resend",
        &app.read_invitation(&owner, &invitation).await,
    );
    keep("old token preview", &preview(&app, &first_token).await);
    keep("preview after resend", &preview(&app, &second_token).await);
    let accepted = app.accept(&second_token).await;
    keep("accept", &accepted);
    let grant = accepted.ok(201).clone();
    keep("accept again", &app.accept(&second_token).await);
    keep(
        "get after accept",
        &app.read_invitation(&owner, &invitation).await,
    );
    keep(
        "users",
        &app.get(
            &format!("/accounts/{}/users", owner.account_id),
            &owner.token,
        )
        .await,
    );
    keep(
        "user",
        &app.get(
            &format!(
                "/accounts/{}/users/{}",
                owner.account_id, grant["user"]["id"]
            ),
            &owner.token,
        )
        .await,
    );

    assert!(texts.len() >= 14);
    for (what, text) in &texts {
        for token in [&first_token, &second_token] {
            assert!(
                !text.contains(token.as_str()),
                "{what} leaks the token: {text}"
            );
            let secret_part = &token["inv_".len()..];
            assert!(
                !text.contains(secret_part),
                "{what} leaks the token: {text}"
            );
        }
    }
}

// ---------------------------------------------------------------- accepting

async fn accepting_needs_names_and_a_password_of_at_least_8_characters(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (invitation, token) = app
        .invite_and_read_token(&owner, attorney("rules@example.com"))
        .await;
    let accept = |body: Value| {
        let app = &app;
        let token = token.clone();
        async move { app.accept_with(&token, &body).await }
    };

    let empty = accept(json!({})).await;
    assert_fields(&empty, &["first_name", "last_name", "password"]);

    let short =
        accept(json!({"first_name": "Bob", "last_name": "Jones", "password": "1234567"})).await;
    assert_fields(&short, &["password"]);

    let blank_names = accept(json!({"first_name": "  ", "last_name": "", "password": "x"})).await;
    assert_fields(&blank_names, &["first_name", "last_name", "password"]);

    let no_last = accept(json!({"first_name": "Bob", "password": "long enough"})).await;
    assert_fields(&no_last, &["last_name"]);

    let unknown = accept(
        json!({"first_name": "Bob", "last_name": "Jones", "password": "long enough", "age": 3}),
    )
    .await;
    assert_fields(&unknown, &["age"]);

    let response = app
        .client
        .post(format!("{}/invitations/{token}/accept", app.base))
        .header("content-type", "application/json")
        .body("{first_name")
        .send()
        .await
        .expect("request");
    TestApp::reply(response)
        .await
        .problem(400, "malformed_json");

    // Refused bodies changed nothing; exactly 8 characters is enough.
    assert_eq!(
        app.read_invitation(&owner, &invitation).await.ok(200)["status"],
        "pending"
    );
    let ok =
        accept(json!({"first_name": " Bob ", "last_name": "Jones", "password": "12345678"})).await;
    assert_eq!(ok.ok(201)["user"]["first_name"], "Bob");
    let session = app
        .request(
            "POST",
            "/sessions",
            None,
            Some(&json!({"email": "rules@example.com", "password": "12345678"})),
        )
        .await;
    session.ok(200);
}

async fn the_accepted_user_has_the_role_subscriber_type_permissions_and_groups_of_the_invitation(
    app: TestApp,
) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let tax = app.create_group(&owner, "Tax").await;
    let estates = app.create_group(&owner, "Estates").await;
    let _unused = app.create_group(&owner, "Unused").await;
    let (invitation, token) = app
        .invite_and_read_token(
            &owner,
            json!({
                "email": "Member@Example.com",
                "subscriber_type": "non_attorney",
                "role": "administrator",
                "permissions": ["reports", "accounts"],
                "group_ids": [estates, tax],
            }),
        )
        .await;
    let accepted = app.accept(&token).await;
    let grant = accepted.ok(201);
    assert_eq!(grant["token_type"], "Bearer");
    assert!(
        grant["access_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert!(grant["expires_in"].as_u64().is_some_and(|s| s > 0));
    let user_id = grant["user"]["id"].as_i64().expect("user id");

    let reply = app
        .get(
            &format!("/accounts/{}/users/{user_id}", owner.account_id),
            &owner.token,
        )
        .await;
    let user = reply.ok(200);
    let sorted = |v: &Value| -> Vec<String> {
        let mut items: Vec<String> = v
            .as_array()
            .expect("array")
            .iter()
            .map(|x| x.to_string())
            .collect();
        items.sort();
        items
    };
    assert_eq!(user["id"], user_id);
    assert_eq!(user["account_id"], owner.account_id);
    assert_eq!(user["email"], "Member@Example.com");
    assert_eq!(user["first_name"], "Bob");
    assert_eq!(user["last_name"], "Jones");
    assert_eq!(user["status"], "active");
    assert_eq!(user["role"], invitation["role"]);
    assert_eq!(user["role"], "administrator");
    assert_eq!(user["subscriber_type"], invitation["subscriber_type"]);
    assert_eq!(user["subscriber_type"], "non_attorney");
    assert_eq!(
        sorted(&user["permissions"]),
        sorted(&invitation["permissions"])
    );
    assert_eq!(
        sorted(&user["permissions"]),
        sorted(&json!(["accounts", "reports"]))
    );
    assert_eq!(sorted(&user["group_ids"]), sorted(&invitation["group_ids"]));
    assert_eq!(sorted(&user["group_ids"]), sorted(&json!([tax, estates])));
    assert_eq!(&grant["user"], user, "the grant shows the same user");

    let after = app.read_invitation(&owner, &invitation).await;
    assert_eq!(after.ok(200)["status"], "accepted");
    assert_eq!(after.body["accepted_user_id"], user_id);
    let licenses = app.licenses(&owner).await;
    assert_eq!(licenses["non_attorney"]["assigned"], 1);
    assert_eq!(licenses["non_attorney"]["reserved"], 0);
}
