//! Everything an invite must know about the account beyond the request, read
//! under the account lock in ONE statement (one round trip while the lock is
//! held): is the email already a member, is an invitation for it pending, how
//! close the account is to its hourly limit, which open license would be
//! reserved, and the price of buying one. Each part is an index probe.

use chrono::NaiveDateTime;
use diesel::dsl::exists;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{invitations, license_prices, licenses, users};
use crate::domain::billing::{LicenseState, LicenseType};
use crate::domain::ids::{AccountId, LicenseId};
use crate::domain::invitation::InvitationStatus;
use crate::domain::money::{Currency, Money};

#[derive(Debug, Clone)]
pub struct InviteSnapshot {
    pub already_member: bool,
    pub invitation_pending: bool,
    /// Creation time of the `rate_limit`-th newest invitation created after
    /// `rate_window_start`: `Some` means the limit is reached.
    pub rate_limit_reached_by: Option<NaiveDateTime>,
    pub open_license_id: Option<LicenseId>,
    /// `None` if the account has no price for the type (a broken account).
    pub price: Option<Money>,
}

pub struct InviteSnapshotQuery<'a> {
    pub account_id: AccountId,
    pub email_normalized: &'a str,
    pub license_type: LicenseType,
    /// The account's currency, the one its prices are in.
    pub currency: Currency,
    pub rate_window_start: NaiveDateTime,
    pub rate_limit: i64,
    pub now: NaiveDateTime,
}

pub fn read(conn: &mut DbConnection, q: &InviteSnapshotQuery<'_>) -> QueryResult<InviteSnapshot> {
    let member = users::table
        .filter(users::email_normalized.eq(q.email_normalized))
        .filter(users::account_id.eq(q.account_id));
    let pending = invitations::table
        .filter(invitations::account_id.eq(q.account_id))
        .filter(invitations::email_normalized.eq(q.email_normalized))
        .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
        .filter(invitations::expires_at.gt(q.now));
    let nth_recent = invitations::table
        .filter(invitations::account_id.eq(q.account_id))
        .filter(invitations::created_at.gt(q.rate_window_start))
        .select(invitations::created_at)
        .order(invitations::created_at.desc())
        .offset((q.rate_limit - 1).max(0))
        .single_value();
    let open_license = licenses::table
        .filter(licenses::account_id.eq(q.account_id))
        .filter(licenses::license_type.eq(q.license_type.as_str()))
        .filter(licenses::state.eq(LicenseState::Open.as_str()))
        .select(licenses::id)
        .order(licenses::id.asc())
        .single_value();
    let price = license_prices::table
        .filter(license_prices::account_id.eq(q.account_id))
        .filter(license_prices::license_type.eq(q.license_type.as_str()))
        .select(license_prices::price_cents)
        .single_value();
    let (already_member, invitation_pending, rate_limit_reached_by, open_license_id, price) =
        diesel::select((
            exists(member),
            exists(pending),
            nth_recent,
            open_license,
            price,
        ))
        .get_result::<(
            bool,
            bool,
            Option<NaiveDateTime>,
            Option<LicenseId>,
            Option<i64>,
        )>(conn)?;
    Ok(InviteSnapshot {
        already_member,
        invitation_pending,
        rate_limit_reached_by,
        open_license_id,
        price: price.map(|cents| Money::new(cents, q.currency)),
    })
}
