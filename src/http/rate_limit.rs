//! Per-client-IP limit on the token endpoints (`POST /sessions`,
//! `/invitations/{token}…`), where guessing is the attack. Kept in memory per
//! process (GCRA, from `governor`). The client is the TCP peer, or behind a
//! trusted proxy the address it forwards (see `network::client_ip`); IPv6
//! clients are counted per /64.

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::Arc;

use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::domain::network;
use crate::error::AppError;

pub type IpLimiter = DefaultKeyedRateLimiter<IpAddr>;

/// Forgotten clients are dropped once the table grows past this.
const TIDY_AFTER: usize = 10_000;

pub fn ip_limiter(per_minute: NonZeroU32) -> Arc<IpLimiter> {
    Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute)))
}

/// Counts `req` against its client's quota: `429 rate_limited` once spent.
pub fn admit(
    limiter: &IpLimiter,
    req: &HttpRequest,
    trusted_proxies: &[ipnet::IpNet],
) -> Result<(), AppError> {
    // Tidying walks the whole table: do it now and then, not on every request.
    static CHECKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let checks = CHECKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if checks.is_multiple_of(1_024) && limiter.len() > TIDY_AFTER {
        limiter.retain_recent();
    }
    let peer = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    let client = network::limit_key(network::client_ip(peer, &forwarded, trusted_proxies));
    limiter
        .check_key(&client)
        .map_err(|not_until| AppError::RateLimited {
            retry_after_seconds: not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                + 1,
            detail: "Too many requests to token endpoints from this client; retry later.".into(),
        })
}
