//! The invitation request, its field rules, and invitation status.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::access::{InvitableRole, SubscriberType};
use crate::domain::billing::{BillingSystem, LicenseType};
use crate::domain::email::EmailAddress;
use crate::domain::field_error::FieldError;
use crate::domain::ids::GroupId;
use crate::domain::membership;
use crate::domain::permission::Permission;

pub const MAX_MESSAGE_CHARS: usize = 2_000;
pub const MIN_EXPIRY_DAYS: i64 = 1;
pub const MAX_EXPIRY_DAYS: i64 = 30;

string_enum! {
    /// Lifecycle of an invitation. `expired` is reported as soon as `expires_at` has passed,
    /// even before the background sweeper has recorded it.
    InvitationStatus {
        Pending => "pending",
        Accepted => "accepted",
        Declined => "declined",
        Revoked => "revoked",
        Expired => "expired",
    }
}

/// The status a client sees: a pending invitation past its expiry is expired.
pub fn effective_status(
    stored: InvitationStatus,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> InvitationStatus {
    if stored == InvitationStatus::Pending && expires_at <= now {
        InvitationStatus::Expired
    } else {
        stored
    }
}

string_enum! {
    /// Delivery state of the invitation's latest email: handed to the
    /// provider (`sent`), then as its delivery events report (`delivered`,
    /// `bounced`, `complained`); never backwards (see `domain::delivery`).
    Delivery {
        Queued => "queued",
        Sent => "sent",
        Delivered => "delivered",
        Bounced => "bounced",
        Complained => "complained",
        Failed => "failed",
    }
}

/// Body of `POST .../invitations`, `.../invitations/quote` and each item of `.../bulk`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationRequest {
    /// Invitee's address; trimmed, at most 254 characters, compared case-insensitively.
    #[serde(default)]
    #[schema(required = true, value_type = String, format = Email, max_length = 254, example = "jane.doe@example.com")]
    pub email: Option<String>,
    /// Required on `new` accounts; defaults to `standard` on `classic` accounts.
    #[serde(default)]
    #[schema(nullable = false)]
    pub role: Option<InvitableRole>,
    /// Required on `classic` accounts (it picks the license type); informational on `new` accounts.
    #[serde(default)]
    #[schema(nullable = false)]
    pub subscriber_type: Option<SubscriberType>,
    /// Distinct names from `GET /permissions`.
    #[serde(default)]
    #[schema(nullable = false)]
    pub permissions: Option<Vec<Permission>>,
    /// Distinct ids of this account's groups (at most 100).
    #[serde(default)]
    #[schema(nullable = false, max_items = 100, value_type = Option<Vec<i64>>)]
    pub group_ids: Option<Vec<GroupId>>,
    /// Plain text shown (HTML-escaped) in the email; at most 2,000 characters.
    #[serde(default)]
    #[schema(nullable = false, max_length = 2000)]
    pub message: Option<String>,
    /// Days until the invitation expires, 1–30 (default 7, configurable).
    #[serde(default)]
    #[schema(nullable = false, minimum = 1, maximum = 30)]
    pub expires_in_days: Option<i64>,
}

/// What the rules need to know about the account being invited to.
pub struct DraftContext<'a> {
    pub billing_system: BillingSystem,
    pub default_expiry_days: i64,
    /// The requested group ids that exist in this account.
    pub known_group_ids: &'a HashSet<GroupId>,
}

/// A request that passed every field rule.
#[derive(Debug, Clone)]
pub struct InvitationDraft {
    pub email: EmailAddress,
    pub role: InvitableRole,
    pub subscriber_type: Option<SubscriberType>,
    pub permissions: Vec<Permission>,
    pub group_ids: Vec<GroupId>,
    pub message: Option<String>,
    pub expires_in_days: i64,
    pub license_type: LicenseType,
}

impl InvitationRequest {
    /// Applies every field rule and reports all violations at once.
    pub fn validate(&self, ctx: &DraftContext<'_>) -> Result<InvitationDraft, Vec<FieldError>> {
        let mut errors = Vec::new();

        let email = match self.email.as_deref() {
            None => {
                errors.push(FieldError::required("email"));
                None
            }
            Some(raw) => EmailAddress::parse(raw)
                .map_err(|e| errors.push(FieldError::new("email", e.code(), e.message())))
                .ok(),
        };

        let role = match (self.role, ctx.billing_system) {
            (Some(role), _) => Some(role),
            (None, BillingSystem::Classic) => Some(InvitableRole::Standard),
            (None, BillingSystem::New) => {
                errors.push(FieldError::new(
                    "role",
                    "required",
                    "role is required on accounts with the new billing system",
                ));
                None
            }
        };

        let license_type = ctx.billing_system.license_type_for(self.subscriber_type);
        if license_type.is_none() {
            errors.push(FieldError::new(
                "subscriber_type",
                "required",
                "subscriber_type is required on accounts with the classic billing system",
            ));
        }

        let permissions = self.permissions.clone().unwrap_or_default();
        errors.extend(membership::permission_errors(&permissions));

        let group_ids = self.group_ids.clone().unwrap_or_default();
        errors.extend(membership::group_id_errors(&group_ids, ctx.known_group_ids));

        let message = self.message.clone().filter(|m| !m.trim().is_empty());
        if message
            .as_deref()
            .is_some_and(|m| m.chars().count() > MAX_MESSAGE_CHARS)
        {
            errors.push(FieldError::new(
                "message",
                "too_long",
                format!("message must be at most {MAX_MESSAGE_CHARS} characters"),
            ));
        }

        let expires_in_days = self.expires_in_days.unwrap_or(ctx.default_expiry_days);
        if !(MIN_EXPIRY_DAYS..=MAX_EXPIRY_DAYS).contains(&expires_in_days) {
            errors.push(FieldError::new(
                "expires_in_days",
                "out_of_range",
                format!("expires_in_days must be between {MIN_EXPIRY_DAYS} and {MAX_EXPIRY_DAYS}"),
            ));
        }

        match (email, role, license_type) {
            (Some(email), Some(role), Some(license_type)) if errors.is_empty() => {
                Ok(InvitationDraft {
                    email,
                    role,
                    subscriber_type: self.subscriber_type,
                    permissions,
                    group_ids,
                    message,
                    expires_in_days,
                    license_type,
                })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(system: BillingSystem, groups: &HashSet<GroupId>) -> DraftContext<'_> {
        DraftContext {
            billing_system: system,
            default_expiry_days: 7,
            known_group_ids: groups,
        }
    }

    #[test]
    fn classic_defaults_role_to_standard_and_needs_a_subscriber_type() {
        let groups = HashSet::new();
        let req = InvitationRequest {
            email: Some(" A@Example.com ".into()),
            subscriber_type: Some(SubscriberType::NonAttorney),
            ..Default::default()
        };
        let draft = req.validate(&ctx(BillingSystem::Classic, &groups)).unwrap();
        assert_eq!(draft.role, InvitableRole::Standard);
        assert_eq!(draft.license_type, LicenseType::NonAttorney);
        assert_eq!(draft.email.normalized(), "a@example.com");
        assert_eq!(draft.expires_in_days, 7);
    }

    #[test]
    fn every_violation_is_reported_at_once() {
        let groups = HashSet::from([GroupId::new(1)]);
        let req = InvitationRequest {
            email: Some("nope".into()),
            permissions: Some(vec![Permission::Billing, Permission::Billing]),
            group_ids: Some(vec![GroupId::new(1), GroupId::new(2)]),
            message: Some("x".repeat(2_001)),
            expires_in_days: Some(31),
            ..Default::default()
        };
        let errors = req.validate(&ctx(BillingSystem::New, &groups)).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "email",
                "role",
                "permissions[1]",
                "group_ids[1]",
                "message",
                "expires_in_days"
            ]
        );
    }

    #[test]
    fn a_pending_invitation_past_its_expiry_is_expired() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(
            effective_status(InvitationStatus::Pending, t, t),
            InvitationStatus::Expired
        );
        assert_eq!(
            effective_status(
                InvitationStatus::Pending,
                t + chrono::Duration::seconds(1),
                t
            ),
            InvitationStatus::Pending
        );
        assert_eq!(
            effective_status(InvitationStatus::Revoked, t, t),
            InvitationStatus::Revoked
        );
    }
}
