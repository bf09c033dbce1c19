//! Managing sent invitations: list, read, revoke, resend.

use chrono::NaiveDateTime;

use crate::contract;
use crate::contract::utc;
use crate::db::invitation_list::Lister;
use crate::db::invitations::InvitationRow;
use crate::db::{self, DbConnection, licenses::Holder};
use crate::domain::audit::AuditAction;
use crate::domain::billing::{ChargeReason, LicenseType};
use crate::domain::email::normalize;
use crate::domain::ids::{AccountId, InvitationId, UserId};
use crate::domain::invitation::{InvitationStatus, effective_status};
use crate::domain::paging::PageRequest;
use crate::domain::token;
use crate::error::AppError;
use crate::services::audit::{self, Actor, Subject};
use crate::services::context::{Context, Manager};
use crate::services::invite::queue_invitation_email;
use crate::services::{
    Locked, check_manager, licensing, lock_account_as_manager, lock_account_for_manager,
    rate_limits, require_manager_role, views,
};
use serde_json::json;

pub struct ListFilter {
    pub status: Option<InvitationStatus>,
    pub email: Option<String>,
    pub page: PageRequest,
}

/// A page of the account's invitations. Only the token vouched for the
/// caller (`ManagerCheckedByService`): the caller is checked first, then the
/// query's own errors (`filter`) are reported, as everywhere else. The page's
/// one statement reads the caller's role beside the rows (an empty page asks
/// separately), and every fact of each invitation's view.
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    filter: Result<ListFilter, AppError>,
) -> Result<contract::InvitationPage, AppError> {
    let filter = match filter {
        Ok(filter) => filter,
        Err(error) => {
            check_manager(conn, ctx)?;
            return Err(error);
        }
    };
    let Manager {
        account_id,
        user_id: caller_id,
        ..
    } = ctx.caller;
    let now = ctx.now();
    let email = filter.email.as_deref().map(normalize);
    let rows = db::invitation_list::list(
        conn,
        Lister {
            account_id,
            caller_id,
        },
        filter.status,
        email.as_deref(),
        filter.page,
        now,
    )?;
    match rows.first() {
        None => check_manager(conn, ctx)?,
        Some(row) => require_manager_role(conn, caller_id, account_id, row.caller_role.as_deref())?,
    }
    let (rows, next_cursor) = filter.page.finish(rows, |r| r.invitation.id.get());
    let items = rows
        .into_iter()
        .map(|row| {
            views::invitation_view(
                row.invitation,
                row.group_ids,
                row.inviter_name,
                row.latest_charge.as_ref(),
                now,
            )
        })
        .collect::<Result<_, _>>()?;
    Ok(contract::InvitationPage { items, next_cursor })
}

pub fn get(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    invitation_id: InvitationId,
) -> Result<contract::Invitation, AppError> {
    let (account_id, now) = (ctx.caller.account_id, ctx.now());
    let row = db::invitations::find_in_account(conn, account_id, invitation_id)?
        .ok_or(AppError::NotFound)?;
    views::invitation(conn, row, now)
}

pub fn revoke(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    invitation_id: InvitationId,
) -> Result<contract::Invitation, AppError> {
    let account_id = ctx.caller.account_id;
    ctx.transaction(conn, |conn| {
        let (_, now) = lock_account_as_manager(conn, ctx)?;
        let row = db::invitations::find_in_account(conn, account_id, invitation_id)?
            .ok_or(AppError::NotFound)?;
        if InvitationStatus::from_db(&row.status)? != InvitationStatus::Pending {
            return Err(AppError::InvitationNotPending);
        }
        revoke_pending(conn, ctx.caller.into(), &row, None, now)?;
        let row = db::invitations::find_in_account(conn, account_id, invitation_id)?
            .ok_or(AppError::NotFound)?;
        views::invitation(conn, row, now)
    })
}

/// Why an invitation was revoked without anyone revoking it directly.
#[derive(Debug, Clone, Copy)]
pub enum RevokeReason {
    /// The manager who sent it was disabled.
    InviterDisabled,
    /// The manager who sent it is no longer a manager.
    InviterDemoted,
}

impl RevokeReason {
    fn as_str(self) -> &'static str {
        match self {
            RevokeReason::InviterDisabled => "inviter_disabled",
            RevokeReason::InviterDemoted => "inviter_demoted",
        }
    }
}

/// The one revoke: the invitation becomes `revoked`, its license open, its
/// queued email cancelled, and `invitation.revoked` is recorded (audit trail
/// and webhooks). The caller holds the account lock and has checked that the
/// invitation is pending.
pub fn revoke_pending(
    conn: &mut DbConnection,
    actor: Actor,
    row: &InvitationRow,
    reason: Option<RevokeReason>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    db::invitations::set_status(conn, row.id, InvitationStatus::Revoked, now)?;
    db::licenses::release_for_invitation(conn, row.id, now)?;
    db::outbox::cancel_queued_for_invitation(conn, row.id)?;
    let details = match reason {
        None => json!({"email": row.email}),
        Some(reason) => json!({"email": row.email, "reason": reason.as_str()}),
    };
    audit::record(
        conn,
        row.account_id,
        actor,
        AuditAction::InvitationRevoked,
        Subject::Invitation(row.id),
        details,
        now,
    )
}

/// Revokes every pending invitation `inviter_id` sent, so a manager who was
/// disabled or demoted cannot come back through one of them. Same transaction
/// (and account lock) as the change of the inviter. Returns how many.
pub fn revoke_sent_by(
    conn: &mut DbConnection,
    actor: Actor,
    account_id: AccountId,
    inviter_id: UserId,
    reason: RevokeReason,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let pending = db::invitations::pending_sent_by(conn, account_id, inviter_id)?;
    for row in &pending {
        revoke_pending(conn, actor, row, Some(reason), now)?;
    }
    Ok(pending.len())
}

/// A new token (the old one stops working), a new expiry, and the email again.
/// An expired invitation needs a license again, by the same rules as an invite.
pub fn resend(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    invitation_id: InvitationId,
) -> Result<contract::Invitation, AppError> {
    let (config, account_id) = (&ctx.config, ctx.caller.account_id);
    ctx.transaction(conn, |conn| {
        let Locked {
            account,
            now,
            caller_name,
            ..
        } = lock_account_for_manager(conn, ctx)?;
        let row = db::invitations::find_in_account(conn, account_id, invitation_id)?
            .ok_or(AppError::NotFound)?;
        if InvitationStatus::from_db(&row.status)? == InvitationStatus::Pending
            || InvitationStatus::from_db(&row.status)? == InvitationStatus::Expired
        {
            rate_limits::resend(conn, config, &row, now)?;
        }
        match effective_status(InvitationStatus::from_db(&row.status)?, row.expires_at, now) {
            InvitationStatus::Pending => {}
            InvitationStatus::Expired => {
                let member = db::users::find_by_email(conn, &row.email_normalized)?
                    .filter(|user| user.account_id == account_id);
                if member.is_some() {
                    return Err(AppError::AlreadyMember);
                }
                if db::invitations::find_pending_for_email(
                    conn,
                    account_id,
                    &row.email_normalized,
                    now,
                )?
                .is_some()
                {
                    return Err(AppError::InvitationPending);
                }
                let license_type = LicenseType::from_db(&row.license_type)?;
                let offer = licensing::offer(conn, &account, license_type, now)?;
                licensing::acquire(
                    conn,
                    &account,
                    &offer,
                    Holder::Invitation(row.id),
                    ChargeReason::Invitation,
                    now,
                )?;
            }
            _ => return Err(AppError::InvitationNotPending),
        }
        let issued = token::issue();
        let expires_at = now + chrono::Duration::days(i64::from(row.expires_in_days));
        // The invitation before its messages: the order the mail worker takes
        // them in when it records a send, so the two wait for each other
        // instead of deadlocking.
        let row = db::invitations::reissue(conn, row.id, &issued.hash, expires_at, now)?;
        db::outbox::cancel_queued_for_invitation(conn, row.id)?;
        queue_invitation_email(conn, config, &account, &caller_name, &row, &issued.secret)?;
        audit::record(
            conn,
            account_id,
            ctx.caller.into(),
            AuditAction::InvitationResent,
            Subject::Invitation(row.id),
            json!({"email": row.email, "send_count": row.send_count, "expires_at": utc(row.expires_at)}),
            now,
        )?;
        views::invitation(conn, row, now)
    })
}
