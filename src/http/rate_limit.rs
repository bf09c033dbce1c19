//! Per-client-IP limit on the token endpoints (`POST /sessions`,
//! `/invitations/{token}…`), where guessing is the attack. Kept in memory per
//! process (GCRA, from `governor`). The client is the TCP peer, or behind a
//! trusted proxy the address it forwards (see `network::client_ip`); IPv6
//! clients are counted per /64.

use std::future::{Ready, ready};
use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::domain::network;
use crate::error::AppError;
use crate::http::state::AppState;

pub type IpLimiter = DefaultKeyedRateLimiter<IpAddr>;

/// Forgotten clients are dropped once the table grows past this.
const TIDY_AFTER: usize = 10_000;

pub fn ip_limiter(per_minute: u32) -> Arc<IpLimiter> {
    let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute)))
}

/// Present in a handler's arguments: the request counts against its client's quota.
pub struct TokenEndpointQuota;

impl FromRequest for TokenEndpointQuota {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            return ready(Ok(TokenEndpointQuota));
        };
        let limiter = &state.token_limiter;
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
        let client = network::limit_key(network::client_ip(
            peer,
            &forwarded,
            &state.config.trusted_proxies,
        ));
        ready(match limiter.check_key(&client) {
            Ok(()) => Ok(TokenEndpointQuota),
            Err(not_until) => Err(AppError::RateLimited {
                retry_after_seconds: not_until
                    .wait_time_from(DefaultClock::default().now())
                    .as_secs()
                    + 1,
                detail: "Too many requests to token endpoints from this client; retry later."
                    .into(),
            }),
        })
    }
}
