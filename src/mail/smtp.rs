//! SMTP (lettre, rustls with ring): `smtp://` requires STARTTLS (a server
//! that does not offer it gets nothing, never the message in clear),
//! `smtps://` is TLS from the first byte, `?tls=none` is plain text for local
//! development relays only. Each message carries a deterministic
//! `Message-ID: <outbox-{id}@{from domain}>`, which is also its provider id.

use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{SmtpSettings, SmtpTls};
use crate::mail::message::{OutgoingEmail, mailbox};

const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct SmtpProvider {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl std::fmt::Debug for SmtpProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpProvider").finish_non_exhaustive()
    }
}

impl SmtpProvider {
    pub fn new(settings: &SmtpSettings) -> Result<Self, String> {
        crate::outbound::install_tls_provider();
        let tls = |host: &str| {
            TlsParameters::new(host.to_owned())
                .map_err(|e| format!("INVITATIONS_SMTP_URL: cannot set up TLS: {e}"))
        };
        let tls = match settings.tls {
            SmtpTls::StartTls => Tls::Required(tls(&settings.host)?),
            SmtpTls::Implicit => Tls::Wrapper(tls(&settings.host)?),
            SmtpTls::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(TIMEOUT));
        if let Some(user) = &settings.user {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                settings
                    .password
                    .as_ref()
                    .map(|p| p.expose().to_owned())
                    .unwrap_or_default(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
        })
    }

    /// Sends; answers the message's Message-ID (without angle brackets).
    pub async fn send(&self, email: &OutgoingEmail) -> Result<String, String> {
        let from: Mailbox = email
            .from
            .parse()
            .map_err(|e| format!("INVITATIONS_MAIL_FROM is not an address: {e}"))?;
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| format!("the recipient is not an address: {e}"))?;
        let id = message_id(email.outbox_id, &email.from);
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(format!("<{id}>")))
            .multipart(
                MultiPart::alternative()
                    .singlepart(part(ContentType::TEXT_PLAIN, &email.text))
                    .singlepart(part(ContentType::TEXT_HTML, &email.html)),
            )
            .map_err(|e| format!("cannot build the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map_err(|e| format!("SMTP: {e}"))?;
        tracing::info!(
            outbox_id = email.outbox_id,
            provider = "smtp",
            "email handed to the SMTP server"
        );
        Ok(id)
    }
}

/// 8bit keeps the accept link verbatim (as in the `.eml` files) while every
/// line fits RFC 5322's 998 bytes (lettre's own check stops at 76); lettre's
/// choice (quoted-printable or base64) otherwise.
fn part(content_type: ContentType, text: &str) -> SinglePart {
    let text = text.replace("\r\n", "\n");
    let body = if text.lines().all(|line| line.len() <= 998) {
        Body::dangerous_pre_encoded(
            text.replace('\n', "\r\n").into_bytes(),
            ContentTransferEncoding::EightBit,
        )
    } else {
        Body::new(text)
    };
    SinglePart::builder().header(content_type).body(body)
}

/// `outbox-{id}@{domain of From}`: the same for every attempt at one outbox row.
pub fn message_id(outbox_id: i64, from: &str) -> String {
    let (_, address) = mailbox(from);
    let domain = address
        .rsplit_once('@')
        .map_or("invitations.localhost", |(_, d)| d);
    format!("outbox-{outbox_id}@{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_deterministic_per_outbox_row() {
        assert_eq!(
            message_id(42, "Clio <no-reply@firm.example>"),
            "outbox-42@firm.example"
        );
        assert_eq!(
            message_id(42, "no-reply@firm.example"),
            message_id(42, "Clio <no-reply@firm.example>")
        );
    }
}
