//! `DisplayName`: a person's first or last name, a group's or an account's
//! name — trimmed, 1–100 characters, and free of characters that change how
//! text around them is shown (controls, bidi overrides, zero-width marks).

use crate::domain::field_error::FieldError;

pub const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    Empty,
    TooLong,
    /// A control (Unicode Cc), format (Cf) or line/paragraph separator character.
    InvisibleCharacter,
}

impl NameError {
    pub fn code(self) -> &'static str {
        match self {
            NameError::Empty => "required",
            NameError::TooLong => "too_long",
            NameError::InvisibleCharacter => "invalid_characters",
        }
    }

    pub fn message(self, field: &str) -> String {
        match self {
            NameError::Empty => format!("{field} is required"),
            NameError::TooLong => format!("{field} must be at most {MAX_NAME_CHARS} characters"),
            NameError::InvisibleCharacter => format!(
                "{field} must not contain control or formatting characters \
                 (line breaks, NUL, escape, bidirectional overrides, zero-width characters)"
            ),
        }
    }

    pub fn field_error(self, field: &str) -> FieldError {
        FieldError::new(field, self.code(), self.message(field))
    }
}

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(NameError::TooLong);
        }
        if name.chars().any(is_invisible) {
            return Err(NameError::InvisibleCharacter);
        }
        Ok(Self(name.to_owned()))
    }

    /// Parses an optional request field, as a field error naming `field`.
    pub fn parse_field(field: &str, raw: Option<&str>) -> Result<Self, FieldError> {
        Self::parse(raw.unwrap_or_default()).map_err(|e| e.field_error(field))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// How a person is named to others: first and last name, either may be empty.
pub fn full_name(first: &str, last: &str) -> String {
    format!("{first} {last}").trim().to_owned()
}

/// Unicode general categories Cc (controls) and Cf (format: bidi controls,
/// zero-width characters, soft hyphen, tags…) as of Unicode 16, plus the line
/// and paragraph separators (Zl, Zp), which break a line like LF does.
pub fn is_invisible(c: char) -> bool {
    const FORMAT: &[(u32, u32)] = &[
        (0x00AD, 0x00AD),
        (0x0600, 0x0605),
        (0x061C, 0x061C),
        (0x06DD, 0x06DD),
        (0x070F, 0x070F),
        (0x0890, 0x0891),
        (0x08E2, 0x08E2),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x2028, 0x202E),
        (0x2060, 0x2064),
        (0x2066, 0x206F),
        (0xFEFF, 0xFEFF),
        (0xFFF9, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x1343F),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001),
        (0xE0020, 0xE007F),
    ];
    let code = u32::from(c);
    c.is_control()
        || FORMAT
            .iter()
            .any(|(first, last)| (*first..=*last).contains(&code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_limited_to_100_characters() {
        assert_eq!(DisplayName::parse("  Zoë  ").unwrap().as_str(), "Zoë");
        assert_eq!(DisplayName::parse(" \t ").unwrap_err(), NameError::Empty);
        assert!(DisplayName::parse(&"é".repeat(100)).is_ok());
        assert_eq!(
            DisplayName::parse(&"é".repeat(101)).unwrap_err(),
            NameError::TooLong
        );
        // Ordinary scripts, spaces, apostrophes and hyphens are names.
        for ok in ["O'Brien-Smith", "José María", "李小龍", "محمد", "Ægir Þór"] {
            assert!(DisplayName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn control_and_format_characters_are_refused() {
        for bad in [
            "Ann\rSmith",
            "Ann\nSmith",
            "Ann\0",
            "\u{1b}[31mred",
            "evil\u{202E}gpj.exe",
            "zero\u{200B}width",
            "word\u{2060}joiner",
            "bom\u{FEFF}",
            "soft\u{AD}hyphen",
            "line\u{2028}separator",
            "tag\u{E0041}",
            "del\u{7F}",
            "c1\u{85}next",
        ] {
            assert_eq!(
                DisplayName::parse(bad).unwrap_err(),
                NameError::InvisibleCharacter,
                "{bad:?}"
            );
        }
    }
}
