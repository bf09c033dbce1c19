//! Mail providers. `log` (the default) writes each message as an RFC 5322
//! `.eml` file so a developer can open it; `postmark`, `sendgrid`, `mailgun`,
//! `resend` and `ses` send through their HTTP APIs, `smtp` through an SMTP
//! server. A send answers the provider's id of the message, which its
//! delivery events name.

use std::path::{Path, PathBuf};

use mail_builder::MessageBuilder;
use mail_builder::mime::MimePart;

use crate::config::{Config, MailService, Secret};
pub use crate::mail::message::{OutgoingEmail, mailbox};

#[derive(Debug, Clone)]
pub enum MailProvider {
    Log(LogProvider),
    Api(ApiProvider),
    Smtp(crate::mail::smtp::SmtpProvider),
}

/// The key a provider that de-duplicates is given: one per outbox row, so a
/// retry after a lost answer is the same message, not a second one.
pub fn idempotency_key(outbox_id: i64) -> String {
    format!("invitations-outbox-{outbox_id}")
}

impl MailProvider {
    /// Fails only if the HTTP client for an API provider cannot be built.
    pub fn from_config(config: &Config) -> Result<Self, String> {
        let (kind, key) = match &config.mail_provider {
            MailService::Log => {
                return Ok(MailProvider::Log(LogProvider {
                    dir: config.mail_dir.clone(),
                    database_tag: database_tag(&config.database_url.redacted()),
                }));
            }
            MailService::Postmark { api_key } => (ApiKind::Postmark, api_key),
            MailService::SendGrid { api_key } => (ApiKind::SendGrid, api_key),
            MailService::Mailgun { api_key, domain } => (
                ApiKind::Mailgun {
                    domain: domain.clone(),
                },
                api_key,
            ),
            MailService::Resend { api_key } => (ApiKind::Resend, api_key),
            MailService::Ses {
                region,
                credentials,
            } => {
                let base = config
                    .mail_api_base
                    .clone()
                    .unwrap_or_else(|| format!("https://email.{region}.amazonaws.com"));
                return Ok(MailProvider::Api(ApiProvider {
                    kind: ApiKind::Ses {
                        region: region.clone(),
                        credentials: credentials.clone(),
                    },
                    base,
                    key: Secret::new(""),
                    client: crate::outbound::http_client()?,
                }));
            }
            MailService::Smtp(settings) => {
                return Ok(MailProvider::Smtp(crate::mail::smtp::SmtpProvider::new(
                    settings,
                )?));
            }
        };
        let base = config
            .mail_api_base
            .clone()
            .unwrap_or_else(|| kind.public_base().to_owned());
        Ok(MailProvider::Api(ApiProvider {
            kind,
            base,
            key: key.clone(),
            client: crate::outbound::http_client()?,
        }))
    }

    /// Sends one message; answers the provider's id for it (when the
    /// provider gives one). The log provider is idempotent per outbox id (a
    /// retry rewrites the same file); the others get the outbox id as an
    /// idempotency key, Message-ID or custom argument (see the README).
    pub async fn send(&self, email: &OutgoingEmail) -> Result<Option<String>, String> {
        match self {
            MailProvider::Log(provider) => provider.write(email).await.map(|()| None),
            MailProvider::Api(provider) => provider.send(email).await,
            MailProvider::Smtp(provider) => provider.send(email).await.map(Some),
        }
    }

    /// The provider's name, for metrics and logs.
    pub fn name(&self) -> &'static str {
        match self {
            MailProvider::Log(_) => "log",
            MailProvider::Api(api) => api.kind.name(),
            MailProvider::Smtp(_) => "smtp",
        }
    }
}

#[derive(Debug, Clone)]
pub enum ApiKind {
    Postmark,
    SendGrid,
    Mailgun {
        domain: String,
    },
    Resend,
    Ses {
        region: String,
        credentials: crate::config::AwsCredentials,
    },
}

impl ApiKind {
    fn public_base(&self) -> &'static str {
        match self {
            ApiKind::Postmark => "https://api.postmarkapp.com",
            ApiKind::SendGrid => "https://api.sendgrid.com",
            ApiKind::Mailgun { .. } => "https://api.mailgun.net",
            ApiKind::Resend => "https://api.resend.com",
            // Built from the region in `from_config`.
            ApiKind::Ses { .. } => "",
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            ApiKind::Postmark => "postmark",
            ApiKind::SendGrid => "sendgrid",
            ApiKind::Mailgun { .. } => "mailgun",
            ApiKind::Resend => "resend",
            ApiKind::Ses { .. } => "ses",
        }
    }
}

/// An HTTP mail API.
#[derive(Debug, Clone)]
pub struct ApiProvider {
    kind: ApiKind,
    base: String,
    key: Secret,
    client: reqwest::Client,
}

impl ApiProvider {
    async fn send(&self, email: &OutgoingEmail) -> Result<Option<String>, String> {
        let (from_name, from_address) = mailbox(&email.from);
        let message_id = format!("<invitation-{}@invitations.localhost>", email.outbox_id);
        let key = idempotency_key(email.outbox_id);
        let request = match &self.kind {
            ApiKind::Postmark => self
                .client
                .post(format!("{}/email", self.base))
                .header("X-Postmark-Server-Token", self.key.expose())
                .header("Accept", "application/json")
                .json(&serde_json::json!({
                    "From": email.from,
                    "To": email.to,
                    "Subject": email.subject,
                    "TextBody": email.text,
                    "HtmlBody": email.html,
                    "MessageStream": "outbound",
                    "Headers": [{"Name": "Message-ID", "Value": message_id}],
                })),
            ApiKind::SendGrid => self
                .client
                .post(format!("{}/v3/mail/send", self.base))
                .bearer_auth(self.key.expose())
                .json(&serde_json::json!({
                    "personalizations": [{"to": [{"email": email.to}]}],
                    "from": if from_name.is_empty() {
                        serde_json::json!({"email": from_address})
                    } else {
                        serde_json::json!({"email": from_address, "name": from_name})
                    },
                    "subject": email.subject,
                    "content": [
                        {"type": "text/plain", "value": email.text},
                        {"type": "text/html", "value": email.html},
                    ],
                    "custom_args": {"outbox_id": email.outbox_id.to_string()},
                })),
            ApiKind::Mailgun { domain } => self
                .client
                .post(format!("{}/v3/{domain}/messages", self.base))
                .basic_auth("api", Some(self.key.expose()))
                .form(&[
                    ("from", email.from.as_str()),
                    ("to", email.to.as_str()),
                    ("subject", email.subject.as_str()),
                    ("text", email.text.as_str()),
                    ("html", email.html.as_str()),
                    ("h:Message-Id", message_id.as_str()),
                    ("v:outbox_id", key.as_str()),
                ]),
            ApiKind::Resend => self
                .client
                .post(format!("{}/emails", self.base))
                .bearer_auth(self.key.expose())
                .header("Idempotency-Key", key.as_str())
                .json(&serde_json::json!({
                    "from": email.from,
                    "to": [email.to],
                    "subject": email.subject,
                    "text": email.text,
                    "html": email.html,
                    "headers": {"X-Invitations-Outbox-Id": key},
                })),
            ApiKind::Ses {
                region,
                credentials,
            } => {
                let body = serde_json::json!({
                    "FromEmailAddress": email.from,
                    "Destination": {"ToAddresses": [email.to]},
                    "Content": {"Simple": {
                        "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                        "Body": {
                            "Text": {"Data": email.text, "Charset": "UTF-8"},
                            "Html": {"Data": email.html, "Charset": "UTF-8"},
                        },
                    }},
                    "EmailTags": [{"Name": "outbox", "Value": key}],
                });
                let body = serde_json::to_vec(&body)
                    .map_err(|e| format!("cannot encode the message: {e}"))?;
                let url = format!("{}/v2/email/outbound-emails", self.base);
                let headers = crate::mail::ses::sign(
                    &url,
                    &body,
                    region,
                    credentials,
                    std::time::SystemTime::now(),
                )?;
                let mut request = self.client.post(url).body(body);
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                request
            }
        };
        let response = request
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status();
        if status.is_success() {
            let id = self.message_id_of(response).await;
            tracing::info!(
                outbox_id = email.outbox_id,
                provider = self.kind.name(),
                provider_message_id = id.as_deref().unwrap_or(""),
                "email handed to the provider"
            );
            Ok(id)
        } else {
            // The provider's answer may explain (bad key, suppressed address); it never holds the token.
            let body: String = response
                .text()
                .await
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect();
            Err(format!("provider answered {status}: {body}"))
        }
    }
}

impl ApiProvider {
    /// The provider's id of the message it took: SendGrid's `X-Message-Id`
    /// header, the others' JSON answer (`MessageID`, `id`, `MessageId`).
    /// `None` if the answer does not say (the send still counts).
    async fn message_id_of(&self, response: reqwest::Response) -> Option<String> {
        if let ApiKind::SendGrid = self.kind {
            return response
                .headers()
                .get("x-message-id")
                .and_then(|v| v.to_str().ok())
                .map(crate::domain::delivery::normalize_message_id)
                .filter(|id| !id.is_empty());
        }
        let field = match self.kind {
            ApiKind::Postmark => "MessageID",
            ApiKind::Ses { .. } => "MessageId",
            _ => "id",
        };
        let body: serde_json::Value = response.json().await.ok()?;
        body.get(field)
            .and_then(serde_json::Value::as_str)
            .map(crate::domain::delivery::normalize_message_id)
            .filter(|id| !id.is_empty())
    }
}

#[derive(Debug, Clone)]
pub struct LogProvider {
    dir: PathBuf,
    /// Tells this database's files from another's in a shared mail folder.
    database_tag: String,
}

/// Six hex digits of the database's address (password redacted).
fn database_tag(database: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(database.as_bytes())
        .iter()
        .take(3)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl LogProvider {
    /// `{queued at}-{database}-{outbox id}.eml`: in time order by name (so the
    /// last file is the latest), never the name of another database's message
    /// nor of one written before a reset, and the same name when a message is
    /// written again after a crash.
    pub fn file_name(&self, email: &OutgoingEmail) -> String {
        format!(
            "{}-{}-{:010}.eml",
            email.queued_at.format("%Y%m%dT%H%M%S%.6fZ"),
            self.database_tag,
            email.outbox_id
        )
    }

    async fn write(&self, email: &OutgoingEmail) -> Result<(), String> {
        let message = build_message(email)?;
        let dir = self.dir.clone();
        let name = self.file_name(email);
        let path = tokio::task::spawn_blocking(move || write_atomically(&dir, &name, &message))
            .await
            .map_err(|e| e.to_string())??;
        tracing::info!(outbox_id = email.outbox_id, path = %path.display(), "email written");
        Ok(())
    }
}

/// RFC 5322's hard limit on a line, without CRLF.
const MAX_LINE: usize = 998;

/// 8bit keeps the accept link (and its token) verbatim in the file, readable
/// with any tool; the builder's own choice (quoted-printable) only when a line is too long for 8bit.
fn text_part<'a>(mime: &'a str, body: &'a str) -> MimePart<'a> {
    let part = MimePart::new(mime, body);
    if body.lines().all(|line| line.len() <= MAX_LINE) {
        part.transfer_encoding("8bit")
    } else {
        part
    }
}

fn build_message(email: &OutgoingEmail) -> Result<Vec<u8>, String> {
    let (from_name, from_address) = mailbox(&email.from);
    MessageBuilder::new()
        .from((from_name.as_str(), from_address.as_str()))
        .to(email.to.as_str())
        .subject(email.subject.as_str())
        .message_id(format!(
            "invitation-{}@invitations.localhost",
            email.outbox_id
        ))
        .body(MimePart::new(
            "multipart/alternative",
            vec![
                text_part("text/plain", &email.text),
                text_part("text/html", &email.html),
            ],
        ))
        .write_to_vec()
        .map_err(|e| format!("cannot build the message: {e}"))
}

fn write_atomically(dir: &Path, name: &str, contents: &[u8]) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create the mail directory: {e}"))?;
    let path = dir.join(name);
    let partial = dir.join(format!(".{name}.partial"));
    std::fs::write(&partial, contents).map_err(|e| format!("cannot write the message: {e}"))?;
    std::fs::rename(&partial, &path).map_err(|e| format!("cannot publish the message: {e}"))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailboxes_split_into_name_and_address() {
        assert_eq!(
            mailbox("Clio <no-reply@x.test>"),
            ("Clio".into(), "no-reply@x.test".into())
        );
        assert_eq!(mailbox("a@x.test"), (String::new(), "a@x.test".into()));
    }

    #[test]
    fn the_token_appears_verbatim_in_the_file() {
        let email = OutgoingEmail {
            outbox_id: 1,
            queued_at: chrono::NaiveDateTime::default(),
            from: "Clio <no-reply@x.test>".into(),
            to: "bob@example.com".into(),
            subject: "You've been invited to Clio".into(),
            text: "Accept: https://app.test/invitations/accept?token=inv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n".into(),
            html: "<p>hi</p>".into(),
        };
        let file = String::from_utf8(build_message(&email).unwrap()).unwrap();
        assert!(
            file.contains("token=inv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            "{file}"
        );
        assert!(file.contains("Subject: You've been invited to Clio"));
        assert!(
            file.contains("From: \"Clio\" <no-reply@x.test>")
                || file.contains("From: Clio <no-reply@x.test>"),
            "{file}"
        );
    }

    #[test]
    fn file_names_sort_by_time_and_differ_between_databases() {
        let at = |text: &str| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap()
        };
        let email = |id, queued_at| OutgoingEmail {
            outbox_id: id,
            queued_at,
            from: String::new(),
            to: String::new(),
            subject: String::new(),
            text: String::new(),
            html: String::new(),
        };
        let provider = |database: &str| LogProvider {
            dir: PathBuf::new(),
            database_tag: database_tag(database),
        };
        let (one, other) = (provider("sqlite://a.db"), provider("sqlite://b.db"));
        let first = email(1, at("2026-12-02 09:00:00.5"));
        assert_ne!(one.file_name(&first), other.file_name(&first));
        assert_eq!(
            one.file_name(&first),
            one.file_name(&first),
            "a rewrite keeps its name"
        );
        // After a reset, id 1 again, but queued later: a new name, sorted last.
        let after_reset = email(1, at("2026-12-02 10:00:00"));
        assert!(one.file_name(&after_reset) > one.file_name(&first));
        assert!(one.file_name(&email(9, at("2026-12-02 09:00:01"))) > one.file_name(&first));
    }
}
