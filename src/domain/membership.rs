//! What a firm member holds besides a role: permissions and group memberships.
//! Their field rules, shared by invitations and user updates so the two
//! cannot disagree.

use std::collections::HashSet;

use crate::domain::field_error::FieldError;
use crate::domain::permission::Permission;

/// More would be a mistake, and would overflow the databases' parameter limits.
pub const MAX_GROUP_IDS: usize = 100;

/// `permissions` must be distinct: the first repeat is named.
pub fn permission_errors(permissions: &[Permission]) -> Vec<FieldError> {
    first_duplicate(permissions)
        .map(|i| {
            FieldError::new(
                format!("permissions[{i}]"),
                "duplicate",
                "permissions must be distinct",
            )
        })
        .into_iter()
        .collect()
}

/// `group_ids`: at most `MAX_GROUP_IDS`, distinct, each one of `known` (the
/// requested ids that are groups of this account; another account's group is
/// reported exactly like one that does not exist).
pub fn group_id_errors<Id: Eq + std::hash::Hash + std::fmt::Display>(
    group_ids: &[Id],
    known: &HashSet<Id>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if group_ids.len() > MAX_GROUP_IDS {
        errors.push(FieldError::new(
            "group_ids",
            "too_long",
            format!("at most {MAX_GROUP_IDS} group ids"),
        ));
        return errors;
    }
    if let Some(i) = first_duplicate(group_ids) {
        errors.push(FieldError::new(
            format!("group_ids[{i}]"),
            "duplicate",
            "group_ids must be distinct",
        ));
    }
    for (i, id) in group_ids.iter().enumerate() {
        if !known.contains(id) {
            errors.push(FieldError::new(
                format!("group_ids[{i}]"),
                "not_found",
                format!("group {id} does not exist in this account"),
            ));
        }
    }
    errors
}

fn first_duplicate<T: Eq + std::hash::Hash>(items: &[T]) -> Option<usize> {
    let mut seen = HashSet::new();
    items.iter().position(|item| !seen.insert(item))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect()
    }

    #[test]
    fn a_repeated_permission_is_named_at_its_second_place() {
        assert!(permission_errors(&[Permission::Billing, Permission::Reports]).is_empty());
        assert_eq!(
            fields(&permission_errors(&[
                Permission::Billing,
                Permission::Reports,
                Permission::Billing
            ])),
            [("permissions[2]", "duplicate")]
        );
    }

    #[test]
    fn group_ids_must_be_few_distinct_and_known() {
        let known = HashSet::from([1, 2]);
        assert!(group_id_errors(&[], &known).is_empty());
        assert!(group_id_errors(&[2, 1], &known).is_empty());
        assert_eq!(
            fields(&group_id_errors(&[1, 7, 1], &known)),
            [("group_ids[2]", "duplicate"), ("group_ids[1]", "not_found")]
        );
        let many: Vec<i64> = (0..=100).collect();
        assert_eq!(
            fields(&group_id_errors(&many, &known)),
            [("group_ids", "too_long")]
        );
    }
}
