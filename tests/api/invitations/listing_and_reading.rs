//! Listing invitations (filters, paging, cursors) and reading one by id.

use super::*;

crate::db_tests!(
    invitations_are_listed_newest_first_as_items_and_next_cursor,
    the_list_filters_by_status_and_by_exact_case_insensitive_email,
    the_list_limit_must_be_between_1_and_100,
    paging_follows_next_cursor_until_it_is_null,
    a_cursor_the_service_did_not_issue_is_a_422,
    an_invitation_is_read_by_id_with_every_documented_field,
    every_listed_invitation_is_what_reading_it_by_id_answers,
);

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
    let keys = keys_of(body);
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
    app.revoke(&owner, &carol).await.ok(200);
    app.accept(&bob_token).await.ok(201);
    decline(&app, &dave_token).await.ok(200);

    let list = |query: String| {
        let app = &app;
        let owner = &owner;
        async move {
            let reply = list_invitations(app, owner, &query).await;
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

    let bad = list_invitations(&app, &owner, "status=lost").await;
    assert_fields(&bad, &["status"]);
}

async fn the_list_limit_must_be_between_1_and_100(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    app.invite(&owner, new_standard("one@example.com")).await;
    for limit in ["0", "101", "abc", "-1"] {
        let reply = list_invitations(&app, &owner, &format!("limit={limit}")).await;
        assert_fields(&reply, &["limit"]);
    }
    for limit in ["1", "100"] {
        let reply = list_invitations(&app, &owner, &format!("limit={limit}")).await;
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
    let first = list_invitations(&app, &owner, "limit=1&status=pending").await;
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
        let reply = list_invitations(&app, &owner, &format!("cursor={cursor}")).await;
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

    let got = app.read_invitation(&owner, &created).await;
    let body = got.ok(200);
    let keys = keys_of(body);
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

/// The list reads each invitation's inviter, groups and latest charge in the
/// page's own statement; reading one by id gathers them separately. Both must
/// answer the same, whoever invited, with any number of groups, charged or
/// not, on any page and under any filter.
async fn every_listed_invitation_is_what_reading_it_by_id_answers(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let (tax, estates) = (
        app.create_group(&owner, "Tax").await,
        app.create_group(&owner, "Estates").await,
    );
    let (admin_id, admin_token) = app
        .join(
            &owner,
            json!({"email": "admin@example.com", "role": "administrator"}),
        )
        .await;
    let admin_user = app
        .get(
            &format!("/accounts/{}/users/{admin_id}", owner.account_id),
            &owner.token,
        )
        .await;
    let admin_name = format!(
        "{} {}",
        admin_user.ok(200)["first_name"]
            .as_str()
            .expect("first name"),
        admin_user.body["last_name"].as_str().expect("last name")
    );
    let admin = Owner {
        token: admin_token,
        ..owner.clone()
    };
    let two_groups = app
        .invite(
            &owner,
            json!({"email": "two@example.com", "role": "standard", "group_ids": [estates, tax]}),
        )
        .await;
    assert!(
        two_groups["charge"]["amount_cents"].is_i64(),
        "{two_groups}"
    );
    app.invite(
        &admin,
        json!({"email": "one@example.com", "role": "standard", "group_ids": [tax]}),
    )
    .await;
    let revoked = app.invite(&owner, new_standard("none@example.com")).await;
    app.revoke(&owner, &revoked).await.ok(200);
    let all = app.get(&invitations_of(&owner), &owner.token).await;
    for invitation in all.ok(200)["items"].as_array().expect("items") {
        if invitation["status"] != "revoked" {
            app.wait_for_delivery(&owner, invitation, "sent").await;
        }
    }

    let mut listed = Vec::new();
    for query in [
        "",
        "?status=pending",
        "?status=revoked",
        "?status=accepted",
        "?email=TWO@example.com",
    ] {
        let page = app
            .get(&format!("{}{query}", invitations_of(&owner)), &owner.token)
            .await;
        listed.extend(page.ok(200)["items"].as_array().expect("items").clone());
    }
    let mut cursor = String::new();
    loop {
        let page = app
            .get(
                &format!("{}?limit=1{cursor}", invitations_of(&owner)),
                &owner.token,
            )
            .await;
        let body = page.ok(200);
        listed.extend(body["items"].as_array().expect("items").clone());
        match body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    // 4 invitations (the administrator's own, accepted, among them): all of
    // them, then 2 pending, 1 revoked, 1 accepted, 1 by email, then one by one.
    assert_eq!(listed.len(), 4 + 2 + 1 + 1 + 1 + 4, "{listed:?}");
    for item in &listed {
        let read = app.read_invitation(&owner, item).await;
        assert_eq!(read.ok(200), item, "listed and read differ");
    }
    let by_admin = listed
        .iter()
        .find(|i| i["email"] == "one@example.com")
        .expect("listed");
    assert_eq!(by_admin["invited_by"]["id"], admin_id);
    assert_eq!(by_admin["invited_by"]["name"], admin_name.as_str());
    assert_eq!(by_admin["group_ids"], json!([tax]));
    let mut groups = vec![tax, estates];
    groups.sort_unstable();
    let first = listed
        .iter()
        .find(|i| i["email"] == "two@example.com")
        .expect("listed");
    assert_eq!(first["group_ids"], json!(groups));
    assert_eq!(first["charge"], two_groups["charge"]);
    assert_eq!(first["invited_by"]["name"], "Ann Smith");
}
