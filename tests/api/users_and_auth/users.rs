//! Listing and disabling users; the permission catalog.

use super::*;

crate::db_tests!(
    users_are_listed_newest_first_with_a_status_filter_and_paging,
    the_primary_subscriber_cannot_be_disabled,
    disabling_twice_answers_200_both_times,
    the_permission_catalog_lists_accounts_billing_and_reports,
);

async fn users_are_listed_newest_first_with_a_status_filter_and_paging(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let mut joined = vec![owner.user_id];
    for n in 0..3 {
        let (_, token) = app
            .invite_and_read_token(
                &owner,
                json!({"email": format!("u{n}@example.com"), "role": "standard"}),
            )
            .await;
        joined.push(
            app.accept(&token).await.ok(201)["user"]["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let disabled = joined[2];
    disable(&app, &owner, disabled).await.ok(200);
    let newest_first: Vec<i64> = joined.iter().rev().copied().collect();

    let users = format!("/accounts/{}/users", owner.account_id);
    let all = app.get(&users, &owner.token).await;
    let body = all.ok(200);
    let keys = crate::helpers::keys_of(body);
    assert_eq!(keys, BTreeSet::from(["items", "next_cursor"]));
    assert_eq!(item_ids(body), newest_first);
    assert_eq!(body["next_cursor"], Value::Null);
    for user in body["items"].as_array().expect("items") {
        for key in [
            "id",
            "account_id",
            "email",
            "first_name",
            "last_name",
            "role",
            "subscriber_type",
            "permissions",
            "group_ids",
            "status",
            "created_at",
        ] {
            assert!(user.get(key).is_some(), "missing {key}: {user}");
        }
        assert!(user.get("password_hash").is_none());
    }

    let active = app
        .get(&format!("{users}?status=active"), &owner.token)
        .await;
    let active_ids = item_ids(active.ok(200));
    assert_eq!(
        active_ids,
        newest_first
            .iter()
            .copied()
            .filter(|id| *id != disabled)
            .collect::<Vec<_>>()
    );
    assert!(
        active.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["status"] == "active")
    );
    let only_disabled = app
        .get(&format!("{users}?status=disabled"), &owner.token)
        .await;
    assert_eq!(item_ids(only_disabled.ok(200)), vec![disabled]);
    assert_eq!(only_disabled.body["items"][0]["status"], "disabled");

    // Paging: 3 + 1, then null.
    let first = app.get(&format!("{users}?limit=3"), &owner.token).await;
    assert_eq!(item_ids(first.ok(200)), newest_first[..3].to_vec());
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = app
        .get(&format!("{users}?limit=3&cursor={cursor}"), &owner.token)
        .await;
    assert_eq!(item_ids(second.ok(200)), newest_first[3..].to_vec());
    assert_eq!(second.body["next_cursor"], Value::Null);

    // Paging with a filter.
    let first = app
        .get(&format!("{users}?status=active&limit=2"), &owner.token)
        .await;
    let cursor = first.ok(200)["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = app
        .get(
            &format!("{users}?status=active&limit=2&cursor={cursor}"),
            &owner.token,
        )
        .await;
    let mut seen = item_ids(&first.body);
    seen.extend(item_ids(second.ok(200)));
    assert_eq!(seen, active_ids);
    assert_eq!(second.body["next_cursor"], Value::Null);

    for (query, field) in [
        ("status=gone", "status"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("cursor=garbage!", "cursor"),
    ] {
        let reply = app.get(&format!("{users}?{query}"), &owner.token).await;
        assert_eq!(reply.error_fields(), [field], "{query}");
    }
}

async fn the_primary_subscriber_cannot_be_disabled(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    disable(&app, &owner, owner.user_id)
        .await
        .problem(409, "primary_subscriber_protected");
    // Nor by an administrator.
    let (_, admin) = member(&app, &owner, "admin@example.com", "administrator").await;
    app.request(
        "POST",
        &format!(
            "/accounts/{}/users/{}/disable",
            owner.account_id, owner.user_id
        ),
        Some(&admin),
        None,
    )
    .await
    .problem(409, "primary_subscriber_protected");
    let me = app
        .get(
            &format!("/accounts/{}/users/{}", owner.account_id, owner.user_id),
            &owner.token,
        )
        .await;
    assert_eq!(me.ok(200)["status"], "active");
    app.get(&account_path(&owner), &owner.token).await.ok(200);
}

async fn disabling_twice_answers_200_both_times(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (user_id, _) = member(&app, &owner, "twice@example.com", "standard").await;
    let before = app.licenses(&owner).await["attorney"]["assigned"].clone();
    let first = disable(&app, &owner, user_id).await;
    assert_eq!(first.ok(200)["status"], "disabled");
    assert_eq!(first.body["id"], user_id);
    let second = disable(&app, &owner, user_id).await;
    assert_eq!(second.ok(200)["status"], "disabled");
    let after = app.licenses(&owner).await["attorney"]["assigned"].clone();
    assert_eq!(after.as_i64(), before.as_i64().map(|n| n - 1));

    disable(&app, &owner, 987_654)
        .await
        .problem(404, "not_found");
}

// ---------------------------------------------------------------- operations

async fn the_permission_catalog_lists_accounts_billing_and_reports(app: TestApp) {
    let reply = without_token(&app, "GET", "/permissions").await;
    let names: BTreeSet<String> = reply.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| {
            assert!(p["description"].is_string(), "{p}");
            p["name"].as_str().expect("name").to_owned()
        })
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["accounts".into(), "billing".into(), "reports".into()])
    );
}
