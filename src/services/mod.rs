//! Use-cases. Each public function runs in one transaction (opened here, never
//! in repositories) and returns contract types or an `AppError`.

pub mod accounts;
pub mod audit;
pub mod bootstrap;
pub mod charges;
pub mod context;
pub mod expiry;
pub mod groups;
pub mod idempotency;
pub mod invitation_admin;
pub mod invite;
pub mod invitee;
pub mod licenses;
pub mod licensing;
pub mod mail_events;
pub mod password_gate;
pub mod rate_limits;
pub mod retention;
pub mod scim;
pub mod scim_groups;
pub mod sessions;
pub mod users;
pub mod views;
pub mod webhooks;

use chrono::NaiveDateTime;

use crate::auth::Principal;
use crate::clock::Clock;
use crate::db::{self, DbConnection, accounts::AccountRow};
use crate::domain::access::Role;
use crate::domain::ids::{AccountId, UserId};
use crate::error::{AppError, AuthFailure};
use crate::services::context::{Context, Manager};

/// An account locked for a write, with the moment the write happens.
pub struct Locked {
    pub account: AccountRow,
    pub now: NaiveDateTime,
    /// The caller's name, for a manager's write (`lock_account_for_manager`).
    pub caller_name: String,
    /// Whether the account has webhook endpoints, as of the lock: an event
    /// recorded with `audit::record_locked` looks them up only if it has.
    pub webhooks: bool,
}

/// First step of every account-scoped write: take the account lock, read the
/// clock (after any wait for the lock, so a long wait cannot bill the wrong
/// moment), then record any invitation that expired since the last look
/// (releasing its license), so every rule below sees current licenses even
/// before the sweeper runs.
pub fn lock_account(
    conn: &mut DbConnection,
    account_id: AccountId,
    clock: &Clock,
) -> Result<(AccountRow, NaiveDateTime), AppError> {
    let account = db::accounts::lock(conn, account_id)?.ok_or(AppError::NotFound)?;
    let now = clock.now();
    expiry::expire_overdue(conn, account_id, now)?;
    Ok((account, now))
}

/// `lock_account` for a manager's write: the caller is checked under the lock
/// (in the locking statement itself), so an administrator disabled or demoted
/// meanwhile cannot slip one in: not an active member `401`, not a manager
/// `403`.
pub fn lock_account_for_manager(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
) -> Result<Locked, AppError> {
    let (locked, _) = lock_for_manager_reading(conn, ctx, |conn, _, horizon| {
        let locked = db::accounts::lock_for_caller(
            conn,
            ctx.caller.account_id,
            ctx.caller.user_id,
            horizon,
        )?;
        Ok(locked.map(|(account, caller)| (account, caller, ())))
    })?;
    Ok(locked)
}

/// `lock_account_for_manager` whose locking statement also reads what the
/// use-case needs (`read`: what it read). `lock` runs that statement, given
/// the clock as read before it and the expiry horizon. The answer's second
/// part is what it read, or `None` when that may no longer hold: invitations
/// were expired under the lock (the caller reads again, after them).
pub fn lock_for_manager_reading<T>(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    mut lock: impl FnMut(
        &mut DbConnection,
        NaiveDateTime,
        NaiveDateTime,
    )
        -> diesel::QueryResult<Option<(AccountRow, db::accounts::LockedCaller, T)>>,
) -> Result<(Locked, Option<T>), AppError> {
    let Manager {
        user_id: caller_id,
        account_id,
        ..
    } = ctx.caller;
    let clock = &ctx.clock;
    // The locking statement also says whether any pending invitation expires
    // within a few minutes of the clock as read before it: when none does and
    // the lock came within them, there is nothing to expire and the expiry
    // statement is skipped (one round trip fewer while the lock is held).
    let read_at = clock.now();
    let horizon = read_at + chrono::Duration::minutes(5);
    let (mut account, mut caller, mut read) =
        lock(conn, read_at, horizon)?.ok_or(AppError::NotFound)?;
    if !caller.current {
        // It waited for a holder of the lock that committed meanwhile: read
        // again, now that this transaction holds the lock (so it is current).
        (account, caller, read) = lock(conn, read_at, horizon)?.ok_or(AppError::NotFound)?;
    }
    require_manager_role(conn, caller_id, account_id, caller.role.as_deref())?;
    let now = clock.now();
    let may_have_expired = caller.expiring || now > horizon;
    if may_have_expired {
        expiry::expire_overdue(conn, account_id, now)?;
    }
    Ok((
        Locked {
            account,
            now,
            caller_name: caller.name.unwrap_or_default(),
            webhooks: caller.webhooks,
        },
        (!may_have_expired).then_some(read),
    ))
}

/// For a read whose caller only the token vouched for
/// (`ManagerCheckedByService`): still an active member of the account (`401`
/// as the gate would say it), and one who may manage it (`403`).
pub fn check_manager(conn: &mut DbConnection, ctx: &Context<Manager>) -> Result<(), AppError> {
    let Manager {
        user_id,
        account_id,
        ..
    } = ctx.caller;
    if Principal::of(conn, user_id, account_id)?.role.can_manage() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The caller may manage the account, given the role a statement read for
/// the caller as an active member of it (`None`: not one, and then a second
/// look says which `401` the gate would have given).
pub fn require_manager_role(
    conn: &mut DbConnection,
    caller_id: UserId,
    account_id: AccountId,
    active_role: Option<&str>,
) -> Result<(), AppError> {
    let Some(role) = active_role else {
        let failure = match db::users::find(conn, caller_id)? {
            Some(user) if user.account_id == account_id => AuthFailure::DisabledUser,
            _ => AuthFailure::UnknownUser,
        };
        return Err(AppError::Unauthorized(failure));
    };
    if Role::from_db(role)?.can_manage() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// `lock_account_for_manager` when only the account and the moment matter.
pub fn lock_account_as_manager(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
) -> Result<(AccountRow, NaiveDateTime), AppError> {
    let locked = lock_account_for_manager(conn, ctx)?;
    Ok((locked.account, locked.now))
}

/// Runs `work` in a transaction that is always rolled back: it sees exactly
/// what a write would see (account lock, expiries recorded) and changes nothing.
pub fn without_writing<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let mut answer = None;
    let outcome = db::own_transaction(conn, |conn| {
        answer = Some(work(conn)?);
        Err::<(), _>(AppError::internal("rolled back on purpose"))
    });
    match (answer, outcome) {
        (Some(answer), _) => Ok(answer),
        (None, Err(error)) => Err(error),
        (None, Ok(())) => Err(AppError::internal("no answer")),
    }
}
