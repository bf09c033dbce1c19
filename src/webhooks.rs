//! Webhook delivery: signed POSTs from the webhook outbox, with retries.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
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
use crate::domain::network;
use crate::error::AppError;
use crate::metrics::{Metrics, Outcome};

pub const SIGNATURE_HEADER: &str = "Invitations-Signature";
/// Deliveries in flight at once; each endpoint has at most one, so a slow
/// receiver holds one slot, never the others' deliveries.
pub const CONCURRENCY: usize = 16;
/// Longer than one delivery can take (connect + answer within `TIMEOUT`).
const LEASE: Duration = Duration::from_secs(300);
const TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long registering a webhook waits for its host's DNS answer.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);
/// With backoff doubling up to an hour, 20 attempts span about nine hours:
/// a receiver down for a deploy, or a night, still gets every event.
pub const MAX_ATTEMPTS: i32 = 20;

/// `t={unix seconds},v1={hex HMAC-SHA256(secret, "{t}.{body}")}`: receivers
/// recompute it and reject old timestamps to stop replays.
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

/// Makes rustls (ring) the process's TLS provider; needed before any
/// `reqwest::Client` is built. Safe to call any number of times.
pub fn install_tls_provider() {
    // Several callers in one process may race to install it: any one is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The HTTP client for mail APIs (rustls with ring; no OpenSSL). An error,
/// never a default client: that would have no timeouts and follow redirects.
pub fn http_client() -> Result<reqwest::Client, String> {
    install_tls_provider();
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("invitations-webhooks/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client for mail: {e}"))
}

/// Why an address may not receive webhooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestinationError {
    /// The host is, or resolves to, an address that is not public.
    NotPublic,
    /// The host name has no address (now).
    Unresolvable(String),
}

impl std::fmt::Display for DestinationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DestinationError::NotPublic => {
                f.write_str("the destination is not a public internet address")
            }
            DestinationError::Unresolvable(why) => write!(f, "cannot resolve the host: {why}"),
        }
    }
}

impl std::error::Error for DestinationError {}

/// Every address of `host`, provided each one is public (a name that also
/// points somewhere private is refused as a whole: that is what DNS
/// rebinding looks like).
pub async fn public_addresses(host: &str, port: u16) -> Result<Vec<SocketAddr>, DestinationError> {
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
        return if network::is_public(ip) {
            Ok(vec![SocketAddr::new(ip, port)])
        } else {
            Err(DestinationError::NotPublic)
        };
    }
    if network::is_local_name(host) {
        return Err(DestinationError::NotPublic);
    }
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| DestinationError::Unresolvable(e.to_string()))?
        .collect();
    if addresses.is_empty() {
        return Err(DestinationError::Unresolvable("no address".into()));
    }
    if addresses.iter().any(|a| !network::is_public(a.ip())) {
        return Err(DestinationError::NotPublic);
    }
    Ok(addresses)
}

/// At registration: refuses a URL whose host is, or now resolves to, an
/// address that is not public. A host that does not resolve (yet) is
/// accepted; every delivery checks again.
pub async fn check_destination(url: &reqwest::Url) -> Result<(), DestinationError> {
    let Some(host) = url.host_str() else {
        return Err(DestinationError::Unresolvable("no host".into()));
    };
    let port = url.port_or_known_default().unwrap_or(443);
    match tokio::time::timeout(LOOKUP_TIMEOUT, public_addresses(host, port)).await {
        Ok(Err(DestinationError::NotPublic)) => Err(DestinationError::NotPublic),
        _ => Ok(()),
    }
}

/// Resolves names for webhook deliveries, answering only public addresses,
/// so the connection is made to an address that was checked.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = public_addresses(&host, 0).await?;
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client for webhooks: no redirects, no proxy, a short connect
/// timeout, and (unless `INVITATIONS_WEBHOOK_ALLOW_PRIVATE_NETWORKS`) only
/// public addresses. An error, never a default client without those limits.
pub fn webhook_client(config: &Config) -> Result<reqwest::Client, String> {
    install_tls_provider();
    let builder = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("invitations-webhooks/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    let builder = if config.webhook_allow_private_networks {
        builder
    } else {
        builder.dns_resolver(PublicOnly)
    };
    builder
        .build()
        .map_err(|e| format!("cannot build the HTTP client for webhooks: {e}"))
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
    busy: Arc<Mutex<HashSet<i64>>>,
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
            slots: Arc::new(Semaphore::new(CONCURRENCY)),
            busy: Arc::default(),
            finished: Arc::default(),
        }
    }

    fn busy(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
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
        let all = u32::try_from(CONCURRENCY).unwrap_or(u32::MAX);
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
        let lease_until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        let busy: Vec<i64> = self.busy().iter().copied().collect();
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
