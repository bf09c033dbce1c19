//! Everything an invite must know about the account beyond the request, read
//! in ONE statement: is the email already a member, is an invitation for it
//! pending, how close the account is to its hourly limit, which open license
//! would be reserved, and the price of buying one. Each part is an index
//! probe. Usually that statement is the one that takes the account lock
//! (`lock_for_invite`): no round trip of its own while the lock is held.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::accounts::{
    AccountRow, LockedCaller, LockedCallerColumns, locked_caller_columns, locking_update,
};
use super::schema::accounts;
use crate::domain::billing::LicenseType;
use crate::domain::ids::{AccountId, LicenseId, UserId};

#[derive(Debug, Clone)]
pub struct InviteSnapshot {
    pub already_member: bool,
    pub invitation_pending: bool,
    /// Creation time of the `rate_limit`-th newest invitation created after
    /// `rate_window_start`: `Some` means the limit is reached.
    pub rate_limit_reached_by: Option<NaiveDateTime>,
    /// For each license type asked about: its first open license, and its
    /// price in cents (`None` if the account has no price for the type: a
    /// broken account).
    pub licenses: [(LicenseType, Option<LicenseId>, Option<i64>); 2],
}

impl InviteSnapshot {
    /// The open license and price of `license_type`, if it was asked about.
    pub fn license(&self, license_type: LicenseType) -> Option<(Option<LicenseId>, Option<i64>)> {
        self.licenses
            .iter()
            .find(|(asked, ..)| *asked == license_type)
            .map(|&(_, open, price)| (open, price))
    }
}

pub struct InviteSnapshotQuery<'a> {
    pub account_id: AccountId,
    pub email_normalized: &'a str,
    /// The license types the invite may need: which one it does depends on
    /// the account's billing system, unknown before the lock; the same type
    /// twice when it is known.
    pub license_types: [LicenseType; 2],
    pub rate_window_start: NaiveDateTime,
    pub rate_limit: i64,
    pub now: NaiveDateTime,
}

type SnapshotColumns = (
    bool,
    bool,
    Option<NaiveDateTime>,
    Option<LicenseId>,
    Option<i64>,
    Option<LicenseId>,
    Option<i64>,
);

macro_rules! snapshot_columns {
    ($q:expr) => {{
        use diesel::dsl::exists;
        use $crate::db::schema::{invitations, license_prices, licenses, users};
        use $crate::domain::billing::LicenseState;
        use $crate::domain::invitation::InvitationStatus;
        let q: &InviteSnapshotQuery<'_> = $q;
        let open_license = |license_type: LicenseType| {
            licenses::table
                .filter(licenses::account_id.eq(q.account_id))
                .filter(licenses::license_type.eq(license_type.as_str()))
                .filter(licenses::state.eq(LicenseState::Open.as_str()))
                .select(licenses::id)
                .order(licenses::id.asc())
                .single_value()
        };
        let price = |license_type: LicenseType| {
            license_prices::table
                .filter(license_prices::account_id.eq(q.account_id))
                .filter(license_prices::license_type.eq(license_type.as_str()))
                .select(license_prices::price_cents)
                .single_value()
        };
        let [first, second] = q.license_types;
        (
            exists(
                users::table
                    .filter(users::email_normalized.eq(q.email_normalized))
                    .filter(users::account_id.eq(q.account_id)),
            ),
            exists(
                invitations::table
                    .filter(invitations::account_id.eq(q.account_id))
                    .filter(invitations::email_normalized.eq(q.email_normalized))
                    .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
                    .filter(invitations::expires_at.gt(q.now)),
            ),
            invitations::table
                .filter(invitations::account_id.eq(q.account_id))
                .filter(invitations::created_at.gt(q.rate_window_start))
                .select(invitations::created_at)
                .order(invitations::created_at.desc())
                .offset((q.rate_limit - 1).max(0))
                .single_value(),
            open_license(first),
            price(first),
            open_license(second),
            price(second),
        )
    }};
}

fn snapshot(q: &InviteSnapshotQuery<'_>, columns: SnapshotColumns) -> InviteSnapshot {
    let (
        already_member,
        invitation_pending,
        rate_limit_reached_by,
        open_a,
        price_a,
        open_b,
        price_b,
    ) = columns;
    let [first, second] = q.license_types;
    InviteSnapshot {
        already_member,
        invitation_pending,
        rate_limit_reached_by,
        licenses: [(first, open_a, price_a), (second, open_b, price_b)],
    }
}

/// The snapshot on its own, under a lock already held.
pub fn read(conn: &mut DbConnection, q: &InviteSnapshotQuery<'_>) -> QueryResult<InviteSnapshot> {
    let columns = diesel::select(snapshot_columns!(q)).get_result::<SnapshotColumns>(conn)?;
    Ok(snapshot(q, columns))
}

/// `accounts::lock_for_caller` with the snapshot in the same statement. The
/// snapshot holds only if the caller part says it is `current`, and only for
/// `q.now`: the caller rereads it if it expires invitations under the lock.
pub fn lock_for_invite(
    conn: &mut DbConnection,
    caller_id: UserId,
    horizon: NaiveDateTime,
    q: &InviteSnapshotQuery<'_>,
) -> QueryResult<Option<(AccountRow, LockedCaller, InviteSnapshot)>> {
    let id = q.account_id;
    locking_update!(
        id,
        (
            accounts::all_columns,
            locked_caller_columns!(id, caller_id, horizon),
            snapshot_columns!(q),
        )
    )
    .get_result::<(AccountRow, LockedCallerColumns, SnapshotColumns)>(conn)
    .optional()
    .map(|locked| {
        locked.map(|(account, caller, columns)| {
            let caller = LockedCaller::read(&account, caller);
            (account, caller, snapshot(q, columns))
        })
    })
}
