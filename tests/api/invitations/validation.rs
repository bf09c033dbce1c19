//! Validating an invitation's body: every field's rules, and one 422 listing every error.

use super::*;

crate::db_tests!(
    an_email_that_is_missing_blank_invalid_or_too_long_is_a_422_on_email,
    emails_are_trimmed_kept_as_typed_and_compared_case_insensitively,
    role_is_required_on_new_accounts,
    role_defaults_to_standard_on_classic_accounts,
    a_primary_subscriber_cannot_be_invited,
    subscriber_type_is_required_on_classic_accounts,
    permissions_must_be_distinct_names_from_the_catalog,
    group_ids_must_be_distinct_groups_of_this_account,
    a_message_longer_than_2000_characters_is_a_422,
    expires_in_days_must_be_between_1_and_30_and_defaults_to_7,
    an_unknown_field_is_a_422_naming_it,
    every_invalid_field_is_listed_in_one_422,
    type_errors_and_rule_errors_are_listed_in_the_same_422,
);

async fn an_email_that_is_missing_blank_invalid_or_too_long_is_a_422_on_email(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());

    let missing = try_invite(&app, &owner, json!({"subscriber_type": "attorney"})).await;
    assert_fields(&missing, &["email"]);
    assert_eq!(error_code(&missing, "email"), "required");

    let blank = try_invite(&app, &owner, attorney("   ")).await;
    assert_fields(&blank, &["email"]);
    assert_eq!(error_code(&blank, "email"), "required");

    for invalid in ["not-an-email", "a@b@example.com", "@example.com", "jane@"] {
        let reply = try_invite(&app, &owner, attorney(invalid)).await;
        assert_fields(&reply, &["email"]);
        assert_eq!(error_code(&reply, "email"), "invalid_email", "{invalid}");
    }

    let too_long = format!("{}@example.com", "a".repeat(243)); // 255 characters
    assert_eq!(too_long.len(), 255);
    let reply = try_invite(&app, &owner, attorney(&too_long)).await;
    assert_fields(&reply, &["email"]);
    assert_eq!(error_code(&reply, "email"), "too_long");

    let listed = app.get(&invitations_of(&owner), &owner.token).await;
    assert_eq!(
        listed.ok(200)["items"],
        json!([]),
        "nothing was created by a refused request"
    );
}

async fn emails_are_trimmed_kept_as_typed_and_compared_case_insensitively(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let first = app.invite(&owner, attorney("  X.Person@Y.com\t")).await;
    assert_eq!(first["email"], "X.Person@Y.com", "trimmed, spelling kept");

    for again in ["x.person@y.com ", "X.PERSON@Y.COM", " x.Person@y.Com"] {
        try_invite(&app, &owner, attorney(again))
            .await
            .problem(409, "invitation_pending");
    }
    let email = app.email_to("X.Person@Y.com").await;
    assert_eq!(email.to, "X.Person@Y.com");
}

async fn role_is_required_on_new_accounts(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let reply = try_invite(&app, &owner, json!({"email": "norole@example.com"})).await;
    assert_fields(&reply, &["role"]);
    assert_eq!(error_code(&reply, "role"), "required");

    let admin = app
        .invite(
            &owner,
            json!({"email": "norole@example.com", "role": "administrator"}),
        )
        .await;
    assert_eq!(admin["role"], "administrator");
    assert_eq!(admin["license_type"], "user");
}

async fn role_defaults_to_standard_on_classic_accounts(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let invitation = app.invite(&owner, attorney("plain@example.com")).await;
    assert_eq!(invitation["role"], "standard");
    let admin = app
        .invite(
            &owner,
            json!({"email": "admin@example.com", "subscriber_type": "non_attorney", "role": "administrator"}),
        )
        .await;
    assert_eq!(admin["role"], "administrator");
}

async fn a_primary_subscriber_cannot_be_invited(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let reply = try_invite(
        &app,
        &owner,
        json!({"email": "boss@example.com", "subscriber_type": "attorney", "role": "primary_subscriber"}),
    )
    .await;
    assert_fields(&reply, &["role"]);

    let new_owner = app.bootstrap(&AccountSpec::new_monthly());
    let reply = try_invite(
        &app,
        &new_owner,
        json!({"email": "boss@example.com", "role": "primary_subscriber"}),
    )
    .await;
    assert_fields(&reply, &["role"]);
}

async fn subscriber_type_is_required_on_classic_accounts(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let reply = try_invite(&app, &owner, json!({"email": "who@example.com"})).await;
    assert_fields(&reply, &["subscriber_type"]);
    assert_eq!(error_code(&reply, "subscriber_type"), "required");

    let reply = try_invite(
        &app,
        &owner,
        json!({"email": "who@example.com", "subscriber_type": "paralegal"}),
    )
    .await;
    assert_fields(&reply, &["subscriber_type"]);

    let ok = app
        .invite(
            &owner,
            json!({"email": "who@example.com", "subscriber_type": "non_attorney"}),
        )
        .await;
    assert_eq!(ok["subscriber_type"], "non_attorney");
    assert_eq!(ok["license_type"], "non_attorney");

    // Informational on new accounts: neither required nor refused.
    let new_owner = app.bootstrap(&AccountSpec::new_monthly());
    let without = app
        .invite(&new_owner, new_standard("plain@example.com"))
        .await;
    assert_eq!(without["license_type"], "user");
    let with = app
        .invite(
            &new_owner,
            json!({"email": "lawyer@example.com", "role": "standard", "subscriber_type": "attorney"}),
        )
        .await;
    assert_eq!(with["subscriber_type"], "attorney");
    assert_eq!(with["license_type"], "user");
}

async fn permissions_must_be_distinct_names_from_the_catalog(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let catalog = app.request("GET", "/permissions", None, None).await;
    let names: Vec<Value> = catalog.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert!(!names.is_empty());

    let every = app
        .invite(
            &owner,
            json!({"email": "all@example.com", "role": "standard", "permissions": names}),
        )
        .await;
    let granted: BTreeSet<String> = every["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .map(|p| p.as_str().expect("name").to_owned())
        .collect();
    let catalog_names: BTreeSet<String> = names
        .iter()
        .map(|p| p.as_str().expect("name").to_owned())
        .collect();
    assert_eq!(granted, catalog_names);

    let unknown = try_invite(
        &app,
        &owner,
        json!({"email": "x@example.com", "role": "standard", "permissions": ["billing", "administrator"]}),
    )
    .await;
    assert_fields(&unknown, &["permissions"]);

    let duplicate = try_invite(
        &app,
        &owner,
        json!({"email": "x@example.com", "role": "standard", "permissions": ["billing", "billing"]}),
    )
    .await;
    assert_fields(&duplicate, &["permissions[1]"]);
    assert_eq!(error_code(&duplicate, "permissions[1]"), "duplicate");

    let not_an_array = try_invite(
        &app,
        &owner,
        json!({"email": "x@example.com", "role": "standard", "permissions": "billing"}),
    )
    .await;
    assert_fields(&not_an_array, &["permissions"]);
}

async fn group_ids_must_be_distinct_groups_of_this_account(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let litigation = app.create_group(&owner, "Litigation").await;
    let estates = app.create_group(&owner, "Estates").await;

    let ok = app
        .invite(
            &owner,
            json!({"email": "g@example.com", "role": "standard", "group_ids": [estates, litigation]}),
        )
        .await;
    let mut got: Vec<i64> = ok["group_ids"]
        .as_array()
        .expect("group_ids")
        .iter()
        .map(|g| g.as_i64().expect("id"))
        .collect();
    got.sort();
    let mut want = vec![litigation, estates];
    want.sort();
    assert_eq!(got, want);

    let duplicate = try_invite(
        &app,
        &owner,
        json!({"email": "d@example.com", "role": "standard", "group_ids": [litigation, litigation]}),
    )
    .await;
    assert_fields(&duplicate, &["group_ids[1]"]);
    assert_eq!(error_code(&duplicate, "group_ids[1]"), "duplicate");

    let missing = try_invite(
        &app,
        &owner,
        json!({"email": "d@example.com", "role": "standard", "group_ids": [987_654]}),
    )
    .await;
    assert_fields(&missing, &["group_ids[0]"]);

    // Another tenant's group is indistinguishable from one that does not exist.
    let other = app.bootstrap(&AccountSpec::new_monthly());
    let foreign = app.create_group(&other, "Litigation").await;
    let reply = try_invite(
        &app,
        &owner,
        json!({"email": "d@example.com", "role": "standard", "group_ids": [foreign]}),
    )
    .await;
    assert_fields(&reply, &["group_ids[0]"]);
    assert_eq!(
        error_code(&reply, "group_ids[0]"),
        error_code(&missing, "group_ids[0]")
    );
    let message = |r: &Reply, id: i64| {
        r.body["errors"][0]["message"]
            .as_str()
            .expect("message")
            .replace(&id.to_string(), "ID")
    };
    assert_eq!(message(&reply, foreign), message(&missing, 987_654));
}

async fn a_message_longer_than_2000_characters_is_a_422(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let reply = try_invite(
        &app,
        &owner,
        json!({"email": "m@example.com", "role": "standard", "message": "x".repeat(2_001)}),
    )
    .await;
    assert_fields(&reply, &["message"]);

    // The limit counts characters, not bytes.
    let at_limit = "é".repeat(2_000);
    let ok = app
        .invite(
            &owner,
            json!({"email": "m@example.com", "role": "standard", "message": at_limit}),
        )
        .await;
    assert_eq!(ok["message"], at_limit);
}

async fn expires_in_days_must_be_between_1_and_30_and_defaults_to_7(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    for days in [0, 31, -1] {
        let reply = try_invite(
            &app,
            &owner,
            json!({"email": "e@example.com", "role": "standard", "expires_in_days": days}),
        )
        .await;
        assert_fields(&reply, &["expires_in_days"]);
    }
    let reply = try_invite(
        &app,
        &owner,
        json!({"email": "e@example.com", "role": "standard", "expires_in_days": 2.5}),
    )
    .await;
    assert_fields(&reply, &["expires_in_days"]);

    let default = app.invite(&owner, new_standard("seven@example.com")).await;
    assert_eq!(
        time(&default["expires_at"]) - time(&default["created_at"]),
        chrono::Duration::days(7)
    );
    for days in [1, 30] {
        let invitation = app
            .invite(
                &owner,
                json!({"email": format!("d{days}@example.com"), "role": "standard", "expires_in_days": days}),
            )
            .await;
        assert_eq!(
            time(&invitation["expires_at"]) - time(&invitation["created_at"]),
            chrono::Duration::days(days)
        );
    }
}

async fn an_unknown_field_is_a_422_naming_it(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let reply = try_invite(
        &app,
        &owner,
        json!({"email": "u@example.com", "subscriber_type": "attorney", "colour": "red"}),
    )
    .await;
    assert_fields(&reply, &["colour"]);
    assert_eq!(error_code(&reply, "colour"), "unknown_field");

    // A typo of a real field is caught the same way.
    let reply = try_invite(
        &app,
        &owner,
        json!({"email": "u@example.com", "subscriber_type": "attorney", "expires_in_day": 3}),
    )
    .await;
    assert_fields(&reply, &["expires_in_day"]);
}

async fn every_invalid_field_is_listed_in_one_422(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let reply = try_invite(
        &app,
        &owner,
        json!({
            "email": "nope",
            "permissions": ["billing", "billing"],
            "group_ids": [424_242],
            "message": "x".repeat(2_001),
            "expires_in_days": 31,
        }),
    )
    .await;
    assert_fields(
        &reply,
        &[
            "email",
            "subscriber_type",
            "permissions[1]",
            "group_ids[0]",
            "message",
            "expires_in_days",
        ],
    );
    for entry in reply.body["errors"].as_array().expect("errors") {
        assert!(entry["code"].is_string(), "{entry}");
        assert!(entry["message"].is_string(), "{entry}");
    }

    // Wrong types and unknown fields are listed together too.
    let reply = try_invite(
        &app,
        &owner,
        json!({"email": 5, "subscriber_type": "attorney", "role": "owner", "colour": "red", "expires_in_days": 3}),
    )
    .await;
    assert_fields(&reply, &["email", "role", "colour"]);
    assert_eq!(error_code(&reply, "email"), "invalid_type");
    assert_eq!(error_code(&reply, "colour"), "unknown_field");
}

/// API.md: `errors` lists "every invalid field at once" — a wrong type does not
/// hide a rule violation in another field.
async fn type_errors_and_rule_errors_are_listed_in_the_same_422(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let reply = try_invite(
        &app,
        &owner,
        json!({"email": "not-an-email", "subscriber_type": "attorney", "expires_in_days": "seven"}),
    )
    .await;
    assert_fields(&reply, &["email", "expires_in_days"]);
}
