//! Webhook endpoints and their deliveries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{webhook_deliveries as deliveries, webhook_endpoints as endpoints};
use crate::domain::audit::WebhookEvent;
use crate::domain::ids::{AccountId, AuditEventId, WebhookId};
use crate::domain::outbox::DeliveryStatus;
use crate::domain::stored_list;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable)]
pub struct EndpointRow {
    pub id: WebhookId,
    pub account_id: AccountId,
    pub url: String,
    pub secret: String,
    pub events: String,
    pub created_at: NaiveDateTime,
}

impl EndpointRow {
    pub fn event_types(&self) -> Result<Vec<WebhookEvent>, AppError> {
        Ok(stored_list::from_db(&self.events)?)
    }
}

pub fn insert(
    conn: &mut DbConnection,
    account_id: AccountId,
    url: &str,
    secret: &str,
    events: &[WebhookEvent],
    now: NaiveDateTime,
) -> QueryResult<EndpointRow> {
    diesel::insert_into(endpoints::table)
        .values((
            endpoints::account_id.eq(account_id),
            endpoints::url.eq(url),
            endpoints::secret.eq(secret),
            endpoints::events.eq(stored_list::to_db(events.iter().map(|e| e.as_str()))),
            endpoints::created_at.eq(now),
        ))
        .get_result(conn)
}

pub fn list(conn: &mut DbConnection, account_id: AccountId) -> QueryResult<Vec<EndpointRow>> {
    endpoints::table
        .filter(endpoints::account_id.eq(account_id))
        .order(endpoints::id.asc())
        .load(conn)
}

pub fn delete(conn: &mut DbConnection, account_id: AccountId, id: WebhookId) -> QueryResult<usize> {
    diesel::delete(
        endpoints::table
            .find(id)
            .filter(endpoints::account_id.eq(account_id)),
    )
    .execute(conn)
}

#[derive(Debug, Clone, Queryable)]
pub struct DeliveryRow {
    pub id: i64,
    pub endpoint_id: WebhookId,
    pub event_id: AuditEventId,
    pub event_type: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

pub fn enqueue(
    conn: &mut DbConnection,
    endpoint_id: WebhookId,
    event_id: AuditEventId,
    event_type: WebhookEvent,
    payload: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(deliveries::table)
        .values((
            deliveries::endpoint_id.eq(endpoint_id),
            deliveries::event_id.eq(event_id),
            deliveries::event_type.eq(event_type.as_str()),
            deliveries::payload.eq(payload),
            deliveries::status.eq(DeliveryStatus::Queued.as_str()),
            deliveries::next_attempt_at.eq(now),
            deliveries::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Leases up to `limit` due deliveries with their endpoints: the oldest due
/// delivery of each endpoint not in `busy`, oldest first, so one endpoint's
/// backlog never hides another's (same race-free pattern as the email
/// outbox: the lease condition is repeated in the UPDATE).
pub fn claim_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
    busy: &[WebhookId],
) -> QueryResult<Vec<(DeliveryRow, EndpointRow)>> {
    use diesel::dsl::min;
    let due = || {
        deliveries::status
            .eq(DeliveryStatus::Queued.as_str())
            .and(deliveries::next_attempt_at.le(now))
            .and(
                deliveries::lease_until
                    .is_null()
                    .or(deliveries::lease_until.lt(now)),
            )
    };
    let candidates: Vec<Option<i64>> = deliveries::table
        .filter(due())
        .filter(deliveries::endpoint_id.ne_all(busy))
        .group_by(deliveries::endpoint_id)
        .select(min(deliveries::id))
        .order(min(deliveries::id).asc())
        .limit(limit)
        .load(conn)?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for id in candidates.into_iter().flatten() {
        let won: Option<DeliveryRow> = diesel::update(deliveries::table.find(id).filter(due()))
            .set(deliveries::lease_until.eq(Some(lease_until)))
            .get_result(conn)
            .optional()?;
        if let Some(delivery) = won {
            let endpoint: Option<EndpointRow> = endpoints::table
                .find(delivery.endpoint_id)
                .first(conn)
                .optional()?;
            claimed.extend(endpoint.map(|e| (delivery, e)));
        }
    }
    Ok(claimed)
}

pub fn mark_sent(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(deliveries::table.find(id))
        .set((
            deliveries::status.eq(DeliveryStatus::Sent.as_str()),
            deliveries::attempts.eq(deliveries::attempts + 1),
            deliveries::sent_at.eq(Some(now)),
            deliveries::lease_until.eq(None::<NaiveDateTime>),
            deliveries::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn mark_retry(
    conn: &mut DbConnection,
    id: i64,
    next: NaiveDateTime,
    error: &str,
) -> QueryResult<()> {
    diesel::update(deliveries::table.find(id))
        .set((
            deliveries::attempts.eq(deliveries::attempts + 1),
            deliveries::next_attempt_at.eq(next),
            deliveries::lease_until.eq(None::<NaiveDateTime>),
            deliveries::last_error.eq(Some(error)),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn mark_failed(conn: &mut DbConnection, id: i64, error: &str) -> QueryResult<()> {
    diesel::update(deliveries::table.find(id))
        .set((
            deliveries::status.eq(DeliveryStatus::Failed.as_str()),
            deliveries::attempts.eq(deliveries::attempts + 1),
            deliveries::lease_until.eq(None::<NaiveDateTime>),
            deliveries::last_error.eq(Some(error)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Deletes up to `limit` deliveries in one finished `status` created before
/// `before` (oldest first, in the order of `webhook_deliveries_retention_idx`, one status at a
/// time so the index gives the order); returns how many.
pub fn delete_finished_before(
    conn: &mut DbConnection,
    status: DeliveryStatus,
    before: NaiveDateTime,
    limit: i64,
) -> QueryResult<usize> {
    delete_oldest_in_status!(conn, deliveries, status.as_str(), before, limit)
}
