//! Proration: what a license bought mid-period costs, in the price's currency.

use chrono::NaiveDateTime;

use crate::domain::money::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proration {
    pub amount: Money,
    /// Whole seconds from `now` to the period's end (fractions of a second dropped).
    pub seconds_remaining: i64,
}

/// The prorated price of one license for the rest of `[start, end)` as seen at `now`:
/// the full price at `start`, zero at `end`, never negative; rounded half up
/// to the cent (`Money::portion`).
pub fn prorate(
    price: Money,
    start: NaiveDateTime,
    end: NaiveDateTime,
    now: NaiveDateTime,
) -> Proration {
    let whole = (end - start).num_seconds();
    let remaining = (end - now).num_seconds().clamp(0, whole.max(0));
    Proration {
        amount: price.portion(remaining, whole),
        seconds_remaining: remaining,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;
    use chrono::{Duration, NaiveDate};
    use proptest::prelude::*;

    fn start() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    }

    fn usd(cents: i64) -> Money {
        Money::new(cents, Currency::parse("USD").unwrap())
    }

    fn cents(price: i64, end: NaiveDateTime, now: NaiveDateTime) -> i64 {
        prorate(usd(price), start(), end, now).amount.cents()
    }

    #[test]
    fn full_price_at_the_start_and_nothing_at_the_end() {
        let end = start() + Duration::days(365);
        assert_eq!(cents(120_000, end, start()), 120_000);
        assert_eq!(cents(120_000, end, end), 0);
        assert_eq!(cents(120_000, end, end + Duration::days(3)), 0);
        assert_eq!(cents(120_000, end, start() - Duration::days(3)), 120_000);
    }

    #[test]
    fn rounds_half_up_to_the_cent() {
        // 1 cent over 2 seconds with 1 second left = 0.5 cent → 1.
        let end = start() + Duration::seconds(2);
        assert_eq!(cents(1, end, start() + Duration::seconds(1)), 1);
        // 10 cents × 1/3 = 3.33 → 3; × 2/3 = 6.67 → 7.
        let end = start() + Duration::seconds(3);
        assert_eq!(cents(10, end, start() + Duration::seconds(2)), 3);
        assert_eq!(cents(10, end, start() + Duration::seconds(1)), 7);
    }

    #[test]
    fn half_of_a_thirty_day_month() {
        let end = start() + Duration::days(30);
        let p = prorate(usd(5_000), start(), end, start() + Duration::days(15));
        assert_eq!(
            p,
            Proration {
                amount: usd(2_500),
                seconds_remaining: 15 * 86_400
            }
        );
    }

    #[test]
    fn the_amount_is_in_the_price_currency() {
        let eur = Currency::parse("EUR").unwrap();
        let end = start() + Duration::days(30);
        let p = prorate(Money::new(5_000, eur), start(), end, start());
        assert_eq!(p.amount, Money::new(5_000, eur));
    }

    proptest! {
        #[test]
        fn never_negative_never_above_price_and_monotone_in_time(
            price in 0i64..10_000_000, whole in 1i64..40_000_000, a in -1_000i64..40_001_000, b in -1_000i64..40_001_000
        ) {
            let end = start() + Duration::seconds(whole);
            let (early, late) = (a.min(b), a.max(b));
            let x = cents(price, end, start() + Duration::seconds(early));
            let y = cents(price, end, start() + Duration::seconds(late));
            prop_assert!(x >= 0 && y >= 0);
            prop_assert!(x <= price);
            prop_assert!(y <= x, "later ({y}) must not cost more than earlier ({x})");
        }
    }
}
