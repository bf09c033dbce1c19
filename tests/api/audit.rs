//! The audit trail: who did what when, recorded with the change itself.

use serde_json::{Value, json};

use crate::db_tests;
use crate::helpers::{AccountSpec, TestApp};

db_tests!(
    every_change_leaves_one_audit_event_newest_first,
    audit_events_are_for_managers_of_the_account_only
);

async fn actions(app: &TestApp, owner: &crate::helpers::Owner, query: &str) -> Vec<Value> {
    app.get(
        &format!("/accounts/{}/audit-events{query}", owner.account_id),
        &owner.token,
    )
    .await
    .ok(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn every_change_leaves_one_audit_event_newest_first(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let accounts = format!("/accounts/{}", owner.account_id);
    let group = app
        .post(
            &format!("{accounts}/groups"),
            &owner.token,
            json!({"name": "Litigation"}),
        )
        .await;
    let group_id = group.ok(201)["id"].clone();
    let (accepted, token) = app
        .invite_and_read_token(
            &owner,
            json!({"email": "joins@example.com", "role": "standard", "group_ids": [group_id]}),
        )
        .await;
    let user = app.accept(&token).await.ok(201)["user"].clone();
    let (declined, token) = app
        .invite_and_read_token(
            &owner,
            json!({"email": "no@example.com", "role": "standard"}),
        )
        .await;
    app.request("POST", &format!("/invitations/{token}/decline"), None, None)
        .await
        .ok(200);
    let revoked = app
        .invite(
            &owner,
            json!({"email": "revoked@example.com", "role": "standard"}),
        )
        .await;
    app.request(
        "DELETE",
        &format!("{accounts}/invitations/{}", revoked["id"]),
        Some(&owner.token),
        None,
    )
    .await
    .ok(200);
    app.post(
        &format!("{accounts}/users/{}/disable", user["id"]),
        &owner.token,
        json!({}),
    )
    .await
    .ok(200);
    app.post(
        &format!("{accounts}/users/{}/enable", user["id"]),
        &owner.token,
        json!({}),
    )
    .await
    .ok(200);
    app.post(
        &format!("{accounts}/licenses"),
        &owner.token,
        json!({"license_type": "user", "quantity": 2}),
    )
    .await
    .ok(201);

    let events = actions(&app, &owner, "?limit=100").await;
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "licenses.purchased",
            "user.enabled",
            "user.disabled",
            "invitation.revoked",
            "invitation.created",
            "invitation.declined",
            "invitation.created",
            "invitation.accepted",
            "invitation.created",
            "group.created",
        ]
    );
    let accepted_event = &events[7];
    assert_eq!(
        accepted_event["actor"],
        json!({"type": "invitee", "user_id": null, "scim_token_id": null})
    );
    assert_eq!(
        accepted_event["subject"],
        json!({"type": "invitation", "id": accepted["id"]})
    );
    assert_eq!(accepted_event["details"]["user_id"], user["id"]);
    assert_eq!(events[5]["subject"]["id"], declined["id"]);
    let created = &events[8];
    assert_eq!(
        created["actor"],
        json!({"type": "user", "user_id": owner.user_id, "scim_token_id": null})
    );
    assert_eq!(created["details"]["email"], "joins@example.com");
    assert!(created["details"]["charge_cents"].is_i64());
    assert_eq!(events[0]["details"]["quantity"], 2);

    // Expiry is recorded as the system's doing, and filtering by action works.
    app.invite(
        &owner,
        json!({"email": "late@example.com", "role": "standard"}),
    )
    .await;
    app.clock.advance(chrono::Duration::days(8));
    let fresh = app.renew(&owner).token;
    app.post(
        &format!("{accounts}/groups"),
        &fresh,
        json!({"name": "Tax"}),
    )
    .await
    .ok(201);
    let expired = app
        .get(
            &format!("{accounts}/audit-events?action=invitation.expired"),
            &fresh,
        )
        .await;
    let items = expired.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["actor"]["type"], "system");

    // Paging.
    let first = app
        .get(&format!("{accounts}/audit-events?limit=4"), &fresh)
        .await;
    let cursor = first.ok(200)["next_cursor"].as_str().unwrap().to_owned();
    let second = app
        .get(
            &format!("{accounts}/audit-events?limit=4&cursor={cursor}"),
            &fresh,
        )
        .await;
    assert!(
        second.ok(200)["items"][0]["id"].as_i64().unwrap()
            < first.body["items"][3]["id"].as_i64().unwrap()
    );
    // No token ever appears in the trail.
    assert!(!first.text.contains("inv_") && !second.text.contains("inv_"));
}

async fn audit_events_are_for_managers_of_the_account_only(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let other = app.bootstrap(&AccountSpec::classic_annual());
    let (_, token) = app
        .invite_and_read_token(
            &owner,
            json!({"email": "staff@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    let staff = app.accept(&token).await.ok(201)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get(
        &format!("/accounts/{}/audit-events", owner.account_id),
        &staff,
    )
    .await
    .problem(403, "forbidden");
    app.get(
        &format!("/accounts/{}/audit-events", other.account_id),
        &owner.token,
    )
    .await
    .problem(404, "not_found");
    app.get(
        &format!("/accounts/{}/audit-events?limit=0", owner.account_id),
        &owner.token,
    )
    .await
    .problem(422, "validation_failed");
}
