//! Retention (issue 7): finished emails and webhook deliveries are deleted
//! after `INVITATIONS_RETENTION_DAYS` by the worker; the audit trail stays.

use std::time::Duration;

use diesel::prelude::*;
use invitations::config::DatabaseUrl;
use invitations::db::{DbManager, schema};
use serde_json::json;

use crate::db_tests;
use crate::helpers::{AccountSpec, FakeHttp, TestApp, eventually};
use crate::security_ops::spawn_for;

db_tests!(finished_emails_and_webhook_deliveries_are_pruned_after_retention);

/// Row counts straight from the database (what an operator's disk sees).
fn counts(database_url: &str) -> (i64, i64, i64) {
    let mut conn = DbManager::new(DatabaseUrl::parse(database_url).unwrap())
        .connect()
        .unwrap();
    let outbox = schema::email_outbox::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    let deliveries = schema::webhook_deliveries::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    let audit = schema::audit_events::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    (outbox, deliveries, audit)
}

async fn finished_emails_and_webhook_deliveries_are_pruned_after_retention(harness: TestApp) {
    let app = spawn_for(
        &harness,
        &[
            ("INVITATIONS_RETENTION_DAYS", "30"),
            ("INVITATIONS_SWEEP_INTERVAL_SECONDS", "1"),
        ],
    )
    .await;
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let hooks = FakeHttp::answering(204).start();
    app.post(
        &format!("/accounts/{}/webhooks", owner.account_id),
        &owner.token,
        json!({"url": hooks.url("/hook"), "events": ["invitation.created", "invitation.revoked"]}),
    )
    .await
    .ok(201);
    // Old traffic: one email sent, one cancelled (revoked before it could matter).
    let sent = app
        .invite(
            &owner,
            json!({"email": "old.one@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    app.wait_for_delivery(&owner, &sent, "sent").await;
    let revoked = app
        .invite(
            &owner,
            json!({"email": "old.two@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    app.revoke(&owner, &revoked).await.ok(200);
    hooks.wait_for_succeeded(3, Duration::from_secs(10)).await;
    let (outbox, deliveries, audit) = counts(&harness.database_url);
    assert_eq!((outbox, deliveries), (2, 3));

    // 29 days later nothing is old enough yet.
    app.clock.advance(chrono::Duration::days(29));
    // Deliberate: with a 1 s sweep interval, 2.5 s lets two sweeps run; that
    // nothing is deleted by them is the point, and an absence cannot be polled.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(counts(&harness.database_url).0, 2, "kept within retention");
    assert_eq!(counts(&harness.database_url).1, 3, "kept within retention");

    // 31 days after: the finished rows go, the audit trail stays.
    app.clock.advance(chrono::Duration::days(2));
    let owner = app.renew(&owner);
    let fresh = app
        .invite(
            &owner,
            json!({"email": "new.one@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    app.wait_for_delivery(&owner, &fresh, "sent").await;
    eventually(
        "the old rows are pruned",
        Duration::from_secs(10),
        || async {
            let (outbox, deliveries, _) = counts(&harness.database_url);
            (outbox == 1 && deliveries == 1).then_some(())
        },
    )
    .await;
    let (_, _, audit_after) = counts(&harness.database_url);
    assert!(
        audit_after > audit,
        "audit events are kept: {audit} → {audit_after}"
    );
    let trail = app
        .get(
            &format!(
                "/accounts/{}/audit-events?action=invitation.created",
                owner.account_id
            ),
            &owner.token,
        )
        .await;
    assert_eq!(trail.ok(200)["items"].as_array().unwrap().len(), 3);
    // The invitations themselves are untouched.
    let old = app
        .get(
            &format!("/accounts/{}/invitations/{}", owner.account_id, sent["id"]),
            &owner.token,
        )
        .await;
    assert_eq!(old.ok(200)["send_count"], 1);
}

#[test]
fn retention_shorter_than_the_resend_window_is_refused() {
    for (value, ok) in [
        ("0", false),
        ("-3", false),
        ("1", true),
        ("30", true),
        ("3651", false),
    ] {
        let result = invitations::config::Config::from_lookup(|name| {
            (name == "INVITATIONS_RETENTION_DAYS").then(|| value.to_owned())
        });
        assert_eq!(result.is_ok(), ok, "{value}: {result:?}");
        if let Err(error) = result {
            assert!(error.contains("INVITATIONS_RETENTION_DAYS"), "{error}");
        }
    }
}
