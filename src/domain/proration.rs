//! Proration: what a license bought mid-period costs. Integer cents only.

use chrono::NaiveDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proration {
    pub amount_cents: i64,
    /// Whole seconds from `now` to the period's end (fractions of a second dropped).
    pub seconds_remaining: i64,
}

/// `round_half_up(price × part / whole)` in exact integer arithmetic.
pub fn portion(price_cents: i64, part_seconds: i64, whole_seconds: i64) -> i64 {
    if whole_seconds <= 0 || price_cents <= 0 || part_seconds <= 0 {
        return 0;
    }
    let part = i128::from(part_seconds.min(whole_seconds));
    let numerator = 2 * i128::from(price_cents) * part + i128::from(whole_seconds);
    let amount = numerator / (2 * i128::from(whole_seconds));
    i64::try_from(amount).unwrap_or(i64::MAX)
}

/// The prorated price of one license for the rest of `[start, end)` as seen at `now`:
/// the full price at `start`, zero at `end`, never negative.
pub fn prorate(
    price_cents: i64,
    start: NaiveDateTime,
    end: NaiveDateTime,
    now: NaiveDateTime,
) -> Proration {
    let whole = (end - start).num_seconds();
    let remaining = (end - now).num_seconds().clamp(0, whole.max(0));
    Proration {
        amount_cents: portion(price_cents, remaining, whole),
        seconds_remaining: remaining,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, NaiveDate};
    use proptest::prelude::*;

    fn start() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    }

    #[test]
    fn full_price_at_the_start_and_nothing_at_the_end() {
        let end = start() + Duration::days(365);
        assert_eq!(
            prorate(120_000, start(), end, start()).amount_cents,
            120_000
        );
        assert_eq!(prorate(120_000, start(), end, end).amount_cents, 0);
        assert_eq!(
            prorate(120_000, start(), end, end + Duration::days(3)).amount_cents,
            0
        );
        assert_eq!(
            prorate(120_000, start(), end, start() - Duration::days(3)).amount_cents,
            120_000
        );
    }

    #[test]
    fn rounds_half_up_to_the_cent() {
        // 1 cent over 2 seconds with 1 second left = 0.5 cent → 1.
        assert_eq!(portion(1, 1, 2), 1);
        // 10 cents × 1/3 = 3.33 → 3; × 2/3 = 6.67 → 7.
        assert_eq!(portion(10, 1, 3), 3);
        assert_eq!(portion(10, 2, 3), 7);
    }

    #[test]
    fn half_of_a_thirty_day_month() {
        let end = start() + Duration::days(30);
        let p = prorate(5_000, start(), end, start() + Duration::days(15));
        assert_eq!(
            p,
            Proration {
                amount_cents: 2_500,
                seconds_remaining: 15 * 86_400
            }
        );
    }

    proptest! {
        #[test]
        fn never_negative_never_above_price_and_monotone_in_time(
            price in 0i64..10_000_000, whole in 1i64..40_000_000, a in -1_000i64..40_001_000, b in -1_000i64..40_001_000
        ) {
            let end = start() + Duration::seconds(whole);
            let (early, late) = (a.min(b), a.max(b));
            let x = prorate(price, start(), end, start() + Duration::seconds(early)).amount_cents;
            let y = prorate(price, start(), end, start() + Duration::seconds(late)).amount_cents;
            prop_assert!(x >= 0 && y >= 0);
            prop_assert!(x <= price);
            prop_assert!(y <= x, "later ({y}) must not cost more than earlier ({x})");
        }

        #[test]
        fn the_sum_of_splits_is_within_a_cent_of_the_whole(
            price in 0i64..10_000_000, whole in 1i64..40_000_000, cut in 0i64..40_000_000
        ) {
            let cut = cut.min(whole);
            let parts = portion(price, cut, whole) + portion(price, whole - cut, whole);
            prop_assert!((parts - price).abs() <= 1, "{parts} vs {price}");
        }
    }
}
