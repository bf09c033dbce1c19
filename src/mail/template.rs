//! The invitation email. The HTML part is rendered by askama, which escapes
//! every value (the inviter's message and names are user input).

use askama::Template;
use chrono::NaiveDateTime;

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What the invitation email says.
pub struct InvitationEmail<'a> {
    pub product_name: &'a str,
    pub account_name: &'a str,
    pub inviter_name: &'a str,
    pub message: Option<&'a str>,
    pub expires_at: NaiveDateTime,
    pub app_url: &'a str,
    pub token: &'a str,
}

#[derive(Template)]
#[template(path = "invitation.txt")]
struct TextPart<'a> {
    product_name: &'a str,
    account_name: &'a str,
    inviter_name: &'a str,
    message: Option<&'a str>,
    accept_url: &'a str,
    expires_at: &'a str,
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct HtmlPart<'a> {
    subject: &'a str,
    product_name: &'a str,
    account_name: &'a str,
    inviter_name: &'a str,
    message: Option<&'a str>,
    accept_url: &'a str,
    expires_at: &'a str,
}

pub fn subject(product_name: &str) -> String {
    format!("You've been invited to {product_name}")
}

pub fn accept_url(app_url: &str, token: &str) -> String {
    format!("{app_url}/invitations/accept?token={token}")
}

/// Breaks lines longer than `max_bytes` (at a space when there is one), so that
/// every line of the message fits RFC 5322's limit and the email can be sent
/// as 8bit text, with the accept link verbatim in the file.
pub fn wrap_long_lines(text: &str, max_bytes: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / max_bytes.max(1));
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut rest = line;
        while rest.len() > max_bytes {
            let mut cut = max_bytes;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            let cut = rest[..cut]
                .rfind(' ')
                .filter(|&space| space > 0)
                .unwrap_or(cut);
            out.push_str(rest[..cut].trim_end());
            out.push('\n');
            rest = rest[cut..].trim_start();
        }
        out.push_str(rest);
    }
    out
}

/// Longest message line kept as is; HTML escaping may still lengthen it.
const MESSAGE_LINE_BYTES: usize = 150;

impl InvitationEmail<'_> {
    pub fn render(&self) -> Result<RenderedEmail, AppError> {
        let wrapped = self.message.map(|m| wrap_long_lines(m, MESSAGE_LINE_BYTES));
        let message = wrapped.as_deref();
        let subject = subject(self.product_name);
        let accept_url = accept_url(self.app_url, self.token);
        let expires_at = self
            .expires_at
            .format("%B %-d, %Y at %H:%M UTC")
            .to_string();
        let text = TextPart {
            product_name: self.product_name,
            account_name: self.account_name,
            inviter_name: self.inviter_name,
            message,
            accept_url: &accept_url,
            expires_at: &expires_at,
        }
        .render()
        .map_err(|e| AppError::internal(format!("text template: {e}")))?;
        let html = HtmlPart {
            subject: &subject,
            product_name: self.product_name,
            account_name: self.account_name,
            inviter_name: self.inviter_name,
            message,
            accept_url: &accept_url,
            expires_at: &expires_at,
        }
        .render()
        .map_err(|e| AppError::internal(format!("html template: {e}")))?;
        Ok(RenderedEmail {
            subject,
            text,
            html,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email<'a>(message: Option<&'a str>, inviter: &'a str) -> InvitationEmail<'a> {
        InvitationEmail {
            product_name: "Clio",
            account_name: "Smith & Jones LLP",
            inviter_name: inviter,
            message,
            expires_at: chrono::NaiveDate::from_ymd_opt(2026, 12, 6)
                .unwrap()
                .and_hms_opt(15, 30, 0)
                .unwrap(),
            app_url: "https://app.example",
            token: "inv_abc",
        }
    }

    #[test]
    fn renders_subject_link_names_and_expiry() {
        let rendered = email(Some("Welcome aboard"), "Ann Smith").render().unwrap();
        assert_eq!(rendered.subject, "You've been invited to Clio");
        for part in [&rendered.text, &rendered.html] {
            assert!(part.contains("https://app.example/invitations/accept?token=inv_abc"));
            assert!(part.contains("Ann Smith"));
            assert!(part.contains("Welcome aboard"));
            assert!(part.contains("December 6, 2026 at 15:30 UTC"));
        }
        assert!(rendered.text.contains("Smith & Jones LLP"));
        assert!(
            rendered.html.contains("Smith &#38; Jones LLP")
                || rendered.html.contains("Smith &amp; Jones LLP")
        );
    }

    #[test]
    fn long_lines_are_wrapped_at_spaces_or_char_boundaries() {
        let words = "word ".repeat(100);
        let wrapped = wrap_long_lines(&words, 42);
        assert!(wrapped.lines().all(|l| l.len() <= 42));
        assert_eq!(wrapped.split_whitespace().count(), 100);
        let unbroken = "é".repeat(100);
        let wrapped = wrap_long_lines(&unbroken, 41);
        assert!(wrapped.lines().all(|l| l.len() <= 41));
        assert_eq!(wrapped.replace('\n', ""), unbroken);
        assert_eq!(wrap_long_lines("short\nlines", 42), "short\nlines");
    }

    #[test]
    fn a_2000_character_single_line_message_keeps_every_line_short() {
        let message = "x".repeat(2_000);
        let rendered = email(Some(&message), "Ann").render().unwrap();
        assert!(rendered.text.lines().all(|l| l.len() <= 998));
        assert!(rendered.html.lines().all(|l| l.len() <= 998));
    }

    #[test]
    fn html_escapes_the_message_and_names() {
        let rendered = email(Some("<script>alert(1)</script>"), "<b>Eve</b>")
            .render()
            .unwrap();
        assert!(!rendered.html.contains("<script>"));
        assert!(!rendered.html.contains("<b>Eve</b>"));
        assert!(
            rendered.html.contains("&lt;script&gt;") || rendered.html.contains("&#60;script&#62;")
        );
        assert!(rendered.text.contains("<script>alert(1)</script>"));
    }
}
