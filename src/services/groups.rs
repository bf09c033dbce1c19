//! Groups of firm members: list, read, create, rename, delete.

use crate::contract::{self, utc};
use crate::db::{self, DbConnection, groups::GroupRow};
use crate::domain::audit::AuditAction;
use crate::domain::field_error::{FieldError, Partial};
use crate::domain::ids::GroupId;
use crate::domain::name::DisplayName;
use crate::error::{AppError, ErrorCode, is_unique_violation};
use crate::services::audit::{self, Subject};
use crate::services::context::{Context, Manager};
use crate::services::lock_account_as_manager;
use serde_json::json;

fn view(row: GroupRow) -> contract::Group {
    contract::Group {
        id: row.id,
        name: row.name,
        created_at: utc(row.created_at),
    }
}

pub fn list(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
) -> Result<contract::GroupList, AppError> {
    let account_id = ctx.caller.account_id;
    Ok(contract::GroupList {
        items: db::groups::list(conn, account_id)?
            .into_iter()
            .map(view)
            .collect(),
    })
}

/// The group's name (see `DisplayName`), or why it is not one.
fn checked_name(request: &contract::GroupRequest) -> Result<DisplayName, FieldError> {
    DisplayName::parse_field("name", request.name.as_deref())
}

/// A unique violation on a group's name is a name already taken in the account.
fn name_taken(error: diesel::result::Error) -> AppError {
    if is_unique_violation(&error) {
        AppError::Conflict {
            code: ErrorCode::GroupNameTaken,
            detail: "A group with this name already exists in this account.".into(),
        }
    } else {
        error.into()
    }
}

pub fn get(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    group_id: GroupId,
) -> Result<contract::Group, AppError> {
    let account_id = ctx.caller.account_id;
    db::groups::find_in_account(conn, account_id, group_id)?
        .map(view)
        .ok_or(AppError::NotFound)
}

pub fn create(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    request: &contract::GroupRequest,
) -> Result<contract::Group, AppError> {
    let account_id = ctx.caller.account_id;
    let name = checked_name(request).map_err(|e| AppError::Validation(vec![e]))?;
    ctx.transaction(conn, |conn| {
        let (_, now) = lock_account_as_manager(conn, ctx)?;
        let group = db::groups::insert(conn, account_id, name.as_str(), now).map_err(name_taken)?;
        audit::record(
            conn,
            account_id,
            ctx.caller.into(),
            AuditAction::GroupCreated,
            Subject::Group(group.id),
            json!({"name": group.name}),
            now,
        )?;
        Ok(group)
    })
    .map(view)
}

/// Renames a group: the group (404) is judged before the body (422), and the
/// body before the name's uniqueness (409). A group may take another spelling
/// of its own name.
pub fn rename(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    group_id: GroupId,
    input: &Partial<contract::GroupRequest>,
) -> Result<contract::Group, AppError> {
    let account_id = ctx.caller.account_id;
    ctx.transaction(conn, |conn| {
        let (_, now) = lock_account_as_manager(conn, ctx)?;
        let group =
            db::groups::find_in_account(conn, account_id, group_id)?.ok_or(AppError::NotFound)?;
        let name = match (checked_name(&input.value), input.errors.is_empty()) {
            (Ok(name), true) => name,
            (checked, _) => {
                let rule_errors = checked.err().into_iter().collect();
                return Err(AppError::Validation(input.merge(rule_errors)));
            }
        };
        let renamed = db::groups::rename(conn, group.id, name.as_str()).map_err(name_taken)?;
        audit::record(
            conn,
            account_id,
            ctx.caller.into(),
            AuditAction::GroupUpdated,
            Subject::Group(group.id),
            json!({"name": renamed.name, "previous_name": group.name}),
            now,
        )?;
        Ok(renamed)
    })
    .map(view)
}

/// Deletes a group; its members' memberships and invitations' links to it go
/// with it (the users and invitations stay).
pub fn delete(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    group_id: GroupId,
) -> Result<(), AppError> {
    let account_id = ctx.caller.account_id;
    ctx.transaction(conn, |conn| {
        let (_, now) = lock_account_as_manager(conn, ctx)?;
        let group =
            db::groups::find_in_account(conn, account_id, group_id)?.ok_or(AppError::NotFound)?;
        db::groups::delete(conn, group.id)?;
        audit::record(
            conn,
            account_id,
            ctx.caller.into(),
            AuditAction::GroupDeleted,
            Subject::Group(group.id),
            json!({"name": group.name}),
            now,
        )
    })
}
