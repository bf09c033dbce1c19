//! Hardening seen from the outside: hostile names and bodies, security
//! headers of the HTML pages, client IPs behind proxies, password checks
//! under load, and webhooks that cannot reach private networks.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::db_tests;
use crate::helpers::{AccountSpec, Backend, TestApp, assert_fields, error_code};

const BIN: &str = env!("CARGO_BIN_EXE_invitations");

db_tests!(
    names_with_control_or_format_characters_are_refused,
    group_names_follow_the_same_rule,
);

async fn names_with_control_or_format_characters_are_refused(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (_, token) = app
        .invite_and_read_token(
            &owner,
            json!({"email": "hostile@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    let accept = format!("/invitations/{token}/accept");
    for (first, last) in [
        ("Bob\r\nBcc: all@example.com", "evil\u{202E}gpj.exe"),
        ("Bob\u{0}", "Jo\u{200B}nes"),
        ("\u{1b}[2J", "\u{FEFF}Jones"),
    ] {
        let reply = app
            .request(
                "POST",
                &accept,
                None,
                Some(
                    &json!({"first_name": first, "last_name": last, "password": "bob's password"}),
                ),
            )
            .await;
        assert_fields(&reply, &["first_name", "last_name"]);
        assert_eq!(error_code(&reply, "first_name"), "invalid_characters");
        assert_eq!(error_code(&reply, "last_name"), "invalid_characters");
    }
    let too_long = app
        .request(
            "POST",
            &accept,
            None,
            Some(&json!({"first_name": "é".repeat(101), "last_name": "   ", "password": "bob's password"})),
        )
        .await;
    assert_eq!(error_code(&too_long, "first_name"), "too_long");
    assert_eq!(error_code(&too_long, "last_name"), "required");

    let accepted = app
        .request(
            "POST",
            &accept,
            None,
            Some(&json!({"first_name": "  José María ", "last_name": "O'Brien-Núñez", "password": "bob's password"})),
        )
        .await;
    let user = &accepted.ok(201)["user"];
    assert_eq!(user["first_name"], "José María");
    assert_eq!(user["last_name"], "O'Brien-Núñez");
}

async fn group_names_follow_the_same_rule(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let groups = format!("/accounts/{}/groups", owner.account_id);
    for bad in [
        "Partners\u{202E}",
        "Line\nbreak",
        "Zero\u{200D}joiner",
        "\u{7}",
    ] {
        let reply = app.post(&groups, &owner.token, json!({"name": bad})).await;
        assert_fields(&reply, &["name"]);
        assert_eq!(error_code(&reply, "name"), "invalid_characters", "{bad:?}");
    }
    let id = app.create_group(&owner, "  Litigation ").await;
    let renamed = app
        .request(
            "PATCH",
            &format!("{groups}/{id}"),
            Some(&owner.token),
            Some(&json!({"name": "Litigation\u{2066}"})),
        )
        .await;
    assert_eq!(error_code(&renamed, "name"), "invalid_characters");
    let group = app.get(&format!("{groups}/{id}"), &owner.token).await;
    assert_eq!(group.ok(200)["name"], "Litigation");
}

#[actix_web::test]
async fn bootstrap_refuses_account_names_with_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("boot.db").display());
    let bootstrap = |account_name: &str| {
        std::process::Command::new(BIN)
            .current_dir(dir.path())
            .env_clear()
            .env("DATABASE_URL", &database_url)
            .env(
                "INVITATIONS_JWT_SECRET",
                "a test secret that is long enough",
            )
            .args([
                "bootstrap",
                "--account-name",
                account_name,
                "--billing-system",
                "new",
                "--plan",
                "monthly",
                "--owner-email",
                "owner@boot.example",
                "--owner-password",
                "owner password",
            ])
            .output()
            .expect("run the binary")
    };
    for bad in ["Evil\u{202E}LLP", "Two\nLines LLP", "\u{1b}[31mRed LLP"] {
        let output = bootstrap(bad);
        assert!(!output.status.success(), "{bad:?} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--account-name"), "{stderr}");
    }
    let output = bootstrap("  Fine & Dandy LLP ");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[actix_web::test]
async fn a_body_of_twenty_thousand_unknown_fields_gets_a_quick_short_answer() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut fields = Map::new();
    for i in 0..20_000 {
        fields.insert(format!("unknown_field_{i}"), Value::from(i));
    }
    let body = Value::Object(fields).to_string();
    assert!(body.len() < 1024 * 1024);
    let started = Instant::now();
    let reply = app
        .post_raw("/sessions", None, Some("application/json"), body)
        .await;
    let elapsed = started.elapsed();
    reply.problem(422, "validation_failed");
    assert_eq!(reply.body["errors"].as_array().unwrap().len(), 100);
    assert!(reply.text.len() < 32 * 1024, "{} bytes", reply.text.len());
    assert!(elapsed < Duration::from_millis(900), "{elapsed:?}");
}
