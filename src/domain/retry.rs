//! When to try a failed delivery (email or webhook) again.

use rand::RngExt;

/// About 2^attempts seconds, at most an hour, plus up to a quarter more at
/// random so that retries to one receiver do not arrive in lockstep.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let base = 2_i64
        .saturating_pow(u32::try_from(attempts.clamp(0, 12)).unwrap_or(12))
        .min(3_600);
    chrono::Duration::seconds(base + rand::rng().random_range(0..=base / 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour_with_bounded_jitter() {
        for (attempts, base) in [(0, 1), (1, 2), (5, 32), (12, 3_600), (40, 3_600)] {
            let wait = backoff(attempts).num_seconds();
            assert!(
                (base..=base + base / 4).contains(&wait),
                "{attempts}: {wait}"
            );
        }
        assert_eq!(backoff(-3).num_seconds(), 1);
    }
}
