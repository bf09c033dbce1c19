//! Flat cost (issue 6, point 1): no request reads rows in proportion to the
//! size of an account beyond the page it returns, on SQLite and PostgreSQL.
//!
//! The proof: a large account (tens of thousands of licenses, invitations,
//! users, charges, audit events and outbox rows) among 400 smaller ones; the
//! hot paths driven over HTTP while a recorder on every pooled connection of
//! the service (the mail worker's too) keeps each statement with the values it
//! was bound with; then each recorded statement on one of those tables is
//! explained with those values, on one of the service's own connections. Its
//! plan may not
//! - scan a big table in full (`SCAN t`, with or without an index, `Seq Scan`,
//!   an automatic index),
//! - read more than a page's worth of rows ([`MANY`]) of a big table unless it
//!   streams them in index order into a LIMIT (no sort, hash or aggregate, no
//!   temp B-tree, above them),
//! - read more than that through an index that does not match the filter (a
//!   filter applied to the rows after the index found them; on PostgreSQL a
//!   filter expected to keep nine rows in ten, such as "not expired yet",
//!   passes).
//!
//! How many rows an index access reads: PostgreSQL's estimate for the access's
//! index condition alone (after ANALYZE); on SQLite, a count of the rows that
//! the constraints the plan shows select, with the bound values. Then the
//! counts that triggers keep in `license_counts` must equal the licenses.
//!
//! One allowance: SCIM's `totalResults` of an unfiltered list counts the
//! account's users and pending invitations on their indexes
//! (`Recorded::is_scim_total`).
//!
//! `FLAT_COST_DUMP=1` prints every recorded statement by step;
//! `FLAT_COST_DROP_INDEX=licenses_account_type_state_idx,…` drops indexes after the seed, to
//! see the check fail.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "api/helpers/mod.rs"]
#[allow(
    dead_code,
    unused_imports,
    reason = "the API tests' harness, of which this suite uses a part"
)]
mod helpers;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{Duration, NaiveDateTime};
use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use invitations::db::{DbConnection, PooledConn};
use serde_json::{Value, json};

use helpers::{AccountSpec, Backend, Owner, TestApp};

/// The tables whose size grows with an account.
const BIG_TABLES: &[&str] = &[
    "licenses",
    "invitations",
    "users",
    "charges",
    "audit_events",
    "email_outbox",
];

/// More rows than any page (at most 100 + 1), far fewer than the seeded account has.
const MANY: f64 = 500.0;

// ------------------------------------------------------------------ the tests

#[actix_web::test]
async fn every_hot_statement_uses_an_index_on_a_large_account_on_sqlite() {
    let app = TestApp::spawn(Backend::Sqlite)
        .await
        .expect("SQLite is always available");
    every_hot_statement_uses_an_index_on_a_large_account(app).await;
}

#[actix_web::test]
#[cfg_attr(
    no_test_database,
    ignore = "set TEST_DATABASE_URL=postgres://… to run the PostgreSQL variant"
)]
async fn every_hot_statement_uses_an_index_on_a_large_account_on_postgres() {
    let app = TestApp::spawn(Backend::Postgres)
        .await
        .expect("TEST_DATABASE_URL is set (or CI=true)");
    every_hot_statement_uses_an_index_on_a_large_account(app).await;
}

async fn every_hot_statement_uses_an_index_on_a_large_account(app: TestApp) {
    let started = Instant::now();
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    // Installed before the seed (which drives some requests) so that it sees
    // every statement a connection prepares; it records statements only from
    // `start`.
    let recorder = Recorder::on_every_connection_of(&app);
    let monthly = app.bootstrap(&AccountSpec::new_monthly());
    let big = seed_large_account(&mut Probe::open(&app), &app, &owner);
    let seeded = started.elapsed();

    recorder.start();
    drive_the_hot_paths(&app, &owner, &monthly, &big, &recorder).await;
    recorder.assert_still_on_every_connection_of(&app);
    let driven = started.elapsed();

    let statements = recorder.statements();
    if std::env::var("FLAT_COST_DUMP").is_ok() {
        eprintln!("{:#?}", dump(&statements));
    }
    assert_the_hot_paths_run_prepared_statements(&app, &statements, &recorder.cached());
    let mut probe = Probe::open(&app);
    probe.assert_license_counts_agree_with_the_licenses();

    let mut steps_on_big_tables = BTreeSet::new();
    let mut failures = String::new();
    let mut seen = BTreeSet::new();
    let mut failed = BTreeSet::new();
    for statement in &statements {
        if !statement.is_dml() || statement.big_tables().is_empty() {
            continue;
        }
        steps_on_big_tables.insert(statement.step.clone());
        if !seen.insert((statement.sql.clone(), statement.binds.clone())) {
            continue;
        }
        let (plan, mut problems) = probe.check(statement);
        if statement.is_scim_total() {
            // The one allowance: see `Recorded::is_scim_total`.
            problems.retain(|p| {
                !(p.contains("with no LIMIT")
                    || p.contains("not streamed into a LIMIT")
                    || p.contains("by a bitmap"))
            });
        }
        // Each failing statement once (the worker's run again and again).
        if !problems.is_empty() && failed.insert(statement.sql.clone()) {
            let _ = writeln!(
                failures,
                "\n== during `{}`:\n{}\n-- binds: {}\n-- plan:\n{plan}\n-- problems:\n  - {}",
                statement.step,
                statement.sql,
                statement.binds,
                problems.join("\n  - ")
            );
        }
    }
    // Each step and the mail worker must have run something on a big table,
    // or the check proves nothing.
    let silent: Vec<String> = recorder
        .steps()
        .into_iter()
        .filter(|step| !steps_on_big_tables.contains(step))
        .collect();
    assert!(
        silent.is_empty(),
        "no statement on a big table was recorded during {silent:?}"
    );
    for (what, start) in [
        (
            "the mail worker's claim",
            "UPDATE email_outbox SET lease_until",
        ),
        ("the mail worker's record", "UPDATE email_outbox SET status"),
    ] {
        assert!(
            statements
                .iter()
                .any(|s| s.sql.replace(['"', '`'], "").starts_with(start)),
            "{what} was not recorded"
        );
    }
    eprintln!(
        "{:?}: {} distinct statements on big tables checked; seeded in {:.1?}, driven by {:.1?}, checked by {:.1?}",
        app.backend,
        seen.len(),
        seeded,
        driven,
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{:?}: statements that read rows in proportion to the account (the mail worker's \
         are listed under the step during which they ran):{failures}",
        app.backend
    );
}

/// The benchmarked requests (invite, quote, list, preview) run only statements
/// their connection keeps prepared: the database parses and plans each once
/// per connection, not on every request. The mail worker runs in the
/// background meanwhile; its record of a batch (statements over the batch's
/// ids, whose text SQLite varies with their number) runs once per batch, not
/// per request, and is not held to this (`WORKER`); its claim is.
fn assert_the_hot_paths_run_prepared_statements(
    app: &TestApp,
    statements: &[Recorded],
    cached: &BTreeSet<String>,
) {
    const WORKER: &[&str] = &[
        "UPDATE email_outbox SET status",
        "UPDATE invitations SET delivery",
        "SELECT invitations.id FROM invitations WHERE",
        "DELETE FROM email_outbox",
    ];
    let hot = |step: &str| {
        [
            "quote",
            "invite reusing an open license",
            "preview an invitation by its token",
        ]
        .contains(&step)
            || step.starts_with("list invitations")
            || step.starts_with("list pending invitations")
    };
    let unprepared: BTreeSet<(&str, &str)> = statements
        .iter()
        .filter(|s| hot(&s.step) && s.is_dml())
        .filter(|s| {
            let plain = s.sql.replace(['"', '`'], "");
            !WORKER.iter().any(|w| plain.starts_with(w))
        })
        .filter(|s| !cached.contains(&s.sql))
        .map(|s| (s.step.as_str(), s.sql.as_str()))
        .collect();
    assert!(
        unprepared.is_empty(),
        "{:?}: statements of the hot paths that were not kept prepared:\n{}",
        app.backend,
        unprepared
            .iter()
            .map(|(step, sql)| format!("during `{step}`: {sql}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

// ------------------------------------------------------------------ the seed

/// What the seeded account has, for the requests to aim at.
struct Seeded {
    pending_ids: Vec<i64>,
    expired_id: i64,
}

fn ts(at: NaiveDateTime) -> String {
    format!("'{}'", at.format("%Y-%m-%d %H:%M:%S"))
}

/// The large account: 15,000 users (1,000 disabled); 10,000 invitations,
/// oldest first expired, accepted, revoked, declined, then 4,500 pending; a
/// license per active user and per pending invitation plus 40 open (about
/// 18,500); 1,000 purchases and a charge per second invitation; 20,000 audit
/// events; an outbox row per invitation (sent, or queued for a retry
/// tomorrow). Beside it, 400 smaller accounts (50 users, 100 invitations, 100
/// audit events, … each), so that the large one holds a fifth to a half of
/// each table, as in a service with many tenants, not nearly all of it (with
/// nearly all, the planner rightly walks the primary key and filters: every
/// row it meets is the account's). SQL that both databases run as it is.
fn seed_large_account(probe: &mut Probe, app: &TestApp, owner: &Owner) -> Seeded {
    let now = app.clock.now();
    let (a, by) = (owner.account_id, owner.user_id);
    let old = ts(now - Duration::days(30));
    let soon = ts(now + Duration::days(7));
    let tomorrow = ts(now + Duration::days(1));
    let seq = |n: u32| {
        format!("WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {n})")
    };
    let kind = "CASE WHEN n % 2 = 0 THEN 'attorney' ELSE 'non_attorney' END";
    let small = "SELECT id FROM accounts WHERE name LIKE 'Small firm %'";
    probe.exec(&format!(
        "{} INSERT INTO accounts (name, billing_system, plan, currency, period_anchor, lock_version, created_at) \
         SELECT 'Small firm ' || n, 'new', 'monthly', 'USD', {old}, 0, {old} FROM seq",
        seq(400)
    ));
    probe.exec(&format!(
        "{} INSERT INTO users (account_id, email, email_normalized, first_name, last_name, \
         password_hash, role, subscriber_type, permissions, status, created_at, updated_at) \
         SELECT {a}, 'member' || n || '@seed.example', 'member' || n || '@seed.example', 'Member', 'No' || n, \
         'not a password hash', 'standard', {kind}, '[]', \
         CASE WHEN n <= 14000 THEN 'active' ELSE 'disabled' END, {old}, {old} FROM seq",
        seq(15_000)
    ));
    probe.exec(&format!(
        "{} INSERT INTO users (account_id, email, email_normalized, first_name, last_name, \
         password_hash, role, subscriber_type, permissions, status, created_at, updated_at) \
         SELECT a.id, 'small' || a.id || '.' || n || '@seed.example', 'small' || a.id || '.' || n || '@seed.example', \
         'Small', 'No' || n, 'not a password hash', 'standard', 'attorney', '[]', \
         CASE WHEN n <= 47 THEN 'active' ELSE 'disabled' END, {old}, {old} \
         FROM accounts a, seq WHERE a.id IN ({small})",
        seq(50)
    ));
    probe.exec(&format!(
        "{} INSERT INTO invitations (account_id, email, email_normalized, role, subscriber_type, \
         permissions, status, token_hash, expires_in_days, expires_at, invited_by_user_id, \
         send_count, last_sent_at, delivery, license_type, created_at, updated_at) \
         SELECT {a}, 'invitee' || n || '@seed.example', 'invitee' || n || '@seed.example', 'standard', {kind}, '[]', \
         CASE WHEN n <= 2000 THEN 'expired' WHEN n <= 4000 THEN 'accepted' WHEN n <= 5000 THEN 'revoked' \
              WHEN n <= 5500 THEN 'declined' ELSE 'pending' END, \
         'seeded-token-' || n, 7, {soon}, {by}, 1, {old}, 'sent', {kind}, {old}, {old} FROM seq",
        seq(10_000)
    ));
    probe.exec(&format!(
        "{} INSERT INTO invitations (account_id, email, email_normalized, role, subscriber_type, \
         permissions, status, token_hash, expires_in_days, expires_at, invited_by_user_id, \
         send_count, last_sent_at, delivery, license_type, created_at, updated_at) \
         SELECT a.id, 'guest' || a.id || '.' || n || '@seed.example', 'guest' || a.id || '.' || n || '@seed.example', \
         'standard', NULL, '[]', \
         CASE WHEN n <= 30 THEN 'expired' WHEN n <= 60 THEN 'accepted' WHEN n <= 70 THEN 'revoked' \
              WHEN n <= 75 THEN 'declined' ELSE 'pending' END, \
         'seeded-token-' || a.id || '.' || n, 7, {soon}, \
         (SELECT min(u.id) FROM users u WHERE u.account_id = a.id), 1, {old}, 'sent', 'user', {old}, {old} \
         FROM accounts a, seq WHERE a.id IN ({small})",
        seq(100)
    ));
    probe.exec(&format!(
        "INSERT INTO licenses (account_id, license_type, state, invitation_id, user_id, created_at, updated_at) \
         SELECT u.account_id, CASE WHEN u.account_id = {a} THEN u.subscriber_type ELSE 'user' END, \
         'assigned', NULL, u.id, {old}, {old} FROM users u \
         WHERE u.status = 'active' AND u.email_normalized LIKE '%@seed.example'"
    ));
    probe.exec(&format!(
        "INSERT INTO licenses (account_id, license_type, state, invitation_id, user_id, created_at, updated_at) \
         SELECT account_id, license_type, 'reserved', id, NULL, {old}, {old} FROM invitations \
         WHERE status = 'pending' AND email_normalized LIKE '%@seed.example'"
    ));
    probe.exec(&format!(
        "{} INSERT INTO licenses (account_id, license_type, state, invitation_id, user_id, created_at, updated_at) \
         SELECT {a}, {kind}, 'open', NULL, NULL, {old}, {old} FROM seq",
        seq(40)
    ));
    probe.exec(&format!(
        "{} INSERT INTO licenses (account_id, license_type, state, invitation_id, user_id, created_at, updated_at) \
         SELECT a.id, 'user', 'open', NULL, NULL, {old}, {old} FROM accounts a, seq WHERE a.id IN ({small})",
        seq(2)
    ));
    probe.exec(&format!(
        "{} INSERT INTO charges (account_id, amount_cents, currency, license_type, quantity, reason, \
         invitation_id, user_id, period_start, period_end, seconds_remaining, created_at) \
         SELECT {a}, 1000 + n, 'USD', {kind}, 1, 'license_purchase', NULL, NULL, {old}, {soon}, 86400, {old} FROM seq",
        seq(1_000)
    ));
    probe.exec(&format!(
        "INSERT INTO charges (account_id, amount_cents, currency, license_type, quantity, reason, \
         invitation_id, user_id, period_start, period_end, seconds_remaining, created_at) \
         SELECT account_id, 12000, 'USD', license_type, 1, 'invitation', id, NULL, {old}, {soon}, 86400, {old} \
         FROM invitations WHERE id % 2 = 0 AND email_normalized LIKE '%@seed.example'"
    ));
    let action = "CASE n % 4 WHEN 0 THEN 'invitation.created' WHEN 1 THEN 'invitation.accepted' \
                  WHEN 2 THEN 'invitation.expired' ELSE 'user.disabled' END";
    probe.exec(&format!(
        "{} INSERT INTO audit_events (account_id, actor_type, actor_user_id, action, subject_type, \
         subject_id, details, created_at) \
         SELECT {a}, 'user', {by}, {action}, 'invitation', n, '{{}}', {old} FROM seq",
        seq(20_000)
    ));
    probe.exec(&format!(
        "{} INSERT INTO audit_events (account_id, actor_type, actor_user_id, action, subject_type, \
         subject_id, details, created_at) \
         SELECT a.id, 'system', NULL, {action}, 'invitation', n, '{{}}', {old} \
         FROM accounts a, seq WHERE a.id IN ({small})",
        seq(100)
    ));
    probe.exec(&format!(
        "INSERT INTO email_outbox (account_id, invitation_id, recipient, subject, text_body, html_body, \
         status, attempts, next_attempt_at, created_at) \
         SELECT account_id, id, email, 'You are invited', '', '', \
         CASE WHEN status = 'pending' AND id % 5 = 0 THEN 'queued' ELSE 'sent' END, 1, {tomorrow}, {old} \
         FROM invitations WHERE email_normalized LIKE '%@seed.example'"
    ));
    // To see the check fail: FLAT_COST_DROP_INDEX=licenses_account_type_state_idx,… drops those indexes.
    for index in std::env::var("FLAT_COST_DROP_INDEX")
        .unwrap_or_default()
        .split(',')
    {
        if !index.trim().is_empty() {
            probe.exec(&format!("DROP INDEX {}", index.trim()));
        }
    }
    probe.analyze();
    let pending_ids = probe.ids(&format!(
        "SELECT id FROM invitations WHERE account_id = {a} AND status = 'pending' ORDER BY id LIMIT 3"
    ));
    let expired_id = probe.ids(&format!(
        "SELECT id FROM invitations WHERE account_id = {a} AND status = 'expired' ORDER BY id LIMIT 1"
    ))[0];
    Seeded {
        pending_ids,
        expired_id,
    }
}

// ------------------------------------------------------------------ the requests

async fn drive_the_hot_paths(
    app: &TestApp,
    owner: &Owner,
    monthly: &Owner,
    big: &Seeded,
    recorder: &Log,
) {
    let a = format!("/accounts/{}", owner.account_id);
    let token = owner.token.as_str();

    recorder.step("quote");
    app.post(
        &format!("{a}/invitations/quote"),
        token,
        json!({"email": "quoted@new.example", "subscriber_type": "attorney"}),
    )
    .await
    .ok(200);

    recorder.step("invite reusing an open license");
    let invited = app
        .invite(
            owner,
            json!({"email": "fresh@new.example", "subscriber_type": "attorney"}),
        )
        .await;
    recorder.step("its email sent");
    let fresh_token = app.email_to("fresh@new.example").await.token;
    app.wait_for_delivery(owner, &invited, "sent").await;

    recorder.step("invite buying a license on a monthly account");
    let bought = app
        .invite(
            monthly,
            json!({"email": "bought@new.example", "role": "standard"}),
        )
        .await;
    assert!(bought["charge"].is_object(), "{bought}");

    for query in [
        "",
        "?status=pending",
        "?status=expired",
        "?status=accepted",
        "?status=revoked",
        "?email=invitee4321@seed.example",
    ] {
        recorder.step(&format!("list invitations{query}"));
        app.get(&format!("{a}/invitations{query}"), token)
            .await
            .ok(200);
    }
    recorder.step("list invitations, second page");
    let first = app.get(&format!("{a}/invitations?limit=10"), token).await;
    let cursor = first.ok(200)["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    app.get(&format!("{a}/invitations?limit=10&cursor={cursor}"), token)
        .await
        .ok(200);
    recorder.step("list pending invitations, second page");
    let first = app
        .get(&format!("{a}/invitations?status=pending&limit=10"), token)
        .await;
    let cursor = first.ok(200)["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    app.get(
        &format!("{a}/invitations?status=pending&limit=10&cursor={cursor}"),
        token,
    )
    .await
    .ok(200);

    recorder.step("get one invitation");
    app.get(&format!("{a}/invitations/{}", big.pending_ids[0]), token)
        .await
        .ok(200);

    recorder.step("preview an invitation by its token");
    app.request("GET", &format!("/invitations/{fresh_token}"), None, None)
        .await
        .ok(200);

    recorder.step("accept");
    app.accept(&fresh_token).await.ok(201);

    recorder.step("decline (after an invite)");
    let (_, declining) = app
        .invite_and_read_token(
            owner,
            json!({"email": "declining@new.example", "subscriber_type": "non_attorney"}),
        )
        .await;
    let declined = app
        .request(
            "POST",
            &format!("/invitations/{declining}/decline"),
            None,
            None,
        )
        .await;
    assert!(declined.status < 300, "{}", declined.text);

    recorder.step("revoke");
    let revoked = app
        .request(
            "DELETE",
            &format!("{a}/invitations/{}", big.pending_ids[1]),
            Some(token),
            None,
        )
        .await;
    assert!(revoked.status < 300, "{}", revoked.text);

    recorder.step("resend a pending invitation");
    app.request(
        "POST",
        &format!("{a}/invitations/{}/resend", big.pending_ids[2]),
        Some(token),
        None,
    )
    .await
    .ok(200);

    recorder.step("resend an expired invitation");
    app.request(
        "POST",
        &format!("{a}/invitations/{}/resend", big.expired_id),
        Some(token),
        None,
    )
    .await
    .ok(200);

    for query in ["", "?status=active", "?status=disabled"] {
        recorder.step(&format!("list users{query}"));
        app.get(&format!("{a}/users{query}"), token).await.ok(200);
    }

    recorder.step("license summary");
    app.licenses(owner).await;

    recorder.step("charges");
    app.get(&format!("{a}/charges"), token).await.ok(200);

    for query in ["", "?action=invitation.revoked", "?action=user.disabled"] {
        recorder.step(&format!("audit events{query}"));
        app.get(&format!("{a}/audit-events{query}"), token)
            .await
            .ok(200);
    }

    // SCIM (issue 11): every person of the account is a User; the lookups
    // directories send and unfiltered pages read only the page (the first
    // sighting of a person gives it its SCIM id).
    let scim_token = app
        .post(&format!("{a}/scim-tokens"), token, json!({}))
        .await
        .ok(201)["token"]
        .as_str()
        .expect("a SCIM token")
        .to_owned();
    let scim = |path: String| {
        let scim_token = scim_token.clone();
        async move {
            let reply = app
                .request("GET", &format!("/scim/v2{path}"), Some(&scim_token), None)
                .await;
            assert_eq!(reply.status, 200, "GET /scim/v2{path}: {}", reply.text);
            reply
        }
    };
    for (what, start) in [
        ("first page", 1),
        ("a page of users", 7_001),
        ("a page across users and pending invitations", 14_990),
        ("a page of pending invitations", 17_001),
        ("the last page", 19_490),
    ] {
        recorder.step(&format!("scim list users, {what}"));
        let page = scim(format!("/Users?startIndex={start}&count=100")).await;
        assert!(
            page.ok(200)["Resources"]
                .as_array()
                .is_some_and(|r| !r.is_empty()),
            "{}",
            page.text
        );
    }
    let mut found = Vec::new();
    for email in [
        "member4321@seed.example",
        "member14500@seed.example",
        "invitee9000@seed.example",
        "nobody@seed.example",
    ] {
        recorder.step(&format!("scim find user by userName {email}"));
        let filter = format!("/Users?filter=userName%20eq%20%22{email}%22");
        let reply = scim(filter).await;
        if let Some(id) = reply.ok(200)["Resources"][0]["id"].as_str() {
            found.push(id.to_owned());
        }
        recorder.step(&format!("scim find user by emails.value {email}"));
        scim(format!("/Users?filter=emails.value%20eq%20%22{email}%22"))
            .await
            .ok(200);
    }
    assert_eq!(found.len(), 3, "{found:?}");
    recorder.step("scim get user");
    scim(format!("/Users/{}", found[0])).await.ok(200);
    recorder.step("scim set externalId");
    let scim_patch = app
        .request(
            "PATCH",
            &format!("/scim/v2/Users/{}", found[0]),
            Some(&scim_token),
            Some(&json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "externalId", "value": "okta-4321"}],
            })),
        )
        .await;
    scim_patch.ok(200);
    recorder.step("scim find user by externalId");
    let by_external = scim("/Users?filter=externalId%20eq%20%22okta-4321%22".to_owned()).await;
    assert_eq!(
        by_external.ok(200)["totalResults"],
        1,
        "{}",
        by_external.text
    );

    let me = app
        .get(&format!("{a}/users/{}", owner.user_id), token)
        .await;
    let email = me.ok(200)["email"].as_str().expect("email").to_owned();
    recorder.step("sign in");
    app.request(
        "POST",
        "/sessions",
        None,
        Some(&json!({"email": email, "password": "owner password"})),
    )
    .await
    .ok(200);
}

// ------------------------------------------------------------------ the recorder

/// One statement as a pooled connection ran it.
#[derive(Debug, Clone)]
struct Recorded {
    step: String,
    sql: String,
    /// The bound values, as Diesel's `DebugQuery` prints them: `[1, "open", …]`.
    binds: String,
}

impl Recorded {
    fn is_dml(&self) -> bool {
        let head = self.sql.trim_start().to_ascii_uppercase();
        ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH"]
            .iter()
            .any(|verb| head.starts_with(verb))
    }

    /// SCIM's `totalResults` of an unfiltered list (RFC 7644 requires it,
    /// and paging by `startIndex` needs it): a `count(*)` of the account's
    /// users, or of its pending invitations, may read the index entries it
    /// counts. It must still be served by an index matching its filter (no
    /// full scan, no filter the index leaves to the rows).
    fn is_scim_total(&self) -> bool {
        self.step.starts_with("scim list users")
            && self
                .sql
                .to_ascii_uppercase()
                .starts_with("SELECT COUNT(*) FROM")
    }

    fn big_tables(&self) -> Vec<&'static str> {
        let words: BTreeSet<&str> = self
            .sql
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .collect();
        BIG_TABLES
            .iter()
            .copied()
            .filter(|t| words.contains(t))
            .collect()
    }
}

#[derive(Clone, Default)]
struct Log {
    step: Arc<Mutex<String>>,
    steps: Arc<Mutex<Vec<String>>>,
    statements: Arc<Mutex<Vec<Recorded>>>,
    /// The SQL of every statement a connection kept in its prepared-statement cache.
    cached: Arc<Mutex<BTreeSet<String>>>,
    /// Statements are kept only once this is set.
    recording: Arc<std::sync::atomic::AtomicBool>,
}

/// Set on a connection, keeps every statement it starts under the current step.
struct Recorder(Log);

impl Instrumentation for Recorder {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { query, .. }
                if self.0.recording.load(std::sync::atomic::Ordering::SeqCst) =>
            {
                let text = query.to_string();
                let (sql, binds) = match text.rsplit_once(" -- binds: ") {
                    Some((sql, binds)) => (sql.to_owned(), binds.to_owned()),
                    None => (text, "[]".to_owned()),
                };
                let step = lock(&self.0.step).clone();
                lock(&self.0.statements).push(Recorded { step, sql, binds });
            }
            InstrumentationEvent::CacheQuery { sql, .. } => {
                lock(&self.0.cached).insert(sql.to_owned());
            }
            _ => {}
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Recorder {
    /// Sets a recorder on every connection of the service's pool. (The pool
    /// sets its own instrumentation on the connections it opens, which would
    /// replace a process-wide default, so each connection is taken out once.)
    fn on_every_connection_of(app: &TestApp) -> Log {
        let log = Log::default();
        let pool = &app.state.pool;
        let taken: Vec<_> = (0..pool.max_size())
            .map(|_| {
                let mut conn = pool.get().expect("a pooled connection");
                conn.set_instrumentation(Recorder(log.clone()));
                conn
            })
            .collect();
        drop(taken);
        log
    }
}

impl Log {
    fn start(&self) {
        self.recording
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn step(&self, name: &str) {
        name.clone_into(&mut lock(&self.step));
        let mut steps = lock(&self.steps);
        if !steps.iter().any(|s| s == name) {
            steps.push(name.to_owned());
        }
    }

    fn steps(&self) -> Vec<String> {
        lock(&self.steps).clone()
    }

    fn statements(&self) -> Vec<Recorded> {
        lock(&self.statements).clone()
    }

    fn cached(&self) -> BTreeSet<String> {
        lock(&self.cached).clone()
    }

    /// No connection was opened (or replaced) unrecorded while the requests ran.
    fn assert_still_on_every_connection_of(&self, app: &TestApp) {
        let pool = &app.state.pool;
        let taken: Vec<_> = (0..pool.max_size())
            .map(|_| pool.get().expect("a pooled connection"))
            .collect();
        for mut conn in taken {
            assert!(
                conn.instrumentation().downcast_mut::<Recorder>().is_some(),
                "a pooled connection without the recorder"
            );
        }
    }
}

// ------------------------------------------------------------------ the probe

/// One of the service's own pooled connections (so the planner has the
/// settings the service's sessions have): seeds the database, and explains.
struct Probe(PooledConn);

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct PgPlan {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    plan: String,
}

#[derive(QueryableByName)]
struct LitePlanLine {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    id: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    parent: i32,
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Count {
    #[diesel(sql_type = BigInt)]
    account_id: i64,
    #[diesel(sql_type = Text)]
    license_type: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl Probe {
    fn open(app: &TestApp) -> Probe {
        Probe(app.state.pool.get().expect("a pooled connection"))
    }

    fn exec(&mut self, sql: &str) {
        match &mut **self.0 {
            DbConnection::Postgres(conn) => conn.batch_execute(sql),
            DbConnection::Sqlite(conn) => conn.batch_execute(sql),
        }
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }

    /// Statistics for PostgreSQL's planner, as autovacuum would gather them.
    /// Not for SQLite: the service never runs ANALYZE there, so the plans it
    /// runs are the ones SQLite makes without statistics, and those are the
    /// plans checked. (With them, STAT4 sees how large the one account is
    /// and may walk the rowid and filter, a plan that tells nothing about
    /// the indexes.)
    fn analyze(&mut self) {
        if let DbConnection::Postgres(conn) = &mut **self.0 {
            conn.batch_execute("ANALYZE").expect("ANALYZE");
        }
    }

    fn ids(&mut self, sql: &str) -> Vec<i64> {
        let rows = match &mut **self.0 {
            DbConnection::Postgres(conn) => diesel::sql_query(sql).load::<Id>(conn),
            DbConnection::Sqlite(conn) => diesel::sql_query(sql).load::<Id>(conn),
        };
        rows.unwrap_or_else(|e| panic!("{e}: {sql}"))
            .into_iter()
            .map(|r| r.id)
            .collect()
    }

    fn assert_license_counts_agree_with_the_licenses(&mut self) {
        let kept = "SELECT account_id, license_type, state, n FROM license_counts WHERE n > 0 \
                    ORDER BY account_id, license_type, state";
        let counted = "SELECT account_id, license_type, state, count(*) AS n FROM licenses \
                       GROUP BY account_id, license_type, state ORDER BY account_id, license_type, state";
        let load = |probe: &mut Probe, sql: &str| -> Vec<Count> {
            match &mut **probe.0 {
                DbConnection::Postgres(conn) => diesel::sql_query(sql).load(conn),
                DbConnection::Sqlite(conn) => diesel::sql_query(sql).load(conn),
            }
            .unwrap_or_else(|e| panic!("{e}: {sql}"))
        };
        let kept = load(self, kept);
        let counted = load(self, counted);
        assert!(counted.len() >= 4, "{counted:?}");
        assert_eq!(
            kept, counted,
            "license_counts differs from the licenses it counts"
        );
    }

    /// The plan of a recorded statement, and what is wrong with it.
    fn check(&mut self, statement: &Recorded) -> (String, Vec<String>) {
        let values = parse_binds(&statement.binds);
        match &mut **self.0 {
            DbConnection::Postgres(conn) => pg_check(conn, &statement.sql, &values),
            DbConnection::Sqlite(conn) => sqlite_check(conn, &statement.sql, &values),
        }
    }
}

// ------------------------------------------------------------------ PostgreSQL plans

fn pg_check(conn: &mut PgConnection, sql: &str, values: &[Lit]) -> (String, Vec<String>) {
    let args = if values.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = values.iter().map(Lit::postgres).collect();
        format!("({})", list.join(", "))
    };
    if let Err(e) = conn.batch_execute(&format!("PREPARE flat_cost_probe AS {sql}")) {
        return (String::new(), vec![format!("cannot prepare it: {e}")]);
    }
    let explained = diesel::sql_query(format!(
        "EXPLAIN (FORMAT JSON) EXECUTE flat_cost_probe{args}"
    ))
    .load::<PgPlan>(conn);
    conn.batch_execute("DEALLOCATE flat_cost_probe")
        .expect("deallocate the probe");
    let plan = match explained {
        Ok(rows) => rows.into_iter().map(|r| r.plan).collect::<String>(),
        Err(e) => return (String::new(), vec![format!("cannot explain it: {e}")]),
    };
    let parsed: Value = serde_json::from_str(&plan).expect("a JSON plan");
    let root = &parsed[0]["Plan"];
    let mut problems = Vec::new();
    pg_walk(conn, root, false, &mut problems);
    (pg_outline(root, 0, String::new()), problems)
}

/// "about N rows", or every row when the access has no bound.
fn rows_read(rows: f64) -> String {
    if rows.is_finite() {
        format!("about {rows} rows")
    } else {
        "every row (the access has no index condition that bounds it)".to_owned()
    }
}

/// One line per node: type, relation, index and direction, conditions, and
/// the estimated rows and cost.
fn pg_outline(node: &Value, depth: usize, mut out: String) -> String {
    let field = |k: &str| node[k].as_str().map(|v| format!(" {k}: {v};"));
    let _ = writeln!(
        out,
        "{}{}{}{}{}{}{}{} rows={} cost={}",
        "  ".repeat(depth),
        node["Node Type"].as_str().unwrap_or("?"),
        field("Relation Name").unwrap_or_default(),
        field("Index Name").unwrap_or_default(),
        field("Scan Direction").unwrap_or_default(),
        field("Index Cond").unwrap_or_default(),
        field("Filter").unwrap_or_default(),
        field("Sort Key")
            .or_else(|| node["Sort Key"]
                .as_array()
                .map(|k| format!(" Sort Key: {k:?};")))
            .unwrap_or_default(),
        node["Plan Rows"],
        node["Total Cost"]
    );
    if let Some(children) = node["Plans"].as_array() {
        for child in children {
            out = pg_outline(child, depth + 1, out);
        }
    }
    out
}

/// Nodes that hand rows on one by one as they get them, so a LIMIT above
/// them stops the scan below early.
const STREAMING: &[&str] = &[
    "Limit",
    "LockRows",
    "Result",
    "Subquery Scan",
    "Unique",
    "Nested Loop",
    "ProjectSet",
];

fn pg_walk(conn: &mut PgConnection, node: &Value, limited: bool, problems: &mut Vec<String>) {
    let kind = node["Node Type"].as_str().unwrap_or_default();
    let rows = node["Plan Rows"].as_f64().unwrap_or(0.0);
    if let Some(table) = node["Relation Name"]
        .as_str()
        .filter(|t| BIG_TABLES.contains(t))
    {
        match kind {
            "Seq Scan" | "Tid Range Scan" => {
                problems.push(format!("reads all of `{table}` ({kind})"));
            }
            "Index Scan" | "Index Only Scan" => {
                let index = node["Index Name"].as_str().unwrap_or("?");
                let filter = node["Filter"].as_str();
                let selected = match filter {
                    Some(_) => pg_index_cond_rows(conn, node).unwrap_or(rows),
                    None => rows,
                };
                if selected > MANY && !limited {
                    problems.push(format!(
                        "reads {} of `{table}` through `{index}`, not streamed into a LIMIT (sorted, grouped or all returned)",
                        rows_read(selected)
                    ));
                } else if let Some(filter) = filter
                    && selected > MANY
                    // A filter that keeps nearly every row (say, "not expired
                    // yet") costs a few rows more per page, not an account.
                    && rows < 0.9 * selected
                {
                    problems.push(format!(
                        "reads {} of `{table}` through `{index}` and filters them by {filter} (keeping about {rows}): no index matches the filter",
                        rows_read(selected)
                    ));
                }
            }
            "Bitmap Heap Scan" => {
                let selected = node["Plans"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["Plan Rows"].as_f64())
                    .fold(rows, f64::max);
                if selected > MANY {
                    problems.push(format!(
                        "reads about {selected} rows of `{table}` by a bitmap (in no order, all of them)"
                    ));
                }
            }
            _ => {}
        }
    }
    let children_limited = match kind {
        "Limit" => true,
        k if STREAMING.contains(&k) => limited,
        _ => false,
    };
    if let Some(children) = node["Plans"].as_array() {
        for child in children {
            pg_walk(conn, child, children_limited, problems);
        }
    }
}

/// How many rows PostgreSQL expects the index condition alone to select.
fn pg_index_cond_rows(conn: &mut PgConnection, node: &Value) -> Option<f64> {
    let table = node["Relation Name"].as_str()?;
    let alias = node["Alias"].as_str().unwrap_or(table);
    let Some(cond) = node["Index Cond"].as_str() else {
        // No index condition: the whole index is walked.
        return Some(f64::INFINITY);
    };
    let rows = diesel::sql_query(format!(
        "EXPLAIN (FORMAT JSON) SELECT 1 FROM {table} AS {alias} WHERE {cond}"
    ))
    .load::<PgPlan>(conn)
    .ok()?;
    let plan: Value = serde_json::from_str(&rows.first()?.plan).ok()?;
    plan[0]["Plan"]["Plan Rows"].as_f64()
}

// ------------------------------------------------------------------ SQLite plans

fn sqlite_check(conn: &mut SqliteConnection, sql: &str, values: &[Lit]) -> (String, Vec<String>) {
    let inlined = inline_sqlite(sql, values);
    let lines = match diesel::sql_query(format!("EXPLAIN QUERY PLAN {inlined}"))
        .load::<LitePlanLine>(conn)
    {
        Ok(lines) => lines,
        Err(e) => return (String::new(), vec![format!("cannot explain it: {e}")]),
    };
    let mut depth: HashMap<i32, usize> = HashMap::new();
    let mut plan = String::new();
    for line in &lines {
        let d = depth.get(&line.parent).map_or(0, |d| d + 1);
        depth.insert(line.id, d);
        let _ = writeln!(plan, "{}{}", "  ".repeat(d), line.detail);
    }
    // An INSERT of values reads nothing of its own; its plan lists the scans
    // of the tables that reference it, which SQLite runs only while a
    // deferred foreign key violation is outstanding (never, here).
    if sql.starts_with("INSERT") && !sql.contains("SELECT") {
        return (plan, Vec::new());
    }
    let sorts = lines
        .iter()
        .any(|l| l.detail.starts_with("USE TEMP B-TREE"));
    let limited = sql.contains(" LIMIT ");
    let mut problems = Vec::new();
    for line in &lines {
        let detail = line.detail.as_str();
        let mut words = detail.split_whitespace();
        let (Some(verb), Some(table)) = (words.next(), words.next()) else {
            continue;
        };
        if !BIG_TABLES.contains(&table) {
            continue;
        }
        if verb == "SCAN" {
            problems.push(format!("reads all of `{table}`: {detail}"));
            continue;
        }
        if verb != "SEARCH" {
            continue;
        }
        if detail.contains("AUTOMATIC") {
            problems.push(format!(
                "builds an index of all of `{table}` for the statement: {detail}"
            ));
            continue;
        }
        let access = LiteAccess::parse(detail);
        let selected = access.rows(conn, table, sql, values);
        if selected <= MANY {
            continue;
        }
        let index = access.index.as_deref().unwrap_or("the integer primary key");
        if sorts {
            problems.push(format!(
                "sorts about {selected} rows of `{table}` read through `{index}`: {detail}"
            ));
        } else if !limited {
            problems.push(format!(
                "reads about {selected} rows of `{table}` through `{index}` with no LIMIT: {detail}"
            ));
        }
        // A partial index's own condition is no filter on the rows it finds.
        let partial = access
            .index
            .as_deref()
            .and_then(|index| partial_predicate(conn, index));
        let unmatched: Vec<String> = equality_columns(sql, table)
            .into_iter()
            .filter(|c| !access.columns().contains(&c.as_str()))
            .filter(|c| !partial.as_deref().is_some_and(|p| p.contains(c.as_str())))
            .collect();
        if !unmatched.is_empty() {
            problems.push(format!(
                "reads {} of `{table}` through `{index}` and filters them by {unmatched:?}: no index matches the filter",
                rows_read(selected)
            ));
        }
    }
    (plan, problems)
}

/// One `SEARCH` of SQLite's plan: the index, and the columns it constrains
/// with their operators (`account_id=?`, `rowid<?` for the id).
struct LiteAccess {
    /// `None` for the integer primary key.
    index: Option<String>,
    terms: Vec<(String, String)>,
}

impl LiteAccess {
    fn parse(detail: &str) -> LiteAccess {
        let index = if detail.contains("INTEGER PRIMARY KEY") {
            None
        } else {
            detail
                .split(" INDEX ")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_owned)
        };
        let constraints = detail
            .rsplit_once('(')
            .map(|(_, c)| c.trim_end_matches(')'))
            .unwrap_or_default();
        let terms = constraints
            .split(" AND ")
            .filter(|t| !t.is_empty())
            .map(|term| {
                let name: String = term
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let operator: String = term[name.len()..]
                    .chars()
                    .take_while(|c| matches!(c, '=' | '<' | '>' | '!'))
                    .collect();
                let column = if name == "rowid" {
                    "id".to_owned()
                } else {
                    name
                };
                (column, operator)
            })
            .collect();
        LiteAccess { index, terms }
    }

    fn columns(&self) -> Vec<&str> {
        self.terms.iter().map(|(c, _)| c.as_str()).collect()
    }

    /// Rows the access selects, counted: with the values the statement was
    /// bound with where it compares the constrained columns to them, else the
    /// most that any one key of the index's equality prefix selects.
    fn rows(&self, conn: &mut SqliteConnection, table: &str, sql: &str, values: &[Lit]) -> f64 {
        if self.terms.is_empty() {
            return f64::INFINITY;
        }
        if self.index.is_none() && self.terms.iter().all(|(_, op)| op == "=") {
            // The integer primary key: one row per id given.
            return 1.0;
        }
        let partial = self
            .index
            .as_deref()
            .and_then(|index| partial_predicate(conn, index))
            .map(|predicate| format!("({predicate})"));
        let bound: Vec<String> = self
            .terms
            .iter()
            .map_while(|(column, op)| {
                bound_value(sql, table, column, op, values)
                    .map(|(op, value)| format!("{column} {op} {}", value.sqlite()))
            })
            .collect();
        let query = if bound.len() == self.terms.len() {
            let conditions: Vec<String> = bound.into_iter().chain(partial).collect();
            format!(
                "SELECT count(*) AS id FROM (SELECT 1 FROM {table} WHERE {} LIMIT 100000) AS counted",
                conditions.join(" AND ")
            )
        } else {
            let keys: Vec<&str> = self
                .terms
                .iter()
                .take_while(|(_, op)| op == "=")
                .map(|(c, _)| c.as_str())
                .collect();
            if keys.is_empty() {
                return f64::INFINITY;
            }
            format!(
                "SELECT coalesce(max(n), 0) AS id FROM (SELECT count(*) AS n FROM {table} WHERE {} GROUP BY {})",
                partial.unwrap_or_else(|| "1".to_owned()),
                keys.join(", ")
            )
        };
        diesel::sql_query(&query)
            .load::<Id>(conn)
            .ok()
            .and_then(|rows| rows.into_iter().next())
            .map_or(f64::INFINITY, |row| row.id as f64)
    }
}

/// The `WHERE` of a partial index.
fn partial_predicate(conn: &mut SqliteConnection, index: &str) -> Option<String> {
    #[derive(QueryableByName)]
    struct Definition {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        sql: Option<String>,
    }
    let definition = diesel::sql_query(format!(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = '{index}'"
    ))
    .load::<Definition>(conn)
    .ok()?
    .into_iter()
    .next()?
    .sql?;
    let at = definition.to_ascii_uppercase().rfind(" WHERE ")?;
    Some(definition[at + 7..].to_owned())
}

/// The operator and value with which the statement compares
/// `` `table`.`column` `` (`= ?`, `IN (?, …)` whose first value stands for
/// all, or a range).
fn bound_value<'v>(
    sql: &str,
    table: &str,
    column: &str,
    op: &str,
    values: &'v [Lit],
) -> Option<(&'static str, &'v Lit)> {
    let candidates: &[(&str, &'static str)] = match op {
        "=" => &[("= ?", "="), ("IN (?", "=")],
        ">" | ">=" => &[("> ?", ">"), (">= ?", ">=")],
        "<" | "<=" => &[("< ?", "<"), ("<= ?", "<=")],
        _ => &[],
    };
    let qualified = |written: &str| format!("`{table}`.`{column}` {written}");
    // SQL written by hand names the column alone and numbers its parameters.
    let bare = |written: &str| format!("{column} {written}");
    candidates.iter().find_map(|(written, operator)| {
        [qualified(written), bare(written)].iter().find_map(|term| {
            let at = sql.match_indices(term.as_str()).find_map(|(at, _)| {
                let before = sql[..at].chars().next_back();
                let whole = !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
                whole.then_some(at)
            })?;
            let end = at + term.len();
            let digits: String = sql[end..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let index = match digits.parse::<usize>() {
                Ok(n) => n.checked_sub(1)?,
                Err(_) => placeholders(&sql[..end - 1]),
            };
            values.get(index).map(|value| (*operator, value))
        })
    })
}

/// How many `?` stand outside quotes in `sql`.
fn placeholders(sql: &str) -> usize {
    let mut quote: Option<char> = None;
    let mut count = 0;
    for c in sql.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '\'' | '"' | '`') => quote = Some(c),
            None if c == '?' => count += 1,
            None => {}
        }
    }
    count
}

/// Columns of `table` the statement compares with `=` to a value: `` `t`.`c` = ? ``.
fn equality_columns(sql: &str, table: &str) -> BTreeSet<String> {
    let prefix = format!("`{table}`.`");
    let mut columns = BTreeSet::new();
    let mut rest = sql;
    while let Some(at) = rest.find(&prefix) {
        rest = &rest[at + prefix.len()..];
        let Some(end) = rest.find('`') else { break };
        let column = &rest[..end];
        if rest[end + 1..].trim_start().starts_with("= ?") {
            columns.insert(column.to_owned());
        }
    }
    columns
}

/// The statement with its `?` replaced by the values they were bound to (so
/// the planner sees them, as it does when it runs: partial indexes need it).
fn inline_sqlite(sql: &str, values: &[Lit]) -> String {
    let literal = |i: usize| values.get(i).map_or("NULL".to_owned(), Lit::sqlite);
    let mut out = String::with_capacity(sql.len());
    let mut next = 0;
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '\'' | '"' | '`') => quote = Some(c),
            None if c == '?' => {
                // `?` is the next value; `?N` (SQL written by hand) the Nth.
                let mut digits = String::new();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    digits.push(d);
                }
                match digits.parse::<usize>() {
                    Ok(n) => out.push_str(&literal(n.saturating_sub(1))),
                    Err(_) => {
                        out.push_str(&literal(next));
                        next += 1;
                    }
                }
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

// ------------------------------------------------------------------ bound values

/// A bound value, from Diesel's debug print of the binds.
#[derive(Debug, Clone)]
enum Lit {
    Null,
    /// A number or a boolean, as printed.
    Bare(String),
    Text(String),
    List(Vec<Lit>),
}

impl Lit {
    fn quoted(text: &str) -> String {
        format!("'{}'", text.replace('\'', "''"))
    }

    /// An untyped literal: PostgreSQL gives it the parameter's type.
    fn postgres(&self) -> String {
        match self {
            Lit::Null => "NULL".into(),
            Lit::Bare(v) | Lit::Text(v) => Self::quoted(v),
            Lit::List(items) => {
                let inner: Vec<String> = items
                    .iter()
                    .map(|i| match i {
                        Lit::Null => "NULL".into(),
                        Lit::Bare(v) => v.clone(),
                        Lit::Text(v) => {
                            format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
                        }
                        Lit::List(_) => "NULL".into(),
                    })
                    .collect();
                Self::quoted(&format!("{{{}}}", inner.join(",")))
            }
        }
    }

    fn sqlite(&self) -> String {
        match self {
            Lit::Null | Lit::List(_) => "NULL".into(),
            Lit::Bare(v) if v == "true" => "1".into(),
            Lit::Bare(v) if v == "false" => "0".into(),
            Lit::Bare(v) => v.clone(),
            Lit::Text(v) => Self::quoted(v),
        }
    }
}

fn parse_binds(binds: &str) -> Vec<Lit> {
    let inner = binds
        .trim()
        .strip_prefix('[')
        .and_then(|b| b.strip_suffix(']'))
        .unwrap_or_default();
    split_top_level(inner)
        .iter()
        .map(|v| parse_lit(v))
        .collect()
}

/// Splits `a, "b, c", [d, e]` at the commas outside quotes and brackets.
fn split_top_level(list: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for c in list.chars() {
        if in_string {
            current.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' | '(' | '{' => depth += 1,
            ']' | ')' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut current).trim().to_owned());
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        items.push(current.trim().to_owned());
    }
    items
}

fn parse_lit(value: &str) -> Lit {
    let value = value.trim();
    if value == "None" {
        return Lit::Null;
    }
    if let Some(inner) = value
        .strip_prefix("Some(")
        .and_then(|v| v.strip_suffix(')'))
    {
        return parse_lit(inner);
    }
    if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        return Lit::List(
            split_top_level(inner)
                .iter()
                .map(|v| parse_lit(v))
                .collect(),
        );
    }
    if let Some(quoted) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        return Lit::Text(unescape(quoted));
    }
    if value == "true" || value == "false" || value.parse::<f64>().is_ok() {
        return Lit::Bare(value.to_owned());
    }
    // A timestamp (`2026-12-02T03:34:00.123`), stored by SQLite with a space.
    let bytes = value.as_bytes();
    if bytes.len() > 10 && bytes[10] == b'T' && bytes[4] == b'-' {
        return Lit::Text(format!("{} {}", &value[..10], &value[11..]));
    }
    Lit::Text(value.to_owned())
}

/// Undoes Rust's `{:?}` escaping of a string.
fn unescape(quoted: &str) -> String {
    let mut out = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some('u') => {
                let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                if let Some(c) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    out.push(c);
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Every recorded statement, by step (`FLAT_COST_DUMP=1`).
fn dump(statements: &[Recorded]) -> BTreeMap<String, Vec<String>> {
    let mut by_step: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in statements {
        by_step
            .entry(s.step.clone())
            .or_default()
            .push(format!("{} -- {}", s.sql, s.binds));
    }
    by_step
}
