//! Billing periods. An account stores only its anchor (the start of its first
//! period); the current period is computed, so periods roll over by whole
//! periods without any job having to run.
//!
//! Months are calendar months counted from the anchor: period `k` starts at
//! `anchor + k months`. When the anchor's day does not exist in a month, the
//! period starts on that month's last day (anchor Jan 31 → Feb 28/29 → Mar 31),
//! always counted from the anchor so the day never drifts.

use chrono::{Months, NaiveDateTime};

use crate::domain::billing::Plan;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BillingPeriod {
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
}

fn months_per_period(plan: Plan) -> i64 {
    match plan {
        Plan::Annual => 12,
        Plan::Monthly => 1,
    }
}

fn boundary(anchor: NaiveDateTime, plan: Plan, k: i64) -> NaiveDateTime {
    let months = k
        .unsigned_abs()
        .saturating_mul(months_per_period(plan) as u64);
    let months = Months::new(u32::try_from(months).unwrap_or(u32::MAX));
    let shifted = if k >= 0 {
        anchor.checked_add_months(months)
    } else {
        anchor.checked_sub_months(months)
    };
    shifted.unwrap_or(anchor)
}

/// The period `[start, end)` that contains `now`.
pub fn period_containing(anchor: NaiveDateTime, plan: Plan, now: NaiveDateTime) -> BillingPeriod {
    use chrono::Datelike;
    let month_diff = (i64::from(now.year()) - i64::from(anchor.year())) * 12
        + (i64::from(now.month()) - i64::from(anchor.month()));
    let mut k = month_diff.div_euclid(months_per_period(plan));
    while boundary(anchor, plan, k) > now {
        k -= 1;
    }
    while boundary(anchor, plan, k + 1) <= now {
        k += 1;
    }
    BillingPeriod {
        start: boundary(anchor, plan, k),
        end: boundary(anchor, plan, k + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn at(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    #[test]
    fn the_first_period_starts_at_the_anchor() {
        let anchor = at(2026, 1, 15, 0);
        let p = period_containing(anchor, Plan::Monthly, at(2026, 1, 20, 12));
        assert_eq!(
            p,
            BillingPeriod {
                start: anchor,
                end: at(2026, 2, 15, 0)
            }
        );
        let p = period_containing(anchor, Plan::Annual, at(2026, 1, 20, 12));
        assert_eq!(
            p,
            BillingPeriod {
                start: anchor,
                end: at(2027, 1, 15, 0)
            }
        );
    }

    #[test]
    fn periods_roll_over_by_whole_periods() {
        let anchor = at(2026, 1, 15, 0);
        let p = period_containing(anchor, Plan::Monthly, at(2026, 5, 15, 0));
        assert_eq!(
            p,
            BillingPeriod {
                start: at(2026, 5, 15, 0),
                end: at(2026, 6, 15, 0)
            }
        );
        let p = period_containing(anchor, Plan::Annual, at(2029, 1, 14, 23));
        assert_eq!(
            p,
            BillingPeriod {
                start: at(2028, 1, 15, 0),
                end: at(2029, 1, 15, 0)
            }
        );
    }

    #[test]
    fn month_end_anchors_clamp_without_drifting() {
        let anchor = at(2026, 1, 31, 0);
        let feb = period_containing(anchor, Plan::Monthly, at(2026, 2, 28, 12));
        assert_eq!(
            feb,
            BillingPeriod {
                start: at(2026, 2, 28, 0),
                end: at(2026, 3, 31, 0)
            }
        );
        let leap = period_containing(anchor, Plan::Monthly, at(2028, 2, 29, 12));
        assert_eq!(leap.start, at(2028, 2, 29, 0));
    }

    #[test]
    fn a_future_anchor_still_yields_the_period_containing_now() {
        let anchor = at(2026, 6, 1, 0);
        let p = period_containing(anchor, Plan::Monthly, at(2026, 4, 10, 0));
        assert_eq!(
            p,
            BillingPeriod {
                start: at(2026, 4, 1, 0),
                end: at(2026, 5, 1, 0)
            }
        );
    }

    proptest! {
        #[test]
        fn the_period_always_contains_now(
            anchor_days in 0i64..20_000, offset_secs in -400_000_000i64..400_000_000, monthly in any::<bool>()
        ) {
            let anchor = at(1990, 1, 1, 0) + chrono::Duration::days(anchor_days);
            let now = anchor + chrono::Duration::seconds(offset_secs);
            let plan = if monthly { Plan::Monthly } else { Plan::Annual };
            let p = period_containing(anchor, plan, now);
            prop_assert!(p.start <= now && now < p.end);
        }
    }
}
