//! The release interface, as operators and scripts use it: the binary with
//! `bootstrap`, `token`, `serve`, `INVITATIONS_BIND`, `DATABASE_URL` and `.eml` files.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use diesel::{Connection, RunQueryDsl, pg::PgConnection};
use serde_json::{Value, json};

use crate::helpers::{TestApp, eventually, read_emails};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_invitations");

/// `invitations serve` as a child process; killed when dropped.
pub(crate) struct Service {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary with a clean environment: `DATABASE_URL` and a mail directory in `dir`.
pub(crate) fn command(dir: &std::path::Path, database_url: &str) -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("INVITATIONS_MAIL_DIR", dir.join("mail"))
        .env("INVITATIONS_WORKER_POLL_MS", "50");
    command
}

/// Runs a subcommand that must succeed; returns its stdout.
pub(crate) fn run(dir: &std::path::Path, database_url: &str, args: &[&str]) -> String {
    let output = command(dir, database_url)
        .args(args)
        .output()
        .expect("run the binary");
    assert!(
        output.status.success(),
        "invitations {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

fn serve(dir: &std::path::Path, database_url: &str) -> Service {
    serve_with(dir, database_url, &[])
}

/// Starts `serve` on a free port (with these extra variables) and waits until
/// it prints where it listens. Its stderr goes to `dir/serve.log`.
pub(crate) fn serve_with(
    dir: &std::path::Path,
    database_url: &str,
    env: &[(&str, &str)],
) -> Service {
    let log = dir.join("serve.log");
    let mut child = command(dir, database_url)
        .arg("serve")
        .envs(env.iter().copied())
        .env("INVITATIONS_BIND", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start serve");
    let (lines, base) = crate::helpers::listening_address(&mut child);
    // Keep draining stdout into the log so the child never blocks on a full pipe.
    let drain_log = log.with_extension("out");
    std::thread::spawn(move || {
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        let _ = std::fs::write(drain_log, rest.join("\n"));
    });
    Service { child, base }
}

async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, String) {
    let request = client.request(method, url);
    let response = crate::helpers::with_token_and_json(request, token, body.as_ref())
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn the_binary_runs_the_readme_walkthrough(database_url: String, dir: tempfile::TempDir) {
    let dir = dir.path();
    let printed = run(
        dir,
        &database_url,
        &[
            "bootstrap",
            "--account-name",
            "Walkthrough LLP",
            "--billing-system",
            "classic",
            "--plan",
            "annual",
            "--owner-email",
            "owner@walkthrough.example",
            "--owner-password",
            "owner password",
            "--owner-name",
            "Olive Owner",
            "--price",
            "attorney=120000",
            "--price",
            "non_attorney=60000",
            "--licenses",
            "attorney=1",
            "--currency",
            "USD",
        ],
    );
    let boot: Value =
        serde_json::from_str(printed.trim()).expect("bootstrap prints one JSON object");
    let keys: Vec<_> = boot.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys.len(), 3, "{boot}");
    let account_id = boot["account_id"].as_i64().unwrap();
    let user_id = boot["user_id"].as_i64().unwrap();

    let minted = run(
        dir,
        &database_url,
        &[
            "token",
            "--account",
            &account_id.to_string(),
            "--user",
            &user_id.to_string(),
            "--ttl",
            "90d",
        ],
    );
    assert_eq!(minted.lines().count(), 1);
    let token = minted.trim().to_owned();
    assert_eq!(token.split('.').count(), 3, "a JWT");

    let service = serve(dir, &database_url);
    invitations::outbound::install_tls_provider();
    let client = reqwest::Client::new();
    let base = &service.base;
    let (status, body) = send(
        &client,
        reqwest::Method::GET,
        format!("{base}/accounts/{account_id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = send(
        &client,
        reqwest::Method::GET,
        format!("{base}/accounts/{account_id}"),
        boot["access_token"].as_str(),
        None,
    )
    .await;
    assert_eq!(status, 200, "bootstrap's token works: {body}");

    let (status, body) = send(
        &client,
        reqwest::Method::POST,
        format!("{base}/accounts/{account_id}/invitations"),
        Some(&token),
        Some(json!({"email": "new.lawyer@example.com", "subscriber_type": "attorney"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    let email = eventually(
        "an .eml file in INVITATIONS_MAIL_DIR",
        Duration::from_secs(5),
        || async {
            read_emails(&dir.join("mail"))
                .into_iter()
                .find(|e| e.to == "new.lawyer@example.com")
        },
    )
    .await;
    assert_eq!(email.subject, "You've been invited to Clio");
    // No INVITATIONS_APP_URL, bound to port 0: the link names the real address.
    assert!(
        email
            .text
            .contains(&format!("{base}/invitations/accept?token={}", email.token)),
        "{base}: {}",
        email.text
    );
    let invitation_token = email.token.clone();
    assert_eq!(invitation_token.len(), 47);
    assert!(invitation_token.starts_with("inv_"));
    assert!(
        email.raw.contains(&invitation_token),
        "the token is readable in the raw file"
    );

    let (status, body) = send(
        &client,
        reqwest::Method::POST,
        format!("{base}/invitations/{invitation_token}/accept"),
        None,
        Some(json!({"first_name": "New", "last_name": "Lawyer", "password": "new lawyer pw"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = send(
        &client,
        reqwest::Method::POST,
        format!("{base}/sessions"),
        None,
        Some(json!({"email": "NEW.LAWYER@example.com", "password": "new lawyer pw"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = send(
        &client,
        reqwest::Method::GET,
        format!("{base}/invitations/{invitation_token}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);

    drop(service);
    let mut logs = std::fs::read_to_string(dir.join("serve.log")).unwrap();
    logs.push_str(&std::fs::read_to_string(dir.join("serve.out")).unwrap_or_default());
    assert!(
        logs.contains("request"),
        "the service logs requests: {logs}"
    );
    assert!(
        !logs.contains(&invitation_token),
        "the invitation token leaked into the logs"
    );
    assert!(
        !logs.contains(&invitation_token[4..]),
        "the invitation token leaked into the logs"
    );
}

#[actix_web::test]
async fn the_binary_runs_the_readme_walkthrough_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("walkthrough.db").display());
    the_binary_runs_the_readme_walkthrough(url, dir).await;
}

#[actix_web::test]
#[cfg_attr(
    no_test_database,
    ignore = "set TEST_DATABASE_URL=postgres://… to run the PostgreSQL variant"
)]
async fn the_binary_runs_the_readme_walkthrough_on_postgres() {
    // Uses the harness only to honour TEST_DATABASE_URL / CI the same way.
    let app = TestApp::spawn(crate::helpers::Backend::Postgres)
        .await
        .expect("TEST_DATABASE_URL is set (or CI=true)");
    let url = app.database_url.clone();
    // A fresh database of its own, so the service's ids start at 1 again.
    let mut admin = PgConnection::establish(&std::env::var("TEST_DATABASE_URL").unwrap()).unwrap();
    let name = format!("inv_cli_{}", std::process::id());
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .expect("drop a leftover database");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .unwrap();
    let url = url
        .rsplit_once('/')
        .map(|(server, _)| format!("{server}/{name}"))
        .unwrap();
    the_binary_runs_the_readme_walkthrough(url, tempfile::tempdir().unwrap()).await;
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .expect("drop the walkthrough's database");
}
