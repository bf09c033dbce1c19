//! Hardening seen from the outside: hostile names and bodies, security
//! headers of the HTML pages, client IPs behind proxies, password checks
//! under load, and webhooks that cannot reach private networks.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::db_tests;
use crate::helpers::{AccountSpec, Backend, FakeHttp, TestApp, assert_fields, error_code};

const BIN: &str = env!("CARGO_BIN_EXE_invitations");

db_tests!(
    names_with_control_or_format_characters_are_refused,
    group_names_follow_the_same_rule,
    credentials_and_invitee_details_are_never_cached,
    webhook_urls_that_reach_private_networks_are_refused,
    deliveries_never_connect_to_private_addresses,
    a_slow_webhook_endpoint_does_not_hold_back_other_accounts,
);

async fn names_with_control_or_format_characters_are_refused(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (_, token) = app
        .invite_and_read_token(
            &owner,
            json!({"email": "hostile@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    for (first, last) in [
        ("Bob\r\nBcc: all@example.com", "evil\u{202E}gpj.exe"),
        ("Bob\u{0}", "Jo\u{200B}nes"),
        ("\u{1b}[2J", "\u{FEFF}Jones"),
    ] {
        let reply = app
            .accept_with(
                &token,
                &json!({"first_name": first, "last_name": last, "password": "bob's password"}),
            )
            .await;
        assert_fields(&reply, &["first_name", "last_name"]);
        assert_eq!(error_code(&reply, "first_name"), "invalid_characters");
        assert_eq!(error_code(&reply, "last_name"), "invalid_characters");
    }
    let too_long = app.accept_with(&token, &json!({"first_name": "é".repeat(101), "last_name": "   ", "password": "bob's password"})).await;
    assert_eq!(error_code(&too_long, "first_name"), "too_long");
    assert_eq!(error_code(&too_long, "last_name"), "required");

    let accepted = app.accept_with(&token, &json!({"first_name": "  José María ", "last_name": "O'Brien-Núñez", "password": "bob's password"})).await;
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

/// The sources a CSP directive allows (`script-src 'self' …` → `["'self'", …]`).
fn directive<'a>(csp: &'a str, name: &str) -> Vec<&'a str> {
    csp.split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix(name).filter(|rest| rest.starts_with(' ')))
        .map(|rest| rest.split_whitespace().collect())
        .unwrap_or_default()
}

/// The text of every inline `<tag>…</tag>` of a page.
fn inline(page: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    page.split(&open)
        .skip(1)
        .map(|rest| rest.split(&close).next().unwrap().to_owned())
        .collect()
}

fn sha256_source(text: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text.as_bytes()))
    )
}

fn assert_not_frameable_nor_sniffable(reply: &crate::helpers::Reply) -> String {
    let csp = reply
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("no CSP: {:?}", reply.headers))
        .to_owned();
    assert_eq!(directive(&csp, "frame-ancestors"), ["'none'"], "{csp}");
    let scripts = directive(&csp, "script-src");
    assert!(!scripts.is_empty(), "{csp}");
    assert!(
        !scripts.iter().any(|s| s.contains("unsafe")),
        "scripts by hash or from files only: {csp}"
    );
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    csp
}

#[actix_web::test]
async fn the_accept_page_runs_only_its_own_script_and_hides_the_token() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let token = format!("inv_{}", "A".repeat(43));
    let page = app
        .request(
            "GET",
            &format!("/invitations/accept?token={token}"),
            None,
            None,
        )
        .await;
    assert_eq!(page.status, 200);
    let csp = assert_not_frameable_nor_sniffable(&page);
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    // Every inline script and style is allowed by its hash, and nothing else inline is.
    let scripts = inline(&page.text, "script");
    assert!(!scripts.is_empty());
    let allowed_scripts = directive(&csp, "script-src");
    for script in &scripts {
        assert!(
            allowed_scripts.contains(&sha256_source(script).as_str()),
            "{csp}"
        );
    }
    assert_eq!(allowed_scripts.len(), scripts.len(), "{csp}");
    for style in inline(&page.text, "style") {
        assert!(
            directive(&csp, "style-src").contains(&sha256_source(&style).as_str()),
            "{csp}"
        );
    }
    assert!(
        !page.text.contains("<script src"),
        "no script from elsewhere"
    );
    assert!(
        !page.text.contains(" on"),
        "no inline event handler attributes"
    );
    // The token is taken out of the address bar once read.
    let script = scripts.join("\n");
    let read = script.find("location.search").expect("reads the token");
    let cleared = script
        .find("history.replaceState(null, \"\", location.pathname)")
        .expect("clears it");
    assert!(read < cleared);
}

#[actix_web::test]
async fn the_api_reference_works_under_a_strict_policy() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let docs = app.request("GET", "/docs", None, None).await;
    assert_eq!(docs.status, 200);
    let csp = assert_not_frameable_nor_sniffable(&docs);
    assert_eq!(directive(&csp, "script-src"), ["'self'"]);
    assert!(inline(&docs.text, "script").is_empty(), "no inline script");
    // Its scripts are files served here, as JavaScript, with the same headers.
    let sources: Vec<&str> = docs
        .text
        .split("<script src=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert!(sources.contains(&"swagger-initializer.js"), "{sources:?}");
    for source in &sources {
        let file = app
            .request("GET", &format!("/docs/{source}"), None, None)
            .await;
        assert_eq!(file.status, 200, "{source}");
        assert!(
            file.header("content-type").unwrap().contains("javascript"),
            "{source}"
        );
        assert_eq!(file.header("x-content-type-options"), Some("nosniff"));
        if *source == "swagger-initializer.js" {
            assert!(file.text.contains("/openapi.json"));
        }
    }
    let index = app.request("GET", "/docs/", None, None).await;
    assert_eq!(index.status, 200);
    assert_not_frameable_nor_sniffable(&index);
    assert!(inline(&index.text, "script").is_empty());
}

async fn credentials_and_invitee_details_are_never_cached(app: TestApp) {
    let owner = app.bootstrap_with_owner(
        &AccountSpec::classic_annual(),
        "cache@firm.example",
        "owner password",
    );
    let session = app
        .request(
            "POST",
            "/sessions",
            None,
            Some(&json!({"email": "cache@firm.example", "password": "owner password"})),
        )
        .await;
    session.ok(200);
    assert_eq!(session.header("cache-control"), Some("no-store"));
    let (_, token) = app
        .invite_and_read_token(
            &owner,
            json!({"email": "cached@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    let preview = app
        .request("GET", &format!("/invitations/{token}"), None, None)
        .await;
    preview.ok(200);
    assert_eq!(preview.header("cache-control"), Some("no-store"));
    let accepted = app.accept(&token).await;
    accepted.ok(201);
    assert_eq!(accepted.header("cache-control"), Some("no-store"));
}

const ALLOW_PRIVATE: (&str, &str) = ("INVITATIONS_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true");

/// The same backend again, with these settings (and the same database when given).
async fn respawn(backend: Backend, overrides: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_with(backend, overrides)
        .await
        .expect("the same backend again")
}

async fn webhook_urls_that_reach_private_networks_are_refused(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let hooks = format!("/accounts/{}/webhooks", owner.account_id);
    for url in [
        "http://127.0.0.1:9/hook",
        "http://127.1/hook",
        "http://2130706433/hook",
        "http://0x7f000001/hook",
        "http://localhost:8080/hook",
        "http://api.localhost/hook",
        "http://10.0.0.5/hook",
        "http://172.16.3.4/hook",
        "https://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/hook",
        "http://0.0.0.0:8080/hook",
        "http://[::]/hook",
        "http://[::1]:8080/hook",
        "http://[fd00::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:a9fe:a9fe]/hook",
    ] {
        let reply = app.post(&hooks, &owner.token, json!({"url": url})).await;
        assert_fields(&reply, &["url"]);
        assert_eq!(error_code(&reply, "url"), "private_address", "{url}");
    }
    // Public addresses, and names that do not resolve (yet; each delivery checks), are fine.
    for url in ["https://93.184.216.34/hook", "https://hooks.example.com/in"] {
        app.post(&hooks, &owner.token, json!({"url": url}))
            .await
            .ok(201);
    }
    // Development setting: private networks allowed.
    let dev = respawn(app.backend, &[ALLOW_PRIVATE]).await;
    let owner = dev.bootstrap(&AccountSpec::classic_annual());
    dev.post(
        &format!("/accounts/{}/webhooks", owner.account_id),
        &owner.token,
        json!({"url": "http://127.0.0.1:9/hook"}),
    )
    .await
    .ok(201);
}

/// Registered while private networks were allowed, then the setting is off:
/// neither an address nor a name that resolves to loopback gets a delivery.
async fn deliveries_never_connect_to_private_addresses(app: TestApp) {
    let backend = app.backend;
    let database_url = app.database_url.clone();
    // `app` keeps the database; the processes below take turns serving it.
    app.stop().await;
    let to_address = FakeHttp::answering(204).start();
    let to_name = FakeHttp::answering(204).start();
    let (by_address, by_name) = (to_address.port, to_name.port);
    let dev = respawn(backend, &[ALLOW_PRIVATE, ("DATABASE_URL", &database_url)]).await;
    let owner = dev.bootstrap(&AccountSpec::classic_annual());
    let hooks = format!("/accounts/{}/webhooks", owner.account_id);
    for url in [
        format!("http://127.0.0.1:{by_address}/hook"),
        format!("http://localhost:{by_name}/hook"),
    ] {
        dev.post(
            &hooks,
            &owner.token,
            json!({"url": url, "events": ["invitation.created"]}),
        )
        .await
        .ok(201);
    }
    dev.stop().await;

    let strict = respawn(backend, &[("DATABASE_URL", &database_url)]).await;
    strict
        .invite(
            &owner,
            json!({"email": "rebound@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    // Deliberate: the worker polls every 50 ms and retries after ~1 s; 2.5 s
    // gives it a first attempt and a retry. That no request arrives is the
    // point, and an absence cannot be polled for.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert!(to_address.calls().is_empty(), "delivered to 127.0.0.1");
    assert!(to_name.calls().is_empty(), "delivered to localhost");
    strict.stop().await;

    // The same deliveries do arrive where private networks are allowed: the
    // receivers above would have seen them.
    let _dev_again = respawn(backend, &[ALLOW_PRIVATE, ("DATABASE_URL", &database_url)]).await;
    for receiver in [&to_address, &to_name] {
        receiver.wait_for_calls(1, Duration::from_secs(10)).await;
    }
    drop(app);
}

async fn a_slow_webhook_endpoint_does_not_hold_back_other_accounts(app: TestApp) {
    let app = respawn(app.backend, &[ALLOW_PRIVATE]).await;
    let slow = FakeHttp::answering(204)
        .delay(Duration::from_secs(6))
        .start();
    let fast = FakeHttp::answering(204).start();
    let (slow_port, fast_port) = (slow.port, fast.port);
    let slow_owner = app.bootstrap(&AccountSpec::classic_annual());
    let fast_owner = app.bootstrap(&AccountSpec::classic_annual());
    for (owner, port) in [(&slow_owner, slow_port), (&fast_owner, fast_port)] {
        app.post(
            &format!("/accounts/{}/webhooks", owner.account_id),
            &owner.token,
            json!({"url": format!("http://127.0.0.1:{port}/hook"), "events": ["invitation.created"]}),
        )
        .await
        .ok(201);
    }
    // Two events to the slow endpoint; once the first is being delivered, one to the fast one.
    for email in ["slow1@example.com", "slow2@example.com"] {
        app.invite(
            &slow_owner,
            json!({"email": email, "subscriber_type": "attorney"}),
        )
        .await;
    }
    slow.wait_for_calls(1, Duration::from_secs(5)).await;
    let sent = Instant::now();
    app.invite(
        &fast_owner,
        json!({"email": "fast@example.com", "subscriber_type": "attorney"}),
    )
    .await;
    let took = fast.wait_for_calls(1, Duration::from_secs(5)).await[0].at - sent;
    assert!(
        took < Duration::from_secs(2),
        "the fast endpoint waited {took:?} behind the slow one"
    );
    assert_eq!(slow.calls().len(), 1, "one delivery at a time per endpoint");
}

/// GET an unknown token (a token endpoint) as if forwarded for `forwarded_for`.
async fn probe(app: &TestApp, forwarded_for: Option<&str>) -> u16 {
    let mut request = app
        .client
        .get(format!("{}/invitations/inv_{}", app.base, "A".repeat(43)));
    if let Some(value) = forwarded_for {
        request = request.header("x-forwarded-for", value);
    }
    request.send().await.expect("request").status().as_u16()
}

#[actix_web::test]
async fn without_trusted_proxies_forwarded_for_changes_nothing() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[("INVITATIONS_RATE_TOKEN_REQUESTS_PER_MINUTE", "3")],
    )
    .await
    .unwrap();
    for spoofed in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        assert_eq!(probe(&app, Some(spoofed)).await, 404);
    }
    assert_eq!(probe(&app, Some("198.51.100.4")).await, 429);
    assert_eq!(probe(&app, None).await, 429);
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    // The tests connect from 127.0.0.1: here that is the proxy.
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("INVITATIONS_RATE_TOKEN_REQUESTS_PER_MINUTE", "3"),
            ("INVITATIONS_TRUSTED_PROXIES", "127.0.0.0/8, 10.0.0.0/8"),
        ],
    )
    .await
    .unwrap();
    for _ in 0..3 {
        assert_eq!(probe(&app, Some("198.51.100.7")).await, 404);
    }
    assert_eq!(probe(&app, Some("198.51.100.7")).await, 429);
    // A client cannot escape by writing its own entries: the proxy appends
    // the real address, and only the right-most untrusted entry counts.
    assert_eq!(probe(&app, Some("203.0.113.50, 198.51.100.7")).await, 429);
    assert_eq!(
        probe(&app, Some("203.0.113.51, 198.51.100.7, 10.1.2.3")).await,
        429,
        "another trusted proxy in the chain is skipped"
    );
    // Another client behind the same proxy is not held back.
    assert_eq!(probe(&app, Some("198.51.100.8")).await, 404);
    // IPv6 clients are counted per /64.
    for host in ["1", "2", "3"] {
        assert_eq!(
            probe(&app, Some(&format!("2001:db8:1:2::{host}"))).await,
            404
        );
    }
    assert_eq!(probe(&app, Some("2001:db8:1:2:ffff::9")).await, 429);
    assert_eq!(probe(&app, Some("2001:db8:1:3::1")).await, 404);
}

#[actix_web::test]
async fn an_invalid_trusted_proxy_list_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .env("DATABASE_URL", "sqlite://start.db")
        .env("INVITATIONS_BIND", "127.0.0.1:0")
        .env("INVITATIONS_TRUSTED_PROXIES", "10.0.0.0/8, 10.0.0.0/40")
        .arg("serve")
        .output()
        .expect("run the binary");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("INVITATIONS_TRUSTED_PROXIES"), "{stderr}");
}

/// The binary serving on a free port, killed when dropped.
struct Served {
    child: std::process::Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn start(dir: &std::path::Path, database_url: &str) -> Served {
        let mut child = std::process::Command::new(BIN)
            .current_dir(dir)
            .env_clear()
            .env("DATABASE_URL", database_url)
            .env(
                "INVITATIONS_JWT_SECRET",
                "a test secret that is long enough",
            )
            .env("INVITATIONS_BIND", "127.0.0.1:0")
            .env("INVITATIONS_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .arg("serve")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start serve");
        let (lines, base) = crate::helpers::listening_address(&mut child);
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        Served { child, base }
    }

    /// Peak resident memory (VmHWM) in KiB.
    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM")
    }
}

#[actix_web::test]
async fn a_burst_of_wrong_password_logins_stays_small_and_never_fails_badly() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = "sqlite://burst.db";
    let bootstrapped = std::process::Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env(
            "INVITATIONS_JWT_SECRET",
            "a test secret that is long enough",
        )
        .args([
            "bootstrap",
            "--account-name",
            "Burst LLP",
            "--billing-system",
            "new",
            "--plan",
            "monthly",
            "--owner-email",
            "owner@burst.example",
            "--owner-password",
            "owner password",
        ])
        .output()
        .unwrap();
    assert!(bootstrapped.status.success());
    let served = Served::start(dir.path(), database_url);
    invitations::outbound::install_tls_provider();
    let client = reqwest::Client::new();
    let login = |email: &'static str| {
        let request = client
            .post(format!("{}/sessions", served.base))
            .json(&json!({"email": email, "password": "not the password"}));
        async move {
            let response = request.send().await.expect("an answer");
            let retry_after = response.headers().get("retry-after").is_some();
            (response.status().as_u16(), retry_after)
        }
    };
    // Warm up (the dummy hash for unknown emails is made once), then measure the burst.
    assert_eq!(login("nobody@burst.example").await.0, 401);
    let before = served.peak_rss_kib();
    let answers = futures_util::future::join_all((0..48).map(|i| {
        login(if i % 2 == 0 {
            "owner@burst.example"
        } else {
            "nobody@burst.example"
        })
    }))
    .await;
    let peak = served.peak_rss_kib();
    let unauthorized = answers.iter().filter(|(s, _)| *s == 401).count();
    eprintln!(
        "48 logins: {unauthorized} × 401, {} × 503; peak RSS {} MiB (before: {} MiB)",
        answers.len() - unauthorized,
        peak / 1024,
        before / 1024
    );
    for (status, retry_after) in &answers {
        assert!(matches!(status, 401 | 503), "{answers:?}");
        assert!(*status != 503 || *retry_after, "503 without Retry-After");
    }
    assert!(unauthorized >= 2, "{answers:?}");
    assert!(
        peak < 160 * 1024,
        "peak RSS {} MiB (before the burst: {} MiB)",
        peak / 1024,
        before / 1024
    );
    // Once the burst is over, logins are checked again.
    assert_eq!(login("owner@burst.example").await.0, 401);
}
