//! Licenses: one row per seat, `open`, `reserved` (by a pending invitation) or
//! `assigned` (to an active user). Callers hold the account lock.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::prepared::Prepared;
use super::schema::{license_counts, licenses};
use crate::domain::billing::{LicenseState, LicenseType};
use crate::domain::ids::{AccountId, InvitationId, LicenseId, UserId};

/// Who a license is for when it leaves the `open` state.
#[derive(Debug, Clone, Copy)]
pub enum Holder {
    Invitation(InvitationId),
    User(UserId),
}

impl Holder {
    fn columns(self) -> (&'static str, Option<InvitationId>, Option<UserId>) {
        match self {
            Holder::Invitation(id) => (LicenseState::Reserved.as_str(), Some(id), None),
            Holder::User(id) => (LicenseState::Assigned.as_str(), None, Some(id)),
        }
    }
}

/// Adds `quantity` licenses of a type, all open.
pub fn add_open(
    conn: &mut DbConnection,
    account_id: AccountId,
    license_type: LicenseType,
    quantity: i64,
    now: NaiveDateTime,
) -> QueryResult<()> {
    for _ in 0..quantity {
        insert(conn, account_id, license_type, None, now)?;
    }
    Ok(())
}

/// Adds one license, open or already held.
pub fn insert(
    conn: &mut DbConnection,
    account_id: AccountId,
    license_type: LicenseType,
    holder: Option<Holder>,
    now: NaiveDateTime,
) -> QueryResult<LicenseId> {
    let (state, invitation_id, user_id) =
        holder
            .map(Holder::columns)
            .unwrap_or((LicenseState::Open.as_str(), None, None));
    diesel::insert_into(licenses::table)
        .values((
            licenses::account_id.eq(account_id),
            licenses::license_type.eq(license_type.as_str()),
            licenses::state.eq(state),
            licenses::invitation_id.eq(invitation_id),
            licenses::user_id.eq(user_id),
            licenses::created_at.eq(now),
            licenses::updated_at.eq(now),
        ))
        .returning(licenses::id)
        .get_result(conn)
}

pub fn find_open(
    conn: &mut DbConnection,
    account_id: AccountId,
    license_type: LicenseType,
) -> QueryResult<Option<LicenseId>> {
    licenses::table
        .filter(licenses::account_id.eq(account_id))
        .filter(licenses::license_type.eq(license_type.as_str()))
        .filter(licenses::state.eq(LicenseState::Open.as_str()))
        .select(licenses::id)
        .order(licenses::id.asc())
        .first(conn)
        .optional()
}

/// Moves an open license to its holder. Conditional on it still being open.
pub fn take(
    conn: &mut DbConnection,
    license_id: LicenseId,
    holder: Holder,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let (state, invitation_id, user_id) = holder.columns();
    // `RETURNING` and a load, not `execute`: Diesel's `execute` hands the
    // statement on by reference, and a reference keeps no `Prepared`.
    let taken = Prepared(
        diesel::update(
            licenses::table
                .find(license_id)
                .filter(licenses::state.eq(LicenseState::Open.as_str())),
        )
        .set((
            licenses::state.eq(state),
            licenses::invitation_id.eq(invitation_id),
            licenses::user_id.eq(user_id),
            licenses::updated_at.eq(now),
        ))
        .returning(licenses::id),
    )
    .get_result::<LicenseId>(conn)
    .optional()?;
    Ok(taken.is_some())
}

/// Turns the invitation's reservation into an assignment to the new user.
pub fn assign_reserved(
    conn: &mut DbConnection,
    invitation_id: InvitationId,
    user_id: UserId,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    Prepared(
        diesel::update(
            licenses::table
                .filter(licenses::invitation_id.eq(invitation_id))
                .filter(licenses::state.eq(LicenseState::Reserved.as_str())),
        )
        .set((
            licenses::state.eq(LicenseState::Assigned.as_str()),
            licenses::invitation_id.eq(None::<InvitationId>),
            licenses::user_id.eq(Some(user_id)),
            licenses::updated_at.eq(now),
        ))
        .returning(licenses::id),
    )
    // A load, not `execute`: see `Prepared`.
    .load::<LicenseId>(conn)
    .map(|assigned| assigned.len())
}

/// Opens whatever license the invitation holds.
pub fn release_for_invitation(
    conn: &mut DbConnection,
    invitation_id: InvitationId,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(licenses::table.filter(licenses::invitation_id.eq(invitation_id)))
        .set(open_columns(now))
        .execute(conn)
}

/// Opens whatever license the user holds.
pub fn release_for_user(
    conn: &mut DbConnection,
    user_id: UserId,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(licenses::table.filter(licenses::user_id.eq(user_id)))
        .set(open_columns(now))
        .execute(conn)
}

#[expect(clippy::type_complexity, reason = "a Diesel changeset tuple")]
fn open_columns(
    now: NaiveDateTime,
) -> (
    diesel::dsl::Eq<licenses::state, &'static str>,
    diesel::dsl::Eq<licenses::invitation_id, Option<InvitationId>>,
    diesel::dsl::Eq<licenses::user_id, Option<UserId>>,
    diesel::dsl::Eq<licenses::updated_at, NaiveDateTime>,
) {
    (
        licenses::state.eq(LicenseState::Open.as_str()),
        licenses::invitation_id.eq(None::<InvitationId>),
        licenses::user_id.eq(None::<UserId>),
        licenses::updated_at.eq(now),
    )
}

/// `(license_type, state, count)` for the account, from the counts the
/// database keeps (triggers on `licenses`): a few rows however big the account.
pub fn counts(
    conn: &mut DbConnection,
    account_id: AccountId,
) -> QueryResult<Vec<(String, String, i64)>> {
    license_counts::table
        .filter(license_counts::account_id.eq(account_id))
        .select((
            license_counts::license_type,
            license_counts::state,
            license_counts::n,
        ))
        .load(conn)
}
