//! A list of names kept in one text column as a JSON array, e.g.
//! `["billing","reports"]`. Read back strictly: anything but an array of
//! known names is a row this service did not write.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::domain::CorruptValue;

pub fn to_db<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    Value::Array(names.into_iter().map(|n| Value::String(n.into())).collect()).to_string()
}

pub fn from_db<T: DeserializeOwned>(text: &str) -> Result<Vec<T>, CorruptValue> {
    serde_json::from_str(text).map_err(|e| {
        CorruptValue(format!(
            "stored list {text:?} is not an array of {}: {e}",
            std::any::type_name::<T>()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::WebhookEvent;
    use crate::domain::permission::Permission;

    #[test]
    fn lists_are_json_arrays_of_names() {
        assert_eq!(to_db([]), "[]");
        assert_eq!(
            to_db(["invitation.created", "user.enabled"]),
            r#"["invitation.created","user.enabled"]"#
        );
        assert_eq!(
            from_db::<WebhookEvent>(r#"["user.enabled","invitation.created"]"#).unwrap(),
            [WebhookEvent::UserEnabled, WebhookEvent::InvitationCreated]
        );
        assert!(from_db::<Permission>("[]").unwrap().is_empty());
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "",
            "billing",
            "billing,reports",
            r#""billing""#,
            r#"["billing","payroll"]"#,
            r#"[1]"#,
            r#"{"billing":true}"#,
        ] {
            assert!(from_db::<Permission>(text).is_err(), "{text}");
        }
    }
}
