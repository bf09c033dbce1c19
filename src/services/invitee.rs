//! The invitee's side: preview, accept, decline. The token is the credential.

use chrono::NaiveDateTime;

use crate::auth::JwtKeys;
use crate::config::Config;
use crate::contract::{self, utc};
use crate::db::{self, DbConnection, invitations::InvitationRow};
use crate::domain::access::{InvitableRole, Role, SubscriberType, UserStatus};
use crate::domain::audit::AuditAction;
use crate::domain::field_error::{FieldError, Partial};
use crate::domain::ids::GroupId;
use crate::domain::invitation::{InvitationStatus, effective_status};
use crate::domain::name::DisplayName;
use crate::domain::{password, token};
use crate::error::{AppError, is_unique_violation};
use crate::services::audit::{self, Actor, Subject};
use crate::services::context::{Anonymous, Context};
use crate::services::{lock_account, views};
use serde_json::json;

fn find_by_token(conn: &mut DbConnection, secret: &str) -> Result<InvitationRow, AppError> {
    if !token::is_well_formed(secret) {
        return Err(AppError::NotFound);
    }
    db::invitations::find_by_token_hash(conn, &token::hash(secret))?.ok_or(AppError::NotFound)
}

/// Only a pending invitation may be answered; otherwise the matching error.
fn ensure_answerable(row: &InvitationRow, now: NaiveDateTime) -> Result<(), AppError> {
    match effective_status(InvitationStatus::from_db(&row.status)?, row.expires_at, now) {
        InvitationStatus::Pending => Ok(()),
        InvitationStatus::Expired => Err(AppError::InvitationExpired),
        InvitationStatus::Revoked => Err(AppError::InvitationRevoked),
        InvitationStatus::Accepted | InvitationStatus::Declined => {
            Err(AppError::InvitationNotPending)
        }
    }
}

fn preview_of(
    conn: &mut DbConnection,
    config: &Config,
    row: &InvitationRow,
    now: NaiveDateTime,
) -> Result<contract::InvitationPreview, AppError> {
    let account = db::accounts::find(conn, row.account_id)?.ok_or(AppError::NotFound)?;
    let inviter = db::users::find(conn, row.invited_by_user_id)?
        .map(|u| u.full_name())
        .unwrap_or_default();
    Ok(contract::InvitationPreview {
        account_name: account.name,
        inviter_name: inviter,
        email: row.email.clone(),
        role: InvitableRole::from_db(&row.role)?,
        expires_at: utc(row.expires_at),
        status: effective_status(InvitationStatus::from_db(&row.status)?, row.expires_at, now),
        product_name: config.product_name.clone(),
        message: row.message.clone(),
        login_url: config.login_url.clone(),
        password_min_length: password::MIN_PASSWORD_LEN,
        password_max_length: password::MAX_PASSWORD_LEN,
    })
}

/// The answer an accept or decline would get from the invitation's state alone
/// (404, 409, 410), checked before any expensive work on the body.
pub fn check_answerable(
    conn: &mut DbConnection,
    ctx: &Context<Anonymous>,
    secret: &str,
) -> Result<(), AppError> {
    let row = find_by_token(conn, secret)?;
    ensure_answerable(&row, ctx.now())
}

pub fn preview(
    conn: &mut DbConnection,
    ctx: &Context<Anonymous>,
    secret: &str,
) -> Result<contract::InvitationPreview, AppError> {
    let row = find_by_token(conn, secret)?;
    preview_of(conn, &ctx.config, &row, ctx.now())
}

/// A checked accept request.
pub struct Acceptance {
    first_name: DisplayName,
    last_name: DisplayName,
    password_hash: String,
}

/// Checks the body (all errors at once) and hashes the password, before any transaction.
pub fn prepare_acceptance(
    input: &Partial<contract::AcceptRequest>,
) -> Result<Acceptance, AppError> {
    let request = &input.value;
    let mut errors = Vec::new();
    let mut name = |field: &str, value: &Option<String>| {
        DisplayName::parse_field(field, value.as_deref())
            .map_err(|e| errors.push(e))
            .ok()
    };
    let first_name = name("first_name", &request.first_name);
    let last_name = name("last_name", &request.last_name);
    let secret = request.password.clone().unwrap_or_default();
    let length = secret.chars().count();
    if request.password.is_none() {
        errors.push(FieldError::required("password"));
    } else if length < password::MIN_PASSWORD_LEN {
        errors.push(FieldError::new(
            "password",
            "too_short",
            format!(
                "password must be at least {} characters",
                password::MIN_PASSWORD_LEN
            ),
        ));
    } else if length > password::MAX_PASSWORD_LEN {
        errors.push(FieldError::new(
            "password",
            "too_long",
            format!(
                "password must be at most {} characters",
                password::MAX_PASSWORD_LEN
            ),
        ));
    }
    if !errors.is_empty() || !input.errors.is_empty() {
        return Err(AppError::Validation(input.merge(errors)));
    }
    let (Some(first_name), Some(last_name)) = (first_name, last_name) else {
        return Err(AppError::Validation(input.merge(errors)));
    };
    Ok(Acceptance {
        first_name,
        last_name,
        password_hash: password::hash(&secret)?,
    })
}

pub fn accept(
    conn: &mut DbConnection,
    ctx: &Context<Anonymous>,
    jwt: &JwtKeys,
    secret: &str,
    acceptance: &Acceptance,
) -> Result<contract::SessionGrant, AppError> {
    let config = &ctx.config;
    let account_id = find_by_token(conn, secret)?.account_id;
    let (user, now) = ctx.transaction(conn, |conn| {
        let (account, now) = lock_account(conn, account_id, &ctx.clock)?;
        // Read again under the lock: it may have been answered, revoked or resent meanwhile.
        let invitation = find_by_token(conn, secret)?;
        ensure_answerable(&invitation, now)?;
        if db::users::find_by_email(conn, &invitation.email_normalized)?.is_some() {
            return Err(AppError::EmailTaken);
        }
        let role = Role::from(InvitableRole::from_db(&invitation.role)?);
        let subscriber_type = match invitation.subscriber_type.as_deref() {
            Some(s) => SubscriberType::from_db(s)?,
            None => SubscriberType::NonAttorney,
        };
        let user = db::users::insert(
            conn,
            &db::users::NewUser {
                account_id: account.id,
                email: &invitation.email,
                email_normalized: &invitation.email_normalized,
                first_name: acceptance.first_name.as_str(),
                last_name: acceptance.last_name.as_str(),
                password_hash: &acceptance.password_hash,
                role: role.as_str(),
                subscriber_type: subscriber_type.as_str(),
                permissions: &invitation.permissions,
                status: UserStatus::Active.as_str(),
                created_at: now,
                updated_at: now,
            },
        )
        .map_err(|e| {
            if is_unique_violation(&e) {
                AppError::EmailTaken
            } else {
                e.into()
            }
        })?;
        let groups: Vec<GroupId> = db::invitations::group_ids_of(conn, &[invitation.id])?
            .into_iter()
            .map(|(_, group)| group)
            .collect();
        db::users::add_to_groups(conn, user.id, &groups)?;
        if db::licenses::assign_reserved(conn, invitation.id, user.id, now)? != 1 {
            return Err(AppError::internal(format!(
                "invitation {} held no reserved license",
                invitation.id
            )));
        }
        db::invitations::mark_accepted(conn, invitation.id, user.id, now)?;
        audit::record(
            conn,
            account.id,
            Actor::Invitee,
            AuditAction::InvitationAccepted,
            Subject::Invitation(invitation.id),
            json!({"email": invitation.email, "user_id": user.id}),
            now,
        )?;
        Ok((views::user(conn, user)?, now))
    })?;
    let access_token = jwt.issue(user.account_id, user.id, config.access_token_ttl, now)?;
    Ok(contract::SessionGrant {
        user,
        access_token,
        token_type: "Bearer".into(),
        expires_in: config.access_token_ttl.as_secs(),
    })
}

pub fn decline(
    conn: &mut DbConnection,
    ctx: &Context<Anonymous>,
    secret: &str,
) -> Result<contract::InvitationPreview, AppError> {
    let account_id = find_by_token(conn, secret)?.account_id;
    ctx.transaction(conn, |conn| {
        let (_, now) = lock_account(conn, account_id, &ctx.clock)?;
        let invitation = find_by_token(conn, secret)?;
        ensure_answerable(&invitation, now)?;
        db::invitations::set_status(conn, invitation.id, InvitationStatus::Declined, now)?;
        db::licenses::release_for_invitation(conn, invitation.id, now)?;
        db::outbox::cancel_queued_for_invitation(conn, invitation.id)?;
        audit::record(
            conn,
            account_id,
            Actor::Invitee,
            AuditAction::InvitationDeclined,
            Subject::Invitation(invitation.id),
            json!({"email": invitation.email}),
            now,
        )?;
        let invitation = find_by_token(conn, secret)?;
        preview_of(conn, &ctx.config, &invitation, now)
    })
}
