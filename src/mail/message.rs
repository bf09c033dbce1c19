//! A message on its way out, shared by every provider.

/// A message ready to leave.
#[derive(Debug, Clone)]
pub struct OutgoingEmail {
    pub outbox_id: i64,
    /// When it was queued (names the log provider's file).
    pub queued_at: chrono::NaiveDateTime,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
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
