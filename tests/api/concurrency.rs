//! Races resolved by the database, with real parallel HTTP requests.

use futures_util::future::join_all;
use invitations::domain::billing::{BillingSystem, LicenseType, Plan};
use serde_json::json;

use crate::db_tests;
use crate::helpers::{AccountSpec, Backend, Reply, TestApp};

db_tests!(
    twenty_parallel_invites_of_one_email_create_exactly_one_invitation,
    ten_parallel_accepts_of_one_token_create_exactly_one_user,
    ten_invites_racing_for_the_last_license_admit_exactly_one,
    invites_from_two_instances_racing_for_the_last_license_admit_exactly_one,
    parallel_invites_on_a_monthly_account_buy_one_license_per_invitation,
    parallel_invites_committed_together_keep_only_what_each_answer_says,
    a_batched_invite_failing_after_its_first_write_costs_only_itself,
    an_invite_waiting_for_the_account_lock_sees_what_the_holder_committed,
);

fn statuses(replies: &[Reply]) -> (usize, usize) {
    let created = replies.iter().filter(|r| r.status == 201).count();
    let conflicts = replies.iter().filter(|r| r.status == 409).count();
    (created, conflicts)
}

async fn twenty_parallel_invites_of_one_email_create_exactly_one_invitation(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let path = format!("/accounts/{}/invitations", owner.account_id);
    let replies = join_all((0..20).map(|i| {
        // The same address spelled in different cases.
        let email = if i % 2 == 0 {
            "Race@Example.com"
        } else {
            "race@example.COM"
        };
        app.post(
            &path,
            &owner.token,
            json!({"email": email, "role": "standard"}),
        )
    }))
    .await;
    assert_eq!(statuses(&replies), (1, 19), "{replies:#?}");
    for reply in replies.iter().filter(|r| r.status == 409) {
        reply.problem(409, "invitation_pending");
    }
    let list = app
        .get(&format!("{path}?email=race@example.com"), &owner.token)
        .await;
    assert_eq!(list.ok(200)["items"].as_array().unwrap().len(), 1);
    let counts = app.licenses(&owner).await;
    assert_eq!(counts["user"]["reserved"], 1);
    assert_eq!(app.charges(&owner).await.len(), 1);
}

async fn ten_parallel_accepts_of_one_token_create_exactly_one_user(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (_, token) = app
        .invite_and_read_token(
            &owner,
            json!({"email": "once@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    let replies = join_all((0..10).map(|_| app.accept(&token))).await;
    assert_eq!(statuses(&replies), (1, 9), "{replies:#?}");
    for reply in replies.iter().filter(|r| r.status == 409) {
        reply.problem(409, "invitation_not_pending");
    }
    let users = app
        .get(
            &format!("/accounts/{}/users", owner.account_id),
            &owner.token,
        )
        .await;
    let emails: Vec<_> = users.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["email"] == "once@example.com")
        .collect();
    assert_eq!(emails.len(), 1);
    let counts = app.licenses(&owner).await;
    assert_eq!(counts["attorney"]["assigned"], 2);
    assert_eq!(counts["attorney"]["reserved"], 0);
}

/// Each process lets one write per account through at a time; two processes
/// on one database race in the database itself, where the account lock must
/// settle it.
async fn invites_from_two_instances_racing_for_the_last_license_admit_exactly_one(app: TestApp) {
    let other = app.another_instance();
    race_for_the_last_license(&app, &other).await;
}

async fn ten_invites_racing_for_the_last_license_admit_exactly_one(app: TestApp) {
    race_for_the_last_license(&app, &app).await;
}

/// Ten invites for one open license, alternately sent to `first` and `second`:
/// exactly one gets it, nine are refused, and the licenses add up.
async fn race_for_the_last_license(first: &TestApp, second: &TestApp) {
    let owner = first.bootstrap(&AccountSpec {
        billing_system: BillingSystem::Classic,
        plan: Plan::Annual,
        prices: &[
            (LicenseType::Attorney, 120_000),
            (LicenseType::NonAttorney, 60_000),
        ],
        licenses: &[(LicenseType::Attorney, 1)],
        period_start: None,
    });
    let path = format!("/accounts/{}/invitations", owner.account_id);
    let replies = join_all((0..10).map(|i| {
        let instance = if i % 2 == 0 { first } else { second };
        instance.post(
            &path,
            &owner.token,
            json!({"email": format!("lawyer{i}@example.com"), "subscriber_type": "attorney"}),
        )
    }))
    .await;
    assert_eq!(statuses(&replies), (1, 9), "{replies:#?}");
    for reply in replies.iter().filter(|r| r.status == 409) {
        let problem = reply.problem(409, "no_available_license");
        assert_eq!(problem["license_type"], "attorney");
    }
    let counts = first.licenses(&owner).await;
    assert_eq!(counts["attorney"]["total"], 2);
    assert_eq!(counts["attorney"]["open"], 0);
    assert_eq!(counts["attorney"]["reserved"], 1);
    assert_eq!(counts["attorney"]["assigned"], 1);
    assert_eq!(
        first.licenses_counted_in_db(owner.account_id, "attorney"),
        (0, 1, 1)
    );
}

async fn parallel_invites_on_a_monthly_account_buy_one_license_per_invitation(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec {
        billing_system: BillingSystem::Classic,
        plan: Plan::Monthly,
        prices: &[
            (LicenseType::Attorney, 9_900),
            (LicenseType::NonAttorney, 4_900),
        ],
        licenses: &[(LicenseType::NonAttorney, 2)],
        period_start: None,
    });
    let path = format!("/accounts/{}/invitations", owner.account_id);
    let replies = join_all((0..12).map(|i| {
        app.post(
            &path,
            &owner.token,
            json!({"email": format!("para{i}@example.com"), "subscriber_type": "non_attorney"}),
        )
    }))
    .await;
    assert_eq!(statuses(&replies), (12, 0), "{replies:#?}");
    let charged = replies
        .iter()
        .filter(|r| !r.body["charge"].is_null())
        .count();
    assert_eq!(
        charged, 10,
        "two open licenses are reused for free, ten are bought"
    );
    let counts = app.licenses(&owner).await;
    assert_eq!(counts["non_attorney"]["total"], 12);
    assert_eq!(counts["non_attorney"]["reserved"], 12);
    assert_eq!(counts["non_attorney"]["open"], 0);
    let charges = app
        .get(
            &format!("/accounts/{}/charges?limit=100", owner.account_id),
            &owner.token,
        )
        .await;
    assert_eq!(charges.ok(200)["items"].as_array().unwrap().len(), 10);
}

/// Invites into one account that arrive together are committed together
/// (group commit), each in its own savepoint: a refused or invalid one among
/// them undoes only itself, and every `201` is an invitation that exists,
/// with its charge, its audit event and its email.
async fn parallel_invites_committed_together_keep_only_what_each_answer_says(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let path = format!("/accounts/{}/invitations", owner.account_id);
    let bodies: Vec<_> = (0..30)
        .map(|i| match i % 5 {
            // Six requests for one address: one invitation.
            0 => json!({"email": "twice@example.com", "role": "standard"}),
            // Six invalid bodies: refused before anything is written.
            1 => json!({"email": format!("bad{i}@example.com"), "role": "owner"}),
            _ => json!({"email": format!("p{i}@example.com"), "role": "standard"}),
        })
        .collect();
    let replies = join_all(
        bodies
            .iter()
            .map(|body| app.post(&path, &owner.token, body.clone())),
    )
    .await;
    let created: Vec<&Reply> = replies.iter().filter(|r| r.status == 201).collect();
    assert_eq!(created.len(), 19, "{replies:#?}");
    assert_eq!(replies.iter().filter(|r| r.status == 409).count(), 5);
    assert_eq!(replies.iter().filter(|r| r.status == 422).count(), 6);
    for reply in &created {
        let id = reply.body["id"].as_i64().unwrap();
        app.get(&format!("{path}/{id}"), &owner.token).await.ok(200);
    }
    let listed = app.get(&format!("{path}?limit=100"), &owner.token).await;
    assert_eq!(listed.ok(200)["items"].as_array().unwrap().len(), 19);
    assert_eq!(app.charges(&owner).await.len(), 19);
    assert_eq!(app.licenses(&owner).await["user"]["reserved"], 19);
    let audit = app
        .get(
            &format!(
                "/accounts/{}/audit-events?action=invitation.created&limit=100",
                owner.account_id
            ),
            &owner.token,
        )
        .await;
    assert_eq!(audit.ok(200)["items"].as_array().unwrap().len(), 19);
    assert_eq!(app.emails_to("twice@example.com", 1).await.len(), 1);
    for i in (2..30).filter(|i| i % 5 > 1) {
        app.email_to(&format!("p{i}@example.com")).await;
    }
}

/// Makes the database refuse to record the audit event of an invite to an
/// address containing "boom": such an invite fails after it has written its
/// invitation, license and email (a failure no rule predicts, like a full disk).
fn fail_audit_of_boom_invites(app: &TestApp) {
    use diesel::connection::SimpleConnection;
    let sql = match app.backend {
        Backend::Sqlite => {
            "CREATE TRIGGER boom BEFORE INSERT ON audit_events \
             WHEN NEW.details LIKE '%boom%' BEGIN SELECT RAISE(ABORT, 'boom'); END;"
        }
        Backend::Postgres => {
            "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN IF NEW.details LIKE '%boom%' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$; \
             CREATE TRIGGER boom BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION boom();"
        }
    };
    let mut conn = app.state.pool.get().expect("a connection");
    conn.batch_execute(sql)
        .expect("install the failing trigger");
}

/// Among invites committed together, one that fails after its first write
/// (on PostgreSQL the batch runs without savepoints, so the whole batch is
/// rolled back and run again, each in its own savepoint) fails alone: its
/// invitation, license and email are gone, and every other answer is true.
async fn a_batched_invite_failing_after_its_first_write_costs_only_itself(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    fail_audit_of_boom_invites(&app);
    let path = format!("/accounts/{}/invitations", owner.account_id);
    let emails: Vec<String> = (0..24)
        .map(|i| match i % 4 {
            0 => format!("boom{i}@example.com"),
            // A refusal in the same batches: undoes nothing, spoils nothing.
            1 => "again@example.com".to_owned(),
            _ => format!("ok{i}@example.com"),
        })
        .collect();
    let replies = join_all(emails.iter().map(|email| {
        app.post(
            &path,
            &owner.token,
            json!({"email": email, "role": "standard"}),
        )
    }))
    .await;
    for (email, reply) in emails.iter().zip(&replies) {
        if email.starts_with("boom") {
            assert!(reply.status >= 500, "{email}: {reply:?}");
            assert!(reply.body["code"].is_string(), "{reply:?}");
            assert!(
                !reply.text.contains("boom()") && !reply.text.contains("audit_events"),
                "no SQL: {reply:?}"
            );
        }
    }
    let created: Vec<&Reply> = replies.iter().filter(|r| r.status == 201).collect();
    assert_eq!(created.len(), 12 + 1, "{replies:#?}");
    assert_eq!(replies.iter().filter(|r| r.status == 409).count(), 5);
    for reply in &created {
        let id = reply.body["id"].as_i64().unwrap();
        app.get(&format!("{path}/{id}"), &owner.token).await.ok(200);
        app.email_to(reply.body["email"].as_str().unwrap()).await;
    }
    let listed = app.get(&format!("{path}?limit=100"), &owner.token).await;
    let items = listed.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 13);
    assert!(
        items
            .iter()
            .all(|i| !i["email"].as_str().unwrap().starts_with("boom"))
    );
    assert_eq!(app.charges(&owner).await.len(), 13);
    assert_eq!(app.licenses(&owner).await["user"]["reserved"], 13);
    assert_eq!(app.emails_to("again@example.com", 1).await.len(), 1);
    // The path taken: on PostgreSQL, a batch of several (fewer batches than
    // invites) held a failing invite and was run again.
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in {metrics}"))
    };
    let batches = value("invitations_group_commit_size_count ");
    let reruns = value("invitations_group_commit_reruns_total ");
    match app.backend {
        Backend::Postgres if batches < 24 => assert!(reruns >= 1, "{metrics}"),
        Backend::Postgres => {}
        Backend::Sqlite => assert_eq!(reruns, 0, "SQLite batches always use savepoints"),
    }
}

/// What the account lock guards is read after the lock is granted: a caller
/// demoted by a transaction that held the lock while the invite waited for it
/// is refused, not judged on the role it had before the wait.
async fn an_invite_waiting_for_the_account_lock_sees_what_the_holder_committed(app: TestApp) {
    use diesel::connection::SimpleConnection;
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let begin = match app.backend {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    };
    let demote = format!(
        "{begin}; UPDATE accounts SET lock_version = lock_version + 1 WHERE id = {account}; \
         UPDATE users SET role = 'standard' WHERE id = {user};",
        account = owner.account_id,
        user = owner.user_id,
    );
    let pool = app.state.pool.clone();
    let (locked, is_locked) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let mut conn = pool.get().expect("a connection");
        conn.batch_execute(&demote).expect("demote under the lock");
        locked.send(()).unwrap();
        // Long enough for the invite to reach the lock and wait on it.
        std::thread::sleep(std::time::Duration::from_millis(500));
        conn.batch_execute("COMMIT").expect("commit");
    });
    tokio::task::spawn_blocking(move || is_locked.recv().unwrap())
        .await
        .unwrap();
    let reply = app
        .post(
            &format!("/accounts/{}/invitations", owner.account_id),
            &owner.token,
            json!({"email": "late@example.com", "role": "standard"}),
        )
        .await;
    holder.join().unwrap();
    reply.problem(403, "forbidden");
}
