//! Recording and reading the audit trail. Every use-case that changes
//! something records one event in its own transaction, so the trail and the
//! change commit (or roll back) together.

use chrono::NaiveDateTime;
use serde_json::Value;

use crate::auth::Principal;
use crate::contract::{self, utc};
use crate::db::{self, DbConnection};
use crate::domain::audit::{ActorKind, AuditAction, SubjectKind, WebhookEvent};
use crate::domain::ids::{
    AccountId, AuditEventId, ChargeId, GroupId, InvitationId, ScimTokenId, UserId, WebhookId,
};
use crate::domain::paging::PageRequest;
use crate::error::AppError;
use crate::services::Locked;
use crate::services::context::{Context, Manager};

/// Who caused an event.
#[derive(Debug, Clone, Copy)]
pub enum Actor {
    User(UserId),
    /// The holder of an invitation token (accept, decline).
    Invitee,
    /// The service itself (expiry).
    System,
    /// A directory, through an account's SCIM token.
    ScimToken(ScimTokenId),
}

impl From<&Principal> for Actor {
    fn from(principal: &Principal) -> Self {
        Actor::User(principal.user_id)
    }
}

impl From<Manager> for Actor {
    fn from(manager: Manager) -> Self {
        match manager.scim_token {
            Some(token_id) => Actor::ScimToken(token_id),
            None => Actor::User(manager.user_id),
        }
    }
}

/// What an event is about.
#[derive(Debug, Clone, Copy)]
pub enum Subject {
    Invitation(InvitationId),
    User(UserId),
    Group(GroupId),
    Charge(ChargeId),
    Webhook(WebhookId),
    ScimToken(ScimTokenId),
}

pub fn record(
    conn: &mut DbConnection,
    account_id: AccountId,
    actor: Actor,
    action: AuditAction,
    subject: Subject,
    details: Value,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let event_id = insert(conn, account_id, actor, action, subject, &details, now)?;
    let Some(event) = action.webhook_event() else {
        return Ok(());
    };
    let (subject_type, subject_id) = subject_parts(subject);
    let payload = serde_json::json!({
        "id": event_id,
        "type": action,
        "created_at": utc(now),
        "account_id": account_id,
        "subject": {"type": subject_type, "id": subject_id},
        "data": details,
    });
    fan_out(conn, account_id, event_id, event, &payload, now)
}

/// `record` under the account lock taken by `lock_account_for_manager`: the
/// account, the moment and whether it has webhook endpoints come from the
/// lock, so an account without endpoints costs no lookup.
pub fn record_locked(
    conn: &mut DbConnection,
    locked: &Locked,
    actor: Actor,
    action: AuditAction,
    subject: Subject,
    details: Value,
) -> Result<(), AppError> {
    let (account_id, now) = (locked.account.id, locked.now);
    if locked.webhooks {
        return record(conn, account_id, actor, action, subject, details, now);
    }
    insert(conn, account_id, actor, action, subject, &details, now).map(|_| ())
}

fn subject_parts(subject: Subject) -> (SubjectKind, i64) {
    match subject {
        Subject::Invitation(id) => (SubjectKind::Invitation, id.get()),
        Subject::User(id) => (SubjectKind::User, id.get()),
        Subject::Group(id) => (SubjectKind::Group, id.get()),
        Subject::Charge(id) => (SubjectKind::Charge, id.get()),
        Subject::Webhook(id) => (SubjectKind::Webhook, id.get()),
        Subject::ScimToken(id) => (SubjectKind::ScimToken, id.get()),
    }
}

/// The event's row in the trail.
fn insert(
    conn: &mut DbConnection,
    account_id: AccountId,
    actor: Actor,
    action: AuditAction,
    subject: Subject,
    details: &Value,
    now: NaiveDateTime,
) -> Result<AuditEventId, AppError> {
    let (actor_type, actor_user_id, actor_scim_token_id) = match actor {
        Actor::User(id) => (ActorKind::User, Some(id), None),
        Actor::Invitee => (ActorKind::Invitee, None, None),
        Actor::System => (ActorKind::System, None, None),
        Actor::ScimToken(id) => (ActorKind::ScimToken, None, Some(id)),
    };
    let (subject_type, subject_id) = subject_parts(subject);
    Ok(db::audit::insert(
        conn,
        &db::audit::NewAuditEvent {
            account_id,
            actor_type: actor_type.as_str(),
            actor_user_id,
            action: action.as_str(),
            subject_type: subject_type.as_str(),
            subject_id,
            details: &details.to_string(),
            created_at: now,
            actor_scim_token_id,
        },
    )?)
}

pub fn list(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    action: Option<&str>,
    page: PageRequest,
) -> Result<contract::AuditEventPage, AppError> {
    // No event was ever recorded with an action outside the vocabulary.
    let action = match action.map(AuditAction::parse) {
        None => None,
        Some(Some(action)) => Some(action),
        Some(None) => {
            return Ok(contract::AuditEventPage {
                items: Vec::new(),
                next_cursor: None,
            });
        }
    };
    let rows = db::audit::list(conn, ctx.caller.account_id, action, page)?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id.get());
    Ok(contract::AuditEventPage {
        items: rows
            .into_iter()
            .map(|row| {
                Ok(contract::AuditEvent {
                    id: row.id,
                    action: AuditAction::from_db(&row.action)?,
                    actor: contract::AuditActor {
                        kind: ActorKind::from_db(&row.actor_type)?,
                        user_id: row.actor_user_id,
                        scim_token_id: row.actor_scim_token_id,
                    },
                    subject: contract::AuditSubject {
                        kind: SubjectKind::from_db(&row.subject_type)?,
                        id: row.subject_id,
                    },
                    details: serde_json::from_str(&row.details).map_err(|e| {
                        AppError::internal(format!("audit event {} details: {e}", row.id))
                    })?,
                    created_at: utc(row.created_at),
                })
            })
            .collect::<Result<_, AppError>>()?,
        next_cursor,
    })
}

/// Queues the event for every endpoint of the account subscribed to it.
fn fan_out(
    conn: &mut DbConnection,
    account_id: AccountId,
    event_id: AuditEventId,
    event: WebhookEvent,
    payload: &Value,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let body = payload.to_string();
    for endpoint in db::webhooks::list(conn, account_id)? {
        if endpoint.event_types()?.contains(&event) {
            db::webhooks::enqueue(conn, endpoint.id, event_id, event, &body, now)?;
        }
    }
    Ok(())
}
