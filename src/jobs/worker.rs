//! The outbox worker: leases due emails, sends them, records the outcome.
//! Survives restarts (an expired lease makes a message due again) and is safe
//! to run in several processes at once.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use tokio::sync::{Notify, watch};

use crate::clock::Clock;
use crate::config::Config;
use crate::db::{self, DbPool, outbox::OutboxRow};
use crate::domain::ids::InvitationId;
use crate::domain::invitation::Delivery;
use crate::error::AppError;
use crate::mail::provider::{MailProvider, OutgoingEmail};
use crate::metrics::{Metrics, Outcome};
use crate::services::{expiry, retention};

const BATCH: i64 = 50;
/// How long a wake-up waits for more emails before claiming a batch.
const GATHER: Duration = Duration::from_millis(10);
/// Longer than a whole batch can take (its sends run side by side, each with a 10 s timeout), so
/// a live worker's lease never runs out under it; after a crash, the messages
/// it held are sent by whoever claims them next.
const LEASE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

#[derive(Clone)]
pub struct Worker {
    pub pool: DbPool,
    pub config: Arc<Config>,
    pub clock: Clock,
    pub provider: MailProvider,
    pub wakeup: Arc<Notify>,
    pub metrics: Arc<Metrics>,
    pub http: reqwest::Client,
}

impl Worker {
    /// Runs until the process ends: delivers due email, sweeps expired
    /// invitations, and (in its own loop, so a slow receiver never delays
    /// invitation emails) delivers webhooks.
    pub async fn run(self) {
        self.run_until(std::future::pending()).await;
    }

    /// `run` until `stop` completes; then each loop finishes the batch it is
    /// delivering (so no message stays leased to a process that is gone) and
    /// this returns. The caller bounds how long that may take.
    pub async fn run_until(self, stop: impl Future<Output = ()>) {
        let (stopping, stopped) = watch::channel(false);
        let loops = async {
            tokio::join!(
                self.email_loop(stopped.clone()),
                self.webhook_loop(stopped.clone())
            );
        };
        tokio::pin!(loops);
        tokio::select! {
            () = &mut loops => {}
            () = stop => {
                let _ = stopping.send(true);
                loops.await;
            }
        }
    }

    async fn email_loop(&self, mut stop: watch::Receiver<bool>) {
        let mut last_sweep: Option<std::time::Instant> = None;
        while !*stop.borrow() {
            if last_sweep.is_none_or(|t| t.elapsed() >= self.config.sweep_interval) {
                last_sweep = Some(std::time::Instant::now());
                let (pool, now) = (self.pool.clone(), self.clock.now());
                match tokio::task::spawn_blocking(move || expiry::sweep(&pool, now)).await {
                    Ok(Ok(0)) => {}
                    Ok(Ok(n)) => tracing::info!(expired = n, "expired overdue invitations"),
                    Ok(Err(e)) => tracing::warn!(error = %e, "expiry sweep failed"),
                    Err(e) => tracing::warn!(error = %e, "expiry sweep panicked"),
                }
                let (pool, now, days) = (
                    self.pool.clone(),
                    self.clock.now(),
                    self.config.retention_days,
                );
                match tokio::task::spawn_blocking(move || retention::prune(&pool, now, days)).await
                {
                    Ok(Ok(0)) => {}
                    Ok(Ok(n)) => tracing::info!(
                        deleted = n,
                        "pruned finished emails and webhook deliveries past retention"
                    ),
                    Ok(Err(e)) => tracing::warn!(error = %e, "retention pass failed"),
                    Err(e) => tracing::warn!(error = %e, "retention pass panicked"),
                }
            }
            match self.deliver_due().await {
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "outbox pass failed"),
            }
            tokio::select! {
                _ = self.wakeup.notified() => {
                    // Every queued email wakes this loop; under a burst of
                    // invites, a moment's wait gathers them into one batch
                    // (one claim, one commit) instead of one batch each.
                    tokio::time::sleep(GATHER).await;
                }
                _ = tokio::time::sleep(self.config.worker_poll_interval) => {}
                _ = stop.changed() => {}
            }
        }
    }

    async fn webhook_loop(&self, stop: watch::Receiver<bool>) {
        crate::jobs::webhook_delivery::Deliverer::new(
            self.pool.clone(),
            self.http.clone(),
            &self.config,
            self.clock.clone(),
            self.metrics.clone(),
        )
        .run(self.config.worker_poll_interval, stop)
        .await;
    }

    /// One pass: claim a batch and deliver it. Returns how many were claimed.
    pub async fn deliver_due(&self) -> Result<usize, AppError> {
        let pool = self.pool.clone();
        let now = self.clock.now();
        let lease_until = now + LEASE;
        let batch = tokio::task::spawn_blocking(move || -> Result<Vec<OutboxRow>, AppError> {
            let mut conn = pool.get()?;
            Ok(db::outbox::claim_due(&mut conn, now, lease_until, BATCH)?)
        })
        .await??;
        let claimed = batch.len();
        // Sent side by side (a slow provider answer does not hold back the
        // batch), then recorded together in one transaction.
        let outcomes = futures_util::future::join_all(batch.into_iter().map(|row| async move {
            let outcome = self.send(&row).await;
            (row, outcome)
        }))
        .await;
        let pool = self.pool.clone();
        let now = self.clock.now();
        let max_attempts = self.config.mail_max_attempts;
        tokio::task::spawn_blocking(move || record_outcomes(&pool, &outcomes, now, max_attempts))
            .await??;
        Ok(claimed)
    }

    async fn send(&self, row: &OutboxRow) -> Result<Option<String>, String> {
        let email = OutgoingEmail {
            outbox_id: row.id,
            queued_at: row.created_at,
            from: self.config.mail_from.clone(),
            to: row.recipient.clone(),
            subject: row.subject.clone(),
            text: row.text_body.clone(),
            html: row.html_body.clone(),
        };
        let outcome = self.provider.send(&email).await;
        let observed = match &outcome {
            Ok(_) => Outcome::Sent,
            Err(_) if row.attempts + 1 >= self.config.mail_max_attempts => Outcome::Failed,
            Err(_) => Outcome::Retry,
        };
        self.metrics.observe_delivery(observed);
        self.metrics.observe_send(self.provider.name(), observed);
        outcome
    }
}

/// Records a batch's outcomes in one transaction (one commit for the batch),
/// retried if the database reports a deadlock or a lost connection.
fn record_outcomes(
    pool: &DbPool,
    outcomes: &[(OutboxRow, Result<Option<String>, String>)],
    now: NaiveDateTime,
    max_attempts: i32,
) -> Result<(), AppError> {
    let mut attempt = 0;
    loop {
        let result = pool.get().map_err(AppError::from).and_then(|mut conn| {
            db::transaction(&mut conn, None, |conn| {
                record_in(conn, outcomes, now, max_attempts)
            })
        });
        match result {
            Err(AppError::Unavailable(_)) if attempt < 3 => attempt += 1,
            other => return other,
        }
    }
}

fn record_in(
    conn: &mut db::DbConnection,
    outcomes: &[(OutboxRow, Result<Option<String>, String>)],
    now: NaiveDateTime,
    max_attempts: i32,
) -> Result<(), AppError> {
    // The invitations first, then their messages: the order every use-case
    // (revoke, resend, expiry) takes them in, so a revoke racing this record
    // waits instead of deadlocking; without taking the account lock, so the
    // worker never queues behind (or holds up) an account's invites.
    let invitation_ids: Vec<InvitationId> = outcomes
        .iter()
        .filter_map(|(row, _)| row.invitation_id)
        .collect();
    db::invitations::lock_rows(conn, &invitation_ids)?;
    // The sent ones (nearly all, nearly always) in two statements for the batch.
    let sent: Vec<i64> = outcomes
        .iter()
        .filter(|(_, outcome)| outcome.is_ok())
        .map(|(row, _)| row.id)
        .collect();
    // Messages cancelled meanwhile (resend, revoke) are not among those
    // marked, and say nothing about their invitation.
    let delivered = db::outbox::mark_sent_many(conn, &sent, now)?;
    // The provider's id of each message, which its delivery events name.
    for (row, outcome) in outcomes {
        if let Ok(Some(id)) = outcome {
            db::mail_events::set_provider_message_id(conn, row.id, id)?;
        }
    }
    db::invitations::set_delivery_many(conn, &delivered, Delivery::Sent)?;
    for (row, outcome) in outcomes {
        let (updated, delivery) = match outcome {
            Ok(_) => continue,
            Err(error) if row.attempts + 1 >= max_attempts => {
                tracing::warn!(outbox_id = row.id, error = %error, "email delivery failed for good");
                (
                    db::outbox::mark_failed(conn, row.id, error)?,
                    Delivery::Failed,
                )
            }
            Err(error) => {
                tracing::warn!(outbox_id = row.id, error = %error, "email delivery failed; will retry");
                let next = now + crate::domain::retry::backoff(row.attempts);
                (
                    db::outbox::mark_retry(conn, row.id, next, error)?,
                    Delivery::Queued,
                )
            }
        };
        if let (1, Some(invitation_id)) = (updated, row.invitation_id) {
            db::invitations::set_delivery(conn, invitation_id, delivery)?;
        }
    }
    Ok(())
}
