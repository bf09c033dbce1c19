//! The email outbox: written in the same transaction as the change that needs
//! the email, delivered later by the worker under a lease.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use super::DbConnection;
use super::prepared::Prepared;
use super::schema::email_outbox;
use crate::domain::ids::{AccountId, InvitationId};
use crate::domain::outbox::OutboxStatus;

#[derive(Debug, Clone, Queryable, QueryableByName)]
#[diesel(table_name = email_outbox)]
pub struct OutboxRow {
    pub id: i64,
    pub account_id: AccountId,
    pub invitation_id: Option<InvitationId>,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = email_outbox)]
pub struct NewEmail<'a> {
    pub account_id: AccountId,
    pub invitation_id: Option<InvitationId>,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: &'a str,
    pub status: &'a str,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewEmail<'_>) -> QueryResult<i64> {
    Prepared(
        diesel::insert_into(email_outbox::table)
            .values(new)
            .returning(email_outbox::id),
    )
    .get_result(conn)
}

/// Leases up to `limit` due messages until `lease_until`, oldest due first, in one
/// statement. On PostgreSQL rows another worker is claiming are skipped
/// (`SKIP LOCKED`), and the lease condition is checked again after the row
/// lock; SQLite runs writers one at a time. (Raw SQL: Diesel cannot express an
/// UPDATE whose target is a limited, locking subquery; and SQLite, without
/// statistics, would rather take the retention index and sort. Its text is
/// fixed: kept prepared.)
pub fn claim_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    let queued = OutboxStatus::Queued;
    let due = format!(
        "status = '{queued}' AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until < $2)"
    );
    let mut claimed: Vec<OutboxRow> = match conn {
        DbConnection::Postgres(pg) => Prepared(
            diesel::sql_query(format!(
                "UPDATE email_outbox SET lease_until = $1 WHERE id IN \
                 (SELECT id FROM email_outbox WHERE {due} ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
                 AND {due} RETURNING *"
            ))
            .bind::<Timestamp, _>(lease_until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit),
        )
        .load(pg)?,
        DbConnection::Sqlite(lite) => Prepared(
            diesel::sql_query(
                format!(
                    "UPDATE email_outbox SET lease_until = $1 WHERE id IN \
                     (SELECT id FROM email_outbox INDEXED BY email_outbox_due_idx \
                      WHERE {due} ORDER BY next_attempt_at, id LIMIT $3) \
                     AND {due} RETURNING *"
                )
                .replace('$', "?"),
            )
            .bind::<Timestamp, _>(lease_until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit),
        )
        .load(lite)?,
    };
    claimed.sort_unstable_by_key(|row| row.id);
    Ok(claimed)
}

/// Sent: the bodies (which carry the invitation token) are no longer kept.
/// Marks those of `ids` still queued (not cancelled meanwhile) and returns the
/// invitations they were for.
pub fn mark_sent_many(
    conn: &mut DbConnection,
    ids: &[i64],
    now: NaiveDateTime,
) -> QueryResult<Vec<InvitationId>> {
    let sent = || {
        (
            email_outbox::status.eq(OutboxStatus::Sent.as_str()),
            email_outbox::attempts.eq(email_outbox::attempts + 1),
            email_outbox::sent_at.eq(Some(now)),
            email_outbox::lease_until.eq(None::<NaiveDateTime>),
            email_outbox::text_body.eq(""),
            email_outbox::html_body.eq(""),
            email_outbox::last_error.eq(None::<String>),
        )
    };
    let queued = || email_outbox::status.eq(OutboxStatus::Queued.as_str());
    let invitations: Vec<Option<InvitationId>> = match conn {
        _ if ids.is_empty() => Vec::new(),
        // One statement for the batch: a round trip each would cost more.
        // `= ANY($1)` on PostgreSQL: one text whatever the batch.
        DbConnection::Postgres(pg) => Prepared(
            diesel::update(
                email_outbox::table
                    .filter(email_outbox::id.eq_any(ids))
                    .filter(queued()),
            )
            .set(sent())
            .returning(email_outbox::invitation_id),
        )
        .get_results(pg)?,
        // No round trips to save, and SQLite would plan `id IN (…) AND
        // status = ?` on the status index (every sent email), not by id.
        DbConnection::Sqlite(lite) => {
            let mut invitations = Vec::with_capacity(ids.len());
            for id in ids {
                invitations.extend(
                    diesel::update(email_outbox::table.find(*id).filter(queued()))
                        .set(sent())
                        .returning(email_outbox::invitation_id)
                        .get_results::<Option<InvitationId>>(lite)?,
                );
            }
            invitations
        }
    };
    Ok(invitations.into_iter().flatten().collect())
}

/// Each `mark_*` returns 0 when the message was cancelled meanwhile.
pub fn mark_retry(
    conn: &mut DbConnection,
    id: i64,
    next_attempt_at: NaiveDateTime,
    error: &str,
) -> QueryResult<usize> {
    diesel::update(
        email_outbox::table
            .find(id)
            .filter(email_outbox::status.eq(OutboxStatus::Queued.as_str())),
    )
    .set((
        email_outbox::attempts.eq(email_outbox::attempts + 1),
        email_outbox::next_attempt_at.eq(next_attempt_at),
        email_outbox::lease_until.eq(None::<NaiveDateTime>),
        email_outbox::last_error.eq(Some(error)),
    ))
    .execute(conn)
}

/// Given up: the bodies are dropped too.
pub fn mark_failed(conn: &mut DbConnection, id: i64, error: &str) -> QueryResult<usize> {
    diesel::update(
        email_outbox::table
            .find(id)
            .filter(email_outbox::status.eq(OutboxStatus::Queued.as_str())),
    )
    .set((
        email_outbox::status.eq(OutboxStatus::Failed.as_str()),
        email_outbox::attempts.eq(email_outbox::attempts + 1),
        email_outbox::lease_until.eq(None::<NaiveDateTime>),
        email_outbox::last_error.eq(Some(error)),
        email_outbox::text_body.eq(""),
        email_outbox::html_body.eq(""),
    ))
    .execute(conn)
}

/// Queued emails of an invitation whose token was replaced or that is no
/// longer pending: never sent, their bodies erased, kept as send history.
pub fn cancel_queued_for_invitation(
    conn: &mut DbConnection,
    invitation_id: InvitationId,
) -> QueryResult<()> {
    diesel::update(
        email_outbox::table
            .filter(email_outbox::invitation_id.eq(invitation_id))
            .filter(email_outbox::status.eq(OutboxStatus::Queued.as_str())),
    )
    .set((
        email_outbox::status.eq(OutboxStatus::Cancelled.as_str()),
        email_outbox::lease_until.eq(None::<NaiveDateTime>),
        email_outbox::text_body.eq(""),
        email_outbox::html_body.eq(""),
    ))
    .execute(conn)
    .map(|_| ())
}

/// When the invitation's emails after its first were queued, since `since`, oldest first.
pub fn resends_since(
    conn: &mut DbConnection,
    invitation_id: InvitationId,
    first_sent_at: NaiveDateTime,
    since: NaiveDateTime,
) -> QueryResult<Vec<NaiveDateTime>> {
    email_outbox::table
        .filter(email_outbox::invitation_id.eq(invitation_id))
        .filter(email_outbox::created_at.gt(first_sent_at))
        .filter(email_outbox::created_at.gt(since))
        .select(email_outbox::created_at)
        .order(email_outbox::created_at.asc())
        .load(conn)
}

pub fn count_queued(conn: &mut DbConnection) -> QueryResult<i64> {
    email_outbox::table
        .filter(email_outbox::status.eq(OutboxStatus::Queued.as_str()))
        .count()
        .get_result(conn)
}

/// Deletes up to `limit` emails in one finished `status` created before
/// `before` (oldest first, in the order of `email_outbox_retention_idx`, one status at a
/// time so the index gives the order); returns how many.
pub fn delete_finished_before(
    conn: &mut DbConnection,
    status: OutboxStatus,
    before: NaiveDateTime,
    limit: i64,
) -> QueryResult<usize> {
    delete_oldest_in_status!(conn, email_outbox, status.as_str(), before, limit)
}
