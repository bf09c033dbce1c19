//! Firm members: list, read, change, disable, enable.

use std::collections::HashSet;

use crate::contract;
use crate::db::{self, DbConnection, licenses::Holder};
use crate::domain::access::{Role, UserStatus};
use crate::domain::audit::AuditAction;
use crate::domain::billing::ChargeReason;
use crate::domain::field_error::Partial;
use crate::domain::ids::{GroupId, UserId};
use crate::domain::membership::{self, MAX_GROUP_IDS};
use crate::domain::paging::PageRequest;
use crate::domain::permission;
use crate::error::{AppError, ErrorCode};
use crate::services::audit::{self, Subject};
use crate::services::context::{Context, Manager, Member};
use crate::services::invitation_admin::{self, RevokeReason};
use crate::services::{licensing, lock_account_as_manager, views};
use serde_json::json;

pub fn list(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    status: Option<UserStatus>,
    page: PageRequest,
) -> Result<contract::UserPage, AppError> {
    let account_id = ctx.caller.account_id;
    let rows = db::users::list(conn, account_id, status, page)?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id.get());
    Ok(contract::UserPage {
        items: views::users(conn, rows)?,
        next_cursor,
    })
}

/// Managers read anyone in the account; any member may read themselves.
pub fn get(
    conn: &mut DbConnection,
    ctx: &Context<Member>,
    user_id: UserId,
) -> Result<contract::User, AppError> {
    let account_id = ctx.caller.account_id;
    if ctx.caller.user_id != user_id && !ctx.caller.role.can_manage() {
        return Err(AppError::Forbidden);
    }
    let row = db::users::find_in_account(conn, account_id, user_id)?.ok_or(AppError::NotFound)?;
    views::user(conn, row)
}

/// Changes the fields given and leaves the others as they are. Precedence:
/// the user (404), then every field error at once (422), then the primary
/// subscriber's protection (409).
pub fn update(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    user_id: UserId,
    input: &Partial<contract::UserUpdateRequest>,
) -> Result<contract::User, AppError> {
    let account_id = ctx.caller.account_id;
    ctx.transaction(conn, |conn| {
        let (_, now) = lock_account_as_manager(conn, ctx)?;
        let user =
            db::users::find_in_account(conn, account_id, user_id)?.ok_or(AppError::NotFound)?;
        let request = &input.value;

        let mut errors = Vec::new();
        if let Some(permissions) = &request.permissions {
            errors.extend(membership::permission_errors(permissions));
        }
        if let Some(group_ids) = &request.group_ids {
            let mut requested = group_ids.clone();
            requested.truncate(MAX_GROUP_IDS);
            let known: HashSet<GroupId> = db::groups::existing_ids(conn, account_id, &requested)?
                .into_iter()
                .collect();
            errors.extend(membership::group_id_errors(group_ids, &known));
        }
        if !errors.is_empty() || !input.errors.is_empty() {
            return Err(AppError::Validation(input.merge(errors)));
        }

        if request.role.is_some() && user.role()? == Role::PrimarySubscriber {
            return Err(AppError::Conflict {
                code: ErrorCode::PrimarySubscriberProtected,
                detail: "The primary subscriber's role cannot be changed.".into(),
            });
        }

        let demoted = user.role()?.can_manage()
            && request
                .role
                .is_some_and(|role| !Role::from(role).can_manage());
        if request.role.is_some() || request.permissions.is_some() || request.group_ids.is_some() {
            let permissions = request.permissions.as_deref().map(permission::to_db);
            db::users::update(
                conn,
                user.id,
                &db::users::UserChanges {
                    role: request.role.map(|role| Role::from(role).as_str()),
                    permissions: permissions.as_deref(),
                    updated_at: now,
                },
            )?;
        }
        if let Some(group_ids) = &request.group_ids {
            db::users::replace_groups(conn, user.id, group_ids)?;
        }
        if request.role.is_some() || request.permissions.is_some() || request.group_ids.is_some() {
            audit::record(
                conn,
                account_id,
                ctx.caller.into(),
                AuditAction::UserUpdated,
                Subject::User(user.id),
                json!({
                    "role": request.role,
                    "permissions": request.permissions,
                    "group_ids": request.group_ids,
                }),
                now,
            )?;
        }
        if demoted {
            invitation_admin::revoke_sent_by(
                conn,
                ctx.caller.into(),
                account_id,
                user.id,
                RevokeReason::InviterDemoted,
                now,
            )?;
        }
        let user =
            db::users::find_in_account(conn, account_id, user_id)?.ok_or(AppError::NotFound)?;
        views::user(conn, user)
    })
}

/// Disabling a disabled user changes nothing and answers 200 (safe to retry).
pub fn disable(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    user_id: UserId,
) -> Result<contract::User, AppError> {
    let account_id = ctx.caller.account_id;
    ctx.transaction(conn, |conn| {
        let (_, now) = lock_account_as_manager(conn, ctx)?;
        let user =
            db::users::find_in_account(conn, account_id, user_id)?.ok_or(AppError::NotFound)?;
        if user.role()? == Role::PrimarySubscriber {
            return Err(AppError::Conflict {
                code: ErrorCode::PrimarySubscriberProtected,
                detail: "The primary subscriber cannot be disabled.".into(),
            });
        }
        if user.status()? == UserStatus::Active {
            db::users::set_status(conn, user.id, UserStatus::Disabled, now)?;
            db::licenses::release_for_user(conn, user.id, now)?;
            audit::record(
                conn,
                account_id,
                ctx.caller.into(),
                AuditAction::UserDisabled,
                Subject::User(user.id),
                json!({"email": user.email}),
                now,
            )?;
            // Whatever their role now: a pending invitation they sent must
            // not outlive their access.
            invitation_admin::revoke_sent_by(
                conn,
                ctx.caller.into(),
                account_id,
                user.id,
                RevokeReason::InviterDisabled,
                now,
            )?;
        }
        let user =
            db::users::find_in_account(conn, account_id, user_id)?.ok_or(AppError::NotFound)?;
        views::user(conn, user)
    })
}

/// Takes a license by the same rules as an invite (may charge, may refuse).
/// Enabling an active user changes nothing and answers 200.
pub fn enable(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    user_id: UserId,
) -> Result<contract::User, AppError> {
    let account_id = ctx.caller.account_id;
    ctx.transaction(conn, |conn| {
        let (account, now) = lock_account_as_manager(conn, ctx)?;
        let user =
            db::users::find_in_account(conn, account_id, user_id)?.ok_or(AppError::NotFound)?;
        if user.status()? == UserStatus::Disabled {
            let license_type = account
                .billing_system()?
                .license_type_for(Some(user.subscriber_type()?))
                .ok_or_else(|| AppError::internal("no license type for a user"))?;
            let offer = licensing::offer(conn, &account, license_type, now)?;
            let charge = licensing::acquire(
                conn,
                &account,
                &offer,
                Holder::User(user.id),
                ChargeReason::UserEnabled,
                now,
            )?;
            db::users::set_status(conn, user.id, UserStatus::Active, now)?;
            audit::record(
                conn,
                account_id,
                ctx.caller.into(),
                AuditAction::UserEnabled,
                Subject::User(user.id),
                json!({
                    "email": user.email,
                    "license_type": license_type,
                    "charge_cents": charge.as_ref().map(|c| c.amount.cents()),
                }),
                now,
            )?;
        }
        let user =
            db::users::find_in_account(conn, account_id, user_id)?.ok_or(AppError::NotFound)?;
        views::user(conn, user)
    })
}
