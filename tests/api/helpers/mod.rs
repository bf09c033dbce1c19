//! The test harness: the real service on port 0 against a real database — a
//! fresh SQLite file, or a fresh PostgreSQL database when `TEST_DATABASE_URL`
//! is set (mandatory when `CI=true`) — with its own mail directory and clock.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use diesel::{Connection, RunQueryDsl, pg::PgConnection};
use invitations::clock::Clock;
use invitations::config::Config;
use invitations::domain::billing::{BillingSystem, LicenseType, Plan};
use invitations::domain::ids::{AccountId, UserId};
use invitations::http::state::AppState;
use invitations::services::bootstrap::{self, BootstrapInput};
use invitations::startup;
use serde_json::{Value, json};

mod fake_http;
mod poll;
mod smtp_sink;

pub use fake_http::{Call, FakeHttp};
pub use poll::{eventually, poll_until, poll_until_blocking};
pub use smtp_sink::SmtpSink;

/// Generates `NAME::sqlite` and `NAME::postgres` tests for each
/// `NAME => run`, where `async fn run(backend: Backend)` starts what it needs.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident => $run:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    super::$run($crate::helpers::Backend::Sqlite).await;
                }

                #[actix_web::test]
                #[cfg_attr(no_test_database, ignore = "set TEST_DATABASE_URL=postgres://… to run the PostgreSQL variant")]
                async fn postgres() {
                    super::$run($crate::helpers::Backend::Postgres).await;
                }
            }
        )*
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates `NAME::sqlite` and `NAME::postgres` tests for each `async fn NAME(app: TestApp)`.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    let app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await
                        .expect("SQLite is always available");
                    super::$name(app).await;
                }

                #[actix_web::test]
                #[cfg_attr(no_test_database, ignore = "set TEST_DATABASE_URL=postgres://… to run the PostgreSQL variant")]
                async fn postgres() {
                    let app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await
                        .expect("TEST_DATABASE_URL is set (or CI=true)");
                    super::$name(app).await;
                }
            }
        )*
    };
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Clock,
    pub state: AppState,
    pub backend: Backend,
    pub database_url: String,
    pub mail_dir: PathBuf,
    handle: ServerHandle,
    worker: tokio::task::JoinHandle<()>,
    postgres: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

/// An HTTP answer: status, headers and the body as JSON (or `Value::Null`).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json answer with this status and code, and returns it.
    pub fn problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(
            self.status, status,
            "expected {status} {code}, got {}: {}",
            self.status, self.text
        );
        assert_eq!(self.body["code"], code, "{}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        assert_eq!(self.body["status"], status);
        for field in ["type", "title", "detail", "instance"] {
            assert!(
                self.body[field].is_string(),
                "problem without {field}: {}",
                self.text
            );
        }
        &self.body
    }

    /// Asserts this status and returns the JSON body.
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(
            self.status, status,
            "expected {status}, got {}: {}",
            self.status, self.text
        );
        &self.body
    }

    /// The `field` of every entry of a 422's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.problem(422, "validation_failed")["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

/// An account made by bootstrap, with its owner's token.
#[derive(Debug, Clone)]
pub struct Owner {
    pub account_id: i64,
    pub user_id: i64,
    pub token: String,
}

/// How a test account is billed.
pub struct AccountSpec<'a> {
    pub billing_system: BillingSystem,
    pub plan: Plan,
    pub prices: &'a [(LicenseType, i64)],
    pub licenses: &'a [(LicenseType, i64)],
    pub period_start: Option<chrono::NaiveDateTime>,
}

impl AccountSpec<'_> {
    pub fn classic_annual() -> AccountSpec<'static> {
        AccountSpec {
            billing_system: BillingSystem::Classic,
            plan: Plan::Annual,
            prices: &[
                (LicenseType::Attorney, 120_000),
                (LicenseType::NonAttorney, 60_000),
            ],
            licenses: &[(LicenseType::Attorney, 2), (LicenseType::NonAttorney, 2)],
            period_start: None,
        }
    }

    pub fn new_monthly() -> AccountSpec<'static> {
        AccountSpec {
            billing_system: BillingSystem::New,
            plan: Plan::Monthly,
            prices: &[(LicenseType::User, 3_000)],
            licenses: &[],
            period_start: None,
        }
    }
}

static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

/// `postgres://user@host:port/db?x` → the same URL naming another database.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let server = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    format!("{server}/{database}{query}")
}

impl TestApp {
    /// `None` only for PostgreSQL when `TEST_DATABASE_URL` is unset outside CI.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, &[]).await
    }

    pub async fn spawn_with(backend: Backend, overrides: &[(&str, &str)]) -> Option<TestApp> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, postgres) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("test.db").display()),
                None,
            ),
            Backend::Postgres => {
                let admin_url = match std::env::var("TEST_DATABASE_URL") {
                    Ok(url) if !url.is_empty() => url,
                    _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
                        panic!(
                            "CI=true: TEST_DATABASE_URL must point at PostgreSQL; PostgreSQL tests may not be skipped"
                        )
                    }
                    _ => {
                        eprintln!(
                            "skipped: set TEST_DATABASE_URL=postgres://… to run the PostgreSQL variant"
                        );
                        return None;
                    }
                };
                let name = unique_name("inv_test");
                let mut admin =
                    PgConnection::establish(&admin_url).expect("connect to TEST_DATABASE_URL");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create a test database");
                (with_database(&admin_url, &name), Some((admin_url, name)))
            }
        };
        let mail_dir = dir.path().join("mail");
        Some(Self::start(
            backend,
            database_url,
            postgres,
            mail_dir,
            dir,
            overrides,
        ))
    }

    /// A second instance of the service on this one's database (its own
    /// process state, pool and account gates; the database is dropped only
    /// by the first): for races that only the database can settle.
    pub fn another_instance(&self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start(
            self.backend,
            self.database_url.clone(),
            None,
            self.mail_dir.clone(),
            dir,
            &[],
        )
    }

    fn start(
        backend: Backend,
        database_url: String,
        postgres: Option<(String, String)>,
        mail_dir: PathBuf,
        dir: tempfile::TempDir,
        overrides: &[(&str, &str)],
    ) -> TestApp {
        let mut vars: HashMap<String, String> = HashMap::from([
            ("INVITATIONS_BIND".into(), "127.0.0.1:0".into()),
            ("DATABASE_URL".into(), database_url.clone()),
            ("INVITATIONS_DB_POOL_SIZE".into(), "6".into()),
            ("INVITATIONS_HTTP_WORKERS".into(), "2".into()),
            (
                "INVITATIONS_JWT_SECRET".into(),
                "test secret that is long enough for HS256".into(),
            ),
            (
                "INVITATIONS_MAIL_DIR".into(),
                mail_dir.display().to_string(),
            ),
            ("INVITATIONS_WORKER_POLL_MS".into(), "50".into()),
            (
                "INVITATIONS_APP_URL".into(),
                "https://app.example.test".into(),
            ),
        ]);
        for (k, v) in overrides {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("test config");
        let clock = Clock::default();
        let running = startup::build(config, clock.clone()).expect("start the service");
        let handle = running.handle();
        let base = format!("http://127.0.0.1:{}", running.port);
        let state = running.state.clone();
        actix_web::rt::spawn(running.server);
        let worker = actix_web::rt::spawn(running.worker.run());
        TestApp {
            base,
            client: {
                invitations::outbound::install_tls_provider();
                reqwest::Client::new()
            },
            clock,
            state,
            backend,
            database_url,
            mail_dir,
            handle,
            worker,
            postgres,
            _dir: dir,
        }
    }

    /// `(open, reserved, assigned)` of a license type, counted row by row in
    /// the database (the license summary reads counts kept by triggers), once
    /// the expiry sweeper has recorded what expired by the test clock.
    pub fn licenses_counted_in_db(&self, account_id: i64, license_type: &str) -> (i64, i64, i64) {
        invitations::services::expiry::sweep(&self.state.pool, self.clock.now()).expect("sweep");
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::Text)]
            state: String,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.state.pool.get().expect("a connection");
        let counts: Vec<Count> = diesel::sql_query(
            "SELECT state, COUNT(*) AS n FROM licenses WHERE account_id = $1 AND license_type = $2 GROUP BY state"
                .replace('$', if self.backend == Backend::Sqlite { "?" } else { "$" }),
        )
        .bind::<diesel::sql_types::BigInt, _>(account_id)
        .bind::<diesel::sql_types::Text, _>(license_type)
        .load(&mut **conn)
        .expect("count licenses");
        let n = |state: &str| {
            counts
                .iter()
                .filter(|c| c.state == state)
                .map(|c| c.n)
                .sum()
        };
        (n("open"), n("reserved"), n("assigned"))
    }

    pub async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let request = self.client.request(method, format!("{}{path}", self.base));
        let response = with_token_and_json(request, token, body)
            .send()
            .await
            .expect("request");
        Self::reply(response).await
    }

    /// POSTs `body` exactly as given, with this content type (or none).
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let mut request = self.client.post(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        Self::reply(request.body(body).send().await.expect("request")).await
    }

    pub async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.request("GET", path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request("POST", path, Some(token), Some(&body)).await
    }

    /// Bootstraps an account (as the CLI does) and returns its owner.
    pub fn bootstrap(&self, spec: &AccountSpec<'_>) -> Owner {
        let email = format!("{}@firm.example", unique_name("owner"));
        self.bootstrap_with_owner(spec, &email, "owner password")
    }

    pub fn bootstrap_with_owner(
        &self,
        spec: &AccountSpec<'_>,
        email: &str,
        password: &str,
    ) -> Owner {
        let now = self.clock.now();
        let input = BootstrapInput {
            account_name: "Smith & Jones LLP".into(),
            billing_system: spec.billing_system,
            plan: spec.plan,
            owner_email: email.into(),
            owner_password: password.into(),
            owner_first_name: "Ann".into(),
            owner_last_name: "Smith".into(),
            prices: spec.prices.to_vec(),
            licenses: spec.licenses.to_vec(),
            currency: "USD".into(),
            period_start: spec.period_start.unwrap_or(now),
        };
        let mut conn = self.state.pool.get().expect("connection");
        let created = bootstrap::run(&mut conn, &input, now).expect("bootstrap");
        let token = self
            .state
            .jwt
            .issue(
                created.account_id,
                created.user_id,
                Duration::from_secs(3_600),
                now,
            )
            .expect("token");
        Owner {
            account_id: created.account_id.get(),
            user_id: created.user_id.get(),
            token,
        }
    }

    /// Invites and expects 201; returns the invitation.
    pub async fn invite(&self, owner: &Owner, body: Value) -> Value {
        let reply = self
            .post(
                &format!("/accounts/{}/invitations", owner.account_id),
                &owner.token,
                body,
            )
            .await;
        reply.ok(201).clone()
    }

    /// Waits for the newest email to `to` and returns it.
    pub async fn email_to(&self, to: &str) -> Email {
        self.emails_to(to, 1).await.pop().expect("an email")
    }

    /// Waits until at least `count` emails to `to` exist; returns them oldest first.
    pub async fn emails_to(&self, to: &str, count: usize) -> Vec<Email> {
        eventually(
            &format!("{count} email(s) to {to} in {}", self.mail_dir.display()),
            Duration::from_secs(10),
            || async {
                let found: Vec<Email> = read_emails(&self.mail_dir)
                    .into_iter()
                    .filter(|e| e.to.eq_ignore_ascii_case(to))
                    .collect();
                (found.len() >= count).then_some(found)
            },
        )
        .await
    }

    /// Invites `email`, reads the email and returns (invitation, token).
    pub async fn invite_and_read_token(&self, owner: &Owner, body: Value) -> (Value, String) {
        let invitation = self.invite(owner, body).await;
        let email = invitation["email"].as_str().expect("email").to_owned();
        let token = self.emails_to(&email, 1).await.pop().expect("email").token;
        (invitation, token)
    }

    /// Accepts with a valid body; returns the reply.
    pub async fn accept(&self, token: &str) -> Reply {
        self.accept_with(
            token,
            &json!({"first_name": "Bob", "last_name": "Jones", "password": "bob's password"}),
        )
        .await
    }

    /// `POST /invitations/{token}/accept` with this body.
    pub async fn accept_with(&self, token: &str, body: &Value) -> Reply {
        self.request(
            "POST",
            &format!("/invitations/{token}/accept"),
            None,
            Some(body),
        )
        .await
    }

    /// Sends `{not json` as `application/json` with the bearer `token`.
    pub async fn send_not_json(&self, method: reqwest::Method, path: &str, token: &str) -> Reply {
        let response = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .expect("request");
        Self::reply(response).await
    }

    /// Asserts `total = open + reserved + assigned` for every type and returns the counts by type.
    pub async fn licenses(&self, owner: &Owner) -> HashMap<String, Value> {
        let reply = self
            .get(
                &format!("/accounts/{}/licenses", owner.account_id),
                &owner.token,
            )
            .await;
        let body = reply.ok(200);
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| {
                let n = |k: &str| item[k].as_i64().expect(k);
                assert_eq!(
                    n("total"),
                    n("open") + n("reserved") + n("assigned"),
                    "invariant: {item}"
                );
                (
                    item["license_type"].as_str().expect("type").to_owned(),
                    item.clone(),
                )
            })
            .collect()
    }
}

impl TestApp {
    /// Stops serving and delivering, like a process that died; the database and
    /// mail directory stay until the `TestApp` is dropped.
    pub async fn stop(&self) {
        self.worker.abort();
        self.handle.stop(false).await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.worker.abort();
        let handle = self.handle.clone();
        actix_web::rt::spawn(async move { handle.stop(false).await });
        if let Some((admin_url, name)) = &self.postgres
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}

/// One `.eml` file, parsed.
#[derive(Debug, Clone)]
pub struct Email {
    pub raw: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub token: String,
}

pub fn read_emails(dir: &Path) -> Vec<Email> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|file| {
            let bytes = std::fs::read(&file).ok()?;
            let message = mail_parser::MessageParser::default().parse(&bytes)?;
            let to = message.to()?.first()?.address()?.to_owned();
            let text = message.body_text(0)?.into_owned();
            let html = message.body_html(0)?.into_owned();
            let token = text
                .split("token=")
                .nth(1)
                .map(|rest| {
                    rest.chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                        .collect()
                })
                .unwrap_or_default();
            Some(Email {
                raw: String::from_utf8_lossy(&bytes).into_owned(),
                subject: message.subject().unwrap_or_default().to_owned(),
                to,
                text,
                html,
                token,
            })
        })
        .collect()
}

pub fn classic_attorney(email: &str) -> Value {
    json!({"email": email, "subscriber_type": "attorney"})
}

impl TestApp {
    /// The owner with a token valid at the service's clock (tokens live an
    /// hour; tests move the clock by days).
    pub fn renew(&self, owner: &Owner) -> Owner {
        let token = self
            .state
            .jwt
            .issue(
                AccountId::new(owner.account_id),
                UserId::new(owner.user_id),
                Duration::from_secs(3_600),
                self.clock.now(),
            )
            .expect("token");
        Owner {
            token,
            ..owner.clone()
        }
    }

    /// Invites with `body`, reads the email and accepts: (user id, access token).
    pub async fn join(&self, owner: &Owner, body: Value) -> (i64, String) {
        let (_, token) = self.invite_and_read_token(owner, body).await;
        let accepted = self.accept(&token).await;
        let grant = accepted.ok(201);
        (
            grant["user"]["id"].as_i64().expect("user id"),
            grant["access_token"]
                .as_str()
                .expect("access token")
                .to_owned(),
        )
    }

    /// Waits (up to 5 s) until the invitation's `delivery` is `expected`.
    pub async fn wait_for_delivery(&self, owner: &Owner, invitation: &Value, expected: &str) {
        let path = invitation_path(owner, invitation);
        eventually(
            &format!("delivery {expected} of {path}"),
            Duration::from_secs(5),
            || async {
                let seen = self.get(&path, &owner.token).await.ok(200)["delivery"].clone();
                (seen == expected).then_some(())
            },
        )
        .await;
    }

    /// `GET /accounts/{id}/invitations/{id}` as the owner.
    pub async fn read_invitation(&self, owner: &Owner, invitation: &Value) -> Reply {
        self.get(&invitation_path(owner, invitation), &owner.token)
            .await
    }

    /// `DELETE /accounts/{id}/invitations/{id}` (revokes) as the owner.
    pub async fn revoke(&self, owner: &Owner, invitation: &Value) -> Reply {
        self.request(
            "DELETE",
            &invitation_path(owner, invitation),
            Some(&owner.token),
            None,
        )
        .await
    }

    /// `POST /accounts/{id}/invitations/{id}/resend` as the owner.
    pub async fn resend(&self, owner: &Owner, invitation: &Value) -> Reply {
        self.request(
            "POST",
            &format!("{}/resend", invitation_path(owner, invitation)),
            Some(&owner.token),
            None,
        )
        .await
    }

    /// The `items` of `GET /accounts/{id}/charges` as the owner.
    pub async fn charges(&self, owner: &Owner) -> Vec<Value> {
        self.get(
            &format!("/accounts/{}/charges", owner.account_id),
            &owner.token,
        )
        .await
        .ok(200)["items"]
            .as_array()
            .expect("items")
            .clone()
    }

    /// Creates a group; returns its id.
    pub async fn create_group(&self, owner: &Owner, name: &str) -> i64 {
        self.post(
            &format!("/accounts/{}/groups", owner.account_id),
            &owner.token,
            json!({"name": name}),
        )
        .await
        .ok(201)["id"]
            .as_i64()
            .expect("group id")
    }
}

/// Asserts a 422 whose `errors[].field` are exactly `expected` (in any order).
pub fn assert_fields(reply: &Reply, expected: &[&str]) {
    let mut got = reply.error_fields();
    got.sort();
    let mut want: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    want.sort();
    assert_eq!(got, want, "{}", reply.text);
}

/// The `code` of the error entry for `field`.
pub fn error_code(reply: &Reply, field: &str) -> String {
    reply.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .find(|e| e["field"] == field)
        .and_then(|e| e["code"].as_str())
        .unwrap_or_else(|| panic!("no error on {field}: {}", reply.text))
        .to_owned()
}

/// The ids of a page's `items`, in order.
pub fn item_ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_i64().expect("id"))
        .collect()
}

/// `/accounts/{id}/invitations/{id}`.
pub fn invitation_path(owner: &Owner, invitation: &Value) -> String {
    format!(
        "/accounts/{}/invitations/{}",
        owner.account_id, invitation["id"]
    )
}

/// The keys of a JSON object.
pub fn keys_of(object: &Value) -> BTreeSet<&str> {
    object
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// Adds the bearer `token` and the JSON `body`, where given.
pub fn with_token_and_json(
    mut request: reqwest::RequestBuilder,
    token: Option<&str>,
    body: Option<&Value>,
) -> reqwest::RequestBuilder {
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    request
}

/// Reads the first line a started `serve` prints and returns the rest of its
/// stdout with the base URL it listens on.
pub fn listening_address(child: &mut Child) -> (std::io::Lines<BufReader<ChildStdout>>, String) {
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let first = lines
        .next()
        .expect("serve prints where it listens")
        .expect("a line");
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    (lines, base)
}

/// A request of a table: (method, path, JSON body).
pub type RequestCase<'a> = (&'a str, String, Option<Value>);

/// Asserts that each request, sent with its token, answers 404 with the very
/// problem `GET /accounts/987654` answers `probe_token`: another account's
/// resources are indistinguishable from missing ones.
pub async fn assert_each_answers_like_a_missing_account<'a>(
    app: &TestApp,
    probe_token: &str,
    cases: impl IntoIterator<Item = (&'a String, &'a RequestCase<'a>)>,
) {
    let nonexistent = app.get("/accounts/987654", probe_token).await;
    nonexistent.problem(404, "not_found");
    for (token, (method, path, body)) in cases {
        let reply = app.request(method, path, Some(token), body.as_ref()).await;
        assert_eq!(reply.status, 404, "{method} {path}: {}", reply.text);
        reply.problem(404, "not_found");
        for same in ["type", "title", "detail", "code"] {
            assert_eq!(reply.body[same], nonexistent.body[same], "{method} {path}");
        }
    }
}
