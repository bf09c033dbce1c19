//! One invalid field of a request, as listed in a 422 problem's `errors`.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The JSON field (or query parameter) at fault, e.g. `email` or `group_ids[1]`.
    pub field: String,
    /// Stable machine-readable reason: `required`, `invalid_type`, `unknown_field`,
    /// `invalid_value`, `invalid_email`, `too_long`, `too_short`, `out_of_range`, `duplicate`, `not_found`.
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
