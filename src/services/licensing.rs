//! How an invite or the enabling of a user obtains its license, shared by the
//! quote and the real thing so that they always agree.

use chrono::NaiveDateTime;

use crate::contract::{ChargeQuote, utc};
use crate::db::{self, DbConnection, accounts::AccountRow, charges::ChargeRow, licenses::Holder};
use crate::domain::billing::{Acquisition, ChargeReason, LicenseType, acquisition};
use crate::domain::ids::{AccountId, InvitationId, LicenseId, UserId};
use crate::domain::money::Money;
use crate::domain::period::BillingPeriod;
use crate::domain::proration::{Proration, prorate};
use crate::error::AppError;

/// What getting one license of a type would mean right now.
#[derive(Debug, Clone)]
pub struct LicenseOffer {
    pub license_type: LicenseType,
    pub open_license_id: Option<LicenseId>,
    pub acquisition: Acquisition,
    pub period: BillingPeriod,
    /// The prorated price of one license bought now, in the account's currency.
    pub proration: Proration,
}

impl LicenseOffer {
    pub fn license_available(&self) -> bool {
        self.open_license_id.is_some()
    }

    /// The charge getting the license would record, if any.
    pub fn charge_quote(&self) -> Option<ChargeQuote> {
        (self.acquisition == Acquisition::Buy).then(|| ChargeQuote {
            amount_cents: self.proration.amount.cents(),
            currency: self.proration.amount.currency().to_string(),
            period_start: utc(self.period.start),
            period_end: utc(self.period.end),
            seconds_remaining: self.proration.seconds_remaining,
        })
    }

    pub fn refusal(&self, account_id: AccountId) -> Option<AppError> {
        (self.acquisition == Acquisition::Refuse).then_some(AppError::NoAvailableLicense {
            license_type: self.license_type,
            account_id,
        })
    }
}

/// The price of one license of this type bought at `now`, for the rest of the period.
pub fn proration_at(
    conn: &mut DbConnection,
    account: &AccountRow,
    license_type: LicenseType,
    now: NaiveDateTime,
) -> Result<(BillingPeriod, Proration), AppError> {
    let price = db::accounts::price_of(conn, account, license_type)?;
    proration_for(account, priced(account, license_type, price)?, now)
}

fn proration_for(
    account: &AccountRow,
    price: Money,
    now: NaiveDateTime,
) -> Result<(BillingPeriod, Proration), AppError> {
    let period = account.period_at(now)?;
    Ok((period, prorate(price, period.start, period.end, now)))
}

pub fn offer(
    conn: &mut DbConnection,
    account: &AccountRow,
    license_type: LicenseType,
    now: NaiveDateTime,
) -> Result<LicenseOffer, AppError> {
    let open_license_id = db::licenses::find_open(conn, account.id, license_type)?;
    let price = db::accounts::price_of(conn, account, license_type)?;
    offer_from(account, license_type, open_license_id, price, now)
}

/// The account's price for the type. Every account is created with a price
/// for each type, so none is a broken account: an error, never a free license.
/// A price in another currency than the account's is an error too.
pub fn priced(
    account: &AccountRow,
    license_type: LicenseType,
    price: Option<Money>,
) -> Result<Money, AppError> {
    let price = price.ok_or_else(|| {
        AppError::internal(format!(
            "account {} has no price for {license_type} licenses",
            account.id
        ))
    })?;
    if price.currency() != account.currency {
        return Err(AppError::internal(format!(
            "account {} is billed in {} but its {license_type} price is in {}",
            account.id,
            account.currency,
            price.currency()
        )));
    }
    Ok(price)
}

/// The offer, from the open license and the price already read.
pub fn offer_from(
    account: &AccountRow,
    license_type: LicenseType,
    open_license_id: Option<LicenseId>,
    price: Option<Money>,
    now: NaiveDateTime,
) -> Result<LicenseOffer, AppError> {
    let price = priced(account, license_type, price)?;
    let (period, proration) = proration_for(account, price, now)?;
    Ok(LicenseOffer {
        license_type,
        open_license_id,
        acquisition: acquisition(
            account.billing_system()?,
            account.plan()?,
            open_license_id.is_some(),
        ),
        period,
        proration,
    })
}

/// Carries out an offer for `holder`: reserves/assigns the open license, or buys
/// one and records its charge. Refuses with `no_available_license`.
pub fn acquire(
    conn: &mut DbConnection,
    account: &AccountRow,
    offer: &LicenseOffer,
    holder: Holder,
    reason: ChargeReason,
    now: NaiveDateTime,
) -> Result<Option<ChargeRow>, AppError> {
    if let Some(refusal) = offer.refusal(account.id) {
        return Err(refusal);
    }
    match (offer.acquisition, offer.open_license_id) {
        (Acquisition::ReuseOpen, Some(license_id)) => {
            if !db::licenses::take(conn, license_id, holder, now)? {
                return Err(AppError::internal(
                    "an open license was taken under the account lock",
                ));
            }
            Ok(None)
        }
        _ => {
            db::licenses::insert(conn, account.id, offer.license_type, Some(holder), now)?;
            let (invitation_id, user_id) = match holder {
                Holder::Invitation(id) => (Some(id), None),
                Holder::User(id) => (None, Some(id)),
            };
            let charge =
                record_charge(conn, account, offer, 1, reason, invitation_id, user_id, now)?;
            Ok(Some(charge))
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one ledger line has this many facts"
)]
pub fn record_charge(
    conn: &mut DbConnection,
    account: &AccountRow,
    offer: &LicenseOffer,
    quantity: i32,
    reason: ChargeReason,
    invitation_id: Option<InvitationId>,
    user_id: Option<UserId>,
    now: NaiveDateTime,
) -> Result<ChargeRow, AppError> {
    let amount = offer
        .proration
        .amount
        .checked_mul(i64::from(quantity))
        .map_err(|e| AppError::internal(format!("charge amount: {e}")))?;
    if amount.currency() != account.currency {
        return Err(AppError::internal(format!(
            "a {} charge on a {} account",
            amount.currency(),
            account.currency
        )));
    }
    Ok(db::charges::insert(
        conn,
        &db::charges::NewCharge {
            account_id: account.id,
            amount,
            license_type: offer.license_type.as_str(),
            quantity,
            reason: reason.as_str(),
            invitation_id,
            user_id,
            period_start: offer.period.start,
            period_end: offer.period.end,
            seconds_remaining: offer.proration.seconds_remaining,
            created_at: now,
        },
    )?)
}
