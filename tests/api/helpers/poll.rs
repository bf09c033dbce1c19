//! Waiting for something to happen by polling it, with a deadline, instead of
//! sleeping for a guessed time.

use std::future::Future;
use std::time::{Duration, Instant};

/// How often a condition is looked at again.
pub const POLL_EVERY: Duration = Duration::from_millis(25);

/// Polls `probe` until it returns `Some` (returned) or `timeout` passes (`None`).
pub async fn poll_until<T, F, Fut>(timeout: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Polls `probe` until it returns `Some`, and returns that; panics naming
/// `what` when `timeout` passes first.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    match poll_until(timeout, probe).await {
        Some(value) => value,
        None => panic!("waited {timeout:?} for {what}, in vain"),
    }
}

/// `poll_until` for synchronous code (a thread may block): `None` on timeout.
pub fn poll_until_blocking<T>(
    timeout: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(POLL_EVERY);
    }
}
