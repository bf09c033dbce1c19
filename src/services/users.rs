//! Firm members: list, read, disable, enable.

use crate::auth::Principal;
use crate::clock::Clock;
use crate::contract;
use crate::db::{self, DbConnection, licenses::Holder};
use crate::domain::access::{Role, UserStatus};
use crate::domain::billing::ChargeReason;
use crate::domain::paging::PageRequest;
use crate::error::AppError;
use crate::services::{licensing, lock_account_as_manager, views};

pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    account_id: i64,
    status: Option<UserStatus>,
    page: PageRequest,
) -> Result<contract::UserPage, AppError> {
    principal.manager_of(account_id)?;
    let rows = db::users::list(conn, account_id, status, page)?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id);
    Ok(contract::UserPage {
        items: views::users(conn, rows)?,
        next_cursor,
    })
}

/// Managers read anyone in the account; any member may read themselves.
pub fn get(
    conn: &mut DbConnection,
    principal: &Principal,
    account_id: i64,
    user_id: i64,
) -> Result<contract::User, AppError> {
    principal.member_of(account_id)?;
    if principal.user_id != user_id {
        principal.manager_of(account_id)?;
    }
    let row = db::users::find_in_account(conn, account_id, user_id)?.ok_or(AppError::NotFound)?;
    views::user(conn, row)
}

/// Disabling a disabled user changes nothing and answers 200 (safe to retry).
pub fn disable(
    conn: &mut DbConnection,
    principal: &Principal,
    account_id: i64,
    user_id: i64,
    clock: &Clock,
) -> Result<contract::User, AppError> {
    db::transaction(conn, |conn| {
        let (_, now) = lock_account_as_manager(conn, principal, account_id, clock)?;
        let user =
            db::users::find_in_account(conn, account_id, user_id)?.ok_or(AppError::NotFound)?;
        if user.role()? == Role::PrimarySubscriber {
            return Err(AppError::Conflict {
                code: "primary_subscriber_protected",
                detail: "The primary subscriber cannot be disabled.".into(),
            });
        }
        if user.status()? == UserStatus::Active {
            db::users::set_status(conn, user.id, UserStatus::Disabled, now)?;
            db::licenses::release_for_user(conn, user.id, now)?;
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
    principal: &Principal,
    account_id: i64,
    user_id: i64,
    clock: &Clock,
) -> Result<contract::User, AppError> {
    db::transaction(conn, |conn| {
        let (account, now) = lock_account_as_manager(conn, principal, account_id, clock)?;
        let user =
            db::users::find_in_account(conn, account_id, user_id)?.ok_or(AppError::NotFound)?;
        if user.status()? == UserStatus::Disabled {
            let license_type = account
                .billing_system()?
                .license_type_for(Some(user.subscriber_type()?))
                .ok_or_else(|| AppError::internal("no license type for a user"))?;
            let offer = licensing::offer(conn, &account, license_type, now)?;
            licensing::acquire(
                conn,
                &account,
                &offer,
                Holder::User(user.id),
                ChargeReason::UserEnabled,
                now,
            )?;
            db::users::set_status(conn, user.id, UserStatus::Active, now)?;
        }
        let user =
            db::users::find_in_account(conn, account_id, user_id)?.ok_or(AppError::NotFound)?;
        views::user(conn, user)
    })
}
