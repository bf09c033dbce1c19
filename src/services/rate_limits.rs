//! Limits counted in the database, so they hold across every instance:
//! invitations per account per hour, and resends per invitation.

use chrono::{Duration, NaiveDateTime};

use crate::config::Config;
use crate::db::{self, DbConnection, invitations::InvitationRow};
use crate::error::AppError;

fn seconds_until(moment: NaiveDateTime, now: NaiveDateTime) -> u64 {
    u64::try_from((moment - now).num_seconds().max(1)).unwrap_or(1)
}

/// At most `INVITATIONS_RATE_INVITATIONS_PER_HOUR` invitations in any rolling hour.
pub fn invitations_per_hour(
    conn: &mut DbConnection,
    config: &Config,
    account_id: i64,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let limit = i64::from(config.invitations_per_hour);
    let window = Duration::hours(1);
    let recent = db::invitations::created_since(conn, account_id, now - window, limit)?;
    match recent.last() {
        Some(oldest) if recent.len() as i64 >= limit => Err(AppError::RateLimited {
            retry_after_seconds: seconds_until(*oldest + window, now),
            detail: format!("At most {limit} invitations per hour may be created for an account."),
        }),
        _ => Ok(()),
    }
}

/// One send per `INVITATIONS_RATE_RESEND_INTERVAL_SECONDS`, and at most
/// `INVITATIONS_RATE_RESENDS_PER_DAY` resends in any rolling 24 hours.
pub fn resend(
    conn: &mut DbConnection,
    config: &Config,
    invitation: &InvitationRow,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let interval = Duration::from_std(config.resend_interval).unwrap_or_default();
    if let Some(last) = invitation
        .last_sent_at
        .filter(|last| *last + interval > now)
    {
        return Err(AppError::RateLimited {
            retry_after_seconds: seconds_until(last + interval, now),
            detail: format!(
                "An invitation may be sent at most once every {} seconds.",
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
