//! The service's notion of "now". Production reads the system clock; tests may
//! move it forward to reach expiry and period ends without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{NaiveDateTime, Timelike, Utc};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
}

impl Clock {
    /// UTC now, to the microsecond (the precision both databases keep).
    pub fn now(&self) -> NaiveDateTime {
        let now = Utc::now().naive_utc()
            + chrono::Duration::seconds(self.offset_seconds.load(Ordering::Relaxed));
        let micros = now.nanosecond() / 1_000 * 1_000;
        now.with_nanosecond(micros).unwrap_or(now)
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.offset_seconds
            .fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}
