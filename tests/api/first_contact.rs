//! What a newcomer meets outside the default path: `./.env`, `--help`, and
//! start-up errors that name the variable to fix.

use std::process::Output;

use std::time::Duration;

use serde_json::json;

use crate::cli::{BIN, command};
use crate::helpers::{AccountSpec, Backend, TestApp, eventually, read_emails};

crate::db_tests!(two_databases_share_one_mail_folder_without_overwriting,);

/// Two services on two databases, one `INVITATIONS_MAIL_DIR`: both first
/// emails (outbox id 1 each) are kept, and the last file by name is the latest.
async fn two_databases_share_one_mail_folder_without_overwriting(app: TestApp) {
    let shared = app.mail_dir.display().to_string();
    let other = TestApp::spawn_with(Backend::Sqlite, &[("INVITATIONS_MAIL_DIR", &shared)])
        .await
        .expect("SQLite");
    let (a, b) = (
        app.bootstrap(&AccountSpec::classic_annual()),
        other.bootstrap(&AccountSpec::classic_annual()),
    );
    let invite = json!({"email": "first@example.com", "subscriber_type": "attorney"});
    app.invite(&a, invite).await;
    app.emails_to("first@example.com", 1).await;
    let invite = json!({"email": "second@example.com", "subscriber_type": "attorney"});
    other.invite(&b, invite).await;
    let emails = eventually(
        "both emails in the shared folder",
        Duration::from_secs(5),
        || async {
            let emails = read_emails(&app.mail_dir);
            (emails.len() == 2).then_some(emails)
        },
    )
    .await;
    // read_emails reads the files in name order: the README's `mail/*.eml | tail -n 1`.
    assert_eq!(emails[0].to, "first@example.com");
    assert_eq!(emails[1].to, "second@example.com");
}

fn sqlite_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("first.db").display())
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs a subcommand that must fail; returns its stderr.
fn failing(mut command: std::process::Command) -> String {
    let output = command.output().expect("run the binary");
    assert!(!output.status.success(), "expected a failure: {output:?}");
    stderr(&output)
}

#[test]
fn every_subcommand_reads_dot_env_and_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    let from_file = dir.path().join("from-dotenv.db");
    std::fs::write(
        dir.path().join(".env"),
        format!("DATABASE_URL=sqlite://{}\n", from_file.display()),
    )
    .unwrap();
    let output = std::process::Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .arg("migrate")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(from_file.exists(), "migrate used DATABASE_URL from ./.env");

    let from_environment = dir.path().join("from-environment.db");
    let output = std::process::Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", from_environment.display()),
        )
        .arg("migrate")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        from_environment.exists(),
        "a variable already set wins over .env"
    );
}

#[test]
fn serve_help_lists_every_environment_variable_with_its_default() {
    let output = std::process::Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for (name, default, _) in invitations::config::VARIABLES {
        let line = help
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{name} (")))
            .unwrap_or_else(|| panic!("{name} is missing from serve --help"));
        match default {
            Some(value) => assert!(line.contains(&format!("{value:?}")), "{line}"),
            None => assert!(line.contains("(unset)"), "{line}"),
        }
    }
    for subcommand in ["bootstrap", "token"] {
        let output = std::process::Command::new(BIN)
            .args([subcommand, "--help"])
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&output.stdout);
        // Every option is described, not just named.
        for line in help.lines().filter(|l| l.trim_start().starts_with("--")) {
            let described = line.trim().split_once("  ").map(|(_, d)| d.trim());
            assert!(
                described.is_some_and(|d| !d.is_empty()),
                "{subcommand}: {line}"
            );
        }
    }
}

#[test]
fn a_relative_app_url_stops_serve_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["/invitations", "app.example.com", "ftp://app.example.com"] {
        let mut serve = command(dir.path(), &sqlite_url(dir.path()));
        serve.arg("serve").env("INVITATIONS_APP_URL", bad);
        let error = failing(serve);
        assert!(error.contains("INVITATIONS_APP_URL"), "{bad}: {error}");
    }
}

#[test]
fn an_address_in_use_names_invitations_bind() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let mut serve = command(dir.path(), &sqlite_url(dir.path()));
    serve.arg("serve").env("INVITATIONS_BIND", &address);
    let error = failing(serve);
    assert!(error.contains("INVITATIONS_BIND"), "{error}");
    assert!(error.contains("already in use"), "{error}");
}

#[test]
fn a_missing_public_key_file_says_file_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let mut token = command(dir.path(), &sqlite_url(dir.path()));
    token
        .args(["token", "--account", "1", "--user", "1"])
        .env("INVITATIONS_JWT_PUBLIC_KEY", dir.path().join("missing.pem"));
    let error = failing(token);
    assert!(error.contains("INVITATIONS_JWT_PUBLIC_KEY"), "{error}");
    assert!(error.contains("file not found"), "{error}");
}

#[test]
fn an_invalid_rust_log_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut migrate = command(dir.path(), &sqlite_url(dir.path()));
    migrate.arg("migrate").env("RUST_LOG", "info,[unclosed");
    let error = failing(migrate);
    assert!(error.contains("RUST_LOG"), "{error}");
}
