//! The public data contract: request and response bodies exactly as clients
//! see them (and as the OpenAPI document describes them).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::access::{InvitableRole, Role, SubscriberType, UserStatus};
use crate::domain::billing::{BillingSystem, ChargeReason, LicenseType, Plan};
use crate::domain::ids::{
    AccountId, AuditEventId, ChargeId, GroupId, InvitationId, UserId, WebhookId,
};
use crate::domain::invitation::{Delivery, InvitationStatus};
use crate::domain::permission::Permission;
use crate::error::{AppError, ErrorCode};

pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// Timestamps exactly as chrono's own `Serialize` writes them (RFC 3339,
/// `Z`, only the sub-second digits that are not all zero), formatted once and
/// written as one string: chrono's goes through `collect_str`, which escapes
/// the text piece by piece as it is formatted (about a tenth of the service's
/// CPU for a list of 50, in a profile).
mod rfc3339 {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::Serializer;

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }

    pub fn serialize_option<S: Serializer>(
        t: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => serialize(t, s),
            None => s.serialize_none(),
        }
    }

    #[cfg(test)]
    mod tests {
        use chrono::NaiveDate;

        #[test]
        fn writes_what_chrono_writes() {
            let day = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
            for nanos in [0, 305_000_000, 305_693_000, 305_693_123] {
                let t = day.and_hms_nano_opt(14, 39, 52, nanos).unwrap().and_utc();
                let mut ours = Vec::new();
                super::serialize(&t, &mut serde_json::Serializer::new(&mut ours)).unwrap();
                assert_eq!(
                    String::from_utf8(ours).unwrap(),
                    serde_json::to_string(&t).unwrap()
                );
            }
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    #[schema(value_type = i64)]
    pub id: AccountId,
    pub name: String,
    pub billing_system: BillingSystem,
    pub plan: Plan,
    /// ISO 4217 code.
    pub currency: String,
    /// Start of the current billing period.
    #[serde(serialize_with = "rfc3339::serialize")]
    pub period_start: DateTime<Utc>,
    /// End (exclusive) of the current billing period.
    #[serde(serialize_with = "rfc3339::serialize")]
    pub period_end: DateTime<Utc>,
    /// Price in cents of one license for one whole period, per license type.
    #[schema(example = json!({"attorney": 120000, "non_attorney": 60000}))]
    pub prices: BTreeMap<String, i64>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Inviter {
    #[schema(value_type = i64)]
    pub id: UserId,
    pub name: String,
}

/// A charge in the ledger. Money is integer cents.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Charge {
    #[schema(value_type = i64)]
    pub id: ChargeId,
    pub amount_cents: i64,
    pub currency: String,
    pub license_type: LicenseType,
    /// Licenses bought by this charge (`amount_cents` covers all of them).
    pub quantity: i32,
    pub reason: ChargeReason,
    #[schema(value_type = Option<i64>)]
    #[schema(required = true)]
    pub invitation_id: Option<InvitationId>,
    #[schema(value_type = Option<i64>)]
    #[schema(required = true)]
    pub user_id: Option<UserId>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub period_start: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub period_end: DateTime<Utc>,
    /// Whole seconds from the charge to the period's end that were paid for.
    pub seconds_remaining: i64,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invitation {
    #[schema(value_type = i64)]
    pub id: InvitationId,
    #[schema(value_type = i64)]
    pub account_id: AccountId,
    /// As typed (trimmed).
    pub email: String,
    pub role: InvitableRole,
    #[schema(required = true)]
    pub subscriber_type: Option<SubscriberType>,
    pub permissions: Vec<Permission>,
    #[schema(value_type = Vec<i64>)]
    pub group_ids: Vec<GroupId>,
    #[schema(required = true)]
    pub message: Option<String>,
    pub status: InvitationStatus,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub expires_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    pub invited_by: Inviter,
    #[schema(value_type = Option<i64>)]
    #[schema(required = true)]
    pub accepted_user_id: Option<UserId>,
    pub send_count: i32,
    #[schema(required = true)]
    #[serde(serialize_with = "rfc3339::serialize_option")]
    pub last_sent_at: Option<DateTime<Utc>>,
    pub delivery: Delivery,
    pub license_type: LicenseType,
    /// The charge this invitation caused (the latest one, if resending bought another license), or null.
    #[schema(required = true)]
    pub charge: Option<Charge>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationPage {
    pub items: Vec<Invitation>,
    /// Pass as `cursor` to get the next page; null on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    #[schema(value_type = i64)]
    pub id: UserId,
    #[schema(value_type = i64)]
    pub account_id: AccountId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub subscriber_type: SubscriberType,
    pub permissions: Vec<Permission>,
    #[schema(value_type = Vec<i64>)]
    pub group_ids: Vec<GroupId>,
    pub status: UserStatus,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
}

/// Body of `PATCH .../users/{user_id}`: every field is optional; a field that
/// is absent is left unchanged (`{}` changes nothing), and `null` is refused.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdateRequest {
    /// The new role. `primary_subscriber` cannot be given, and the primary
    /// subscriber's role cannot be changed (`409 primary_subscriber_protected`).
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub role: Option<InvitableRole>,
    /// Replaces the user's permissions: distinct names from `GET /permissions`
    /// (`[]` removes them all).
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub permissions: Option<Vec<Permission>>,
    /// Replaces the user's group memberships: distinct ids of this account's
    /// groups, at most 100 (`[]` removes them all).
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, max_items = 100, value_type = Option<Vec<i64>>)]
    pub group_ids: Option<Vec<GroupId>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<User>,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChargePage {
    pub items: Vec<Charge>,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// What the invitee sees before accepting (served for every `status`, so
/// that a page can explain an expired, revoked or answered invitation).
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationPreview {
    /// The firm's account name.
    pub account_name: String,
    /// Who sent the invitation (first and last name).
    pub inviter_name: String,
    pub email: String,
    pub role: InvitableRole,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub expires_at: DateTime<Utc>,
    pub status: InvitationStatus,
    /// The product the invitee joins (`INVITATIONS_PRODUCT_NAME`).
    pub product_name: String,
    /// The inviter's personal message, if any (plain text).
    #[schema(required = true)]
    pub message: Option<String>,
    /// Where a member signs in once the invitation is accepted
    /// (`INVITATIONS_LOGIN_URL`, by default `INVITATIONS_APP_URL`).
    pub login_url: String,
    /// The shortest password accept takes, in characters.
    pub password_min_length: usize,
    /// The longest password accept takes, in characters.
    pub password_max_length: usize,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    /// 1–100 characters (trimmed), without control or formatting characters
    /// (line breaks, NUL, escape, bidirectional overrides, zero-width characters):
    /// otherwise a `422` field error, `invalid_characters`.
    #[serde(default)]
    #[schema(required = true, value_type = String, max_length = 100)]
    pub first_name: Option<String>,
    /// Same rule as `first_name`.
    #[serde(default)]
    #[schema(required = true, value_type = String, max_length = 100)]
    pub last_name: Option<String>,
    /// 8–1024 characters.
    #[serde(default)]
    #[schema(required = true, value_type = String, min_length = 8, max_length = 1024, format = Password)]
    pub password: Option<String>,
}

/// A bearer token and the user it belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionGrant {
    pub user: User,
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    #[serde(default)]
    #[schema(required = true, value_type = String, format = Email)]
    pub email: Option<String>,
    #[serde(default)]
    #[schema(required = true, value_type = String, format = Password)]
    pub password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionInfo {
    pub name: Permission,
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionCatalog {
    pub items: Vec<PermissionInfo>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LicenseCount {
    pub license_type: LicenseType,
    /// Price in cents of one license for one whole period.
    pub price_cents: i64,
    /// Always `open + reserved + assigned`.
    pub total: i64,
    pub open: i64,
    pub reserved: i64,
    pub assigned: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LicenseSummary {
    pub items: Vec<LicenseCount>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyLicensesRequest {
    /// `attorney` / `non_attorney` on classic accounts, `user` on new ones.
    #[serde(default)]
    #[schema(required = true, value_type = LicenseType)]
    pub license_type: Option<LicenseType>,
    /// 1–100.
    #[serde(default)]
    #[schema(required = true, value_type = i64, minimum = 1, maximum = 100)]
    pub quantity: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LicensePurchase {
    /// One ledger line for the whole purchase: `quantity` × the prorated price of one license.
    pub charge: Charge,
    pub licenses: LicenseSummary,
}

/// What a charge would be if the request were made now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChargeQuote {
    pub amount_cents: i64,
    pub currency: String,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub period_start: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub period_end: DateTime<Utc>,
    pub seconds_remaining: i64,
}

/// The outcome the same invitation would have right now. Changes nothing.
#[derive(Debug, Serialize, ToSchema)]
pub struct Quote {
    pub allowed: bool,
    /// The error `code` the invite would fail with; null when allowed.
    #[schema(required = true)]
    pub refusal_code: Option<RefusalCode>,
    /// Whether an open license of `license_type` exists (reused for free).
    pub license_available: bool,
    pub license_type: LicenseType,
    /// The charge the invite would record; null when none.
    #[schema(required = true)]
    pub charge: Option<ChargeQuote>,
}

/// Why a valid invite would be refused: the error `code` it would fail with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    RateLimited,
    AlreadyMember,
    InvitationPending,
    NoAvailableLicense,
}

impl TryFrom<ErrorCode> for RefusalCode {
    type Error = AppError;

    fn try_from(code: ErrorCode) -> Result<Self, AppError> {
        match code {
            ErrorCode::RateLimited => Ok(RefusalCode::RateLimited),
            ErrorCode::AlreadyMember => Ok(RefusalCode::AlreadyMember),
            ErrorCode::InvitationPending => Ok(RefusalCode::InvitationPending),
            ErrorCode::NoAvailableLicense => Ok(RefusalCode::NoAvailableLicense),
            other => Err(AppError::internal(format!("{other} is not a refusal"))),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Group {
    #[schema(value_type = i64)]
    pub id: GroupId,
    pub name: String,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupList {
    pub items: Vec<Group>,
}

/// Body of `POST .../groups` and `PATCH .../groups/{group_id}` (a rename).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupRequest {
    /// 1–100 characters (trimmed), without control or formatting characters
    /// (`invalid_characters`); unique per account, case-insensitively.
    #[serde(default)]
    #[schema(required = true, value_type = String, max_length = 100)]
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// Body of `POST .../invitations/bulk`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkInvitationRequest {
    /// Up to 100 invitation requests; more is `413 payload_too_large`.
    #[schema(value_type = Vec<crate::domain::invitation::InvitationRequest>, max_items = 100)]
    pub invitations: Vec<serde_json::Value>,
}

/// The outcome of one item of a bulk request.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    /// Position of the item in the request.
    pub index: usize,
    /// The HTTP status this item alone would have had (201 when invited).
    pub status: u16,
    /// The invitation, when `status` is 201.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation: Option<Invitation>,
    /// Why the item failed, otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<crate::contract::Problem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResponse {
    /// One result per item, in request order.
    pub results: Vec<BulkResult>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActor {
    /// `user` (then `user_id` is set), `invitee` (the holder of an invitation token),
    /// `system`, or `scim_token` (a directory through a SCIM token: then `scim_token_id` is set).
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub kind: crate::domain::audit::ActorKind,
    #[schema(value_type = Option<i64>)]
    #[schema(required = true)]
    pub user_id: Option<UserId>,
    #[schema(value_type = Option<i64>)]
    #[schema(required = true)]
    pub scim_token_id: Option<crate::domain::ids::ScimTokenId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditSubject {
    /// `invitation`, `user`, `group`, `charge` or `webhook`.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub kind: crate::domain::audit::SubjectKind,
    pub id: i64,
}

/// One entry of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    #[schema(value_type = i64)]
    pub id: AuditEventId,
    /// e.g. `invitation.created`, `invitation.accepted`, `user.disabled`, `licenses.purchased`.
    #[schema(value_type = String)]
    pub action: crate::domain::audit::AuditAction,
    pub actor: AuditActor,
    pub subject: AuditSubject,
    /// Facts of the event (e.g. the email, the license type, the amount charged). Never a token.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventPage {
    pub items: Vec<AuditEvent>,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// Where events are POSTed: an `http` or `https` URL, at most 2,048 characters.
    #[serde(default)]
    #[schema(required = true, value_type = String, max_length = 2048)]
    pub url: Option<String>,
    /// Event types to send (distinct); all of them when absent.
    #[serde(default)]
    #[schema(nullable = false)]
    pub events: Option<Vec<crate::domain::audit::WebhookEvent>>,
}

/// An endpoint events are delivered to. Each delivery is a POST of a JSON
/// event `{id, type, created_at, account_id, subject, data}` with the header
/// `Invitations-Signature: t={unix seconds},v1={hex HMAC-SHA256(secret, "{t}.{body}")}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookEndpoint {
    #[schema(value_type = i64)]
    pub id: WebhookId,
    pub url: String,
    pub events: Vec<crate::domain::audit::WebhookEvent>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    /// The signing secret: returned once, when the endpoint is created (not in
    /// an `Idempotency-Key` replay of that answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl WebhookEndpoint {
    /// The same endpoint as it may be shown again: without its secret.
    pub fn without_secret(&self) -> WebhookEndpoint {
        WebhookEndpoint {
            secret: None,
            ..self.clone()
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointList {
    pub items: Vec<WebhookEndpoint>,
}

/// `#[serde(default, deserialize_with = "not_null")]` on an optional field of a
/// PATCH body: absent means "leave unchanged", so `null` is not quietly read
/// as absent but refused as a wrong type (422) naming the field.
pub fn not_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// RFC 9457 problem details as this service sends them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// URI reference identifying the problem type: `/problems/{code}`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Identifies this occurrence: `urn:request:{X-Request-Id}`.
    pub instance: String,
    /// Stable snake_case code to switch on.
    pub code: String,
    /// On 422 `validation_failed`: every invalid field (at most 100 are listed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<crate::domain::field_error::FieldError>>,
    /// On 409 `no_available_license`: the license type that has no open license.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_type: Option<LicenseType>,
    /// On 409 `no_available_license`: where to buy licenses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buy_licenses_url: Option<String>,
}
