//! Limits counted in the database, so they hold across every instance:
//! invitations per account per hour, and resends per invitation.

use chrono::{Duration, NaiveDateTime};

use crate::config::Config;
use crate::db::{self, DbConnection, invitations::InvitationRow};
use crate::error::AppError;

fn seconds_until(moment: NaiveDateTime, now: NaiveDateTime) -> u64 {
    (moment - now).num_seconds().max(1).unsigned_abs()
}

/// The rolling window of the invitation limit, and how many it allows.
pub fn invitations_window(config: &Config, now: NaiveDateTime) -> (NaiveDateTime, i64) {
    (
        now - Duration::hours(1),
        i64::from(config.invitations_per_hour),
    )
}

/// At most `INVITATIONS_RATE_INVITATIONS_PER_HOUR` invitations in any rolling
/// hour. `reached_by` is the creation time of the limit-th newest invitation
/// in the window (see `invitations_window`), if there are that many. A window
/// read from an earlier clock holds more; only an invitation inside the hour
/// before `now` counts (if the limit-th newest is older, fewer are inside).
pub fn invitations_per_hour(
    config: &Config,
    reached_by: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let limit = config.invitations_per_hour;
    let (window_start, _) = invitations_window(config, now);
    match reached_by.filter(|created| *created > window_start) {
        Some(oldest) if limit > 0 => Err(AppError::RateLimited {
            retry_after_seconds: seconds_until(oldest + Duration::hours(1), now),
            detail: format!("At most {limit} invitations per hour may be created for an account."),
        }),
        _ => Ok(()),
    }
}

/// The first resend is allowed at once (the original send does not count);
/// then one resend per `INVITATIONS_RATE_RESEND_INTERVAL_SECONDS`, and at most
/// `INVITATIONS_RATE_RESENDS_PER_DAY` resends in any rolling 24 hours.
pub fn resend(
    conn: &mut DbConnection,
    config: &Config,
    invitation: &InvitationRow,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let interval = Duration::from_std(config.resend_interval)
        .map_err(|_| AppError::internal("resend interval out of range"))?;
    let resent_before = invitation.send_count > 1;
    if let Some(last) = invitation
        .last_sent_at
        .filter(|last| resent_before && *last + interval > now)
    {
        return Err(AppError::RateLimited {
            retry_after_seconds: seconds_until(last + interval, now),
            detail: format!(
                "An invitation may be resent at most once every {} seconds.",
                interval.num_seconds()
            ),
        });
    }
    let day = Duration::hours(24);
    let resends = db::outbox::resends_since(conn, invitation.id, invitation.created_at, now - day)?;
    let per_day = config.resends_per_day as usize;
    if resends.len() >= per_day {
        let frees_up = resends[resends.len() - per_day] + day;
        return Err(AppError::RateLimited {
            retry_after_seconds: seconds_until(frees_up, now),
            detail: format!("An invitation may be resent at most {per_day} times a day."),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(per_hour: &'static str) -> Config {
        Config::from_lookup(move |name| {
            (name == "INVITATIONS_RATE_INVITATIONS_PER_HOUR").then(|| per_hour.to_owned())
        })
        .unwrap()
    }

    /// `reached_by` may come from a window read before the lock (an earlier
    /// clock): only an invitation inside the hour before `now` counts.
    #[test]
    fn only_an_invitation_inside_the_hour_before_now_reaches_the_limit() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        let config = config("1");
        let inside = now - Duration::minutes(59);
        match invitations_per_hour(&config, Some(inside), now) {
            Err(AppError::RateLimited {
                retry_after_seconds,
                ..
            }) => assert_eq!(retry_after_seconds, 60),
            other => panic!("expected 429, got {other:?}"),
        }
        let outside = now - Duration::hours(1) - Duration::milliseconds(1);
        assert!(invitations_per_hour(&config, Some(outside), now).is_ok());
        assert!(invitations_per_hour(&config, None, now).is_ok());
        assert!(invitations_per_hour(&self::config("0"), Some(inside), now).is_ok());
    }
}
