//! Turning rows into contract objects, loading related rows in batches
//! (one query per relation per page, never one per row).

use std::collections::HashMap;

use chrono::NaiveDateTime;

use crate::contract::{self, utc};
use crate::db::{
    self, DbConnection, accounts::AccountRow, charges::ChargeRow, invitations::InvitationRow,
    users::UserRow,
};
use crate::domain::access::{InvitableRole, SubscriberType};
use crate::domain::billing::{ChargeReason, LicenseType};
use crate::domain::ids::{GroupId, InvitationId, UserId};
use crate::domain::invitation::{Delivery, InvitationStatus, effective_status};
use crate::domain::permission;
use crate::error::AppError;

pub fn account(
    conn: &mut DbConnection,
    row: &AccountRow,
    now: NaiveDateTime,
) -> Result<contract::Account, AppError> {
    let period = row.period_at(now)?;
    let prices = db::accounts::prices(conn, row)?
        .into_iter()
        .map(|(license_type, price)| (license_type, price.cents()))
        .collect();
    Ok(contract::Account {
        id: row.id,
        name: row.name.clone(),
        billing_system: row.billing_system()?,
        plan: row.plan()?,
        currency: row.currency.to_string(),
        period_start: utc(period.start),
        period_end: utc(period.end),
        prices,
        created_at: utc(row.created_at),
    })
}

pub fn charge(row: &ChargeRow) -> Result<contract::Charge, AppError> {
    Ok(contract::Charge {
        id: row.id,
        amount_cents: row.amount.cents(),
        currency: row.amount.currency().to_string(),
        license_type: LicenseType::from_db(&row.license_type)?,
        quantity: row.quantity,
        reason: ChargeReason::from_db(&row.reason)?,
        invitation_id: row.invitation_id,
        user_id: row.user_id,
        period_start: utc(row.period_start),
        period_end: utc(row.period_end),
        seconds_remaining: row.seconds_remaining,
        created_at: utc(row.created_at),
    })
}

fn group_map<Owner: Eq + std::hash::Hash>(
    pairs: Vec<(Owner, GroupId)>,
) -> HashMap<Owner, Vec<GroupId>> {
    let mut map: HashMap<Owner, Vec<GroupId>> = HashMap::new();
    for (owner, group) in pairs {
        map.entry(owner).or_default().push(group);
    }
    map
}

pub fn invitations(
    conn: &mut DbConnection,
    rows: Vec<InvitationRow>,
    now: NaiveDateTime,
) -> Result<Vec<contract::Invitation>, AppError> {
    let ids: Vec<InvitationId> = rows.iter().map(|r| r.id).collect();
    let mut inviter_ids: Vec<UserId> = rows.iter().map(|r| r.invited_by_user_id).collect();
    inviter_ids.sort_unstable();
    inviter_ids.dedup();
    let inviters: HashMap<UserId, String> = db::users::find_many(conn, &inviter_ids)?
        .into_iter()
        .map(|u| (u.id, u.full_name()))
        .collect();
    let mut groups = group_map(db::invitations::group_ids_of(conn, &ids)?);
    let mut charges: HashMap<InvitationId, ChargeRow> =
        db::charges::latest_for_invitations(conn, &ids)?
            .into_iter()
            .filter_map(|c| c.invitation_id.map(|id| (id, c)))
            .collect();
    rows.into_iter()
        .map(|row| {
            let inviter = inviters
                .get(&row.invited_by_user_id)
                .cloned()
                .unwrap_or_default();
            let group_ids = groups.remove(&row.id).unwrap_or_default();
            let charge = charges.remove(&row.id);
            invitation_view(row, group_ids, inviter, charge.as_ref(), now)
        })
        .collect()
}

/// One invitation from its row and the facts the row does not hold
/// (`group_ids` in ascending order).
pub fn invitation_view(
    row: InvitationRow,
    mut group_ids: Vec<GroupId>,
    inviter_name: String,
    charge_row: Option<&ChargeRow>,
    now: NaiveDateTime,
) -> Result<contract::Invitation, AppError> {
    group_ids.sort_unstable();
    Ok(contract::Invitation {
        id: row.id,
        account_id: row.account_id,
        email: row.email,
        role: InvitableRole::from_db(&row.role)?,
        subscriber_type: row
            .subscriber_type
            .as_deref()
            .map(SubscriberType::from_db)
            .transpose()?,
        permissions: permission::from_db(&row.permissions)?,
        group_ids,
        message: row.message,
        status: effective_status(InvitationStatus::from_db(&row.status)?, row.expires_at, now),
        expires_at: utc(row.expires_at),
        created_at: utc(row.created_at),
        invited_by: contract::Inviter {
            id: row.invited_by_user_id,
            name: inviter_name,
        },
        accepted_user_id: row.accepted_user_id,
        send_count: row.send_count,
        last_sent_at: row.last_sent_at.map(utc),
        delivery: Delivery::from_db(&row.delivery)?,
        license_type: LicenseType::from_db(&row.license_type)?,
        charge: charge_row.map(charge).transpose()?,
    })
}

pub fn invitation(
    conn: &mut DbConnection,
    row: InvitationRow,
    now: NaiveDateTime,
) -> Result<contract::Invitation, AppError> {
    invitations(conn, vec![row], now)?
        .pop()
        .ok_or_else(|| AppError::internal("invitation view vanished"))
}

pub fn users(conn: &mut DbConnection, rows: Vec<UserRow>) -> Result<Vec<contract::User>, AppError> {
    let ids: Vec<UserId> = rows.iter().map(|r| r.id).collect();
    let mut groups = group_map(db::users::group_ids_of(conn, &ids)?);
    rows.into_iter()
        .map(|row| {
            Ok(contract::User {
                id: row.id,
                account_id: row.account_id,
                role: row.role()?,
                subscriber_type: row.subscriber_type()?,
                permissions: permission::from_db(&row.permissions)?,
                group_ids: groups.remove(&row.id).unwrap_or_default(),
                status: row.status()?,
                created_at: utc(row.created_at),
                email: row.email,
                first_name: row.first_name,
                last_name: row.last_name,
            })
        })
        .collect()
}

pub fn user(conn: &mut DbConnection, row: UserRow) -> Result<contract::User, AppError> {
    users(conn, vec![row])?
        .pop()
        .ok_or_else(|| AppError::internal("user view vanished"))
}
