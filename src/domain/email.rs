//! `EmailAddress`: trimmed, checked and normalised once at the edge.

use validator::ValidateEmail;

/// RFC 5321 limit on a forward path.
pub const MAX_EMAIL_LEN: usize = 254;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress {
    display: String,
    normalized: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailError {
    Empty,
    TooLong,
    Invalid,
}

impl EmailError {
    pub fn code(self) -> &'static str {
        match self {
            EmailError::Empty => "required",
            EmailError::TooLong => "too_long",
            EmailError::Invalid => "invalid_email",
        }
    }

    pub fn message(self) -> String {
        match self {
            EmailError::Empty => "email is required".into(),
            EmailError::TooLong => format!("email must be at most {MAX_EMAIL_LEN} characters"),
            EmailError::Invalid => "email is not a valid email address".into(),
        }
    }
}

impl EmailAddress {
    /// Trims surrounding whitespace, checks the address and keeps both the
    /// spelling as typed (for display) and a lower-cased form (for comparison).
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let display = raw.trim();
        if display.is_empty() {
            return Err(EmailError::Empty);
        }
        if display.chars().count() > MAX_EMAIL_LEN {
            return Err(EmailError::TooLong);
        }
        if !display.validate_email() || display.chars().any(char::is_control) {
            return Err(EmailError::Invalid);
        }
        Ok(Self {
            display: display.to_owned(),
            normalized: normalize(display),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.display
    }

    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

/// The comparison key of an address: trimmed and lower-cased.
pub fn normalize(raw: &str) -> String {
    raw.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn trims_and_keeps_the_spelling_but_compares_lowercase() {
        let email = EmailAddress::parse("  Jane.Doe@Example.COM \n").unwrap();
        assert_eq!(email.as_str(), "Jane.Doe@Example.COM");
        assert_eq!(email.normalized(), "jane.doe@example.com");
    }

    #[test]
    fn rejects_empty_invalid_and_overlong_addresses() {
        assert_eq!(EmailAddress::parse("   "), Err(EmailError::Empty));
        assert_eq!(
            EmailAddress::parse("not-an-email"),
            Err(EmailError::Invalid)
        );
        assert_eq!(EmailAddress::parse("a@b@c.com"), Err(EmailError::Invalid));
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(EmailAddress::parse(&long), Err(EmailError::TooLong));
    }

    proptest! {
        #[test]
        fn parsing_is_insensitive_to_surrounding_whitespace_and_case(
            local in "[a-zA-Z0-9]{1,20}", domain in "[a-zA-Z]{1,20}", pad in "[ \t]{0,3}"
        ) {
            let raw = format!("{pad}{local}@{domain}.com{pad}");
            let a = EmailAddress::parse(&raw).unwrap();
            let b = EmailAddress::parse(&raw.to_uppercase()).unwrap();
            prop_assert_eq!(a.normalized(), b.normalized());
            prop_assert_eq!(a.as_str(), raw.trim());
        }

        #[test]
        fn parsing_never_panics(raw in ".{0,300}") {
            let _ = EmailAddress::parse(&raw);
        }
    }
}
