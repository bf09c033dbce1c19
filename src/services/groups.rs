//! Groups of firm members.

use crate::auth::Principal;
use crate::clock::Clock;
use crate::contract::{self, utc};
use crate::db::{self, DbConnection, groups::GroupRow};
use crate::error::{AppError, is_unique_violation};
use crate::services::lock_account_as_manager;

pub const MAX_NAME_CHARS: usize = 100;

fn view(row: GroupRow) -> contract::Group {
    contract::Group {
        id: row.id,
        name: row.name,
        created_at: utc(row.created_at),
    }
}

pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    account_id: i64,
) -> Result<contract::GroupList, AppError> {
    principal.manager_of(account_id)?;
    Ok(contract::GroupList {
        items: db::groups::list(conn, account_id)?
            .into_iter()
            .map(view)
            .collect(),
    })
}

pub fn create(
    conn: &mut DbConnection,
    principal: &Principal,
    account_id: i64,
    request: &contract::GroupRequest,
    clock: &Clock,
) -> Result<contract::Group, AppError> {
    let name = request.name.as_deref().map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Err(AppError::validation_one(
            "name",
            "required",
            "name is required",
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::validation_one(
            "name",
            "too_long",
            format!("name must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    db::transaction(conn, |conn| {
        let (_, now) = lock_account_as_manager(conn, principal, account_id, clock)?;
        db::groups::insert(conn, account_id, name, now).map_err(|e| {
            if is_unique_violation(&e) {
                AppError::Conflict {
                    code: "group_name_taken",
                    detail: "A group with this name already exists in this account.".into(),
                }
            } else {
                e.into()
            }
        })
    })
    .map(view)
}
