//! Security of the release interface (issue 7), through the binary as
//! operators run it: secrets and durations, database passwords, migrations
//! from several processes at once, and a graceful SIGTERM.

use std::collections::HashSet;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use diesel::{Connection, RunQueryDsl, pg::PgConnection};
use serde_json::{Value, json};

use crate::cli::{command, run, serve_with};
use crate::helpers::{Backend, FakeHttp, eventually, poll_until, poll_until_blocking};

/// Runs the binary to completion, killing it after `limit` (a `serve` that
/// should have refused to start).
fn finish(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    // Drain both pipes meanwhile, so a chatty child never blocks on them.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                pipe.read_to_end(&mut bytes)
                    .expect("read the child's output");
            }
            bytes
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
    if poll_until_blocking(limit, || child.try_wait().expect("wait")).is_none() {
        // Over its time limit: the exit status below then says it was killed.
        child.kill().expect("kill a child that is still running");
    }
    Output {
        status: child.wait().expect("wait"),
        stdout: out.join().expect("stdout"),
        stderr: err.join().expect("stderr"),
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn sqlite_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("ops.db").display())
}

/// A fresh, empty PostgreSQL database (`None` without `TEST_DATABASE_URL`,
/// which `CI=true` forbids), dropped with the guard.
struct FreshPostgres {
    admin_url: String,
    name: String,
    url: String,
}

impl FreshPostgres {
    fn create(tag: &str) -> Option<FreshPostgres> {
        let admin_url = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("CI=true: TEST_DATABASE_URL must point at PostgreSQL")
            }
            _ => return None,
        };
        let name = format!("inv_{tag}_{}_{}", std::process::id(), unique());
        let mut admin = PgConnection::establish(&admin_url).expect("TEST_DATABASE_URL");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create a database");
        let (server, _) = admin_url
            .split('?')
            .next()
            .and_then(|base| base.rsplit_once('/'))
            .expect("a database URL");
        let url = format!("{server}/{name}");
        Some(FreshPostgres {
            admin_url,
            name,
            url,
        })
    }
}

impl Drop for FreshPostgres {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin);
        }
    }
}

fn unique() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The database URL for `backend` in `dir` (SQLite) or a fresh PostgreSQL one.
fn database(
    backend: Backend,
    dir: &std::path::Path,
    tag: &str,
) -> Option<(String, Option<FreshPostgres>)> {
    match backend {
        Backend::Sqlite => Some((sqlite_url(dir), None)),
        Backend::Postgres => {
            let fresh = FreshPostgres::create(tag)?;
            Some((fresh.url.clone(), Some(fresh)))
        }
    }
}

fn bootstrap(dir: &std::path::Path, url: &str, extra: &[&str]) -> (i64, i64) {
    let mut args = vec![
        "bootstrap",
        "--account-name",
        "Ops LLP",
        "--billing-system",
        "classic",
        "--plan",
        "annual",
        "--owner-email",
        "owner@ops.example",
        "--owner-password",
        "owner password",
        "--price",
        "attorney=1000",
    ];
    args.extend_from_slice(extra);
    let printed: Value = serde_json::from_str(run(dir, url, &args).trim()).expect("JSON");
    (
        printed["account_id"].as_i64().unwrap(),
        printed["user_id"].as_i64().unwrap(),
    )
}

const LONG_SECRET: &str = "a secret of more than thirty-two bytes, for HS256";

#[test]
fn a_short_jwt_secret_stops_every_subcommand_that_needs_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let (account, user) = bootstrap(dir.path(), &url, &[]);
    let (account, user) = (account.to_string(), user.to_string());
    let short = "only 31 bytes, not 32, in here!";
    assert_eq!(short.len(), 31);
    let subcommands: [&[&str]; 5] = [
        &["serve"],
        &["migrate"],
        &["worker"],
        &["token", "--account", &account, "--user", &user],
        &[
            "bootstrap",
            "--account-name",
            "X",
            "--billing-system",
            "new",
            "--plan",
            "monthly",
            "--owner-email",
            "x@example.com",
            "--owner-password",
            "x password",
        ],
    ];
    for args in subcommands {
        let mut refused = command(dir.path(), &url);
        refused
            .args(args)
            .env("INVITATIONS_JWT_SECRET", short)
            .env("INVITATIONS_BIND", "127.0.0.1:0");
        let output = finish(refused, Duration::from_secs(10));
        let message = stderr(&output);
        assert!(
            !output.status.success() && output.status.code().is_some(),
            "{args:?} ran with a short secret: {:?} {message}",
            output.status
        );
        assert!(
            message.contains("INVITATIONS_JWT_SECRET") && message.contains("32"),
            "{args:?}: {message}"
        );
        assert!(
            !message.contains(short),
            "the secret is not echoed: {message}"
        );
    }
    // Nothing to do with secrets: still works.
    let mut openapi = command(dir.path(), &url);
    openapi.arg("openapi").env("INVITATIONS_JWT_SECRET", short);
    assert!(finish(openapi, Duration::from_secs(10)).status.success());
    // 32 bytes and more are fine.
    let mut token = command(dir.path(), &url);
    token
        .args(["token", "--account", &account, "--user", &user])
        .env("INVITATIONS_JWT_SECRET", LONG_SECRET);
    let output = finish(token, Duration::from_secs(10));
    assert!(output.status.success(), "{}", stderr(&output));
}

/// The `exp - iat` of a JWT, in seconds.
fn lifetime(jwt: &str) -> i64 {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap()
}

#[test]
fn token_lifetimes_are_capped_at_366_days_and_cannot_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let (account, user) = bootstrap(dir.path(), &url, &[]);
    let (account, user) = (account.to_string(), user.to_string());
    let token = |ttl: &str| {
        let mut command = command(dir.path(), &url);
        command.args([
            "token",
            "--account",
            &account,
            "--user",
            &user,
            "--ttl",
            ttl,
        ]);
        finish(command, Duration::from_secs(20))
    };
    let longest = token("366d");
    assert!(longest.status.success(), "{}", stderr(&longest));
    assert_eq!(
        lifetime(String::from_utf8_lossy(&longest.stdout).trim()),
        366 * 86_400
    );
    for ttl in [
        "367d",
        "8785h",
        "99999999999d",
        "18446744073709551615d",
        "99999999999999999999999999999s",
    ] {
        let output = token(ttl);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "--ttl {ttl}: {message}");
        assert!(message.contains("366 days"), "--ttl {ttl}: {message}");
        assert!(!message.contains("panicked"), "--ttl {ttl}: {message}");
        assert!(output.stdout.is_empty(), "--ttl {ttl}: no token printed");
    }
    // The same cap for bootstrap's token and the configured access-token lifetime.
    let mut boot = command(dir.path(), &url);
    boot.args([
        "bootstrap",
        "--account-name",
        "Y",
        "--billing-system",
        "new",
        "--plan",
        "monthly",
        "--owner-email",
        "y@example.com",
        "--owner-password",
        "y password",
        "--ttl",
        "400d",
    ]);
    assert_eq!(finish(boot, Duration::from_secs(20)).status.code(), Some(2));
    let mut serve = command(dir.path(), &url);
    serve
        .arg("serve")
        .env("INVITATIONS_ACCESS_TOKEN_TTL", "99999999999999d")
        .env("INVITATIONS_BIND", "127.0.0.1:0");
    let output = finish(serve, Duration::from_secs(10));
    assert!(!output.status.success());
    assert!(stderr(&output).contains("INVITATIONS_ACCESS_TOKEN_TTL"));
}

#[actix_web::test]
async fn database_passwords_never_appear_in_messages_or_logs() {
    let dir = tempfile::tempdir().unwrap();
    let password = "Pa55word-that-must-stay-secret";
    // Nothing listens on port 1: the connection error names the URL, masked.
    let unreachable = format!("postgres://root:{password}@127.0.0.1:1/invitations");
    let output = finish(
        {
            let mut c = command(dir.path(), &unreachable);
            c.arg("migrate");
            c
        },
        Duration::from_secs(20),
    );
    let message = stderr(&output);
    assert!(!output.status.success());
    assert!(
        message.contains("postgres://root:***@127.0.0.1:1/invitations"),
        "{message}"
    );
    assert!(!message.contains(password), "{message}");
    // Passwords in the query string and unsupported schemes are masked too.
    for url in [
        format!("postgres://root@127.0.0.1:1/invitations?password={password}"),
        format!("mysql://root:{password}@db.example/invitations"),
        format!("postgres://root:{password}@127.0.0.1:1/invitations?sslmode=bogus"),
    ] {
        let output = finish(
            {
                let mut c = command(dir.path(), &url);
                c.arg("migrate");
                c
            },
            Duration::from_secs(20),
        );
        let message = stderr(&output);
        assert!(!output.status.success(), "{url}");
        assert!(!message.contains(password), "{message}");
        assert!(message.contains("***"), "{message}");
    }

    // A server that ignores the password (trust): start, serve, log at debug,
    // fail to find a database; the password shows up nowhere.
    let Some(fresh) = FreshPostgres::create("pw") else {
        return;
    };
    let Some((scheme, rest)) = fresh.url.split_once("://") else {
        return;
    };
    let Some((user, host)) = rest.split_once('@').filter(|(u, _)| !u.contains(':')) else {
        return; // TEST_DATABASE_URL carries a password already: nothing to add.
    };
    let with_password = format!("{scheme}://{user}:{password}@{host}");
    let missing_db = with_password
        .rsplit_once('/')
        .map(|(server, _)| format!("{server}/no_such_database_here"))
        .unwrap();
    let output = finish(
        {
            let mut c = command(dir.path(), &missing_db);
            c.arg("migrate");
            c
        },
        Duration::from_secs(20),
    );
    let message = stderr(&output);
    assert!(!output.status.success());
    assert!(message.contains(&format!("{user}:***@")), "{message}");
    assert!(!message.contains(password), "{message}");

    let service = serve_with(dir.path(), &with_password, &[("RUST_LOG", "debug")]);
    invitations::outbound::install_tls_provider();
    let client = reqwest::Client::new();
    let ready = client
        .get(format!("{}/readyz", service.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    drop(service);
    let mut logs = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    logs.push_str(&std::fs::read_to_string(dir.path().join("serve.out")).unwrap_or_default());
    assert!(!logs.is_empty());
    assert!(!logs.contains(password), "{logs}");
}

fn concurrent_migrations(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (url, _fresh) =
        database(backend, dir.path(), "mig").expect("TEST_DATABASE_URL is set (or CI=true)");
    let children: Vec<_> = (0..4)
        .map(|_| {
            command(dir.path(), &url)
                .arg("migrate")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start migrate")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "a concurrent migrate failed: {}",
            stderr(&output)
        );
    }
    // The schema is whole: nothing is pending, and the service works on it.
    let mut conn =
        invitations::db::DbManager::new(invitations::config::DatabaseUrl::parse(&url).unwrap())
            .connect()
            .unwrap();
    assert!(!invitations::db::has_pending_migrations(&mut conn).unwrap());
    drop(conn);
    bootstrap(dir.path(), &url, &["--licenses", "attorney=1"]);
}

#[test]
#[cfg_attr(
    no_test_database,
    ignore = "set TEST_DATABASE_URL=postgres://… to run the PostgreSQL variant"
)]
fn four_migrate_processes_at_once_all_succeed_on_postgres() {
    concurrent_migrations(Backend::Postgres);
}

#[test]
fn four_migrate_processes_at_once_all_succeed_on_sqlite() {
    concurrent_migrations(Backend::Sqlite);
}

async fn sigterm_during_a_burst(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (url, _fresh) =
        database(backend, dir.path(), "term").expect("TEST_DATABASE_URL is set (or CI=true)");
    let (account, user) = bootstrap(dir.path(), &url, &["--licenses", "attorney=2000"]);
    let token = run(
        dir.path(),
        &url,
        &[
            "token",
            "--account",
            &account.to_string(),
            "--user",
            &user.to_string(),
        ],
    )
    .trim()
    .to_owned();
    // A mail API that takes 300 ms per message, so the worker is surely in the
    // middle of a batch when SIGTERM comes.
    let api = FakeHttp::answering(200)
        .json(json!({"ErrorCode": 0, "Message": "OK"}))
        .delay(Duration::from_millis(300))
        .start();
    let settings = [
        ("INVITATIONS_RATE_INVITATIONS_PER_HOUR", "100000"),
        ("INVITATIONS_MAIL_PROVIDER", "postmark"),
        ("INVITATIONS_MAIL_API_KEY", "key"),
        ("INVITATIONS_MAIL_API_BASE", api.base.as_str()),
    ];
    let mut service = serve_with(dir.path(), &url, &settings);
    invitations::outbound::install_tls_provider();
    // A new connection per request: after SIGTERM nothing new gets in.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let invitations_url = format!("{}/accounts/{account}/invitations", service.base);
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut senders = Vec::new();
    for lane in 0..8 {
        let (client, url, token, acknowledged) = (
            client.clone(),
            invitations_url.clone(),
            token.clone(),
            acknowledged.clone(),
        );
        senders.push(tokio::spawn(async move {
            for n in 0.. {
                let email = format!("lane{lane}.n{n}@example.com");
                let sent = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"email": email, "subscriber_type": "attorney"}))
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status().as_u16() == 201 => {
                        acknowledged.lock().unwrap().push(email);
                    }
                    Ok(response) => {
                        let status = response.status();
                        panic!("{status}: {}", response.text().await.unwrap_or_default());
                    }
                    // Refused or cut off: the server is going away.
                    Err(_) => return,
                }
            }
        }));
    }
    eventually(
        "60 acknowledged invitations",
        Duration::from_secs(60),
        || async { (acknowledged.lock().unwrap().len() >= 60).then_some(()) },
    )
    .await;
    let pid = service.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = eventually(
        "serve to stop within its 30 s deadline",
        Duration::from_secs(40),
        || std::future::ready(service.child.try_wait().unwrap()),
    )
    .await;
    assert!(
        status.success(),
        "SIGTERM ends serve with exit 0: {status:?}"
    );
    for sender in senders {
        sender.await.unwrap();
    }
    let acknowledged: Vec<String> = acknowledged.lock().unwrap().clone();
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
    assert!(log.contains("shutting down"), "{log}");

    // Restart: every acknowledged invitation is stored, and its email goes out
    // (well before the 5-minute lease of a batch abandoned mid-way would end).
    drop(service);
    let again = serve_with(dir.path(), &url, &settings);
    let list_url = format!("{}/accounts/{account}/invitations", again.base);
    let mut stored = HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_url = match &cursor {
            Some(cursor) => format!("{list_url}?limit=100&cursor={cursor}"),
            None => format!("{list_url}?limit=100"),
        };
        let page: Value = client
            .get(page_url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for item in page["items"].as_array().unwrap() {
            assert_eq!(item["status"], "pending", "{item}");
            stored.insert(item["email"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    for email in &acknowledged {
        assert!(
            stored.contains(email),
            "acknowledged but not stored: {email}"
        );
    }
    let missing = |delivered: &HashSet<String>| -> Vec<String> {
        acknowledged
            .iter()
            .filter(|e| !delivered.contains(*e))
            .cloned()
            .collect()
    };
    let delivered = || -> HashSet<String> {
        api.succeeded()
            .iter()
            .map(|call| call.json()["To"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let all_sent = poll_until(Duration::from_secs(30), || async {
        missing(&delivered()).is_empty().then_some(())
    })
    .await;
    if all_sent.is_none() {
        let missing = missing(&delivered());
        panic!(
            "{} of {} acknowledged invitations never got their email, e.g. {:?}",
            missing.len(),
            acknowledged.len(),
            &missing[..missing.len().min(5)]
        );
    }
}

crate::backend_tests!(sigterm_finishes_in_flight_work_and_loses_nothing => sigterm_during_a_burst);
