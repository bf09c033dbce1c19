//! Mail providers. `log` (the default) writes each message as an RFC 5322
//! `.eml` file so a developer can open it; network providers join this enum.

use std::path::{Path, PathBuf};

use mail_builder::MessageBuilder;
use mail_builder::mime::MimePart;

use crate::config::Config;

/// A message ready to leave.
#[derive(Debug, Clone)]
pub struct OutgoingEmail {
    pub outbox_id: i64,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, Clone)]
pub enum MailProvider {
    Log(LogProvider),
}

impl MailProvider {
    pub fn from_config(config: &Config) -> Self {
        MailProvider::Log(LogProvider {
            dir: config.mail_dir.clone(),
        })
    }

    /// Sends one message. Idempotent per outbox id: a retry after a crash
    /// rewrites the same file instead of producing a second email.
    pub async fn send(&self, email: &OutgoingEmail) -> Result<(), String> {
        match self {
            MailProvider::Log(provider) => provider.write(email).await,
        }
    }
}

#[derive(Debug, Clone)]
pub struct LogProvider {
    dir: PathBuf,
}

impl LogProvider {
    pub fn file_name(outbox_id: i64) -> String {
        format!("invitation-{outbox_id:010}.eml")
    }

    async fn write(&self, email: &OutgoingEmail) -> Result<(), String> {
        let message = build_message(email)?;
        let dir = self.dir.clone();
        let name = Self::file_name(email.outbox_id);
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

/// `Name <address>` or a bare address.
pub fn mailbox(text: &str) -> (String, String) {
    match text.rsplit_once('<') {
        Some((name, address)) => (
            name.trim().trim_matches('"').to_owned(),
            address.trim_end().trim_end_matches('>').trim().to_owned(),
        ),
        None => (String::new(), text.trim().to_owned()),
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
}
