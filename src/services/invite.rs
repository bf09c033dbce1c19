//! Inviting one email, and quoting what that would do.

use std::collections::HashSet;

use crate::config::Config;
use crate::contract;
use crate::db::{
    self, DbConnection,
    accounts::AccountRow,
    invite_snapshot::{InviteSnapshot, InviteSnapshotQuery},
    licenses::Holder,
};
use crate::domain::audit::AuditAction;
use crate::domain::billing::{BillingSystem, ChargeReason, LicenseType};
use crate::domain::email::EmailAddress;
use crate::domain::field_error::Partial;
use crate::domain::ids::GroupId;
use crate::domain::invitation::{
    Delivery, DraftContext, InvitationDraft, InvitationRequest, InvitationStatus,
};
use crate::domain::money::Money;
use crate::domain::{permission, token};
use crate::error::{AppError, is_unique_violation};
use crate::mail::{self, template::InvitationEmail};
use crate::services::audit::{self, Subject};
use crate::services::context::{Context, Manager};
use crate::services::licensing::{self, LicenseOffer};
use crate::services::rate_limits;
use crate::services::{
    Locked, lock_account_for_manager, lock_for_manager_reading, views, without_writing,
};
use serde_json::json;

/// A valid request judged against the account as it is now.
struct Assessment {
    draft: InvitationDraft,
    offer: LicenseOffer,
    /// Why the invite would be refused, if it would.
    refusal: Option<AppError>,
}

/// Takes the account lock for the caller and judges the request under it.
/// When the body names an email, what the invite must know about the account
/// is read in the locking statement itself, for both license types the body
/// may need (the account's billing system decides which).
fn lock_and_assess(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    request: Result<Partial<InvitationRequest>, AppError>,
) -> Result<(Locked, Assessment), AppError> {
    let config = &ctx.config;
    let probe = request.as_ref().ok().and_then(|r| probe_of(&r.value));
    let (locked, snapshot) = match probe {
        Some((email, license_types)) => {
            lock_for_manager_reading(conn, ctx, |conn, read_at, horizon| {
                let (rate_window_start, rate_limit) =
                    rate_limits::invitations_window(config, read_at);
                db::invite_snapshot::lock_for_invite(
                    conn,
                    ctx.caller.user_id,
                    horizon,
                    &InviteSnapshotQuery {
                        account_id: ctx.caller.account_id,
                        email_normalized: email.normalized(),
                        license_types,
                        rate_window_start,
                        rate_limit,
                        now: read_at,
                    },
                )
            })?
        }
        None => (lock_account_for_manager(conn, ctx)?, None),
    };
    let request = request?;
    let assessment = assess(conn, config, &locked, &request, snapshot)?;
    Ok((locked, assessment))
}

/// The email and the license types a body may need, if it names a valid email.
fn probe_of(request: &InvitationRequest) -> Option<(EmailAddress, [LicenseType; 2])> {
    let email = EmailAddress::parse(request.email.as_deref()?).ok()?;
    let mut types = BillingSystem::ALL
        .iter()
        .filter_map(|system| system.license_type_for(request.subscriber_type));
    let first = types.next()?;
    Some((email, [first, types.next().unwrap_or(first)]))
}

fn assess(
    conn: &mut DbConnection,
    config: &Config,
    locked: &Locked,
    input: &Partial<InvitationRequest>,
    snapshot: Option<InviteSnapshot>,
) -> Result<Assessment, AppError> {
    let Locked {
        ref account, now, ..
    } = *locked;
    let request = &input.value;
    let mut requested = request.group_ids.clone().unwrap_or_default();
    requested.truncate(crate::domain::membership::MAX_GROUP_IDS);
    let known_group_ids: HashSet<GroupId> = db::groups::existing_ids(conn, account.id, &requested)?
        .into_iter()
        .collect();
    let checked = request.validate(&DraftContext {
        billing_system: account.billing_system()?,
        default_expiry_days: config.invitation_expiry_days,
        known_group_ids: &known_group_ids,
    });
    let draft = match checked {
        Ok(draft) if input.errors.is_empty() => draft,
        Ok(_) => return Err(AppError::Validation(input.errors.clone())),
        Err(rule_errors) => return Err(AppError::Validation(input.merge(rule_errors))),
    };
    // Read with the lock when it was (the probe parsed the same email);
    // else (invitations were expired under the lock) now.
    let read_with_the_lock = snapshot.and_then(|s| {
        let license = s.license(draft.license_type)?;
        Some((s, license))
    });
    let (snapshot, (open_license_id, price_cents)) = match read_with_the_lock {
        Some(read) => read,
        None => {
            let (rate_window_start, rate_limit) = rate_limits::invitations_window(config, now);
            let snapshot = db::invite_snapshot::read(
                conn,
                &InviteSnapshotQuery {
                    account_id: account.id,
                    email_normalized: draft.email.normalized(),
                    license_types: [draft.license_type; 2],
                    rate_window_start,
                    rate_limit,
                    now,
                },
            )?;
            let license = snapshot
                .license(draft.license_type)
                .ok_or_else(|| AppError::internal("no snapshot of the invite's license type"))?;
            (snapshot, license)
        }
    };
    let offer = licensing::offer_from(
        account,
        draft.license_type,
        open_license_id,
        price_cents.map(|cents| Money::new(cents, account.currency)),
        now,
    )?;
    let refusal = if let Err(limited) =
        rate_limits::invitations_per_hour(config, snapshot.rate_limit_reached_by, now)
    {
        Some(limited)
    } else if snapshot.already_member {
        Some(AppError::AlreadyMember)
    } else if snapshot.invitation_pending {
        Some(AppError::InvitationPending)
    } else {
        offer.refusal(account.id)
    };
    Ok(Assessment {
        draft,
        offer,
        refusal,
    })
}

/// Invites one email as the caller, whose right to manage the account is
/// checked under the account lock; the body's own errors (`request`) come
/// after that check, so a caller who may not invite learns nothing from them.
pub fn create(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    request: Result<Partial<InvitationRequest>, AppError>,
) -> Result<contract::Invitation, AppError> {
    let config = &ctx.config;
    let Manager {
        user_id: caller_id,
        account_id,
        ..
    } = ctx.caller;
    ctx.transaction(conn, |conn| {
        let (
            locked,
            Assessment {
                draft,
                offer,
                refusal,
            },
        ) = lock_and_assess(conn, ctx, request)?;
        let Locked {
            ref account,
            now,
            ref caller_name,
            ..
        } = locked;
        if let Some(refusal) = refusal {
            return Err(refusal);
        }
        let issued = token::issue();
        let expires_at = now + chrono::Duration::days(draft.expires_in_days);
        let row = db::invitations::insert(
            conn,
            &db::invitations::NewInvitation {
                account_id,
                email: draft.email.as_str(),
                email_normalized: draft.email.normalized(),
                role: draft.role.as_str(),
                subscriber_type: draft.subscriber_type.map(|s| s.as_str()),
                permissions: &permission::to_db(&draft.permissions),
                message: draft.message.as_deref(),
                status: InvitationStatus::Pending.as_str(),
                token_hash: &issued.hash,
                expires_in_days: i32::try_from(draft.expires_in_days)
                    .map_err(|_| AppError::internal("expires_in_days out of range"))?,
                expires_at,
                invited_by_user_id: caller_id,
                send_count: 1,
                last_sent_at: Some(now),
                delivery: Delivery::Queued.as_str(),
                license_type: draft.license_type.as_str(),
                created_at: now,
                updated_at: now,
            },
        )
        .map_err(|e| {
            if is_unique_violation(&e) {
                AppError::InvitationPending
            } else {
                e.into()
            }
        })?;
        db::invitations::link_groups(conn, row.id, &draft.group_ids)?;
        let charge = licensing::acquire(
            conn,
            account,
            &offer,
            Holder::Invitation(row.id),
            ChargeReason::Invitation,
            now,
        )?;
        queue_invitation_email(conn, config, account, caller_name, &row, &issued.secret)?;
        audit::record_locked(
            conn,
            &locked,
            ctx.caller.into(),
            AuditAction::InvitationCreated,
            Subject::Invitation(row.id),
            json!({
                "email": row.email,
                "role": row.role,
                "license_type": row.license_type,
                "charge_cents": charge.as_ref().map(|c| c.amount.cents()),
            }),
        )?;
        // Built from what this transaction already knows: no reads to answer.
        views::invitation_view(
            row,
            draft.group_ids,
            caller_name.clone(),
            charge.as_ref(),
            now,
        )
    })
}

/// Renders the invitation email with its token and queues it in this transaction.
pub fn queue_invitation_email(
    conn: &mut DbConnection,
    config: &Config,
    account: &AccountRow,
    inviter_name: &str,
    invitation: &db::invitations::InvitationRow,
    secret: &str,
) -> Result<(), AppError> {
    let rendered = InvitationEmail {
        product_name: &config.product_name,
        account_name: &account.name,
        inviter_name,
        message: invitation.message.as_deref(),
        expires_at: invitation.expires_at,
        app_url: &config.app_url,
        token: secret,
    }
    .render()?;
    mail::enqueue(
        conn,
        account.id,
        Some(invitation.id),
        &invitation.email,
        &rendered,
        invitation.updated_at,
    )?;
    Ok(())
}

/// What `create` would do with this body right now, computed by the same code
/// under the same lock, in a transaction that is rolled back: it changes nothing.
pub fn quote(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    request: Result<Partial<InvitationRequest>, AppError>,
) -> Result<contract::Quote, AppError> {
    without_writing(conn, |conn| {
        let (_, Assessment { offer, refusal, .. }) = lock_and_assess(conn, ctx, request)?;
        let allowed = refusal.is_none();
        Ok(contract::Quote {
            allowed,
            refusal_code: refusal
                .map(|r| contract::RefusalCode::try_from(r.code()))
                .transpose()?,
            license_available: offer.license_available(),
            license_type: offer.license_type,
            charge: if allowed { offer.charge_quote() } else { None },
        })
    })
}

/// At most this many invitations in one bulk request.
pub const MAX_BULK: usize = 100;

/// Invites each item on its own (its own transaction), in order; an item's
/// failure does not affect the others.
pub fn create_many(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    items: Vec<Result<Partial<InvitationRequest>, AppError>>,
) -> Result<Vec<Result<contract::Invitation, AppError>>, AppError> {
    if items.len() > MAX_BULK {
        return Err(AppError::PayloadTooLarge(format!(
            "A bulk request holds at most {MAX_BULK} invitations."
        )));
    }
    Ok(items
        .into_iter()
        .map(|request| create(conn, ctx, request))
        .collect())
}
