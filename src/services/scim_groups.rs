//! SCIM 2.0 Groups (RFC 7643 §4.2): a SCIM Group is a firm group, its
//! `members` the SCIM Users who are accepted firm members. Every change goes
//! through the REST use-cases (`groups::create/rename/delete`, and
//! `users::update` with the member's new `group_ids`), in one transaction, as
//! the token's manager: audit trail and webhooks as for the REST API.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};

use crate::contract::{self, utc};
use crate::db::{self, DbConnection, groups::GroupRow};
use crate::domain::field_error::Partial;
use crate::domain::ids::{GroupId, ScimUserId, UserId};
use crate::domain::scim_filter::{self, Attr, Filter};
use crate::error::AppError;
use crate::error::ScimType;
use crate::services::context::{Context, Manager};
use crate::services::scim::{
    LIST_SCHEMA, MAX_RESULTS, PatchOperation, bad_request, member_user, member_users,
};
use crate::services::{groups, users};

pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// A group's name errors as SCIM `invalidValue` on `displayName`.
fn as_scim(error: AppError) -> AppError {
    match error {
        AppError::Validation(errors) => {
            let fields: Vec<String> = errors
                .iter()
                .map(|e| {
                    let field = if e.field == "name" {
                        "displayName"
                    } else {
                        e.field.as_str()
                    };
                    format!("{field}: {}", e.message)
                })
                .collect();
            bad_request(ScimType::InvalidValue, fields.join("; "))
        }
        other => other,
    }
}

fn find_group(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    id: &str,
) -> Result<GroupRow, AppError> {
    let id: GroupId = id.parse().map_err(|_| AppError::NotFound)?;
    db::groups::find_in_account(conn, ctx.caller.account_id, id)?.ok_or(AppError::NotFound)
}

/// The SCIM-visible members of each group: group id → `(SCIM id, email)`.
type Members = HashMap<GroupId, Vec<(ScimUserId, String)>>;

fn members(conn: &mut DbConnection, ctx: &Context<Manager>) -> Result<Members, AppError> {
    let people = member_users(conn, ctx)?;
    let user_ids: Vec<UserId> = people.iter().map(|(_, u, _)| *u).collect();
    let by_user: HashMap<UserId, (ScimUserId, String)> = people
        .into_iter()
        .map(|(scim, user, email)| (user, (scim, email)))
        .collect();
    let mut members = Members::new();
    for (user_id, group_id) in db::users::group_ids_of(conn, &user_ids)? {
        if let Some(member) = by_user.get(&user_id) {
            members.entry(group_id).or_default().push(member.clone());
        }
    }
    for list in members.values_mut() {
        list.sort_by_key(|(id, _)| id.get());
    }
    Ok(members)
}

fn resource(group: &GroupRow, members: &Members, with_members: bool) -> Value {
    let id = group.id.to_string();
    let mut value = json!({
        "schemas": [GROUP_SCHEMA],
        "id": id,
        "displayName": group.name,
        "meta": {
            "resourceType": "Group",
            "created": utc(group.created_at),
            "lastModified": utc(group.created_at),
            "location": format!("/scim/v2/Groups/{id}"),
        },
    });
    if with_members {
        let list: Vec<Value> = members
            .get(&group.id)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|(scim_id, email)| {
                json!({
                    "value": scim_id.to_string(),
                    "display": email,
                    "type": "User",
                    "$ref": format!("/scim/v2/Users/{scim_id}"),
                })
            })
            .collect();
        value["members"] = json!(list);
    }
    value
}

fn group_resource(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    group_id: GroupId,
) -> Result<Value, AppError> {
    let group = db::groups::find_in_account(conn, ctx.caller.account_id, group_id)?
        .ok_or(AppError::NotFound)?;
    let members = members(conn, ctx)?;
    Ok(resource(&group, &members, true))
}

pub fn get_group(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    id: &str,
) -> Result<Value, AppError> {
    let group = find_group(conn, ctx, id)?;
    group_resource(conn, ctx, group.id)
}

/// A `ListResponse` of the Groups that match (`displayName`,
/// case-insensitive), `start_index` 1-based; `members` left out on request
/// (`excludedAttributes=members`, as Entra ID asks).
pub fn list_groups(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    filter: Option<&Filter>,
    start_index: usize,
    count: usize,
    with_members: bool,
) -> Result<Value, AppError> {
    let members = members(conn, ctx)?;
    let matching: Vec<GroupRow> = db::groups::list(conn, ctx.caller.account_id)?
        .into_iter()
        .filter(|g| {
            filter.is_none_or(|f| {
                f.matches(&|attr| match attr {
                    Attr::DisplayName => vec![scim_filter::Value::Text(g.name.clone())],
                    _ => vec![],
                })
            })
        })
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(start_index.saturating_sub(1))
        .take(count.min(MAX_RESULTS))
        .map(|g| resource(g, &members, with_members))
        .collect();
    Ok(json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": matching.len(),
        "startIndex": start_index.max(1),
        "itemsPerPage": page.len(),
        "Resources": page,
    }))
}

/// The SCIM User ids of a `members` value: `[{"value": "<id>"}, …]`.
fn member_ids(value: &Value) -> Result<Vec<String>, AppError> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items.clone(),
        Value::Object(_) => vec![value.clone()],
        _ => {
            return Err(bad_request(
                ScimType::InvalidValue,
                "members must be an array",
            ));
        }
    };
    items
        .iter()
        .map(|item| match &item["value"] {
            Value::String(s) => Ok(s.trim().to_owned()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(bad_request(
                ScimType::InvalidValue,
                "each member needs a value (a User id)",
            )),
        })
        .collect()
}

/// Puts the user into the group, or takes them out, through `users::update`.
fn set_membership(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    user_id: UserId,
    group_id: GroupId,
    member: bool,
) -> Result<(), AppError> {
    let current: BTreeSet<GroupId> = db::users::group_ids_of(conn, &[user_id])?
        .into_iter()
        .map(|(_, g)| g)
        .collect();
    if current.contains(&group_id) == member {
        return Ok(());
    }
    let mut wanted = current;
    if member {
        wanted.insert(group_id);
    } else {
        wanted.remove(&group_id);
    }
    let request = contract::UserUpdateRequest {
        group_ids: Some(wanted.into_iter().collect()),
        ..Default::default()
    };
    users::update(conn, ctx, user_id, &Partial::complete(request))
        .map_err(as_scim)
        .map(|_| ())
}

/// Adds (`member`) or removes each of these SCIM Users.
fn set_members(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    group_id: GroupId,
    ids: &[String],
    member: bool,
) -> Result<(), AppError> {
    for id in ids {
        let user_id = member_user(conn, ctx, id)?;
        set_membership(conn, ctx, user_id, group_id, member)?;
    }
    Ok(())
}

/// `members` become exactly `ids` (every user of the account is a SCIM
/// User, so anyone not named leaves).
fn replace_members(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    group_id: GroupId,
    ids: &[String],
) -> Result<(), AppError> {
    let mut wanted = BTreeSet::new();
    for id in ids {
        wanted.insert(member_user(conn, ctx, id)?);
    }
    for user_id in db::users::ids_in_group(conn, group_id)? {
        if !wanted.contains(&user_id) {
            set_membership(conn, ctx, user_id, group_id, false)?;
        }
    }
    for user_id in wanted {
        set_membership(conn, ctx, user_id, group_id, true)?;
    }
    Ok(())
}

fn rename(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    group: &GroupRow,
    value: &Value,
) -> Result<(), AppError> {
    let name = value
        .as_str()
        .ok_or_else(|| bad_request(ScimType::InvalidValue, "displayName must be a string"))?;
    if name == group.name {
        return Ok(());
    }
    let request = contract::GroupRequest {
        name: Some(name.to_owned()),
    };
    groups::rename(conn, ctx, group.id, &Partial::complete(request))
        .map_err(as_scim)
        .map(|_| ())
}

/// A whole Group as `POST` and `PUT` send it: `displayName` (required) and
/// the `members`' User ids (none when absent). Attribute names are
/// case-insensitive; `id`, `meta` and `schemas` are ignored (read-only).
fn group_input(body: &Value) -> Result<(String, Vec<String>), AppError> {
    let object = body
        .as_object()
        .ok_or_else(|| bad_request(ScimType::InvalidSyntax, "the body must be a JSON object"))?;
    let get = |name: &str| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null)
    };
    let name = match get("displayName") {
        Value::String(s) => s,
        _ => {
            return Err(bad_request(
                ScimType::InvalidValue,
                "displayName is required (a string)",
            ));
        }
    };
    Ok((name, member_ids(&get("members"))?))
}

/// `POST`: creates the firm group (`displayName` → name), with `members` if given.
pub fn create_group(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    body: &Value,
) -> Result<Value, AppError> {
    let (name, ids) = group_input(body)?;
    ctx.transaction(conn, |conn| {
        let group = groups::create(conn, ctx, &contract::GroupRequest { name: Some(name) })
            .map_err(as_scim)?;
        set_members(conn, ctx, group.id, &ids, true)?;
        group_resource(conn, ctx, group.id)
    })
}

/// `PUT` (RFC 7644 §3.5.1): `displayName` and `members` become exactly the
/// body's (no `members`: none), in one transaction: a rename through
/// `groups::rename`, each membership change through `users::update`.
/// Members the directory cannot see (who joined without SCIM) stay.
pub fn replace_group(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    id: &str,
    body: &Value,
) -> Result<Value, AppError> {
    let (name, ids) = group_input(body)?;
    ctx.transaction(conn, |conn| {
        let group = find_group(conn, ctx, id)?;
        rename(conn, ctx, &group, &Value::String(name))?;
        replace_members(conn, ctx, group.id, &ids)?;
        group_resource(conn, ctx, group.id)
    })
}

/// The id in an Entra-style path `members[value eq "<id>"]`, if it is one.
fn member_filter(path: &str) -> Result<Option<String>, AppError> {
    let Some(open) = path.find('[') else {
        return Ok(None);
    };
    if !path[..open].trim().eq_ignore_ascii_case("members") {
        return Ok(None);
    }
    let inner = path[open + 1..].strip_suffix(']').ok_or_else(|| {
        bad_request(
            ScimType::InvalidPath,
            format!("cannot read the path {path}"),
        )
    })?;
    // Only `value eq "<id>"`.
    let mut words = inner.trim().splitn(3, char::is_whitespace);
    let (attr, op, id) = (words.next(), words.next(), words.next());
    match (attr, op, id) {
        (Some(a), Some(o), Some(id))
            if a.eq_ignore_ascii_case("value") && o.eq_ignore_ascii_case("eq") =>
        {
            let id = id.trim();
            match id.strip_prefix('"').and_then(|i| i.strip_suffix('"')) {
                Some(id) if !id.contains('"') => Ok(Some(id.to_owned())),
                _ => Err(bad_request(
                    ScimType::InvalidFilter,
                    "the member's id must be a quoted string",
                )),
            }
        }
        _ => Err(bad_request(
            ScimType::InvalidFilter,
            "only members[value eq \"<id>\"] is supported",
        )),
    }
}

/// `PATCH`: `add`/`remove`/`replace` of `members` (also
/// `members[value eq "…"]`), `replace` of `displayName`; in order, in one
/// transaction.
pub fn patch_group(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    id: &str,
    operations: Vec<PatchOperation>,
) -> Result<Value, AppError> {
    ctx.transaction(conn, |conn| {
        let group_id = find_group(conn, ctx, id)?.id;
        for operation in operations {
            let group = db::groups::find_in_account(conn, ctx.caller.account_id, group_id)?
                .ok_or(AppError::NotFound)?;
            let op = operation.op.as_str();
            match operation.path.as_deref().map(str::trim) {
                Some(path) if path.contains('[') => match member_filter(path)? {
                    Some(member) if op == "remove" => {
                        set_members(conn, ctx, group_id, &[member], false)?;
                    }
                    _ => {
                        return Err(bad_request(
                            ScimType::InvalidPath,
                            format!("{path} is supported only with remove"),
                        ));
                    }
                },
                Some(path) if path.eq_ignore_ascii_case("members") => {
                    let ids = member_ids(&operation.value)?;
                    match op {
                        "add" => set_members(conn, ctx, group_id, &ids, true)?,
                        "remove" if operation.value.is_null() => {
                            replace_members(conn, ctx, group_id, &[])?;
                        }
                        "remove" => set_members(conn, ctx, group_id, &ids, false)?,
                        _ => replace_members(conn, ctx, group_id, &ids)?,
                    }
                }
                Some(path) if path.eq_ignore_ascii_case("displayName") => {
                    if op == "remove" {
                        return Err(bad_request(
                            ScimType::Mutability,
                            "displayName cannot be removed",
                        ));
                    }
                    rename(conn, ctx, &group, &operation.value)?;
                }
                Some(path) if path.eq_ignore_ascii_case("externalId") => {}
                Some(path) => {
                    return Err(bad_request(
                        ScimType::InvalidPath,
                        format!("{path} is not a Group attribute that can be changed"),
                    ));
                }
                None if op == "remove" => {
                    return Err(bad_request(ScimType::NoTarget, "remove needs a path"));
                }
                None => {
                    let object = operation.value.as_object().ok_or_else(|| {
                        bad_request(
                            ScimType::InvalidValue,
                            "a patch without a path needs an object",
                        )
                    })?;
                    for (key, value) in object {
                        if key.eq_ignore_ascii_case("displayName") {
                            rename(conn, ctx, &group, value)?;
                        } else if key.eq_ignore_ascii_case("members") {
                            let ids = member_ids(value)?;
                            if op == "add" {
                                set_members(conn, ctx, group_id, &ids, true)?;
                            } else {
                                replace_members(conn, ctx, group_id, &ids)?;
                            }
                        }
                    }
                }
            }
        }
        group_resource(conn, ctx, group_id)
    })
}

/// `DELETE`: deletes the firm group (its members stay members of the firm).
pub fn delete_group(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    id: &str,
) -> Result<(), AppError> {
    ctx.transaction(conn, |conn| {
        let group = find_group(conn, ctx, id)?;
        groups::delete(conn, ctx, group.id)
    })
}
