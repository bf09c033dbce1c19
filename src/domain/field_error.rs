//! One invalid field of a request, as listed in a 422 problem's `errors`.

use serde::Serialize;
use utoipa::ToSchema;

/// A 422 lists at most this many field errors (the first ones found).
pub const MAX_FIELD_ERRORS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The JSON field (or query parameter) at fault, e.g. `email` or `group_ids[1]`.
    pub field: String,
    /// Stable machine-readable reason: `required`, `invalid_type`, `unknown_field`,
    /// `invalid_value`, `invalid_email`, `invalid_characters` (a name with control or
    /// formatting characters), `too_long`, `too_short`, `out_of_range`, `duplicate`,
    /// `not_found`, `private_address` (a webhook URL that reaches a private network).
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.to_owned(),
            message: message.into(),
        }
    }

    pub fn required(field: &str) -> Self {
        Self::new(field, "required", format!("{field} is required"))
    }
}

/// A request body parsed as far as it goes: fields of the wrong type (or
/// unknown) are reported instead of refused, so that a service can list them
/// together with its own rule violations in one 422.
#[derive(Debug, Clone)]
pub struct Partial<T> {
    /// The body without the offending fields.
    pub value: T,
    /// One entry per field of the wrong type, or unknown.
    pub errors: Vec<FieldError>,
}

impl<T> Partial<T> {
    pub fn complete(value: T) -> Self {
        Self {
            value,
            errors: Vec::new(),
        }
    }

    /// These errors followed by the rule violations of fields that did parse.
    pub fn merge(&self, rule_errors: Vec<FieldError>) -> Vec<FieldError> {
        let offending = |field: &str| {
            self.errors.iter().any(|e| {
                field == e.field
                    || field
                        .strip_prefix(e.field.as_str())
                        .is_some_and(|rest| rest.starts_with('['))
            })
        };
        let mut all = self.errors.clone();
        all.extend(rule_errors.into_iter().filter(|e| !offending(&e.field)));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_drops_rule_errors_of_fields_already_reported() {
        let partial = Partial {
            value: (),
            errors: vec![
                FieldError::new("role", "invalid_value", "bad role"),
                FieldError::new("group_ids", "invalid_type", "x"),
            ],
        };
        let merged = partial.merge(vec![
            FieldError::required("role"),
            FieldError::new("group_ids[0]", "not_found", "x"),
            FieldError::new("email", "invalid_email", "bad email"),
        ]);
        let fields: Vec<_> = merged
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("role", "invalid_value"),
                ("group_ids", "invalid_type"),
                ("email", "invalid_email")
            ]
        );
    }
}
