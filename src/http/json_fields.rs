//! JSON bodies to typed values: fields of the wrong type (or unknown) become
//! `FieldError`s naming the field, never a bare serde message.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::domain::field_error::{FieldError, MAX_FIELD_ERRORS, Partial};
use crate::error::AppError;

/// Parses a body: not JSON → 400; JSON of the wrong shape → 422 naming every bad field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| AppError::MalformedJson(e.to_string()))?;
    parse_value(value)
}

pub fn parse_value<T: DeserializeOwned>(value: Value) -> Result<T, AppError> {
    let Partial { value, errors } = parse_partially(value)?;
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Parses what parses; names every field that does not (each is tried alone,
/// so all offenders are found, not only the first — up to `MAX_FIELD_ERRORS`:
/// a body of thousands of bad fields is answered without trying them all).
pub fn parse_partially<T: DeserializeOwned>(value: Value) -> Result<Partial<T>, AppError> {
    let Value::Object(mut fields) = value else {
        return Err(AppError::validation_one(
            "",
            "invalid_type",
            "the body must be a JSON object",
        ));
    };
    if let Ok(parsed) = serde_json::from_value::<T>(Value::Object(fields.clone())) {
        return Ok(Partial::complete(parsed));
    }
    let mut errors = Vec::new();
    fields.retain(|name, field| {
        if errors.len() >= MAX_FIELD_ERRORS {
            return false;
        }
        let single = Value::Object([(name.clone(), field.clone())].into_iter().collect());
        match serde_json::from_value::<T>(single) {
            Ok(_) => true,
            Err(e) => {
                errors.push(field_error(name, &e));
                false
            }
        }
    });
    if errors.len() >= MAX_FIELD_ERRORS {
        return Err(AppError::Validation(errors));
    }
    match serde_json::from_value::<T>(Value::Object(fields)) {
        Ok(parsed) => Ok(Partial {
            value: parsed,
            errors,
        }),
        Err(whole) => {
            errors.push(field_error("", &whole));
            Err(AppError::Validation(errors))
        }
    }
}

fn field_error(field: &str, error: &serde_json::Error) -> FieldError {
    let text = error.to_string();
    let code = if text.starts_with("unknown field") {
        "unknown_field"
    } else if text.starts_with("invalid type") {
        "invalid_type"
    } else if text.starts_with("missing field") {
        "required"
    } else {
        "invalid_value"
    };
    let message = match code {
        "unknown_field" => format!("{field} is not a field of this request"),
        _ => format!("{field}: {text}"),
    };
    FieldError::new(field, code, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::invitation::InvitationRequest;

    #[test]
    fn every_bad_field_is_named() {
        let body = br#"{"email": 5, "role": "owner", "colour": "red", "expires_in_days": 3}"#;
        let Err(AppError::Validation(errors)) = parse_json::<InvitationRequest>(body) else {
            panic!("expected a validation error");
        };
        let mut named: Vec<_> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        named.sort();
        assert_eq!(
            named,
            [
                ("colour", "unknown_field"),
                ("email", "invalid_type"),
                ("role", "invalid_value")
            ]
        );
    }

    #[test]
    fn non_json_is_malformed() {
        assert!(matches!(
            parse_json::<InvitationRequest>(b"{nope"),
            Err(AppError::MalformedJson(_))
        ));
        assert!(matches!(
            parse_json::<InvitationRequest>(b"[1]"),
            Err(AppError::Validation(_))
        ));
    }
}
