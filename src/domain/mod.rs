//! Pure types and rules: no I/O, no database, no HTTP.

pub mod access;
pub mod audit;
pub mod billing;
pub mod delivery;
pub mod email;
pub mod field_error;
pub mod ids;
pub mod invitation;
pub mod membership;
pub mod money;
pub mod name;
pub mod network;
pub mod outbox;
pub mod paging;
pub mod password;
pub mod period;
pub mod permission;
pub mod proration;
pub mod retry;
pub mod scim_filter;
pub mod stored_list;
pub mod token;

/// A stored value this service did not write (an unknown name, a list that is
/// not one): a bug or a foreign write, surfaced as a 500, never guessed at.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CorruptValue(pub String);

#[cfg(test)]
mod names {
    use super::access::*;
    use super::audit::*;
    use super::billing::*;
    use super::invitation::*;
    use super::outbox::{DeliveryStatus, OutboxStatus};
    use super::permission::Permission;

    fn agree<T: serde::Serialize + Copy>(all: &[T], name: impl Fn(T) -> &'static str) {
        for value in all {
            assert_eq!(serde_json::to_value(value).unwrap(), name(*value));
        }
    }

    #[test]
    fn json_names_are_the_stored_names() {
        agree(Role::ALL, Role::as_str);
        agree(InvitableRole::ALL, InvitableRole::as_str);
        agree(SubscriberType::ALL, SubscriberType::as_str);
        agree(UserStatus::ALL, UserStatus::as_str);
        agree(BillingSystem::ALL, BillingSystem::as_str);
        agree(Plan::ALL, Plan::as_str);
        agree(LicenseType::ALL, LicenseType::as_str);
        agree(LicenseState::ALL, LicenseState::as_str);
        agree(ChargeReason::ALL, ChargeReason::as_str);
        agree(InvitationStatus::ALL, InvitationStatus::as_str);
        agree(Delivery::ALL, Delivery::as_str);
        agree(Permission::ALL, Permission::as_str);
        agree(OutboxStatus::ALL, OutboxStatus::as_str);
        agree(AuditAction::ALL, AuditAction::as_str);
        agree(WebhookEvent::ALL, WebhookEvent::as_str);
        agree(ActorKind::ALL, ActorKind::as_str);
        agree(SubjectKind::ALL, SubjectKind::as_str);
        agree(DeliveryStatus::ALL, DeliveryStatus::as_str);
    }
}
