//! Nothing is lost: a failed or interrupted delivery is retried (also by the
//! next process), and a database outage is a 503 problem, never a 500.

use std::time::Duration;

use diesel::prelude::*;
use invitations::db::schema::email_outbox;
use serde_json::json;

use crate::db_tests;
use crate::helpers::{AccountSpec, Backend, TestApp, eventually};

db_tests!(a_pending_invitation_survives_a_restart);

async fn a_pending_invitation_survives_a_restart(first: TestApp) {
    let owner = first.bootstrap(&AccountSpec::classic_annual());
    let invitation = first
        .invite(
            &owner,
            json!({"email": "stays@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    let token = first.email_to("stays@example.com").await.token;
    let database_url = first.database_url.clone();
    let backend = first.backend;
    first.stop().await;

    let second = TestApp::spawn_with(backend, &[("DATABASE_URL", &database_url)])
        .await
        .unwrap();
    let reply = second.read_invitation(&owner, &invitation).await;
    assert_eq!(reply.ok(200)["status"], "pending");
    second.accept(&token).await.ok(201);
}

async fn restart_delivery(backend: Backend) {
    // `owner_of_database` only provides (and later removes) a database.
    let owner_of_database = TestApp::spawn(backend)
        .await
        .expect("TEST_DATABASE_URL is set (or CI=true)");
    owner_of_database.stop().await;
    let probe = &owner_of_database;
    let blocker = probe.mail_dir.with_file_name("not-a-directory");
    std::fs::write(&blocker, b"a file where the mail directory should be").unwrap();
    let database_url = probe.database_url.clone();
    let first = TestApp::spawn_with(
        backend,
        &[
            ("DATABASE_URL", &database_url),
            ("INVITATIONS_MAIL_DIR", blocker.to_str().unwrap()),
        ],
    )
    .await
    .unwrap();
    let owner = first.bootstrap(&AccountSpec::classic_annual());
    let invitation = first
        .invite(
            &owner,
            json!({"email": "later@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    // Wait until the first worker has tried and failed (its error is recorded).
    eventually(
        "the first worker's failed attempt",
        Duration::from_secs(10),
        || async {
            let mut conn = first.state.pool.get().expect("a connection");
            let last_error: Option<Option<String>> = email_outbox::table
                .filter(email_outbox::invitation_id.eq(invitation["id"].as_i64()))
                .select(email_outbox::last_error)
                .first(&mut **conn)
                .optional()
                .expect("read the outbox");
            last_error.flatten().map(|_| ())
        },
    )
    .await;
    let reply = first.read_invitation(&owner, &invitation).await;
    assert_eq!(
        reply.ok(200)["delivery"],
        "queued",
        "a failed attempt is retried, not dropped"
    );
    first.stop().await;

    // The "restarted" service delivers it (after the retry backoff of a second or two).
    let second = TestApp::spawn_with(backend, &[("DATABASE_URL", &database_url)])
        .await
        .unwrap();
    let email = second.email_to("later@example.com").await;
    assert_eq!(email.subject, "You've been invited to Clio");
    second.wait_for_delivery(&owner, &invitation, "sent").await;
}

crate::backend_tests!(a_failed_delivery_is_retried_by_the_next_process => restart_delivery);

#[actix_web::test]
#[cfg_attr(
    no_test_database,
    ignore = "set TEST_DATABASE_URL=postgres://… to run the PostgreSQL variant"
)]
async fn a_database_outage_answers_503_unavailable_not_500() {
    let app = TestApp::spawn(Backend::Postgres)
        .await
        .expect("TEST_DATABASE_URL is set (or CI=true)");
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    // Take the database away under the running service.
    let admin_url = std::env::var("TEST_DATABASE_URL").unwrap();
    let name = app
        .database_url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    {
        use diesel::{Connection, RunQueryDsl};
        let mut admin = diesel::pg::PgConnection::establish(&admin_url).unwrap();
        diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut admin)
            .unwrap();
    }
    let reply = app
        .get(&format!("/accounts/{}", owner.account_id), &owner.token)
        .await;
    let problem = reply.problem(503, "unavailable");
    assert!(
        !reply.text.to_lowercase().contains("select"),
        "no SQL in the body: {problem}"
    );
    let ready = app.request("GET", "/readyz", None, None).await;
    ready.problem(503, "unavailable");
    let health = app.request("GET", "/healthz", None, None).await;
    health.ok(200);
}
