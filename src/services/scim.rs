//! SCIM 2.0 provisioning (RFC 7643/7644): the account's directory tokens,
//! and Users as a directory sees them. Every change goes through the same
//! use-cases as the REST API (invite, revoke, disable, enable, update), in
//! one transaction with the SCIM id mapping, as the token's manager: the
//! audit trail names the token (`Manager::scim_token`).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::contract::{self, utc};
use crate::db::{
    self, DbConnection, invitations::InvitationRow, scim::ScimUserRow, users::UserRow,
};
use crate::domain::access::UserStatus;
use crate::domain::audit::AuditAction;
use crate::domain::field_error::Partial;
use crate::domain::ids::{AccountId, InvitationId, ScimTokenId, ScimUserId, UserId};
use crate::domain::invitation::{InvitationRequest, InvitationStatus, effective_status};
use crate::domain::scim_filter::{self, Attr, Filter, Literal, Op};
use crate::domain::token;
use crate::error::ScimType;
use crate::error::{AppError, AuthFailure};
use crate::services::audit::{self, Subject};
use crate::services::context::{Context, Manager};
use crate::services::{invitation_admin, invite, lock_account_as_manager, users};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const EXTENSION_SCHEMA: &str = "urn:clio:params:scim:schemas:extension:invitations:2.0:User";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Most resources one list page returns.
pub const MAX_RESULTS: usize = 200;

// ---------------------------------------------------------------- tokens

/// A SCIM token as listed: never the token itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScimToken {
    #[schema(value_type = i64)]
    pub id: ScimTokenId,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A new SCIM token: `token` is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScimTokenCreated {
    #[schema(value_type = i64)]
    pub id: ScimTokenId,
    /// `scim_` + 43 base64url characters: the directory's bearer token.
    pub token: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScimTokenList {
    pub items: Vec<ScimToken>,
}

pub fn create_token(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
) -> Result<ScimTokenCreated, AppError> {
    let account_id = ctx.caller.account_id;
    ctx.transaction(conn, |conn| {
        let (_, now) = lock_account_as_manager(conn, ctx)?;
        let issued = token::issue_scim();
        let row = db::scim::insert_token(conn, account_id, ctx.caller.user_id, &issued.hash, now)?;
        audit::record(
            conn,
            account_id,
            ctx.caller.into(),
            AuditAction::ScimTokenCreated,
            Subject::ScimToken(row.id),
            json!({}),
            now,
        )?;
        Ok(ScimTokenCreated {
            id: row.id,
            token: issued.secret,
            created_at: utc(row.created_at),
        })
    })
}

pub fn list_tokens(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
) -> Result<ScimTokenList, AppError> {
    Ok(ScimTokenList {
        items: db::scim::list_tokens(conn, ctx.caller.account_id)?
            .into_iter()
            .map(|row| ScimToken {
                id: row.id,
                created_at: utc(row.created_at),
            })
            .collect(),
    })
}

pub fn delete_token(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    token_id: ScimTokenId,
) -> Result<(), AppError> {
    let account_id = ctx.caller.account_id;
    ctx.transaction(conn, |conn| {
        let (_, now) = lock_account_as_manager(conn, ctx)?;
        if db::scim::delete_token(conn, account_id, token_id)? == 0 {
            return Err(AppError::NotFound);
        }
        audit::record(
            conn,
            account_id,
            ctx.caller.into(),
            AuditAction::ScimTokenDeleted,
            Subject::ScimToken(token_id),
            json!({}),
            now,
        )
    })
}

/// The caller a SCIM bearer token speaks for: its account's manager who
/// created it, acting as the token. `401` for an unknown token, or one whose
/// manager is no longer an active manager.
pub fn authenticate(conn: &mut DbConnection, bearer: &str) -> Result<Manager, AppError> {
    if !bearer.starts_with(token::SCIM_PREFIX) {
        return Err(AppError::Unauthorized(AuthFailure::Malformed));
    }
    let row = db::scim::find_token_by_hash(conn, &token::hash(bearer))?
        .ok_or(AppError::Unauthorized(AuthFailure::Malformed))?;
    let creator = db::users::find_in_account(conn, row.account_id, row.created_by_user_id)?
        .filter(|u| u.status().ok() == Some(UserStatus::Active))
        .filter(|u| u.role().is_ok_and(|r| r.can_manage()))
        .ok_or(AppError::Unauthorized(AuthFailure::DisabledUser))?;
    Ok(Manager {
        user_id: creator.id,
        account_id: row.account_id,
        scim_token: Some(row.id),
    })
}

// ---------------------------------------------------------------- errors

/// A SCIM failure that no REST error names: a `400` with its `scimType`.
pub fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> AppError {
    AppError::ScimRefused {
        scim_type,
        detail: detail.into(),
    }
}

// ---------------------------------------------------------------- users

// Every person of the account is a SCIM User: each user (active or
// disabled), each invitation stored as pending, and each SCIM User that is
// neither any more ("retired": deactivated through SCIM, or its invitation
// revoked, declined or expired), so that a directory can reactivate whom it
// deactivated. A revoked, declined or expired invitation SCIM never saw is
// not a person. Listed in that order: users by id, pending invitations by
// id, retired SCIM Users by SCIM id, each part a page on its own index.
//
// A person's SCIM id is its `scim_users` row. People who joined without
// SCIM get theirs lazily, when SCIM first sees them (a lookup, a list page,
// a group's members): the REST invite, the hot write, runs no more
// statements. The row of an invitation stays the user's once accepted (the
// user is found by `invitations.accepted_user_id`), and a re-invitation
// through SCIM repoints the row: the id never changes. A first sighting
// writes under the account's write lock, and `ON CONFLICT DO NOTHING` on the
// unique `invitation_id` and `user_id` makes two sightings at once one row
// that both read; later sightings only read.

/// One SCIM User: its mapping row, its invitation and (once accepted) its user.
struct Person {
    row: ScimUserRow,
    invitation: Option<InvitationRow>,
    user: Option<UserRow>,
}

/// A person of the account, before its SCIM id is known (`row`).
struct Someone {
    row: Option<ScimUserRow>,
    invitation: Option<InvitationRow>,
    user: Option<UserRow>,
}

impl Someone {
    fn user(user: UserRow) -> Someone {
        Someone {
            row: None,
            invitation: None,
            user: Some(user),
        }
    }

    fn invited(invitation: InvitationRow) -> Someone {
        Someone {
            row: None,
            invitation: Some(invitation),
            user: None,
        }
    }

    fn email_normalized(&self) -> Option<&str> {
        self.user
            .as_ref()
            .map(|u| u.email_normalized.as_str())
            .or_else(|| {
                self.invitation
                    .as_ref()
                    .map(|i| i.email_normalized.as_str())
            })
    }
}

fn resolve(conn: &mut DbConnection, row: ScimUserRow) -> Result<Person, AppError> {
    let invitation = match row.invitation_id {
        Some(id) => db::invitations::find_in_account(conn, row.account_id, id)?,
        None => None,
    };
    let user_id = row
        .user_id
        .or_else(|| invitation.as_ref().and_then(|i| i.accepted_user_id));
    let user = match user_id {
        Some(id) => db::users::find_in_account(conn, row.account_id, id)?,
        None => None,
    };
    Ok(Person {
        row,
        invitation,
        user,
    })
}

/// These SCIM User rows with their invitations and users, in three
/// statements whatever their number (not two per person).
fn resolve_many(
    conn: &mut DbConnection,
    account_id: AccountId,
    rows: Vec<ScimUserRow>,
) -> Result<Vec<Someone>, AppError> {
    let invitation_ids: Vec<InvitationId> = rows.iter().filter_map(|r| r.invitation_id).collect();
    let mut invitations: HashMap<InvitationId, InvitationRow> =
        db::invitations::find_many_in_account(conn, account_id, &invitation_ids)?
            .into_iter()
            .map(|i| (i.id, i))
            .collect();
    let user_of = |row: &ScimUserRow, invitations: &HashMap<InvitationId, InvitationRow>| {
        row.user_id.or_else(|| {
            row.invitation_id
                .and_then(|id| invitations.get(&id))
                .and_then(|i| i.accepted_user_id)
        })
    };
    let user_ids: Vec<UserId> = rows
        .iter()
        .filter_map(|r| user_of(r, &invitations))
        .collect();
    let mut users: HashMap<UserId, UserRow> =
        db::users::find_many_in_account(conn, account_id, &user_ids)?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let user = user_of(&row, &invitations).and_then(|id| users.remove(&id));
            let invitation = row.invitation_id.and_then(|id| invitations.remove(&id));
            Someone {
                row: Some(row),
                invitation,
                user,
            }
        })
        .collect())
}

/// Fills in the rows that exist for these people (by user, or by invitation).
fn find_rows(
    conn: &mut DbConnection,
    account_id: AccountId,
    people: &mut [Someone],
) -> Result<(), AppError> {
    let user_ids: Vec<UserId> = people
        .iter()
        .filter(|p| p.row.is_none())
        .filter_map(|p| p.user.as_ref().map(|u| u.id))
        .collect();
    let invitation_ids: Vec<InvitationId> = people
        .iter()
        .filter(|p| p.row.is_none())
        .filter_map(|p| p.invitation.as_ref().map(|i| i.id))
        .collect();
    let mut by_user: HashMap<UserId, ScimUserRow> =
        db::scim::find_by_user_ids(conn, account_id, &user_ids)?
            .into_iter()
            .filter_map(|r| r.user_id.map(|u| (u, r)))
            .collect();
    let mut by_invitation: HashMap<InvitationId, ScimUserRow> =
        db::scim::find_by_invitation_ids(conn, account_id, &invitation_ids)?
            .into_iter()
            .filter_map(|r| r.invitation_id.map(|i| (i, r)))
            .collect();
    for person in people.iter_mut().filter(|p| p.row.is_none()) {
        person.row = person
            .user
            .as_ref()
            .and_then(|u| by_user.remove(&u.id))
            .or_else(|| {
                person
                    .invitation
                    .as_ref()
                    .and_then(|i| by_invitation.remove(&i.id))
            });
    }
    Ok(())
}

/// Gives each of these people its SCIM User row (see above), in order.
fn assign_ids(
    conn: &mut DbConnection,
    account_id: AccountId,
    now: NaiveDateTime,
    mut people: Vec<Someone>,
) -> Result<Vec<Person>, AppError> {
    // A user's row may be its invitation's: the invitation it accepted.
    let unknown: Vec<UserId> = people
        .iter()
        .filter(|p| p.row.is_none() && p.invitation.is_none())
        .filter_map(|p| p.user.as_ref().map(|u| u.id))
        .collect();
    let mut accepted: HashMap<UserId, InvitationRow> =
        db::invitations::accepted_by(conn, account_id, &unknown)?
            .into_iter()
            .filter_map(|i| i.accepted_user_id.map(|u| (u, i)))
            .collect();
    for person in people.iter_mut().filter(|p| p.invitation.is_none()) {
        if let Some(user) = &person.user {
            person.invitation = accepted.remove(&user.id);
        }
    }
    find_rows(conn, account_id, &mut people)?;
    let unlinked =
        |p: &Someone| p.user.is_some() && p.row.as_ref().is_some_and(|r| r.user_id.is_none());
    if people.iter().any(|p| p.row.is_none() || unlinked(p)) {
        // Once per person: under the account's write lock (taken first, so
        // that SQLite's transaction starts as a writer), then as above.
        db::transaction(conn, None, |conn| {
            if db::accounts::lock(conn, account_id)?.is_none() {
                return Err(AppError::NotFound);
            }
            find_rows(conn, account_id, &mut people)?;
            adopt(conn, account_id, now, &people)?;
            find_rows(conn, account_id, &mut people)?;
            // A row found by its invitation names the user it became, so
            // that it is no longer counted among those without a user.
            for person in people.iter_mut().filter(|p| unlinked(p)) {
                if let (Some(row), Some(user)) = (&mut person.row, &person.user) {
                    db::scim::set_user(conn, row.id, user.id, now)?;
                    row.user_id = Some(user.id);
                }
            }
            Ok(())
        })?;
    }
    people
        .into_iter()
        .map(|person| {
            Ok(Person {
                row: person
                    .row
                    .ok_or_else(|| AppError::internal("a person without its SCIM id"))?,
                invitation: person.invitation,
                user: person.user,
            })
        })
        .collect()
}

/// Inserts the rows of the people who have none (or takes over a retired
/// SCIM User of the same email).
fn adopt(
    conn: &mut DbConnection,
    account_id: AccountId,
    now: NaiveDateTime,
    people: &[Someone],
) -> Result<(), AppError> {
    for person in people.iter().filter(|p| p.row.is_none()) {
        let user_id = person.user.as_ref().map(|u| u.id);
        let invitation_id = person.invitation.as_ref().map(|i| i.id);
        let email = person
            .email_normalized()
            .ok_or_else(|| AppError::internal("a person without an email"))?;
        // Deactivated through SCIM, then invited again through REST: the
        // directory's id stays the person's.
        match db::scim::retired_for_email(conn, account_id, email)?
            .into_iter()
            .next()
        {
            Some((row, _)) => db::scim::set_person(conn, row.id, invitation_id, user_id, now)?,
            None => db::scim::adopt(
                conn,
                &db::scim::NewScimUser {
                    account_id,
                    invitation_id,
                    user_id,
                    external_id: None,
                    given_name: None,
                    family_name: None,
                    now,
                },
            )?,
        }
    }
    Ok(())
}
/// One page of everyone, unfiltered: `skip` people passed, at most `take`,
/// and how many people the account has. Each part is a page on its index.
fn page_of_everyone(
    conn: &mut DbConnection,
    account_id: AccountId,
    skip: usize,
    take: usize,
) -> Result<(Vec<Someone>, usize), AppError> {
    let users = db::users::count_in_account(conn, account_id)?;
    let pending = db::invitations::count_pending(conn, account_id)?;
    let retired = db::scim::count_retired(conn, account_id)?;
    let total = users + pending + retired;
    let mut skip = i64::try_from(skip).unwrap_or(i64::MAX);
    let mut take = i64::try_from(take).unwrap_or(0);
    let mut page = Vec::new();
    if take > 0 && skip < users {
        let rows = db::users::page_by_offset(conn, account_id, skip, take)?;
        take -= i64::try_from(rows.len()).unwrap_or(take);
        page.extend(rows.into_iter().map(Someone::user));
    }
    skip = (skip - users).max(0);
    if take > 0 && skip < pending {
        let rows = db::invitations::pending_page_by_offset(conn, account_id, skip, take)?;
        take -= i64::try_from(rows.len()).unwrap_or(take);
        page.extend(rows.into_iter().map(Someone::invited));
    }
    skip = (skip - pending).max(0);
    if take > 0 && skip < retired {
        let rows = db::scim::retired_page(conn, account_id, skip, take)?;
        page.extend(rows.into_iter().map(|(row, invitation)| Someone {
            row: Some(row),
            invitation: Some(invitation),
            user: None,
        }));
    }
    Ok((page, usize::try_from(total).unwrap_or(0)))
}

/// `userName eq` / `emails.value eq`: the user of that email, else its
/// pending invitation, else its retired SCIM Users. Index probes only.
fn by_email(
    conn: &mut DbConnection,
    account_id: AccountId,
    email: &str,
) -> Result<Vec<Someone>, AppError> {
    let email = crate::domain::email::normalize(email);
    if let Some(user) = db::users::find_in_account_by_email(conn, account_id, &email)? {
        return Ok(vec![Someone::user(user)]);
    }
    if let Some(invitation) =
        db::invitations::find_stored_pending_for_email(conn, account_id, &email)?
    {
        return Ok(vec![Someone::invited(invitation)]);
    }
    Ok(db::scim::retired_for_email(conn, account_id, &email)?
        .into_iter()
        .map(|(row, invitation)| Someone {
            row: Some(row),
            invitation: Some(invitation),
            user: None,
        })
        .collect())
}

/// Everyone, for the filters evaluated in memory (`co`, `sw`, `active`,
/// `and`/`or`): reads all of the account's people, in the listing's order.
fn everyone(conn: &mut DbConnection, account_id: AccountId) -> Result<Vec<Someone>, AppError> {
    let rows = db::scim::list_users(conn, account_id)?;
    let known = resolve_many(conn, account_id, rows)?;
    let mut of_user: HashMap<UserId, ScimUserRow> = HashMap::new();
    let mut of_invitation: HashMap<InvitationId, ScimUserRow> = HashMap::new();
    let mut retired = Vec::new();
    for person in known {
        let Some(row) = person.row else { continue };
        if let Some(user) = &person.user {
            of_user.insert(user.id, row);
        } else if let Some(invitation) = &person.invitation {
            if invitation.status == InvitationStatus::Pending.as_str() {
                of_invitation.insert(invitation.id, row);
            } else if invitation.status != InvitationStatus::Accepted.as_str() {
                retired.push(Someone {
                    row: Some(row),
                    invitation: person.invitation,
                    user: None,
                });
            }
        }
    }
    let mut people: Vec<Someone> = db::users::all_in_account(conn, account_id)?
        .into_iter()
        .map(|user| Someone {
            row: of_user.remove(&user.id),
            invitation: None,
            user: Some(user),
        })
        .collect();
    people.extend(
        db::invitations::all_pending(conn, account_id)?
            .into_iter()
            .map(|invitation| Someone {
                row: of_invitation.remove(&invitation.id),
                invitation: Some(invitation),
                user: None,
            }),
    );
    people.extend(retired);
    Ok(people)
}

fn find_person(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    id: &str,
) -> Result<Person, AppError> {
    let id: ScimUserId = id.parse().map_err(|_| AppError::NotFound)?;
    let row = db::scim::find_user(conn, ctx.caller.account_id, id)?.ok_or(AppError::NotFound)?;
    resolve(conn, row)
}

struct Shown {
    user_name: String,
    active: bool,
    role: String,
    subscriber_type: Option<String>,
    invitation_status: Option<InvitationStatus>,
    given_name: Option<String>,
    family_name: Option<String>,
    last_modified: NaiveDateTime,
}

fn shown(
    row: Option<&ScimUserRow>,
    invitation: Option<&InvitationRow>,
    user: Option<&UserRow>,
    now: NaiveDateTime,
) -> Result<Shown, AppError> {
    let invitation_status = match invitation {
        Some(i) => Some(effective_status(
            InvitationStatus::from_db(&i.status)?,
            i.expires_at,
            now,
        )),
        None => None,
    };
    let row_updated = row.map(|r| r.updated_at);
    if let Some(user) = user {
        return Ok(Shown {
            user_name: user.email.clone(),
            active: user.status()? == UserStatus::Active,
            role: user.role.clone(),
            subscriber_type: Some(user.subscriber_type.clone()),
            invitation_status,
            given_name: Some(user.first_name.clone()),
            family_name: Some(user.last_name.clone()),
            last_modified: row_updated.map_or(user.updated_at, |r| user.updated_at.max(r)),
        });
    }
    let invitation =
        invitation.ok_or_else(|| AppError::internal("a SCIM user without a person"))?;
    Ok(Shown {
        user_name: invitation.email.clone(),
        active: invitation_status == Some(InvitationStatus::Pending),
        role: invitation.role.clone(),
        subscriber_type: invitation.subscriber_type.clone(),
        invitation_status,
        given_name: row.and_then(|r| r.given_name.clone()),
        family_name: row.and_then(|r| r.family_name.clone()),
        last_modified: row_updated.map_or(invitation.updated_at, |r| invitation.updated_at.max(r)),
    })
}

impl Person {
    fn shown(&self, now: NaiveDateTime) -> Result<Shown, AppError> {
        shown(
            Some(&self.row),
            self.invitation.as_ref(),
            self.user.as_ref(),
            now,
        )
    }
}

fn resource(person: &Person, now: NaiveDateTime) -> Result<Value, AppError> {
    let s = person.shown(now)?;
    let id = person.row.id.to_string();
    let mut name = serde_json::Map::new();
    if let Some(given) = &s.given_name {
        name.insert("givenName".into(), json!(given));
    }
    if let Some(family) = &s.family_name {
        name.insert("familyName".into(), json!(family));
    }
    let mut value = json!({
        "schemas": [USER_SCHEMA, EXTENSION_SCHEMA],
        "id": id,
        "userName": s.user_name,
        "name": name,
        "emails": [{"value": s.user_name, "type": "work", "primary": true}],
        "active": s.active,
        EXTENSION_SCHEMA: {
            "role": s.role,
            "subscriberType": s.subscriber_type,
            "invitationStatus": s.invitation_status.map(|st| st.as_str()),
        },
        "meta": {
            "resourceType": "User",
            "created": utc(person.row.created_at),
            "lastModified": utc(s.last_modified),
            "location": format!("/scim/v2/Users/{id}"),
        },
    });
    if let Some(external_id) = &person.row.external_id {
        value["externalId"] = json!(external_id);
    }
    Ok(value)
}

fn attr_values(external_id: Option<&str>, shown: &Shown, attr: Attr) -> Vec<scim_filter::Value> {
    use scim_filter::Value as V;
    match attr {
        Attr::UserName | Attr::EmailsValue => vec![V::Text(shown.user_name.clone())],
        Attr::ExternalId => external_id
            .iter()
            .map(|e| V::Text((*e).to_owned()))
            .collect(),
        Attr::Active => vec![V::Bool(shown.active)],
        Attr::DisplayName => vec![],
    }
}

/// What a directory sends when it creates or replaces a User.
#[derive(Debug, Default, Clone)]
pub struct UserInput {
    pub user_name: Option<String>,
    pub external_id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub active: Option<bool>,
    pub role: Option<String>,
    pub subscriber_type: Option<String>,
}

fn text(value: &Value, what: &str) -> Result<Option<String>, AppError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_owned())),
        _ => Err(bad_request(
            ScimType::InvalidValue,
            format!("{what} must be a string"),
        )),
    }
}

/// `true`/`false`, or the strings Entra ID sends (`"True"`, `"False"`).
pub fn boolean(value: &Value, what: &str) -> Result<bool, AppError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(bad_request(
            ScimType::InvalidValue,
            format!("{what} must be a boolean"),
        )),
    }
}

impl UserInput {
    /// The attributes of a User body (`POST`, `PUT`), unknown ones ignored
    /// as RFC 7644 §3.3 allows for attributes a provider does not support.
    pub fn from_body(body: &Value) -> Result<UserInput, AppError> {
        let object = body.as_object().ok_or_else(|| {
            bad_request(ScimType::InvalidSyntax, "the body must be a JSON object")
        })?;
        let mut input = UserInput::default();
        for (key, value) in object {
            input.set(key, value)?;
        }
        if input.user_name.is_none() {
            // Some directories send only a primary email.
            if let Some(emails) = object.get("emails").and_then(Value::as_array) {
                let primary = emails
                    .iter()
                    .find(|e| e["primary"] == json!(true))
                    .or_else(|| emails.first());
                input.user_name = primary.and_then(|e| e["value"].as_str()).map(str::to_owned);
            }
        }
        Ok(input)
    }

    /// Sets one attribute by its path (case-insensitive, as RFC 7643 §2.1 says).
    fn set(&mut self, path: &str, value: &Value) -> Result<(), AppError> {
        let lower = path.to_ascii_lowercase();
        let ext = EXTENSION_SCHEMA.to_ascii_lowercase();
        let lower = lower
            .strip_prefix(&format!("{}:", USER_SCHEMA.to_ascii_lowercase()))
            .unwrap_or(&lower)
            .to_owned();
        match lower.as_str() {
            "username" => self.user_name = text(value, "userName")?,
            "externalid" => self.external_id = text(value, "externalId")?,
            "active" => self.active = Some(boolean(value, "active")?),
            "name.givenname" => self.given_name = text(value, "name.givenName")?,
            "name.familyname" => self.family_name = text(value, "name.familyName")?,
            "name" => {
                if let Some(name) = value.as_object() {
                    for (key, value) in name {
                        self.set(&format!("name.{key}"), value)?;
                    }
                }
            }
            l if l == ext => {
                if let Some(extension) = value.as_object() {
                    for (key, value) in extension {
                        self.set(&format!("{EXTENSION_SCHEMA}:{key}"), value)?;
                    }
                }
            }
            l if l == format!("{ext}:role") => self.role = text(value, "role")?,
            l if l == format!("{ext}:subscribertype") => {
                self.subscriber_type = text(value, "subscriberType")?;
            }
            l if l == format!("{ext}:invitationstatus") => {}
            _ => {}
        }
        Ok(())
    }
}

/// `Validation` errors as one SCIM `invalidValue`; uniqueness as `uniqueness`.
fn as_scim(error: AppError) -> AppError {
    match error {
        AppError::Validation(errors) => {
            let fields: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", scim_field(&e.field), e.message))
                .collect();
            bad_request(ScimType::InvalidValue, fields.join("; "))
        }
        other => other,
    }
}

fn scim_field(field: &str) -> &str {
    match field {
        "email" => "userName",
        "role" => "role",
        "subscriber_type" => "subscriberType",
        other => other,
    }
}

/// Creates a User: invites the person by the account's billing rules.
pub fn create_user(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    input: UserInput,
) -> Result<Value, AppError> {
    let account_id = ctx.caller.account_id;
    ctx.transaction(conn, |conn| {
        if input.active == Some(false) {
            return Err(bad_request(
                ScimType::InvalidValue,
                "a User is created active (it invites the person)",
            ));
        }
        let mut request = serde_json::Map::new();
        request.insert("email".into(), json!(input.user_name));
        if let Some(role) = &input.role {
            request.insert("role".into(), json!(role));
        }
        if let Some(subscriber_type) = &input.subscriber_type {
            request.insert("subscriber_type".into(), json!(subscriber_type));
        }
        let request: InvitationRequest = serde_json::from_value(Value::Object(request))
            .map_err(|e| bad_request(ScimType::InvalidValue, e.to_string()))?;
        // A person SCIM deactivated is still a User (`active: false`): the
        // directory reactivates it, it does not create it again. (A user or
        // a pending invitation of that email: `invite::create` refuses.)
        if let Some(user_name) = &input.user_name
            && !db::scim::retired_for_email(
                conn,
                account_id,
                &crate::domain::email::normalize(user_name),
            )?
            .is_empty()
        {
            return Err(AppError::AlreadyMember);
        }
        let invitation =
            invite::create(conn, ctx, Ok(Partial::complete(request))).map_err(as_scim)?;
        let row = db::scim::insert_user(
            conn,
            &db::scim::NewScimUser {
                account_id,
                invitation_id: Some(invitation.id),
                user_id: None,
                external_id: input.external_id.as_deref(),
                given_name: input.given_name.as_deref(),
                family_name: input.family_name.as_deref(),
                now: ctx.now(),
            },
        )?;
        let person = resolve(conn, row)?;
        resource(&person, ctx.now())
    })
}

pub fn get_user(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    id: &str,
) -> Result<Value, AppError> {
    let person = find_person(conn, ctx, id)?;
    resource(&person, ctx.now())
}

/// A `ListResponse` of the Users that match, `start_index` 1-based.
///
/// Unfiltered, and for `userName eq`, `emails.value eq` and `externalId eq`
/// (what directories send), it reads only the page (plus three counts for
/// `totalResults` unfiltered); other filters are evaluated in memory over
/// everyone. The people of the page who have no SCIM id yet get it, in one
/// transaction (a list that finds them all known writes nothing).
pub fn list_users(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    filter: Option<&Filter>,
    start_index: usize,
    count: usize,
) -> Result<Value, AppError> {
    let now = ctx.now();
    let account_id = ctx.caller.account_id;
    let skip = start_index.saturating_sub(1);
    let take = count.min(MAX_RESULTS);
    let (page, total) = match filter {
        None => page_of_everyone(conn, account_id, skip, take)?,
        Some(filter) => {
            let candidates = match filter {
                Filter::Compare(
                    Attr::UserName | Attr::EmailsValue,
                    Op::Eq,
                    Literal::Text(email),
                ) => by_email(conn, account_id, email)?,
                Filter::Compare(Attr::ExternalId, Op::Eq, Literal::Text(external_id)) => {
                    let rows = db::scim::find_by_external_id(conn, account_id, external_id)?;
                    resolve_many(conn, account_id, rows)?
                }
                _ => everyone(conn, account_id)?,
            };
            let mut matching = Vec::new();
            for person in candidates {
                let s = shown(
                    person.row.as_ref(),
                    person.invitation.as_ref(),
                    person.user.as_ref(),
                    now,
                )?;
                let external_id = person.row.as_ref().and_then(|r| r.external_id.as_deref());
                if filter.matches(&|attr| attr_values(external_id, &s, attr)) {
                    matching.push(person);
                }
            }
            let total = matching.len();
            let page = matching.into_iter().skip(skip).take(take).collect();
            (page, total)
        }
    };
    let page = assign_ids(conn, account_id, now, page)?;
    let page: Vec<Value> = page
        .iter()
        .map(|p| resource(p, now))
        .collect::<Result<_, _>>()?;
    Ok(json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start_index.max(1),
        "itemsPerPage": page.len(),
        "Resources": page,
    }))
}

/// Applies `active`, names, externalId and role, through the REST use-cases.
fn apply(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    person: Person,
    change: &UserInput,
) -> Result<Value, AppError> {
    let now = ctx.now();
    let current = person.shown(now)?;
    if let Some(user_name) = &change.user_name
        && !user_name.eq_ignore_ascii_case(&current.user_name)
    {
        return Err(bad_request(
            ScimType::Mutability,
            "userName cannot be changed",
        ));
    }
    if let Some(subscriber_type) = &change.subscriber_type
        && current.subscriber_type.as_deref() != Some(subscriber_type.as_str())
    {
        return Err(bad_request(
            ScimType::Mutability,
            "subscriberType cannot be changed (it picks the license type)",
        ));
    }
    let mut row = person.row.clone();
    if let Some(role) = &change.role
        && *role != current.role
    {
        match &person.user {
            Some(user) => {
                let request: contract::UserUpdateRequest =
                    serde_json::from_value(json!({"role": role}))
                        .map_err(|e| bad_request(ScimType::InvalidValue, e.to_string()))?;
                users::update(conn, ctx, user.id, &Partial::complete(request)).map_err(as_scim)?;
            }
            None => {
                return Err(bad_request(
                    ScimType::Mutability,
                    "role can be changed once the invitation is accepted",
                ));
            }
        }
    }
    if let Some(active) = change.active
        && active != current.active
    {
        match (&person.user, &person.invitation) {
            (Some(user), _) if active => {
                users::enable(conn, ctx, user.id)?;
            }
            (Some(user), _) => {
                users::disable(conn, ctx, user.id)?;
            }
            (None, Some(invitation)) if !active => {
                invitation_admin::revoke(conn, ctx, invitation.id)?;
            }
            (None, Some(invitation)) => {
                // Revoked, declined or expired: invite the person again.
                let mut request = serde_json::Map::new();
                request.insert("email".into(), json!(invitation.email));
                request.insert("role".into(), json!(invitation.role));
                if let Some(subscriber_type) = &invitation.subscriber_type {
                    request.insert("subscriber_type".into(), json!(subscriber_type));
                }
                let request: InvitationRequest = serde_json::from_value(Value::Object(request))
                    .map_err(|e| AppError::internal(e.to_string()))?;
                let again =
                    invite::create(conn, ctx, Ok(Partial::complete(request))).map_err(as_scim)?;
                db::scim::set_person(conn, row.id, Some(again.id), None, now)?;
                row.invitation_id = Some(again.id);
            }
            (None, None) => return Err(AppError::internal("a SCIM user without a person")),
        }
    }
    db::scim::set_attributes(
        conn,
        row.id,
        change.external_id.as_deref().or(row.external_id.as_deref()),
        change.given_name.as_deref().or(row.given_name.as_deref()),
        change.family_name.as_deref().or(row.family_name.as_deref()),
        now,
    )?;
    let row = db::scim::find_user(conn, row.account_id, row.id)?.ok_or(AppError::NotFound)?;
    let person = resolve(conn, row)?;
    resource(&person, now)
}

/// `PUT`: the body's attributes replace the User's (those it supports).
pub fn replace_user(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    id: &str,
    input: UserInput,
) -> Result<Value, AppError> {
    ctx.transaction(conn, |conn| {
        let person = find_person(conn, ctx, id)?;
        apply(conn, ctx, person, &input)
    })
}

/// One operation of a `PatchOp` body.
#[derive(Debug, Clone)]
pub struct PatchOperation {
    pub op: String,
    pub path: Option<String>,
    pub value: Value,
}

/// Reads a `PatchOp` body: `Operations` of `add`/`replace`/`remove`
/// (case-insensitive, as Entra ID capitalises them).
pub fn patch_operations(body: &Value) -> Result<Vec<PatchOperation>, AppError> {
    let operations = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Value::as_array)
        .ok_or_else(|| bad_request(ScimType::InvalidSyntax, "Operations must be an array"))?;
    operations
        .iter()
        .map(|op| {
            let name = op["op"]
                .as_str()
                .map(str::to_ascii_lowercase)
                .filter(|o| matches!(o.as_str(), "add" | "replace" | "remove"))
                .ok_or_else(|| {
                    bad_request(ScimType::InvalidSyntax, "op must be add, replace or remove")
                })?;
            Ok(PatchOperation {
                op: name,
                path: op["path"].as_str().map(str::to_owned),
                value: op.get("value").cloned().unwrap_or(Value::Null),
            })
        })
        .collect()
}

/// `PATCH`: each operation applied in order.
pub fn patch_user(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    id: &str,
    operations: Vec<PatchOperation>,
) -> Result<Value, AppError> {
    ctx.transaction(conn, |conn| {
        let person = find_person(conn, ctx, id)?;
        let mut change = UserInput::default();
        for operation in operations {
            match (operation.op.as_str(), operation.path.as_deref()) {
                ("remove", Some(path)) => {
                    if path.eq_ignore_ascii_case("externalId") {
                        change.external_id = Some(String::new());
                    } else {
                        return Err(bad_request(
                            ScimType::Mutability,
                            format!("{path} cannot be removed"),
                        ));
                    }
                }
                ("remove", None) => {
                    return Err(bad_request(ScimType::NoTarget, "remove needs a path"));
                }
                (_, Some(path)) => change.set(path, &operation.value)?,
                (_, None) => {
                    let object = operation.value.as_object().ok_or_else(|| {
                        bad_request(
                            ScimType::InvalidValue,
                            "a patch without a path needs an object",
                        )
                    })?;
                    for (key, value) in object {
                        change.set(key, value)?;
                    }
                }
            }
        }
        let mut result = apply(conn, ctx, person, &change)?;
        if change.external_id.as_deref() == Some("")
            && let Some(object) = result.as_object_mut()
        {
            object.remove("externalId");
        }
        Ok(result)
    })
}

/// `DELETE`: deactivates (people are never deleted).
pub fn delete_user(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    id: &str,
) -> Result<(), AppError> {
    ctx.transaction(conn, |conn| {
        let person = find_person(conn, ctx, id)?;
        apply(
            conn,
            ctx,
            person,
            &UserInput {
                active: Some(false),
                ..UserInput::default()
            },
        )
        .map(|_| ())
    })
}

// ---------------------------------------------------------------- for Groups

/// The accepted firm member behind a SCIM User id: `400 invalidValue` for an
/// unknown id or a person who has not accepted (only users are group members).
pub fn member_user(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    id: &str,
) -> Result<crate::domain::ids::UserId, AppError> {
    let person = find_person(conn, ctx, id).map_err(|e| match e {
        AppError::NotFound => bad_request(ScimType::InvalidValue, format!("no User with id {id}")),
        other => other,
    })?;
    person.user.map(|u| u.id).ok_or_else(|| {
        bad_request(
            ScimType::InvalidValue,
            format!("User {id} has a pending invitation: only accepted members can join a group"),
        )
    })
}

/// Every user of the account in a group, as SCIM Users: `(SCIM id, user id,
/// email)`. Reads the account's group members (not everyone).
pub fn member_users(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
) -> Result<Vec<(ScimUserId, crate::domain::ids::UserId, String)>, AppError> {
    let account_id = ctx.caller.account_id;
    let people = db::users::in_any_group(conn, account_id)?
        .into_iter()
        .map(Someone::user)
        .collect();
    Ok(assign_ids(conn, account_id, ctx.now(), people)?
        .into_iter()
        .filter_map(|person| person.user.map(|user| (person.row.id, user.id, user.email)))
        .collect())
}
