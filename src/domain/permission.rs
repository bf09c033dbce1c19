//! The permission catalog (`GET /permissions`), modelled on Clio Manage's
//! permission types. "Administrator" is a role, not a permission.

use crate::domain::stored_list;

string_enum! {
    /// A permission a firm member may hold in addition to their role.
    Permission {
        Accounts => "accounts",
        Billing => "billing",
        Reports => "reports",
    }
}

impl Permission {
    pub fn description(self) -> &'static str {
        match self {
            Permission::Accounts => "Trust and operating accounts and their transactions",
            Permission::Billing => "Bills and payments",
            Permission::Reports => "Firm reports",
        }
    }
}

/// Permissions are stored sorted and distinct, as a JSON array of names.
pub fn to_db(permissions: &[Permission]) -> String {
    let mut sorted = permissions.to_vec();
    sorted.sort();
    sorted.dedup();
    stored_list::to_db(sorted.iter().map(|p| p.as_str()))
}

pub fn from_db(text: &str) -> Result<Vec<Permission>, super::CorruptValue> {
    stored_list::from_db(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips_sorted_and_distinct() {
        let stored = to_db(&[
            Permission::Reports,
            Permission::Accounts,
            Permission::Reports,
        ]);
        assert_eq!(stored, r#"["accounts","reports"]"#);
        assert_eq!(
            from_db(&stored).unwrap(),
            vec![Permission::Accounts, Permission::Reports]
        );
        assert!(from_db(&to_db(&[])).unwrap().is_empty());
        assert!(from_db("accounts,reports").is_err());
    }
}
