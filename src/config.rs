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

/// Where the data lives. Its `Debug` (and `redacted`) never show a password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Postgres(url) => {
                f.debug_tuple("Postgres").field(&redact_url(url)).finish()
            }
            DatabaseUrl::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
        }
    }
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
            redact_url(raw)
        ))
    }

    /// The URL as it may be shown: any password replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Postgres(url) => redact_url(url),
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        }
    }

    /// `message` (e.g. a driver's error) with every occurrence of this URL's
    /// password replaced by `***`, in case the driver ever echoes it.
    pub fn scrub(&self, message: &str) -> String {
        let DatabaseUrl::Postgres(url) = self else {
            return message.to_owned();
        };
        let mut scrubbed = message.to_owned();
        for password in url_passwords(url) {
            if !password.is_empty() {
                scrubbed = scrubbed.replace(&password, "***");
            }
        }
        scrubbed
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, DatabaseUrl::Postgres(_))
    }
}

/// Splits `scheme://userinfo@rest` (the userinfo ends at the last `@` before
/// any `?` or `#`, so a password holding `@` or `/` is still found).
fn split_userinfo(url: &str) -> Option<(&str, &str, &str)> {
    let scheme_end = url.find("://")? + 3;
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['?', '#']).unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    Some((&url[..scheme_end], &rest[..at], &rest[at + 1..]))
}

/// The password of a URL: in its userinfo and/or as a `password=` query
/// parameter, each as written and percent-decoded.
fn url_passwords(url: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Some((_, userinfo, _)) = split_userinfo(url)
        && let Some((_, password)) = userinfo.split_once(':')
    {
        found.push(password.to_owned());
    }
    if let Some((_, query)) = url.split_once('?') {
        for pair in query.split('&') {
            if let Some(value) = pair.strip_prefix("password=") {
                found.push(value.to_owned());
            }
        }
    }
    let decoded: Vec<String> = found.iter().map(|p| percent_decode(p)).collect();
    found.extend(decoded);
    found.sort_by_key(|p| std::cmp::Reverse(p.len()));
    found.dedup();
    found
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: &u8| char::from(*b).to_digit(16);
        let escaped = match (
            bytes[i],
            bytes.get(i + 1).and_then(hex),
            bytes.get(i + 2).and_then(hex),
        ) {
            // Two hex digits: at most 255, so the conversion cannot fail.
            (b'%', Some(h), Some(l)) => u8::try_from(h * 16 + l).ok(),
            _ => None,
        };
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `postgres://user:secret@host/db?password=x` → `postgres://user:***@host/db?password=***`.
pub fn redact_url(url: &str) -> String {
    let mut shown = match split_userinfo(url) {
        Some((scheme, userinfo, rest)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}{user}:***@{rest}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    };
    if let Some((base, query)) = shown.clone().split_once('?') {
        let query: Vec<String> = query
            .split('&')
            .map(|pair| {
                if pair.starts_with("password=") {
                    "password=***".to_owned()
                } else {
                    pair.to_owned()
                }
            })
            .collect();
        shown = format!("{base}?{}", query.join("&"));
    }
    shown
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Where emails go: `INVITATIONS_MAIL_PROVIDER`, with what that provider needs.
#[derive(Debug, Clone)]
pub enum MailService {
    /// `.eml` files in `INVITATIONS_MAIL_DIR`.
    Log,
    Postmark {
        api_key: Secret,
    },
    SendGrid {
        api_key: Secret,
    },
    Mailgun {
        api_key: Secret,
        domain: String,
    },
    Resend {
        api_key: Secret,
    },
    /// Amazon SES (API v2), requests signed with AWS Signature V4.
    Ses {
        region: String,
        credentials: AwsCredentials,
    },
    Smtp(SmtpSettings),
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
#[derive(Debug, Clone)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

/// How an SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// `smtp://`: plain connection upgraded with STARTTLS, which is required.
    StartTls,
    /// `smtps://`: TLS from the first byte.
    Implicit,
    /// `smtp://…?tls=none`: no TLS at all (local development relays only).
    None,
}

/// `INVITATIONS_SMTP_URL`, parsed.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub user: Option<String>,
    pub password: Option<Secret>,
}

impl SmtpSettings {
    /// `smtp://user:pass@host:587` (STARTTLS required), `smtps://user:pass@host:465`
    /// (implicit TLS) or `smtp://host:port?tls=none` (no TLS).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("INVITATIONS_SMTP_URL {}: {why}", redact_url(raw));
        let url = reqwest::Url::parse(raw.trim()).map_err(|e| bad(&e.to_string()))?;
        let mut tls = match url.scheme() {
            "smtp" => SmtpTls::StartTls,
            "smtps" => SmtpTls::Implicit,
            _ => return Err(bad("must start with smtp:// or smtps://")),
        };
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("tls", "none") if tls == SmtpTls::StartTls => tls = SmtpTls::None,
                ("tls", "none") => {
                    return Err(bad("smtps:// always uses TLS; tls=none is for smtp://"));
                }
                _ => {
                    return Err(bad(&format!(
                        "unknown parameter {key}; only tls=none is known"
                    )));
                }
            }
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("needs a host"))?
            .trim_matches(['[', ']'])
            .to_owned();
        let port = url.port().unwrap_or(match tls {
            SmtpTls::Implicit => 465,
            SmtpTls::StartTls | SmtpTls::None => 587,
        });
        let user = (!url.username().is_empty()).then(|| percent_decode(url.username()));
        let password = url.password().map(|p| Secret::new(percent_decode(p)));
        Ok(SmtpSettings {
            host,
            port,
            tls,
            user,
            password,
        })
    }
}

/// What a mail provider needs, as read from the environment.
struct MailSettings {
    api_key: Option<Secret>,
    mailgun_domain: Option<String>,
    ses_region: Option<String>,
    aws_access_key_id: Option<String>,
    aws_secret_access_key: Option<Secret>,
    aws_session_token: Option<Secret>,
    smtp_url: Option<String>,
}

impl MailService {
    fn parse(name: &str, settings: MailSettings) -> Result<Self, String> {
        let MailSettings {
            api_key,
            mailgun_domain,
            ses_region,
            aws_access_key_id,
            aws_secret_access_key,
            aws_session_token,
            smtp_url,
        } = settings;
        let needs = |variable: &str| format!("INVITATIONS_MAIL_PROVIDER={name} needs {variable}");
        let needs_key =
            |api_key: Option<Secret>| api_key.ok_or_else(|| needs("INVITATIONS_MAIL_API_KEY"));
        match name {
            "log" => Ok(MailService::Log),
            "postmark" => Ok(MailService::Postmark {
                api_key: needs_key(api_key)?,
            }),
            "sendgrid" => Ok(MailService::SendGrid {
                api_key: needs_key(api_key)?,
            }),
            "mailgun" => Ok(MailService::Mailgun {
                api_key: needs_key(api_key)?,
                domain: mailgun_domain.ok_or_else(|| needs("INVITATIONS_MAILGUN_DOMAIN"))?,
            }),
            "resend" => Ok(MailService::Resend {
                api_key: needs_key(api_key)?,
            }),
            "ses" => {
                let region = ses_region.ok_or_else(|| needs("INVITATIONS_SES_REGION"))?;
                let region = region.trim().to_owned();
                if !region
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                {
                    return Err(format!(
                        "INVITATIONS_SES_REGION {region:?} is not a region like eu-west-1"
                    ));
                }
                Ok(MailService::Ses {
                    region,
                    credentials: AwsCredentials {
                        access_key_id: aws_access_key_id
                            .ok_or_else(|| needs("AWS_ACCESS_KEY_ID"))?,
                        secret_access_key: aws_secret_access_key
                            .ok_or_else(|| needs("AWS_SECRET_ACCESS_KEY"))?,
                        session_token: aws_session_token,
                    },
                })
            }
            "smtp" => Ok(MailService::Smtp(SmtpSettings::parse(
                &smtp_url.ok_or_else(|| needs("INVITATIONS_SMTP_URL"))?,
            )?)),
            other => Err(format!(
                "INVITATIONS_MAIL_PROVIDER={other} is not supported (log, postmark, sendgrid, mailgun, resend, ses, smtp)"
            )),
        }
    }

    /// The provider's name, as in `INVITATIONS_MAIL_PROVIDER` (and metrics).
    pub fn name(&self) -> &'static str {
        match self {
            MailService::Log => "log",
            MailService::Postmark { .. } => "postmark",
            MailService::SendGrid { .. } => "sendgrid",
            MailService::Mailgun { .. } => "mailgun",
            MailService::Resend { .. } => "resend",
            MailService::Ses { .. } => "ses",
            MailService::Smtp(_) => "smtp",
        }
    }
}

/// The secrets and keys that authenticate each provider's delivery events
/// (`POST /mail-events/{provider}`); a provider without its key has every
/// event refused.
#[derive(Debug, Clone, Default)]
pub struct MailEventKeys {
    /// Postmark: the password of the webhook's HTTP basic auth.
    pub postmark_secret: Option<Secret>,
    /// Mailgun: the HTTP webhook signing key.
    pub mailgun_signing_key: Option<Secret>,
    /// SendGrid: the signed event webhook's public key (base64 DER or PEM).
    pub sendgrid_public_key: Option<String>,
    /// Resend: the Svix signing secret (`whsec_…`).
    pub resend_secret: Option<Secret>,
    /// SES: the SNS topics whose (signed) messages are taken; none: all refused.
    pub ses_topic_arns: Option<Vec<String>>,
    /// Testing only: where SNS signing certificates and subscription
    /// confirmations are fetched from instead of the SNS host (the URLs in
    /// messages must still name an SNS host; only their path and query are kept).
    pub sns_cert_base: Option<String>,
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
    /// Empty until `resolve_urls` when `INVITATIONS_APP_URL` is unset.
    pub app_url: String,
    /// Where the accept page sends a new member to sign in (default: `app_url`).
    pub login_url: String,
    pub mail_provider: MailService,
    /// What authenticates delivery events, per provider.
    pub mail_event_keys: MailEventKeys,
    /// Base URL of the provider's API (its public endpoint by default; tests point it elsewhere).
    pub mail_api_base: Option<String>,
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
    pub token_requests_per_minute: std::num::NonZeroU32,
    /// How long delivered, failed or cancelled emails and webhook deliveries are kept.
    pub retention_days: i64,
    /// On SIGTERM: how long in-flight requests and the current delivery batch may take.
    pub shutdown_timeout: Duration,
    /// Lets webhooks reach loopback and private networks (development only).
    pub webhook_allow_private_networks: bool,
    /// Peers whose `X-Forwarded-For` is believed (reverse proxies, load balancers).
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// `INVITATIONS_JWT_SECRET` must have at least this many bytes (HS256 keys
/// shorter than the hash output are guessable offline from any one token).
pub const MIN_JWT_SECRET_BYTES: usize = 32;
/// The longest lifetime of any token the service issues (`token --ttl` etc.).
pub const MAX_TOKEN_TTL: Duration = Duration::from_secs(366 * 86_400);
/// The longest duration any setting accepts, so arithmetic on it cannot overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(3_650 * 86_400);
/// Retention must cover the resend rate limit's 24-hour window (it reads the
/// outbox's send history), hence at least one day.
pub const MIN_RETENTION_DAYS: i64 = 1;
pub const MAX_RETENTION_DAYS: i64 = 3_650;

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
        None,
        "database connections per process; unset: 10 on PostgreSQL, 4 on SQLite",
    ),
    ("INVITATIONS_HTTP_WORKERS", Some("2"), "HTTP worker threads"),
    (
        "INVITATIONS_JWT_SECRET",
        None,
        "HS256 secret, at least 32 bytes; unset: a random secret generated once and kept in the database",
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
        None,
        "base of the accept link: {APP_URL}/invitations/accept?token=…; unset: the address the service listens on",
    ),
    (
        "INVITATIONS_LOGIN_URL",
        None,
        "where the accept page sends a new member to sign in; unset: INVITATIONS_APP_URL",
    ),
    (
        "INVITATIONS_MAIL_PROVIDER",
        Some("log"),
        "log (write each message as an .eml file), postmark, sendgrid, mailgun, resend, ses or smtp",
    ),
    (
        "INVITATIONS_MAIL_API_KEY",
        None,
        "the provider's API key / server token (required with an API provider)",
    ),
    (
        "INVITATIONS_MAIL_API_BASE",
        None,
        "base URL of the provider's API; unset: the provider's public API",
    ),
    (
        "INVITATIONS_MAILGUN_DOMAIN",
        None,
        "sending domain (required with mailgun)",
    ),
    (
        "INVITATIONS_SES_REGION",
        None,
        "AWS region of SES, e.g. eu-west-1 (required with ses)",
    ),
    (
        "AWS_ACCESS_KEY_ID",
        None,
        "access key id that signs SES requests (required with ses)",
    ),
    (
        "AWS_SECRET_ACCESS_KEY",
        None,
        "secret access key that signs SES requests (required with ses)",
    ),
    (
        "AWS_SESSION_TOKEN",
        None,
        "session token of temporary AWS credentials (optional with ses)",
    ),
    (
        "INVITATIONS_SMTP_URL",
        None,
        "smtp://user:pass@host:587 (STARTTLS required), smtps://user:pass@host:465 (implicit TLS) or smtp://host:port?tls=none (local relays only); required with smtp",
    ),
    (
        "INVITATIONS_MAIL_EVENTS_SECRET",
        None,
        "password of the HTTP basic auth on POST /mail-events/postmark",
    ),
    (
        "INVITATIONS_MAILGUN_WEBHOOK_SIGNING_KEY",
        None,
        "Mailgun's HTTP webhook signing key, checks POST /mail-events/mailgun",
    ),
    (
        "INVITATIONS_SENDGRID_WEBHOOK_PUBLIC_KEY",
        None,
        "SendGrid's signed event webhook verification key (base64), checks POST /mail-events/sendgrid",
    ),
    (
        "INVITATIONS_RESEND_WEBHOOK_SECRET",
        None,
        "Resend's webhook signing secret (whsec_…), checks POST /mail-events/resend",
    ),
    (
        "INVITATIONS_SES_TOPIC_ARN",
        None,
        "ARN(s), comma-separated, of the SNS topic(s) SES publishes events to; POST /mail-events/ses refuses other topics, and everything while unset",
    ),
    (
        "INVITATIONS_SNS_CERT_BASE",
        None,
        "testing only: fetch SNS signing certificates and subscription confirmations from this base (path and query of the SNS URL kept) instead of https://sns.{region}.amazonaws.com",
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
        "invitations created per account per rolling hour (bulk items count one by one); 0 turns the limit off",
    ),
    (
        "INVITATIONS_RATE_RESEND_INTERVAL_SECONDS",
        Some("60"),
        "minimum time between two resends of one invitation (0–86400); the first resend may follow the original send at once",
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
    (
        "INVITATIONS_RETENTION_DAYS",
        Some("30"),
        "days sent, failed or cancelled emails and webhook deliveries are kept (1–3650); audit events are kept",
    ),
    (
        "INVITATIONS_SHUTDOWN_TIMEOUT_SECONDS",
        Some("30"),
        "on SIGTERM/SIGINT, how long in-flight requests and the current delivery batch may take (1–3600)",
    ),
    (
        "INVITATIONS_WEBHOOK_ALLOW_PRIVATE_NETWORKS",
        Some("false"),
        "true lets webhook URLs reach loopback, private, link-local and metadata addresses (development only)",
    ),
    (
        "INVITATIONS_TRUSTED_PROXIES",
        None,
        "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client IP",
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
        let mail_provider = MailService::parse(
            &get("INVITATIONS_MAIL_PROVIDER"),
            MailSettings {
                api_key: optional("INVITATIONS_MAIL_API_KEY").map(Secret::new),
                mailgun_domain: optional("INVITATIONS_MAILGUN_DOMAIN"),
                ses_region: optional("INVITATIONS_SES_REGION"),
                aws_access_key_id: optional("AWS_ACCESS_KEY_ID"),
                aws_secret_access_key: optional("AWS_SECRET_ACCESS_KEY").map(Secret::new),
                aws_session_token: optional("AWS_SESSION_TOKEN").map(Secret::new),
                smtp_url: optional("INVITATIONS_SMTP_URL"),
            },
        )?;
        let mail_event_keys = MailEventKeys {
            postmark_secret: optional("INVITATIONS_MAIL_EVENTS_SECRET").map(Secret::new),
            mailgun_signing_key: optional("INVITATIONS_MAILGUN_WEBHOOK_SIGNING_KEY")
                .map(Secret::new),
            sendgrid_public_key: optional("INVITATIONS_SENDGRID_WEBHOOK_PUBLIC_KEY"),
            resend_secret: optional("INVITATIONS_RESEND_WEBHOOK_SECRET").map(Secret::new),
            ses_topic_arns: optional("INVITATIONS_SES_TOPIC_ARN").map(|arns| {
                arns.split(',')
                    .map(|arn| arn.trim().to_owned())
                    .filter(|arn| !arn.is_empty())
                    .collect()
            }),
            sns_cert_base: optional("INVITATIONS_SNS_CERT_BASE"),
        };
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

        let flag = |name: &str| -> Result<bool, String> {
            match get(name).trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" | "" => Ok(false),
                _ => Err(format!("{name} must be true or false")),
            }
        };

        let database_url = DatabaseUrl::parse(&get("DATABASE_URL"))?;
        // SQLite writes one transaction at a time, and every connection keeps
        // a page cache and prepared statements of its own: 4 connections
        // serve 2 cores as fast as 10 and keep peak RSS under 40 MiB while
        // passwords are being checked (bench/run).
        let db_pool_size = match (optional("INVITATIONS_DB_POOL_SIZE"), &database_url) {
            (Some(_), _) => u32::try_from(positive("INVITATIONS_DB_POOL_SIZE")?)
                .map_err(|_| "INVITATIONS_DB_POOL_SIZE is too large".to_owned())?,
            (None, DatabaseUrl::Postgres(_)) => 10,
            (None, DatabaseUrl::Sqlite(_)) => 4,
        };
        Ok(Config {
            bind: get("INVITATIONS_BIND"),
            database_url,
            db_pool_size,
            http_workers: usize::try_from(positive("INVITATIONS_HTTP_WORKERS")?)
                .map_err(|_| "INVITATIONS_HTTP_WORKERS is too large".to_owned())?,
            jwt_secret: jwt_secret(optional("INVITATIONS_JWT_SECRET"))?,
            jwt_public_key: optional("INVITATIONS_JWT_PUBLIC_KEY"),
            jwt_issuer: get("INVITATIONS_JWT_ISSUER"),
            jwt_audience: get("INVITATIONS_JWT_AUDIENCE"),
            access_token_ttl: parse_token_ttl(&get("INVITATIONS_ACCESS_TOKEN_TTL"))
                .map_err(|e| format!("INVITATIONS_ACCESS_TOKEN_TTL: {e}"))?,
            invitation_expiry_days,
            product_name: get("INVITATIONS_PRODUCT_NAME"),
            app_url: optional("INVITATIONS_APP_URL")
                .map(|url| http_url("INVITATIONS_APP_URL", &url))
                .transpose()?
                .unwrap_or_default(),
            login_url: optional("INVITATIONS_LOGIN_URL")
                .map(|url| http_url("INVITATIONS_LOGIN_URL", &url))
                .transpose()?
                .unwrap_or_default(),
            mail_provider,
            mail_event_keys,
            mail_api_base: optional("INVITATIONS_MAIL_API_BASE")
                .map(|b| b.trim_end_matches('/').to_owned()),
            mail_dir: PathBuf::from(get("INVITATIONS_MAIL_DIR")),
            mail_from: get("INVITATIONS_MAIL_FROM"),
            mail_max_attempts: i32::try_from(positive("INVITATIONS_MAIL_MAX_ATTEMPTS")?)
                .map_err(|_| "INVITATIONS_MAIL_MAX_ATTEMPTS is too large".to_owned())?,
            worker_poll_interval: Duration::from_millis(
                positive("INVITATIONS_WORKER_POLL_MS")?.unsigned_abs(),
            ),
            sweep_interval: Duration::from_secs(
                positive("INVITATIONS_SWEEP_INTERVAL_SECONDS")?.unsigned_abs(),
            ),
            log_format,
            cors_origins: parse_cors_origins(&get("INVITATIONS_CORS_ORIGINS"))?,
            invitations_per_hour: u32::try_from(number("INVITATIONS_RATE_INVITATIONS_PER_HOUR")?)
                .map_err(|_| {
                "INVITATIONS_RATE_INVITATIONS_PER_HOUR must be between 0 (no limit) and 4294967295"
                    .to_owned()
            })?,
            // At most a day (the resend window): longer could overflow date arithmetic.
            resend_interval: Duration::from_secs(
                within(
                    "INVITATIONS_RATE_RESEND_INTERVAL_SECONDS",
                    number("INVITATIONS_RATE_RESEND_INTERVAL_SECONDS")?.max(0),
                    0,
                    86_400,
                )?
                .unsigned_abs(),
            ),
            resends_per_day: u32::try_from(positive("INVITATIONS_RATE_RESENDS_PER_DAY")?)
                .map_err(|_| "INVITATIONS_RATE_RESENDS_PER_DAY is too large".to_owned())?,
            token_requests_per_minute: u32::try_from(positive(
                "INVITATIONS_RATE_TOKEN_REQUESTS_PER_MINUTE",
            )?)
            .ok()
            .and_then(std::num::NonZeroU32::new)
            .ok_or_else(|| "INVITATIONS_RATE_TOKEN_REQUESTS_PER_MINUTE is too large".to_owned())?,
            retention_days: within(
                "INVITATIONS_RETENTION_DAYS",
                number("INVITATIONS_RETENTION_DAYS")?,
                MIN_RETENTION_DAYS,
                MAX_RETENTION_DAYS,
            )?,
            shutdown_timeout: Duration::from_secs(
                within(
                    "INVITATIONS_SHUTDOWN_TIMEOUT_SECONDS",
                    number("INVITATIONS_SHUTDOWN_TIMEOUT_SECONDS")?,
                    1,
                    3_600,
                )?
                .unsigned_abs(),
            ),
            webhook_allow_private_networks: flag("INVITATIONS_WEBHOOK_ALLOW_PRIVATE_NETWORKS")?,
            trusted_proxies: crate::domain::network::parse_cidrs(&get(
                "INVITATIONS_TRUSTED_PROXIES",
            ))
            .map_err(|e| format!("INVITATIONS_TRUSTED_PROXIES: {e}"))?,
        })
    }
}

impl Config {
    /// Fills what defaults to the service's own address once it is known
    /// (after binding, so `INVITATIONS_BIND=…:0` gets the real port).
    pub fn resolve_urls(&mut self, listening_at: &str) {
        if self.app_url.is_empty() {
            listening_at
                .trim_end_matches('/')
                .clone_into(&mut self.app_url);
        }
        if self.login_url.is_empty() {
            self.login_url.clone_from(&self.app_url);
        }
    }
}

/// An absolute `http(s)` address with a host (emails and the accept page make
/// links of it), without a trailing slash.
fn http_url(name: &str, url: &str) -> Result<String, String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty() && !rest.starts_with('/') && !url.contains(char::is_whitespace) =>
        {
            Ok(url.trim_end_matches('/').to_owned())
        }
        _ => Err(format!(
            "{name} must be an absolute http:// or https:// address (got {url:?})"
        )),
    }
}

fn within(name: &str, value: i64, min: i64, max: i64) -> Result<i64, String> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{name} must be between {min} and {max}"))
    }
}

fn jwt_secret(value: Option<String>) -> Result<Option<Secret>, String> {
    match value {
        Some(secret) if secret.len() < MIN_JWT_SECRET_BYTES => Err(format!(
            "INVITATIONS_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes long (it has {}); \
             generate one with e.g. `openssl rand -base64 48`",
            secret.len()
        )),
        other => Ok(other.map(Secret::new)),
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

/// `90d`, `12h`, `30m`, `45s` or plain seconds; at most ten years (`MAX_DURATION`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    parse_duration_up_to(text, MAX_DURATION)
}

/// A token lifetime: a duration of at most 366 days (`MAX_TOKEN_TTL`).
pub fn parse_token_ttl(text: &str) -> Result<Duration, String> {
    parse_duration_up_to(text, MAX_TOKEN_TTL)
}

fn parse_duration_up_to(text: &str, max: Duration) -> Result<Duration, String> {
    let text = text.trim();
    let shape = || format!("{text:?} is not a duration like 90d, 12h, 30m or 45s");
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let unit_seconds: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(shape()),
    };
    if number.is_empty() {
        return Err(shape());
    }
    let too_long = || {
        format!(
            "{text:?} is too long: at most {} days",
            max.as_secs() / 86_400
        )
    };
    // All digits: a parse failure can only mean more than u64 holds.
    let n: u64 = number.parse().map_err(|_| too_long())?;
    let seconds = n.checked_mul(unit_seconds).ok_or_else(too_long)?;
    if seconds == 0 {
        return Err("a duration must be positive".into());
    }
    if seconds > max.as_secs() {
        return Err(too_long());
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
        assert!(parse_duration("d").is_err());
        assert!(parse_duration("-5d").is_err());
    }

    #[test]
    fn durations_never_overflow() {
        for text in [
            "99999999999d",
            "18446744073709551615d",
            "99999999999999999999999999s",
            "213503982334601d",
        ] {
            let error = parse_duration(text).unwrap_err();
            assert!(error.contains("too long"), "{text}: {error}");
        }
        assert!(parse_duration("3650d").is_ok());
        assert!(parse_token_ttl("366d").is_ok());
        assert!(parse_token_ttl("367d").is_err());
        assert!(parse_token_ttl("8785h").is_err());
    }

    #[test]
    fn durations_in_seconds_are_bounded_so_date_arithmetic_cannot_overflow() {
        let with = |name: &'static str, value: &'static str| {
            Config::from_lookup(move |n| (n == name).then(|| value.to_owned()))
        };
        let error = with(
            "INVITATIONS_RATE_RESEND_INTERVAL_SECONDS",
            "1000000000000000",
        )
        .unwrap_err();
        assert!(
            error.contains("INVITATIONS_RATE_RESEND_INTERVAL_SECONDS"),
            "{error}"
        );
        assert!(with("INVITATIONS_RATE_RESEND_INTERVAL_SECONDS", "86400").is_ok());
        assert!(with("INVITATIONS_SHUTDOWN_TIMEOUT_SECONDS", "0").is_err());
        assert!(
            with(
                "INVITATIONS_SHUTDOWN_TIMEOUT_SECONDS",
                "99999999999999999999"
            )
            .is_err()
        );
        assert!(with("INVITATIONS_ACCESS_TOKEN_TTL", "367d").is_err());
    }

    #[test]
    fn short_jwt_secrets_are_refused_naming_the_variable() {
        let with = |secret: &str| {
            let secret = secret.to_owned();
            Config::from_lookup(move |name| {
                (name == "INVITATIONS_JWT_SECRET").then(|| secret.clone())
            })
        };
        let error = with("31 bytes are not quite enough!!").unwrap_err();
        assert!(error.contains("INVITATIONS_JWT_SECRET"), "{error}");
        assert!(
            !error.contains("enough!!"),
            "the secret is not echoed: {error}"
        );
        assert!(with("32 bytes are exactly enough!!!!!").is_ok());
    }

    #[test]
    fn passwords_are_redacted_from_database_urls() {
        assert_eq!(
            redact_url("postgres://root:s3cret@db.example:5432/app?sslmode=require"),
            "postgres://root:***@db.example:5432/app?sslmode=require"
        );
        assert_eq!(
            redact_url("postgresql://u:p@ss/w@rd@host/db"),
            "postgresql://u:***@host/db"
        );
        assert_eq!(
            redact_url("postgres://u@host/db?password=s3cret&x=1"),
            "postgres://u@host/db?password=***&x=1"
        );
        assert_eq!(redact_url("postgres://host/db"), "postgres://host/db");
        let url = DatabaseUrl::parse("postgres://root:s%40cret@host/db").unwrap();
        assert_eq!(url.scrub("failed: s@cret / s%40cret"), "failed: *** / ***");
        assert!(!format!("{url:?}").contains("cret"));
        let error = DatabaseUrl::parse("mysql://root:s3cret@host/db").unwrap_err();
        assert!(!error.contains("s3cret"), "{error}");
    }

    #[test]
    fn the_pool_size_defaults_by_database_and_the_variable_wins() {
        let with = |vars: &'static [(&'static str, &'static str)]| {
            Config::from_lookup(move |name| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            })
            .unwrap()
            .db_pool_size
        };
        assert_eq!(with(&[]), 4);
        assert_eq!(with(&[("DATABASE_URL", "postgres://u@h:5432/d")]), 10);
        assert_eq!(with(&[("INVITATIONS_DB_POOL_SIZE", "7")]), 7);
        assert_eq!(
            with(&[
                ("DATABASE_URL", "postgres://u@h:5432/d"),
                ("INVITATIONS_DB_POOL_SIZE", "3")
            ]),
            3
        );
        assert!(
            Config::from_lookup(|n| (n == "INVITATIONS_DB_POOL_SIZE").then(|| "0".to_owned()))
                .is_err()
        );
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
        assert_eq!(config.app_url, "", "resolved once the service listens");
        let mut config = config;
        config.resolve_urls("http://127.0.0.1:40123");
        assert_eq!(config.app_url, "http://127.0.0.1:40123");
        assert_eq!(config.login_url, "http://127.0.0.1:40123");
        assert!(!config.webhook_allow_private_networks);
        assert!(config.trusted_proxies.is_empty());
    }

    #[test]
    fn bad_security_settings_stop_the_start_naming_the_variable() {
        let with = |name: &'static str, value: &'static str| {
            Config::from_lookup(move |n| (n == name).then(|| value.to_owned()))
        };
        let error = with("INVITATIONS_LOGIN_URL", "javascript:alert(1)").unwrap_err();
        assert!(error.contains("INVITATIONS_LOGIN_URL"), "{error}");
        for relative in [
            "/app",
            "app.example.com",
            "ftp://app.example.com",
            "https://",
        ] {
            let error = with("INVITATIONS_APP_URL", relative).unwrap_err();
            assert!(error.contains("INVITATIONS_APP_URL"), "{relative}: {error}");
        }
        let app = with("INVITATIONS_APP_URL", "https://app.example.com/").unwrap();
        assert_eq!(app.app_url, "https://app.example.com");
        let login = with("INVITATIONS_LOGIN_URL", "https://app.example.com/login").unwrap();
        assert_eq!(login.login_url, "https://app.example.com/login");
        let error = with("INVITATIONS_TRUSTED_PROXIES", "10.0.0.0/8, 300.1.1.1").unwrap_err();
        assert!(error.contains("INVITATIONS_TRUSTED_PROXIES"), "{error}");
        let error = with("INVITATIONS_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "maybe").unwrap_err();
        assert!(
            error.contains("INVITATIONS_WEBHOOK_ALLOW_PRIVATE_NETWORKS"),
            "{error}"
        );
        let config = with("INVITATIONS_TRUSTED_PROXIES", "10.0.0.0/8,::1").unwrap();
        assert_eq!(config.trusted_proxies.len(), 2);
        assert!(
            with("INVITATIONS_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")
                .unwrap()
                .webhook_allow_private_networks
        );
    }
}
