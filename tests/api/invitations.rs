//! Inviting, listing, answering and managing invitations, through HTTP only.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::db_tests;
use crate::helpers::{AccountSpec, Owner, Reply, TestApp, assert_fields, error_code, item_ids};

db_tests!(
    // Field rules of POST /accounts/{id}/invitations.
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
    a_body_that_is_not_json_answers_400_malformed_json,
    a_text_plain_body_answers_400_malformed_json,
    a_body_over_1_mib_answers_413_payload_too_large,
    // Conflicts.
    inviting_a_member_in_any_case_answers_409_already_member,
    a_user_of_another_account_can_be_invited_but_accepting_answers_409_email_taken,
    // Listing.
    invitations_are_listed_newest_first_as_items_and_next_cursor,
    the_list_filters_by_status_and_by_exact_case_insensitive_email,
    the_list_limit_must_be_between_1_and_100,
    paging_follows_next_cursor_until_it_is_null,
    a_cursor_the_service_did_not_issue_is_a_422,
    // One invitation, revoke, answer, expiry, resend.
    an_invitation_is_read_by_id_with_every_documented_field,
    revoking_answers_200_and_revoking_again_answers_409_invitation_not_pending,
    accepting_or_declining_a_revoked_invitation_answers_410_invitation_revoked,
    accepting_twice_answers_409_invitation_not_pending,
    accepting_a_declined_invitation_answers_409_invitation_not_pending,
    an_invitation_past_its_expiry_reads_as_expired_and_answers_410_invitation_expired,
    resending_rotates_the_token_extends_the_expiry_and_sends_another_email,
    resending_an_expired_invitation_makes_it_pending_again,
    resending_an_accepted_or_revoked_invitation_answers_409_invitation_not_pending,
    unknown_and_malformed_tokens_answer_404,
    delivery_becomes_sent_once_the_worker_wrote_the_email,
    the_token_never_appears_in_any_api_response,
    // Accepting.
    accepting_needs_names_and_a_password_of_at_least_8_characters,
    the_accepted_user_has_the_role_subscriber_type_permissions_and_groups_of_the_invitation,
);

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

// ---------------------------------------------------------------- field rules

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

async fn a_body_that_is_not_json_answers_400_malformed_json(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    for body in ["{\"email\": ", "email=a@example.com", ""] {
        app.post_raw(
            &invitations_of(&owner),
            Some(&owner.token),
            Some("application/json"),
            body,
        )
        .await
        .problem(400, "malformed_json");
    }
}

async fn a_text_plain_body_answers_400_malformed_json(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let valid = attorney("plain@example.com").to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        app.post_raw(
            &invitations_of(&owner),
            Some(&owner.token),
            content_type,
            valid.clone(),
        )
        .await
        .problem(400, "malformed_json");
    }
    // The same body as JSON is fine (and `; charset` is allowed).
    let json_with_charset = Some("application/json; charset=utf-8");
    app.post_raw(
        &invitations_of(&owner),
        Some(&owner.token),
        json_with_charset,
        valid,
    )
    .await
    .ok(201);
}

async fn a_body_over_1_mib_answers_413_payload_too_large(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let body = json!({
        "email": "big@example.com",
        "subscriber_type": "attorney",
        "message": "x".repeat(1024 * 1024),
    })
    .to_string();
    assert!(body.len() > 1024 * 1024);
    app.post_raw(
        &invitations_of(&owner),
        Some(&owner.token),
        Some("application/json"),
        body,
    )
    .await
    .problem(413, "payload_too_large");
    let listed = app.get(&invitations_of(&owner), &owner.token).await;
    assert_eq!(listed.ok(200)["items"], json!([]));
}

// ---------------------------------------------------------------- conflicts

async fn inviting_a_member_in_any_case_answers_409_already_member(app: TestApp) {
    let owner = app.bootstrap_with_owner(
        &AccountSpec::classic_annual(),
        "Ann.Smith@Firm.Example",
        "owner password",
    );
    for spelling in [
        "Ann.Smith@Firm.Example",
        "ann.smith@firm.example",
        "  ANN.SMITH@FIRM.EXAMPLE ",
    ] {
        try_invite(&app, &owner, attorney(spelling))
            .await
            .problem(409, "already_member");
    }

    // A member who joined by invitation, active or disabled.
    let (_, token) = app
        .invite_and_read_token(&owner, attorney("bob@example.com"))
        .await;
    let user_id = app.accept(&token).await.ok(201)["user"]["id"].clone();
    try_invite(&app, &owner, attorney("BOB@example.com"))
        .await
        .problem(409, "already_member");
    app.post(
        &format!("/accounts/{}/users/{user_id}/disable", owner.account_id),
        &owner.token,
        json!({}),
    )
    .await
    .ok(200);
    try_invite(&app, &owner, attorney("bob@EXAMPLE.com"))
        .await
        .problem(409, "already_member");
}

async fn a_user_of_another_account_can_be_invited_but_accepting_answers_409_email_taken(
    app: TestApp,
) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let _other = app.bootstrap_with_owner(
        &AccountSpec::classic_annual(),
        "bea.other@firm.example",
        "other password",
    );
    let (invitation, token) = app
        .invite_and_read_token(&owner, attorney("Bea.Other@Firm.Example"))
        .await;
    assert_eq!(invitation["status"], "pending");
    app.accept(&token).await.problem(409, "email_taken");

    let again = get_invitation(&app, &owner, &invitation).await;
    assert_eq!(again.ok(200)["status"], "pending");
    assert_eq!(again.body["accepted_user_id"], Value::Null);
}

// ---------------------------------------------------------------- listing

async fn invitations_are_listed_newest_first_as_items_and_next_cursor(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let mut created = Vec::new();
    for n in 0..3 {
        created.push(
            app.invite(&owner, new_standard(&format!("n{n}@example.com")))
                .await["id"]
                .as_i64()
                .expect("id"),
        );
    }
    let page = app.get(&invitations_of(&owner), &owner.token).await;
    let body = page.ok(200);
    let keys: BTreeSet<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, BTreeSet::from(["items", "next_cursor"]));
    assert_eq!(body["next_cursor"], Value::Null);
    created.reverse();
    assert_eq!(item_ids(body), created);
    let stamps: Vec<DateTime<Utc>> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| time(&i["created_at"]))
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] >= w[1]), "{stamps:?}");
}

async fn the_list_filters_by_status_and_by_exact_case_insensitive_email(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let alice = app.invite(&owner, new_standard("Alice@Example.com")).await;
    let (bob, bob_token) = app
        .invite_and_read_token(&owner, new_standard("bob@example.com"))
        .await;
    let carol = app.invite(&owner, new_standard("carol@example.com")).await;
    let (dave, dave_token) = app
        .invite_and_read_token(&owner, new_standard("dave@example.com"))
        .await;
    revoke(&app, &owner, &carol).await.ok(200);
    app.accept(&bob_token).await.ok(201);
    decline(&app, &dave_token).await.ok(200);

    let list = |query: String| {
        let app = &app;
        let owner = &owner;
        async move {
            let reply = app
                .get(&format!("{}?{query}", invitations_of(owner)), &owner.token)
                .await;
            item_ids(reply.ok(200))
        }
    };
    let id = |v: &Value| v["id"].as_i64().expect("id");
    assert_eq!(list("status=pending".into()).await, vec![id(&alice)]);
    assert_eq!(list("status=accepted".into()).await, vec![id(&bob)]);
    assert_eq!(list("status=revoked".into()).await, vec![id(&carol)]);
    assert_eq!(list("status=declined".into()).await, vec![id(&dave)]);
    assert_eq!(list("status=expired".into()).await, Vec::<i64>::new());

    for spelling in [
        "alice@example.com",
        "ALICE@EXAMPLE.COM",
        "Alice@Example.com",
    ] {
        assert_eq!(
            list(format!("email={spelling}")).await,
            vec![id(&alice)],
            "{spelling}"
        );
    }
    assert_eq!(list("email=alice".into()).await, Vec::<i64>::new());
    assert_eq!(
        list("email=alice@example.co".into()).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        list("email=bob@example.com&status=accepted".into()).await,
        vec![id(&bob)]
    );
    assert_eq!(
        list("email=bob@example.com&status=pending".into()).await,
        Vec::<i64>::new()
    );

    let bad = app
        .get(
            &format!("{}?status=lost", invitations_of(&owner)),
            &owner.token,
        )
        .await;
    assert_fields(&bad, &["status"]);
}

async fn the_list_limit_must_be_between_1_and_100(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    app.invite(&owner, new_standard("one@example.com")).await;
    for limit in ["0", "101", "abc", "-1"] {
        let reply = app
            .get(
                &format!("{}?limit={limit}", invitations_of(&owner)),
                &owner.token,
            )
            .await;
        assert_fields(&reply, &["limit"]);
    }
    for limit in ["1", "100"] {
        let reply = app
            .get(
                &format!("{}?limit={limit}", invitations_of(&owner)),
                &owner.token,
            )
            .await;
        assert_eq!(item_ids(reply.ok(200)).len(), 1);
    }
}

async fn paging_follows_next_cursor_until_it_is_null(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let mut created = Vec::new();
    for n in 0..5 {
        created.push(
            app.invite(&owner, new_standard(&format!("p{n}@example.com")))
                .await["id"]
                .as_i64()
                .expect("id"),
        );
    }
    created.reverse();

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let path = match &cursor {
            None => format!("{}?limit=2", invitations_of(&owner)),
            Some(c) => format!("{}?limit=2&cursor={c}", invitations_of(&owner)),
        };
        let reply = app.get(&path, &owner.token).await;
        let page = reply.ok(200);
        let page_ids = item_ids(page);
        sizes.push(page_ids.len());
        seen.extend(page_ids);
        match &page["next_cursor"] {
            Value::Null => {
                cursor = None;
                break;
            }
            Value::String(next) => cursor = Some(next.clone()),
            other => panic!("next_cursor must be a string or null: {other}"),
        }
    }
    assert!(cursor.is_none(), "paging never ended");
    assert_eq!(sizes, vec![2, 2, 1]);
    assert_eq!(seen, created, "every invitation once, newest first");

    // Filters hold across pages.
    let first = app
        .get(
            &format!("{}?limit=1&status=pending", invitations_of(&owner)),
            &owner.token,
        )
        .await;
    let next = first.ok(200)["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = app
        .get(
            &format!(
                "{}?limit=1&status=pending&cursor={next}",
                invitations_of(&owner)
            ),
            &owner.token,
        )
        .await;
    assert_eq!(item_ids(second.ok(200)), vec![created[1]]);
}

async fn a_cursor_the_service_did_not_issue_is_a_422(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    app.invite(&owner, new_standard("one@example.com")).await;
    for cursor in ["garbage!", "bm9wZQ", "12"] {
        let reply = app
            .get(
                &format!("{}?cursor={cursor}", invitations_of(&owner)),
                &owner.token,
            )
            .await;
        assert_fields(&reply, &["cursor"]);
    }
}

// ---------------------------------------------------------------- one invitation

async fn an_invitation_is_read_by_id_with_every_documented_field(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let group = app.create_group(&owner, "Tax").await;
    let reply = try_invite(
        &app,
        &owner,
        json!({
            "email": "full@example.com",
            "subscriber_type": "non_attorney",
            "role": "administrator",
            "permissions": ["reports"],
            "group_ids": [group],
            "message": "Hello",
            "expires_in_days": 3,
        }),
    )
    .await;
    let created = reply.ok(201).clone();
    assert_eq!(
        reply.header("location"),
        Some(invitation_path(&owner, &created).as_str())
    );
    assert!(
        reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        reply.header("content-type")
    );

    let got = get_invitation(&app, &owner, &created).await;
    let body = got.ok(200);
    let keys: BTreeSet<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "id",
        "account_id",
        "email",
        "role",
        "subscriber_type",
        "permissions",
        "group_ids",
        "message",
        "status",
        "expires_at",
        "created_at",
        "invited_by",
        "accepted_user_id",
        "send_count",
        "last_sent_at",
        "delivery",
        "license_type",
        "charge",
    ] {
        assert!(keys.contains(key), "missing {key}: {body}");
    }
    assert!(!keys.contains("token"), "{body}");
    assert_eq!(body["id"], created["id"]);
    assert_eq!(body["account_id"], owner.account_id);
    assert_eq!(body["email"], "full@example.com");
    assert_eq!(body["role"], "administrator");
    assert_eq!(body["subscriber_type"], "non_attorney");
    assert_eq!(body["permissions"], json!(["reports"]));
    assert_eq!(body["group_ids"], json!([group]));
    assert_eq!(body["message"], "Hello");
    assert_eq!(body["status"], "pending");
    assert_eq!(body["invited_by"]["id"], owner.user_id);
    assert_eq!(body["invited_by"]["name"], "Ann Smith");
    assert_eq!(body["accepted_user_id"], Value::Null);
    assert_eq!(body["send_count"], 1);
    assert_eq!(body["license_type"], "non_attorney");
    assert_eq!(body["charge"], Value::Null);
    assert!(time(&body["last_sent_at"]) >= time(&body["created_at"]));
    assert_eq!(body["expires_at"], created["expires_at"]);

    app.get(&format!("{}/987654", invitations_of(&owner)), &owner.token)
        .await
        .problem(404, "not_found");
}

async fn revoking_answers_200_and_revoking_again_answers_409_invitation_not_pending(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let invitation = app.invite(&owner, attorney("rev@example.com")).await;
    let revoked = revoke(&app, &owner, &invitation).await;
    assert_eq!(revoked.ok(200)["status"], "revoked");
    assert_eq!(revoked.body["id"], invitation["id"]);
    assert_eq!(
        get_invitation(&app, &owner, &invitation).await.ok(200)["status"],
        "revoked"
    );
    revoke(&app, &owner, &invitation)
        .await
        .problem(409, "invitation_not_pending");

    // The email is free again for a new invitation.
    app.invite(&owner, attorney("rev@example.com")).await;

    app.request(
        "DELETE",
        &format!("{}/987654", invitations_of(&owner)),
        Some(&owner.token),
        None,
    )
    .await
    .problem(404, "not_found");
}

async fn accepting_or_declining_a_revoked_invitation_answers_410_invitation_revoked(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (invitation, token) = app
        .invite_and_read_token(&owner, attorney("gone@example.com"))
        .await;
    revoke(&app, &owner, &invitation).await.ok(200);
    app.accept(&token).await.problem(410, "invitation_revoked");
    decline(&app, &token)
        .await
        .problem(410, "invitation_revoked");
    assert_eq!(preview(&app, &token).await.ok(200)["status"], "revoked");
}

async fn accepting_twice_answers_409_invitation_not_pending(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (invitation, token) = app
        .invite_and_read_token(&owner, attorney("twice@example.com"))
        .await;
    app.accept(&token).await.ok(201);
    app.accept(&token)
        .await
        .problem(409, "invitation_not_pending");
    decline(&app, &token)
        .await
        .problem(409, "invitation_not_pending");
    revoke(&app, &owner, &invitation)
        .await
        .problem(409, "invitation_not_pending");
    assert_eq!(
        get_invitation(&app, &owner, &invitation).await.ok(200)["status"],
        "accepted"
    );
}

async fn accepting_a_declined_invitation_answers_409_invitation_not_pending(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (invitation, token) = app
        .invite_and_read_token(&owner, attorney("nothanks@example.com"))
        .await;
    let declined = decline(&app, &token).await;
    assert_eq!(declined.ok(200)["status"], "declined");
    app.accept(&token)
        .await
        .problem(409, "invitation_not_pending");
    decline(&app, &token)
        .await
        .problem(409, "invitation_not_pending");
    assert_eq!(
        get_invitation(&app, &owner, &invitation).await.ok(200)["status"],
        "declined"
    );
}

async fn an_invitation_past_its_expiry_reads_as_expired_and_answers_410_invitation_expired(
    app: TestApp,
) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (invitation, token) = app
        .invite_and_read_token(&owner, attorney("late@example.com"))
        .await;
    app.clock.advance(chrono::Duration::days(8));
    let owner = app.renew(&owner);

    // Read first, before any write or sweeper has recorded the expiry.
    assert_eq!(
        get_invitation(&app, &owner, &invitation).await.ok(200)["status"],
        "expired"
    );
    assert_eq!(preview(&app, &token).await.ok(200)["status"], "expired");
    let expired = app
        .get(
            &format!("{}?status=expired", invitations_of(&owner)),
            &owner.token,
        )
        .await;
    assert_eq!(
        item_ids(expired.ok(200)),
        vec![invitation["id"].as_i64().unwrap()]
    );
    let pending = app
        .get(
            &format!("{}?status=pending", invitations_of(&owner)),
            &owner.token,
        )
        .await;
    assert_eq!(item_ids(pending.ok(200)), Vec::<i64>::new());

    app.accept(&token).await.problem(410, "invitation_expired");
    decline(&app, &token)
        .await
        .problem(410, "invitation_expired");
    assert_eq!(
        get_invitation(&app, &owner, &invitation).await.ok(200)["status"],
        "expired"
    );
}

async fn resending_rotates_the_token_extends_the_expiry_and_sends_another_email(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (invitation, old_token) = app
        .invite_and_read_token(&owner, attorney("again@example.com"))
        .await;
    app.clock.advance(chrono::Duration::minutes(10));

    let resent = resend(&app, &owner, &invitation).await;
    let body = resent.ok(200);
    assert_eq!(body["id"], invitation["id"]);
    assert_eq!(body["status"], "pending");
    assert_eq!(body["send_count"], 2);
    assert!(time(&body["expires_at"]) > time(&invitation["expires_at"]));
    assert!(time(&body["last_sent_at"]) > time(&invitation["last_sent_at"]));
    assert_eq!(body["created_at"], invitation["created_at"]);

    let emails = app.emails_to("again@example.com", 2).await;
    assert_eq!(emails.len(), 2);
    let new_token = emails[1].token.clone();
    assert_eq!(emails[0].token, old_token);
    assert!(
        new_token.starts_with("inv_") && new_token.len() == 47,
        "{new_token}"
    );
    assert_ne!(new_token, old_token);

    preview(&app, &old_token).await.problem(404, "not_found");
    app.accept(&old_token).await.problem(404, "not_found");
    decline(&app, &old_token).await.problem(404, "not_found");

    assert_eq!(preview(&app, &new_token).await.ok(200)["status"], "pending");
    app.accept(&new_token).await.ok(201);
    assert_eq!(
        get_invitation(&app, &owner, &invitation).await.ok(200)["status"],
        "accepted"
    );
}

async fn resending_an_expired_invitation_makes_it_pending_again(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (invitation, old_token) = app
        .invite_and_read_token(&owner, attorney("revive@example.com"))
        .await;
    app.clock.advance(chrono::Duration::days(8));
    let owner = app.renew(&owner);
    assert_eq!(
        get_invitation(&app, &owner, &invitation).await.ok(200)["status"],
        "expired"
    );

    let resent = resend(&app, &owner, &invitation).await;
    let body = resent.ok(200);
    assert_eq!(body["status"], "pending");
    assert_eq!(body["send_count"], 2);
    let now = app.clock.now().and_utc();
    assert!(time(&body["expires_at"]) > now + chrono::Duration::days(6));
    assert_eq!(app.licenses(&owner).await["attorney"]["reserved"], 1);

    let emails = app.emails_to("revive@example.com", 2).await;
    let new_token = emails.last().expect("email").token.clone();
    assert_ne!(new_token, old_token);
    app.accept(&old_token).await.problem(404, "not_found");
    app.accept(&new_token).await.ok(201);
}

async fn resending_an_accepted_or_revoked_invitation_answers_409_invitation_not_pending(
    app: TestApp,
) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (accepted, token) = app
        .invite_and_read_token(&owner, attorney("done@example.com"))
        .await;
    app.accept(&token).await.ok(201);
    resend(&app, &owner, &accepted)
        .await
        .problem(409, "invitation_not_pending");

    let (declined, token) = app
        .invite_and_read_token(&owner, attorney("declined@example.com"))
        .await;
    decline(&app, &token).await.ok(200);
    resend(&app, &owner, &declined)
        .await
        .problem(409, "invitation_not_pending");

    let revoked = app
        .invite(
            &owner,
            json!({"email": "revoked@example.com", "subscriber_type": "non_attorney"}),
        )
        .await;
    revoke(&app, &owner, &revoked).await.ok(200);
    resend(&app, &owner, &revoked)
        .await
        .problem(409, "invitation_not_pending");

    app.request(
        "POST",
        &format!("{}/987654/resend", invitations_of(&owner)),
        Some(&owner.token),
        None,
    )
    .await
    .problem(404, "not_found");
}

async fn unknown_and_malformed_tokens_answer_404(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    app.invite_and_read_token(&owner, attorney("real@example.com"))
        .await;
    let tokens = [
        format!("inv_{}", "A".repeat(43)),
        format!("tok_{}", "a".repeat(43)),
        format!("inv_{}", "a".repeat(44)),
        "abc".to_owned(),
        "inv_short".to_owned(),
        "inv_%21%21%21".to_owned(),
    ];
    for token in &tokens {
        preview(&app, token).await.problem(404, "not_found");
        app.accept(token).await.problem(404, "not_found");
        decline(&app, token).await.problem(404, "not_found");
    }
}

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
    keep("get", &get_invitation(&app, &owner, &invitation).await);
    keep("preview", &preview(&app, &first_token).await);
    app.clock.advance(chrono::Duration::minutes(5));
    keep("resend", &resend(&app, &owner, &invitation).await);
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
        &get_invitation(&app, &owner, &invitation).await,
    );
    keep("old token preview", &preview(&app, &first_token).await);
    keep("preview after resend", &preview(&app, &second_token).await);
    let accepted = app.accept(&second_token).await;
    keep("accept", &accepted);
    let grant = accepted.ok(201).clone();
    keep("accept again", &app.accept(&second_token).await);
    keep(
        "get after accept",
        &get_invitation(&app, &owner, &invitation).await,
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
        async move {
            app.request(
                "POST",
                &format!("/invitations/{token}/accept"),
                None,
                Some(&body),
            )
            .await
        }
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
        get_invitation(&app, &owner, &invitation).await.ok(200)["status"],
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

    let after = get_invitation(&app, &owner, &invitation).await;
    assert_eq!(after.ok(200)["status"], "accepted");
    assert_eq!(after.body["accepted_user_id"], user_id);
    let licenses = app.licenses(&owner).await;
    assert_eq!(licenses["non_attorney"]["assigned"], 1);
    assert_eq!(licenses["non_attorney"]["reserved"], 0);
}
