//! The built-in accept page in a real browser: headless Chromium driven by
//! chromedriver over WebDriver (fantoccini), against the real service.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium
//! chromium-driver`; `CHROME` and `CHROMEDRIVER` name other binaries). In CI
//! (`CI=true`) a missing browser fails the test; elsewhere it is skipped with
//! a message. `UPDATE_SCREENSHOTS=1` writes the screenshots to
//! `docs/screenshots/accept-*.png` (from the SQLite variant); otherwise they
//! go to a temporary directory.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::helpers::{AccountSpec, Backend, Owner, TestApp, eventually, invitation_path};

/// `db_tests!` with a configured sign-in URL (and no wait between resends).
macro_rules! browser_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use super::*;

                #[actix_web::test]
                async fn sqlite() {
                    let app = TestApp::spawn_with(Backend::Sqlite, OVERRIDES).await
                        .expect("SQLite is always available");
                    super::$name(app).await;
                }

                #[actix_web::test]
                #[cfg_attr(no_test_database, ignore = "set TEST_DATABASE_URL=postgres://… to run the PostgreSQL variant")]
                async fn postgres() {
                    let app = TestApp::spawn_with(Backend::Postgres, OVERRIDES).await
                        .expect("TEST_DATABASE_URL is set (or CI=true)");
                    super::$name(app).await;
                }
            }
        )*
    };
}

browser_tests!(
    the_accept_page_shows_field_errors_then_creates_the_account_and_links_to_sign_in,
    the_accept_page_declines_only_after_confirmation,
    the_accept_page_explains_an_expired_invitation_naming_the_inviter,
    the_accept_page_explains_a_revoked_invitation_and_a_replaced_link,
);

const LOGIN_URL: &str = "https://app.example.test/sign-in";
const OVERRIDES: &[(&str, &str)] = &[
    ("INVITATIONS_LOGIN_URL", LOGIN_URL),
    ("INVITATIONS_RATE_RESEND_INTERVAL_SECONDS", "0"),
];
const DESKTOP: (u32, u32) = (1280, 900);
const PHONE: (u32, u32) = (390, 844);

/// One browser at a time: the machine running the suite runs other tests too.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn find_binary(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([
            PathBuf::from("/usr/bin"),
            PathBuf::from("/usr/lib/chromium"),
        ])
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// chromedriver on a free port, ended when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium session, or `None` (skipped) when no browser is installed outside CI.
struct Browser {
    client: Client,
    _driver: Driver,
    screenshots: PathBuf,
    backend: Backend,
}

impl Browser {
    async fn start(app: &TestApp) -> Option<Browser> {
        let chromedriver = find_binary("CHROMEDRIVER", &["chromedriver"]);
        let chrome = find_binary(
            "CHROME",
            &["chromium", "chromium-browser", "google-chrome", "chrome"],
        );
        let (Some(chromedriver), Some(chrome)) = (chromedriver, chrome) else {
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true"),
                "CI=true: the browser test is mandatory; install chromium and chromedriver \
                 (apt-get install -y chromium chromium-driver)"
            );
            eprintln!(
                "skipped: the accept-page browser test needs chromium and chromedriver \
                 (apt-get install -y chromium chromium-driver, or set CHROME and CHROMEDRIVER)"
            );
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            // The page shows times in the visitor's zone: pick one that is not UTC.
            .env("TZ", "America/New_York")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", chromedriver.display()));
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        eventually("chromedriver is up", Duration::from_secs(20), || async {
            let status = app
                .client
                .get(format!("{}/status", driver.url))
                .send()
                .await
                .ok()?;
            status.status().is_success().then_some(())
        })
        .await;
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chrome.display().to_string(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--hide-scrollbars", "--force-device-scale-factor=1", "--lang=en-US",
                    "--no-first-run", "--disable-extensions",
                    format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
                ],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .expect("a WebDriver session with headless Chromium");
        let screenshots = if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots")
        } else {
            std::env::temp_dir().join(format!("accept-page-screenshots-{}", std::process::id()))
        };
        std::fs::create_dir_all(&screenshots).expect("screenshot directory");
        Some(Browser {
            client,
            _driver: driver,
            screenshots,
            backend: app.backend,
        })
    }

    async fn open(&self, app: &TestApp, token: &str) {
        self.client
            .set_window_size(DESKTOP.0, DESKTOP.1)
            .await
            .expect("window size");
        self.client
            .goto(&format!("{}/invitations/accept?token={token}", app.base))
            .await
            .expect("open the accept page");
        assert!(
            !self
                .client
                .current_url()
                .await
                .expect("url")
                .as_str()
                .contains("token"),
            "the page takes the token out of the address bar"
        );
    }

    /// Waits until the page shows `state` (a `#state-…` section).
    async fn wait_for_state(&self, state: &str) -> Element {
        let section = self
            .client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(&format!("#state-{state}:not([hidden])")))
            .await
            .unwrap_or_else(|e| panic!("the page never showed {state}: {e}"));
        assert!(section.is_displayed().await.expect("displayed"));
        section
    }

    async fn text_of(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .expect("text")
    }

    async fn attr_of(&self, css: &str, attribute: &str) -> Option<String> {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .attr(attribute)
            .await
            .expect("attribute")
    }

    async fn type_into(&self, id: &str, text: &str) {
        let input = self.client.find(Locator::Id(id)).await.expect(id);
        input.clear().await.expect("clear");
        input.send_keys(text).await.expect("type");
    }

    async fn click(&self, id: &str) {
        self.client
            .find(Locator::Id(id))
            .await
            .expect(id)
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {id}: {e}"));
    }

    /// `accept-NAME.png` at desktop width and `accept-NAME-phone.png` at
    /// phone width, each as tall as the page.
    async fn screenshots(&self, name: &str) {
        if self.backend != Backend::Sqlite {
            return;
        }
        for ((width, height), suffix) in [(DESKTOP, ""), (PHONE, "-phone")] {
            self.client
                .set_window_size(width, height)
                .await
                .expect("window size");
            let content = self
                .client
                .execute(
                    "return document.documentElement.scrollHeight \
                     + Math.max(0, window.outerHeight - window.innerHeight);",
                    vec![],
                )
                .await
                .expect("page height")
                .as_u64()
                .unwrap_or(u64::from(height));
            let tall = u32::try_from(content).unwrap_or(height).max(height);
            if tall != height {
                self.client
                    .set_window_size(width, tall)
                    .await
                    .expect("window size");
            }
            self.client
                .execute("window.scrollTo(0, 0);", vec![])
                .await
                .expect("scroll to the top");
            let png = self.client.screenshot().await.expect("screenshot");
            let file = self.screenshots.join(format!("accept-{name}{suffix}.png"));
            std::fs::write(&file, png).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        }
        self.client
            .set_window_size(DESKTOP.0, DESKTOP.1)
            .await
            .expect("window size");
    }

    async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// Invites Bob as an administrator with a message; returns the invitation and its token.
async fn invite_bob(app: &TestApp, owner: &Owner, email: &str) -> (Value, String) {
    app.invite_and_read_token(
        owner,
        json!({
            "email": email,
            "subscriber_type": "attorney",
            "role": "administrator",
            "message": "Welcome aboard! You will have access to the Henderson matter from Monday.",
        }),
    )
    .await
}

async fn the_accept_page_shows_field_errors_then_creates_the_account_and_links_to_sign_in(
    app: TestApp,
) {
    let _one = ONE_BROWSER.lock().await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (_, token) = invite_bob(&app, &owner, "bob.jones@example.com").await;

    browser.open(&app, &token).await;
    let pending = browser.wait_for_state("pending").await;
    let text = pending.text().await.expect("text");
    for shown in [
        "Join Smith & Jones LLP",
        "Ann Smith",
        "Administrator",
        "bob.jones@example.com",
        "Welcome aboard!",
        "At least 8 characters",
    ] {
        assert!(text.contains(shown), "{shown:?} not in {text}");
    }
    assert_eq!(browser.text_of("#product").await, "Clio");
    let expires = browser.text_of("#expires").await;
    assert!(
        expires.contains("EST") || expires.contains("EDT"),
        "the expiry names the visitor's time zone: {expires}"
    );
    browser.screenshots("form").await;

    // A too-short password: the service's 422 is shown next to the field.
    browser.type_into("first_name", "Bob").await;
    browser.type_into("last_name", "Jones").await;
    browser.type_into("password", "short").await;
    browser.click("submit").await;
    browser
        .client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#password[aria-invalid=true]"))
        .await
        .expect("the password field is marked invalid");
    let error = browser.text_of("#password-error").await;
    assert!(error.contains("at least 8 characters"), "{error}");
    let described = browser
        .attr_of("#password", "aria-describedby")
        .await
        .unwrap_or_default();
    assert!(described.split(' ').any(|id| id == "password-error"));
    assert!(described.split(' ').any(|id| id == "password-hint"));
    assert_eq!(browser.attr_of("#first_name", "aria-invalid").await, None);
    assert_eq!(browser.text_of("#first_name-error").await, "");
    browser.screenshots("field-error").await;

    browser
        .type_into("password", "a long enough passphrase")
        .await;
    browser.click("submit").await;
    let accepted = browser.wait_for_state("accepted").await;
    let text = accepted.text().await.expect("text");
    assert!(text.contains("Welcome to Smith & Jones LLP"), "{text}");
    assert!(text.contains("bob.jones@example.com"), "{text}");
    assert_eq!(
        browser.attr_of("#sign-in", "href").await.as_deref(),
        Some(LOGIN_URL)
    );
    assert_eq!(browser.text_of("#sign-in").await, "Sign in to Clio");
    browser.screenshots("accepted").await;
    browser.close().await;

    // The user exists and signs in with the password typed in the page.
    let session = app
        .request(
            "POST",
            "/sessions",
            None,
            Some(
                &json!({"email": "bob.jones@example.com", "password": "a long enough passphrase"}),
            ),
        )
        .await;
    let user = &session.ok(200)["user"];
    assert_eq!(user["first_name"], "Bob");
    assert_eq!(user["last_name"], "Jones");
    assert_eq!(user["role"], "administrator");
}

async fn the_accept_page_declines_only_after_confirmation(app: TestApp) {
    let _one = ONE_BROWSER.lock().await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (invitation, token) = invite_bob(&app, &owner, "dee.clark@example.com").await;

    browser.open(&app, &token).await;
    browser.wait_for_state("pending").await;
    browser.click("decline").await;
    let confirm = browser.wait_for_state("confirm-decline").await;
    let text = confirm.text().await.expect("text");
    assert!(text.contains("Decline this invitation?"), "{text}");
    assert!(text.contains("Ann Smith"), "{text}");
    // Nothing is declined before the confirmation.
    let status = |reply: &crate::helpers::Reply| reply.ok(200)["status"].clone();
    let path = invitation_path(&owner, &invitation);
    assert_eq!(status(&app.get(&path, &owner.token).await), "pending");
    browser.screenshots("decline-confirm").await;

    // "No, go back" returns to the form; Decline again, then confirm.
    browser.click("decline-cancel").await;
    browser.wait_for_state("pending").await;
    browser.click("decline").await;
    browser.wait_for_state("confirm-decline").await;
    browser.click("decline-confirm").await;
    let declined = browser.wait_for_state("declined").await;
    let text = declined.text().await.expect("text");
    assert!(text.contains("You declined the invitation"), "{text}");
    assert!(
        text.contains("Ask Ann Smith to send you a new invitation"),
        "{text}"
    );
    browser.screenshots("declined").await;
    browser.close().await;

    assert_eq!(status(&app.get(&path, &owner.token).await), "declined");
}

async fn the_accept_page_explains_an_expired_invitation_naming_the_inviter(app: TestApp) {
    let _one = ONE_BROWSER.lock().await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (_, token) = invite_bob(&app, &owner, "eve.late@example.com").await;
    app.clock.advance(chrono::Duration::days(8));

    browser.open(&app, &token).await;
    let expired = browser.wait_for_state("expired").await;
    let text = expired.text().await.expect("text");
    assert!(text.contains("This invitation has expired"), "{text}");
    assert!(
        text.contains("Ask Ann Smith to send you a new invitation"),
        "{text}"
    );
    assert!(text.contains("Smith & Jones LLP"), "{text}");
    assert!(!text.contains("No such resource"), "{text}");
    assert!(
        !browser
            .client
            .find(Locator::Id("accept"))
            .await
            .expect("form")
            .is_displayed()
            .await
            .expect("displayed"),
        "no form for an expired invitation"
    );
    browser.screenshots("expired").await;
    browser.close().await;
}

async fn the_accept_page_explains_a_revoked_invitation_and_a_replaced_link(app: TestApp) {
    let _one = ONE_BROWSER.lock().await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (invitation, token) = invite_bob(&app, &owner, "rex.gone@example.com").await;
    app.revoke(&owner, &invitation).await.ok(200);

    browser.open(&app, &token).await;
    let revoked = browser.wait_for_state("revoked").await;
    let text = revoked.text().await.expect("text");
    assert!(text.contains("This invitation was withdrawn"), "{text}");
    assert!(
        text.contains("ask Ann Smith to send you a new invitation"),
        "{text}"
    );
    browser.screenshots("revoked").await;

    // A resent invitation's old link answers 404: the page says the link was
    // replaced, without naming anyone (it cannot know who).
    let (invitation, old_token) = invite_bob(&app, &owner, "sam.resent@example.com").await;
    app.resend(&owner, &invitation).await.ok(200);
    browser.open(&app, &old_token).await;
    let invalid = browser.wait_for_state("invalid").await;
    let text = invalid.text().await.expect("text");
    assert!(text.contains("no longer valid"), "{text}");
    assert!(text.contains("newer invitation email"), "{text}");
    assert!(text.contains("most recent invitation email"), "{text}");
    assert!(!text.contains("No such resource"), "{text}");
    browser.screenshots("invalid-link").await;
    browser.close().await;
}
