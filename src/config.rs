//! Configuration: read once from the environment into typed values, validated at start.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::domain::invitation::{MAX_EXPIRY_DAYS, MIN_EXPIRY_DAYS};

/// A value that must never reach a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    /// `postgres://…` / `postgresql://…`, or `sqlite://PATH` (relative) / `sqlite:///abs/path.db`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(raw.to_owned()));
        }
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("DATABASE_URL sqlite:// needs a file path".into());
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if let Some(path) = raw.strip_prefix("sqlite:").filter(|p| !p.is_empty()) {
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        Err(format!(
            "DATABASE_URL must start with postgres://, postgresql:// or sqlite:// (got {:?})",
            raw.split(['@', '?']).next().unwrap_or_default()
        ))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, DatabaseUrl::Postgres(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    pub database_url: DatabaseUrl,
    pub db_pool_size: u32,
    pub http_workers: usize,
    pub jwt_secret: Option<Secret>,
    pub jwt_public_key: Option<String>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl: Duration,
    pub invitation_expiry_days: i64,
    pub product_name: String,
    pub app_url: String,
    pub mail_provider: String,
    /// API key of the `postmark`, `sendgrid` or `mailgun` provider.
    pub mail_api_key: Option<Secret>,
    /// Base URL of the provider's API (its public endpoint by default; tests point it elsewhere).
    pub mail_api_base: Option<String>,
    pub mailgun_domain: Option<String>,
    pub mail_dir: PathBuf,
    pub mail_from: String,
    pub mail_max_attempts: i32,
    pub worker_poll_interval: Duration,
    pub sweep_interval: Duration,
    pub log_format: LogFormat,
    /// Origins allowed to call from a browser; empty: no CORS headers at all.
    pub cors_origins: Vec<String>,
    pub invitations_per_hour: u32,
    pub resend_interval: Duration,
    pub resends_per_day: u32,
    pub token_requests_per_minute: u32,
}

/// Every variable the service reads, with its default (`None`: unset by default).
pub const VARIABLES: &[(&str, Option<&str>, &str)] = &[
    ("INVITATIONS_BIND", Some("127.0.0.1:8080"), "listen address"),
    (
        "DATABASE_URL",
        Some("sqlite://invitations.db"),
        "sqlite://PATH, sqlite:///abs/path.db or postgres://…",
    ),
    (
        "INVITATIONS_DB_POOL_SIZE",
        Some("10"),
        "database connections per process",
    ),
    ("INVITATIONS_HTTP_WORKERS", Some("2"), "HTTP worker threads"),
    (
        "INVITATIONS_JWT_SECRET",
        None,
        "HS256 secret; unset: a random secret generated once and kept in the database",
    ),
    (
        "INVITATIONS_JWT_PUBLIC_KEY",
        None,
        "PEM public key (RS256 or EdDSA) also accepted for bearer tokens",
    ),
    (
        "INVITATIONS_JWT_ISSUER",
        Some("invitations"),
        "iss of issued tokens, checked on every request",
    ),
    (
        "INVITATIONS_JWT_AUDIENCE",
        Some("invitations"),
        "aud of issued tokens, checked on every request",
    ),
    (
        "INVITATIONS_ACCESS_TOKEN_TTL",
        Some("1h"),
        "lifetime of tokens from POST /sessions and accept (s, m, h, d)",
    ),
    (
        "INVITATIONS_INVITATION_EXPIRY_DAYS",
        Some("7"),
        "default expires_in_days (1–30)",
    ),
    (
        "INVITATIONS_PRODUCT_NAME",
        Some("Clio"),
        "product name in the email subject and text",
    ),
    (
        "INVITATIONS_APP_URL",
        Some("http://127.0.0.1:8080"),
        "base of the accept link: {APP_URL}/invitations/accept?token=…",
    ),
    (
        "INVITATIONS_MAIL_PROVIDER",
        Some("log"),
        "log: write each message as an .eml file",
    ),
    (
        "INVITATIONS_MAIL_DIR",
        Some("./mail"),
        "where the log provider writes .eml files",
    ),
    (
        "INVITATIONS_MAIL_FROM",
        Some("Clio <no-reply@invitations.localhost>"),
        "From: header of invitation emails",
    ),
    (
        "INVITATIONS_MAIL_MAX_ATTEMPTS",
        Some("8"),
        "delivery attempts before an email is marked failed",
    ),
    (
        "INVITATIONS_WORKER_POLL_MS",
        Some("1000"),
        "how often the outbox worker looks for due email",
    ),
    (
        "INVITATIONS_SWEEP_INTERVAL_SECONDS",
        Some("60"),
        "how often expired invitations release their licenses",
    ),
    ("INVITATIONS_LOG_FORMAT", Some("pretty"), "pretty or json"),
    (
        "INVITATIONS_CORS_ORIGINS",
        None,
        "comma-separated origins allowed from browsers (e.g. https://app.example.com), or *",
    ),
    (
        "INVITATIONS_RATE_INVITATIONS_PER_HOUR",
        Some("200"),
        "invitations created per account per rolling hour (bulk items count one by one)",
    ),
    (
        "INVITATIONS_RATE_RESEND_INTERVAL_SECONDS",
        Some("60"),
        "minimum time between two sends of one invitation",
    ),
    (
        "INVITATIONS_RATE_RESENDS_PER_DAY",
        Some("5"),
        "resends per invitation per rolling 24 hours",
    ),
    (
        "INVITATIONS_RATE_TOKEN_REQUESTS_PER_MINUTE",
        Some("600"),
        "requests per client IP per minute to /sessions and /invitations/{token}…",
    ),
    ("RUST_LOG", Some("info"), "log filter"),
];

fn default_of(name: &str) -> &'static str {
    VARIABLES
        .iter()
        .find(|(n, _, _)| *n == name)
        .and_then(|(_, d, _)| *d)
        .unwrap_or("")
}

impl Config {
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any variable source (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let get = |name: &str| {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| default_of(name).to_owned())
        };
        let optional = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let number = |name: &str| -> Result<i64, String> {
            get(name)
                .trim()
                .parse::<i64>()
                .map_err(|_| format!("{name} must be an integer"))
        };

        let invitation_expiry_days = number("INVITATIONS_INVITATION_EXPIRY_DAYS")?;
        if !(MIN_EXPIRY_DAYS..=MAX_EXPIRY_DAYS).contains(&invitation_expiry_days) {
            return Err(format!(
                "INVITATIONS_INVITATION_EXPIRY_DAYS must be between {MIN_EXPIRY_DAYS} and {MAX_EXPIRY_DAYS}"
            ));
        }
        let mail_provider = get("INVITATIONS_MAIL_PROVIDER");
        let mail_api_key = optional("INVITATIONS_MAIL_API_KEY").map(Secret::new);
        let mailgun_domain = optional("INVITATIONS_MAILGUN_DOMAIN");
        match mail_provider.as_str() {
            "log" => {}
            "postmark" | "sendgrid" | "mailgun" if mail_api_key.is_none() => {
                return Err(format!(
                    "INVITATIONS_MAIL_PROVIDER={mail_provider} needs INVITATIONS_MAIL_API_KEY"
                ));
            }
            "mailgun" if mailgun_domain.is_none() => {
                return Err(
                    "INVITATIONS_MAIL_PROVIDER=mailgun needs INVITATIONS_MAILGUN_DOMAIN".into(),
                );
            }
            "postmark" | "sendgrid" | "mailgun" => {}
            other => {
                return Err(format!(
                    "INVITATIONS_MAIL_PROVIDER={other} is not supported (log, postmark, sendgrid, mailgun)"
                ));
            }
        }
        let log_format = match get("INVITATIONS_LOG_FORMAT").as_str() {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => {
                return Err(format!(
                    "INVITATIONS_LOG_FORMAT must be pretty or json, not {other}"
                ));
            }
        };
        let positive = |name: &str| -> Result<i64, String> {
            let n = number(name)?;
            if n < 1 {
                return Err(format!("{name} must be at least 1"));
            }
            Ok(n)
        };

        Ok(Config {
            bind: get("INVITATIONS_BIND"),
            database_url: DatabaseUrl::parse(&get("DATABASE_URL"))?,
            db_pool_size: u32::try_from(positive("INVITATIONS_DB_POOL_SIZE")?)
                .map_err(|_| "INVITATIONS_DB_POOL_SIZE is too large".to_owned())?,
            http_workers: usize::try_from(positive("INVITATIONS_HTTP_WORKERS")?).unwrap_or(2),
            jwt_secret: optional("INVITATIONS_JWT_SECRET").map(Secret::new),
            jwt_public_key: optional("INVITATIONS_JWT_PUBLIC_KEY"),
            jwt_issuer: get("INVITATIONS_JWT_ISSUER"),
            jwt_audience: get("INVITATIONS_JWT_AUDIENCE"),
            access_token_ttl: parse_duration(&get("INVITATIONS_ACCESS_TOKEN_TTL"))
                .map_err(|e| format!("INVITATIONS_ACCESS_TOKEN_TTL: {e}"))?,
            invitation_expiry_days,
            product_name: get("INVITATIONS_PRODUCT_NAME"),
            app_url: get("INVITATIONS_APP_URL").trim_end_matches('/').to_owned(),
            mail_provider,
            mail_api_key,
            mail_api_base: optional("INVITATIONS_MAIL_API_BASE")
                .map(|b| b.trim_end_matches('/').to_owned()),
            mailgun_domain,
            mail_dir: PathBuf::from(get("INVITATIONS_MAIL_DIR")),
            mail_from: get("INVITATIONS_MAIL_FROM"),
            mail_max_attempts: i32::try_from(positive("INVITATIONS_MAIL_MAX_ATTEMPTS")?)
                .unwrap_or(8),
            worker_poll_interval: Duration::from_millis(
                positive("INVITATIONS_WORKER_POLL_MS")?.unsigned_abs(),
            ),
            sweep_interval: Duration::from_secs(
                positive("INVITATIONS_SWEEP_INTERVAL_SECONDS")?.unsigned_abs(),
            ),
            log_format,
            cors_origins: parse_cors_origins(&get("INVITATIONS_CORS_ORIGINS"))?,
            invitations_per_hour: u32::try_from(positive("INVITATIONS_RATE_INVITATIONS_PER_HOUR")?)
                .map_err(|_| "INVITATIONS_RATE_INVITATIONS_PER_HOUR is too large".to_owned())?,
            resend_interval: Duration::from_secs(
                number("INVITATIONS_RATE_RESEND_INTERVAL_SECONDS")?
                    .max(0)
                    .unsigned_abs(),
            ),
            resends_per_day: u32::try_from(positive("INVITATIONS_RATE_RESENDS_PER_DAY")?)
                .map_err(|_| "INVITATIONS_RATE_RESENDS_PER_DAY is too large".to_owned())?,
            token_requests_per_minute: u32::try_from(positive(
                "INVITATIONS_RATE_TOKEN_REQUESTS_PER_MINUTE",
            )?)
            .map_err(|_| "INVITATIONS_RATE_TOKEN_REQUESTS_PER_MINUTE is too large".to_owned())?,
        })
    }
}

/// `*` alone, or origins like `https://app.example.com[:port]` (no path).
pub fn parse_cors_origins(text: &str) -> Result<Vec<String>, String> {
    let origins: Vec<String> = text
        .split(',')
        .map(|o| o.trim().trim_end_matches('/').to_owned())
        .filter(|o| !o.is_empty())
        .collect();
    if origins.iter().any(|o| o == "*") {
        return if origins.len() == 1 {
            Ok(origins)
        } else {
            Err("INVITATIONS_CORS_ORIGINS: `*` cannot be combined with other origins".into())
        };
    }
    for origin in &origins {
        let valid = reqwest::Url::parse(origin).is_ok_and(|url| {
            matches!(url.scheme(), "http" | "https")
                && url.host().is_some()
                && url.path() == "/"
                && url.query().is_none()
                && url.username().is_empty()
        });
        if !valid {
            return Err(format!(
                "INVITATIONS_CORS_ORIGINS: {origin:?} is not an origin like https://app.example.com"
            ));
        }
    }
    Ok(origins)
}

/// `90d`, `12h`, `30m`, `45s` or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 90d, 12h, 30m or 45s"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3_600,
        "d" => n * 86_400,
        _ => {
            return Err(format!(
                "{text:?} is not a duration like 90d, 12h, 30m or 45s"
            ));
        }
    };
    if seconds == 0 {
        return Err("a duration must be positive".into());
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_follow_the_documented_forms() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://invitations.db").unwrap(),
            DatabaseUrl::Sqlite("invitations.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///abs/path.db").unwrap(),
            DatabaseUrl::Sqlite("/abs/path.db".into())
        );
        assert!(
            DatabaseUrl::parse("postgres://root@127.0.0.1/db")
                .unwrap()
                .is_postgres()
        );
        assert!(DatabaseUrl::parse("mysql://x").is_err());
    }

    #[test]
    fn cors_origins_are_whole_origins_or_a_lone_star() {
        assert_eq!(parse_cors_origins("").unwrap(), Vec::<String>::new());
        assert_eq!(
            parse_cors_origins("https://a.example, http://localhost:5173/").unwrap(),
            ["https://a.example", "http://localhost:5173"]
        );
        assert_eq!(parse_cors_origins("*").unwrap(), ["*"]);
        assert!(parse_cors_origins("*,https://a.example").is_err());
        assert!(parse_cors_origins("app.example.com").is_err());
        assert!(parse_cors_origins("https://a.example/path").is_err());
    }

    #[test]
    fn durations_accept_day_hour_minute_second_suffixes() {
        assert_eq!(
            parse_duration("90d").unwrap(),
            Duration::from_secs(90 * 86_400)
        );
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7_200));
        assert_eq!(parse_duration("15").unwrap(), Duration::from_secs(15));
        assert!(parse_duration("1y").is_err());
        assert!(parse_duration("0d").is_err());
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(config.bind, "127.0.0.1:8080");
        assert_eq!(
            config.database_url,
            DatabaseUrl::Sqlite("invitations.db".into())
        );
        assert_eq!(config.invitation_expiry_days, 7);
        assert_eq!(config.product_name, "Clio");
    }
}
