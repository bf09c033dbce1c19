//! Stale privileges (issue 7): a manager who is disabled or demoted takes the
//! pending invitations they sent with them.

use std::time::Duration;

use serde_json::{Value, json};

use crate::db_tests;
use crate::helpers::{AccountSpec, FakeHttp, Owner, TestApp};

db_tests!(
    disabling_a_manager_revokes_the_invitations_they_sent,
    demoting_a_manager_revokes_the_invitations_they_sent,
);

/// Webhook receivers on 127.0.0.1 need this (issue 7's SSRF rule).
pub(crate) const PRIVATE_WEBHOOKS: (&str, &str) =
    ("INVITATIONS_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true");

/// The harness's database with a service of our settings on it (the
/// harness's own service is stopped, so only ours delivers).
pub(crate) async fn spawn_for(app: &TestApp, extra: &[(&str, &str)]) -> TestApp {
    app.stop().await;
    let mut overrides = vec![
        ("DATABASE_URL", app.database_url.as_str()),
        PRIVATE_WEBHOOKS,
    ];
    overrides.extend_from_slice(extra);
    TestApp::spawn_with(app.backend, &overrides)
        .await
        .expect("the same backend again")
}

struct Scene {
    owner: Owner,
    admin_id: i64,
    /// Sent by the administrator: (invitation, token).
    by_admin: Vec<(Value, String)>,
    /// Sent by the owner.
    by_owner: (Value, String),
    hooks: FakeHttp,
}

/// A classic annual account (2 attorney + 2 non-attorney open licenses) whose
/// owner made Alice an administrator; Alice invited two people, the owner one.
async fn scene(app: &TestApp) -> Scene {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let hooks = FakeHttp::answering(204).start();
    app.post(
        &format!("/accounts/{}/webhooks", owner.account_id),
        &owner.token,
        json!({"url": hooks.url("/hook"), "events": ["invitation.revoked"]}),
    )
    .await
    .ok(201);
    let (admin_id, admin_token) = app
        .join(
            &owner,
            json!({"email": "alice@example.com", "subscriber_type": "attorney", "role": "administrator"}),
        )
        .await;
    let admin = Owner {
        account_id: owner.account_id,
        user_id: admin_id,
        token: admin_token,
    };
    let mut by_admin = Vec::new();
    for (email, kind) in [
        ("friend.one@example.com", "attorney"),
        ("friend.two@example.com", "non_attorney"),
    ] {
        by_admin.push(
            app.invite_and_read_token(&admin, json!({"email": email, "subscriber_type": kind}))
                .await,
        );
    }
    let by_owner = app
        .invite_and_read_token(
            &owner,
            json!({"email": "colleague@example.com", "subscriber_type": "non_attorney"}),
        )
        .await;
    let licenses = app.licenses(&owner).await;
    assert_eq!(licenses["attorney"]["open"], 0, "{licenses:?}");
    assert_eq!(licenses["non_attorney"]["reserved"], 2, "{licenses:?}");
    Scene {
        owner,
        admin_id,
        by_admin,
        by_owner,
        hooks,
    }
}

/// What a removed manager's invitations look like afterwards, seen through the API.
async fn assert_revoked_with_their_sender(app: &TestApp, scene: &Scene, reason: &str) {
    let owner = &scene.owner;
    let accounts = format!("/accounts/{}", owner.account_id);
    for (invitation, token) in &scene.by_admin {
        let now = app
            .get(
                &format!("{accounts}/invitations/{}", invitation["id"]),
                &owner.token,
            )
            .await;
        assert_eq!(now.ok(200)["status"], "revoked", "{}", now.text);
        app.accept(token).await.problem(410, "invitation_revoked");
    }
    let (others, others_token) = &scene.by_owner;
    let untouched = app
        .get(
            &format!("{accounts}/invitations/{}", others["id"]),
            &owner.token,
        )
        .await;
    assert_eq!(untouched.ok(200)["status"], "pending");

    // Their licenses are open again: Alice's invitees' two, and (when
    // disabled) Alice's own; the owner's invitee still holds one.
    let licenses = app.licenses(owner).await;
    assert_eq!(licenses["attorney"]["reserved"], 0, "{licenses:?}");
    assert_eq!(licenses["non_attorney"]["reserved"], 1, "{licenses:?}");
    assert_eq!(licenses["non_attorney"]["open"], 1, "{licenses:?}");

    // One audit event per revoked invitation, by the manager who made the change.
    let events = app
        .get(
            &format!("{accounts}/audit-events?action=invitation.revoked"),
            &owner.token,
        )
        .await;
    let items = events.ok(200)["items"].as_array().unwrap().clone();
    let mut subjects: Vec<i64> = items
        .iter()
        .map(|e| e["subject"]["id"].as_i64().unwrap())
        .collect();
    subjects.sort_unstable();
    let mut expected: Vec<i64> = scene
        .by_admin
        .iter()
        .map(|(i, _)| i["id"].as_i64().unwrap())
        .collect();
    expected.sort_unstable();
    assert_eq!(subjects, expected, "{}", events.text);
    for event in &items {
        assert_eq!(event["actor"]["user_id"], owner.user_id, "{event}");
        assert_eq!(event["details"]["reason"], reason, "{event}");
    }

    // And the same webhooks as any revoke.
    let hooked = scene
        .hooks
        .wait_for_succeeded(expected.len(), Duration::from_secs(5))
        .await;
    let mut hooked: Vec<i64> = hooked
        .iter()
        .map(|call| call.json())
        .inspect(|h| assert_eq!(h["type"], "invitation.revoked", "{h}"))
        .map(|h| h["subject"]["id"].as_i64().unwrap())
        .collect();
    hooked.sort_unstable();
    assert_eq!(hooked, expected);

    // The owner's invitee can still join.
    app.accept(others_token).await.ok(201);
}

async fn disabling_a_manager_revokes_the_invitations_they_sent(harness: TestApp) {
    let app = spawn_for(&harness, &[]).await;
    let scene = scene(&app).await;
    let owner = &scene.owner;
    let disabled = app
        .post(
            &format!(
                "/accounts/{}/users/{}/disable",
                owner.account_id, scene.admin_id
            ),
            &owner.token,
            json!({}),
        )
        .await;
    assert_eq!(disabled.ok(200)["status"], "disabled");
    assert_revoked_with_their_sender(&app, &scene, "inviter_disabled").await;
    let licenses = app.licenses(owner).await;
    assert_eq!(
        licenses["attorney"]["open"], 2,
        "Alice's own license and her attorney invitee's: {licenses:?}"
    );
}

async fn demoting_a_manager_revokes_the_invitations_they_sent(harness: TestApp) {
    let app = spawn_for(&harness, &[]).await;
    let scene = scene(&app).await;
    let owner = &scene.owner;
    let user = format!("/accounts/{}/users/{}", owner.account_id, scene.admin_id);
    // Changes that leave her a manager revoke nothing.
    for body in [
        json!({"permissions": ["billing"]}),
        json!({"role": "administrator"}),
    ] {
        app.request("PATCH", &user, Some(&owner.token), Some(&body))
            .await
            .ok(200);
    }
    let pending = app
        .get(
            &format!("/accounts/{}/invitations?status=pending", owner.account_id),
            &owner.token,
        )
        .await;
    assert_eq!(pending.ok(200)["items"].as_array().unwrap().len(), 3);

    let demoted = app
        .request(
            "PATCH",
            &user,
            Some(&owner.token),
            Some(&json!({"role": "standard"})),
        )
        .await;
    assert_eq!(demoted.ok(200)["role"], "standard");
    assert_revoked_with_their_sender(&app, &scene, "inviter_demoted").await;
    let licenses = app.licenses(owner).await;
    assert_eq!(
        licenses["attorney"]["assigned"], 2,
        "Alice keeps her own seat: {licenses:?}"
    );
}
