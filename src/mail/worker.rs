//! The outbox worker: leases due emails, sends them, records the outcome.
//! Survives restarts (an expired lease makes a message due again) and is safe
//! to run in several processes at once.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::{self, DbPool, outbox::OutboxRow};
use crate::error::AppError;
use crate::mail::provider::{MailProvider, OutgoingEmail};
use crate::metrics::Metrics;
use crate::services::expiry;

const BATCH: i64 = 20;
/// Longer than a whole batch can take (20 sends with a 10 s timeout each), so
/// a live worker's lease never runs out under it; after a crash, the messages
/// it held are sent by whoever claims them next.
const LEASE: Duration = Duration::from_secs(300);

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
    /// Runs until the process ends: delivers due email, and sweeps expired invitations.
    /// Runs until the process ends: delivers due email, sweeps expired
    /// invitations, and (in its own loop, so a slow receiver never delays
    /// invitation emails) delivers webhooks.
    pub async fn run(self) {
        tokio::join!(self.email_loop(), self.webhook_loop());
    }

    async fn email_loop(&self) {
        let mut last_sweep: Option<std::time::Instant> = None;
        loop {
            if last_sweep.is_none_or(|t| t.elapsed() >= self.config.sweep_interval) {
                last_sweep = Some(std::time::Instant::now());
                let (pool, now) = (self.pool.clone(), self.clock.now());
                match tokio::task::spawn_blocking(move || expiry::sweep(&pool, now)).await {
                    Ok(Ok(0)) => {}
                    Ok(Ok(n)) => tracing::info!(expired = n, "expired overdue invitations"),
                    Ok(Err(e)) => tracing::warn!(error = %e, "expiry sweep failed"),
                    Err(e) => tracing::warn!(error = %e, "expiry sweep panicked"),
                }
            }
            match self.deliver_due().await {
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "outbox pass failed"),
            }
            tokio::select! {
                _ = self.wakeup.notified() => {}
                _ = tokio::time::sleep(self.config.worker_poll_interval) => {}
            }
        }
    }

    async fn webhook_loop(&self) {
        loop {
            match crate::webhooks::deliver_due(&self.pool, &self.http, &self.clock, &self.metrics)
                .await
            {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhook pass failed"),
            }
            tokio::time::sleep(self.config.worker_poll_interval).await;
        }
    }

    /// One pass: claim a batch and deliver it. Returns how many were claimed.
    pub async fn deliver_due(&self) -> Result<usize, AppError> {
        let pool = self.pool.clone();
        let now = self.clock.now();
        let lease_until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        let batch = tokio::task::spawn_blocking(move || -> Result<Vec<OutboxRow>, AppError> {
            let mut conn = pool.get()?;
            Ok(db::outbox::claim_due(&mut conn, now, lease_until, BATCH)?)
        })
        .await??;
        let claimed = batch.len();
        for row in batch {
            self.deliver(row).await?;
        }
        Ok(claimed)
    }

    async fn deliver(&self, row: OutboxRow) -> Result<(), AppError> {
        let email = OutgoingEmail {
            outbox_id: row.id,
            from: self.config.mail_from.clone(),
            to: row.recipient.clone(),
            subject: row.subject.clone(),
            text: row.text_body.clone(),
            html: row.html_body.clone(),
        };
        let outcome = self.provider.send(&email).await;
        self.metrics.observe_delivery(match &outcome {
            Ok(()) => "sent",
            Err(_) if row.attempts + 1 >= self.config.mail_max_attempts => "failed",
            Err(_) => "retry",
        });
        let pool = self.pool.clone();
        let now = self.clock.now();
        let max_attempts = self.config.mail_max_attempts;
        tokio::task::spawn_blocking(move || record_outcome(&pool, &row, outcome, now, max_attempts))
            .await?
    }
}

fn record_outcome(
    pool: &DbPool,
    row: &OutboxRow,
    outcome: Result<(), String>,
    now: NaiveDateTime,
    max_attempts: i32,
) -> Result<(), AppError> {
    let mut conn = pool.get()?;
    db::transaction(&mut conn, |conn| {
        // Same lock order as every use-case (account, then invitation, then
        // outbox), so a revoke racing this delivery waits instead of deadlocking.
        db::accounts::lock(conn, row.account_id)?;
        let (updated, delivery) = match &outcome {
            Ok(()) => (db::outbox::mark_sent(conn, row.id, now)?, "sent"),
            Err(error) if row.attempts + 1 >= max_attempts => {
                tracing::warn!(outbox_id = row.id, error = %error, "email delivery failed for good");
                (db::outbox::mark_failed(conn, row.id, error)?, "failed")
            }
            Err(error) => {
                tracing::warn!(outbox_id = row.id, error = %error, "email delivery failed; will retry");
                let next = now + crate::domain::retry::backoff(row.attempts);
                (db::outbox::mark_retry(conn, row.id, next, error)?, "queued")
            }
        };
        // A message cancelled meanwhile (resend, revoke) says nothing about the invitation.
        if let (1, Some(invitation_id)) = (updated, row.invitation_id) {
            db::invitations::set_delivery(conn, invitation_id, delivery)?;
        }
        Ok(())
    })
}
