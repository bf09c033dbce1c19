//! License summary and buying licenses.

use crate::contract;
use crate::db::{self, DbConnection};
use crate::domain::audit::AuditAction;
use crate::domain::billing::{Acquisition, ChargeReason, LicenseState, LicenseType};
use crate::domain::field_error::{FieldError, Partial};
use crate::error::AppError;
use crate::services::audit::{self, Subject};
use crate::services::context::{Context, Manager};
use crate::services::licensing::{self, LicenseOffer};
use crate::services::{lock_account_as_manager, views, without_writing};
use serde_json::json;

pub const MAX_PURCHASE: i64 = 100;

fn summary_of(
    conn: &mut DbConnection,
    account: &db::accounts::AccountRow,
) -> Result<contract::LicenseSummary, AppError> {
    let counts = db::licenses::counts(conn, account.id)?;
    let prices = db::accounts::prices(conn, account)?;
    let items = account
        .billing_system()?
        .license_types()
        .iter()
        .map(|license_type| {
            let count = |state: LicenseState| {
                counts
                    .iter()
                    .filter(|(t, s, _)| t == license_type.as_str() && s == state.as_str())
                    .map(|(_, _, n)| *n)
                    .sum::<i64>()
            };
            let (open, reserved, assigned) = (
                count(LicenseState::Open),
                count(LicenseState::Reserved),
                count(LicenseState::Assigned),
            );
            let total = open + reserved + assigned;
            let price = prices
                .iter()
                .find(|(t, _)| t == license_type.as_str())
                .map(|(_, p)| *p);
            Ok(contract::LicenseCount {
                license_type: *license_type,
                price_cents: licensing::priced(account, *license_type, price)?.cents(),
                total,
                open,
                reserved,
                assigned,
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(contract::LicenseSummary { items })
}

pub fn summary(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
) -> Result<contract::LicenseSummary, AppError> {
    // As a write would see it (overdue invitations count as released), without writing.
    without_writing(conn, |conn| {
        let (account, _) = lock_account_as_manager(conn, ctx)?;
        summary_of(conn, &account)
    })
}

/// Adds open licenses and records one charge line for all of them.
pub fn buy(
    conn: &mut DbConnection,
    ctx: &Context<Manager>,
    input: &Partial<contract::BuyLicensesRequest>,
) -> Result<contract::LicensePurchase, AppError> {
    let account_id = ctx.caller.account_id;
    ctx.transaction(conn, |conn| {
        let (account, now) = lock_account_as_manager(conn, ctx)?;
        let system = account.billing_system()?;
        let request = &input.value;
        let mut errors = Vec::new();
        let license_type: Option<LicenseType> = match request.license_type {
            None => {
                errors.push(FieldError::required("license_type"));
                None
            }
            Some(t) if !system.accepts(t) => {
                errors.push(FieldError::new(
                    "license_type",
                    "invalid_value",
                    format!(
                        "{system} accounts have {} licenses",
                        system
                            .license_types()
                            .iter()
                            .map(|t| t.as_str())
                            .collect::<Vec<_>>()
                            .join(" and ")
                    ),
                ));
                None
            }
            Some(t) => Some(t),
        };
        let quantity = match request.quantity {
            None => {
                errors.push(FieldError::required("quantity"));
                None
            }
            // In range, so it fits the charge's `i32` quantity too.
            Some(q) => match i32::try_from(q) {
                Ok(q) if (1..=MAX_PURCHASE).contains(&i64::from(q)) => Some(q),
                _ => {
                    errors.push(FieldError::new(
                        "quantity",
                        "out_of_range",
                        format!("quantity must be between 1 and {MAX_PURCHASE}"),
                    ));
                    None
                }
            },
        };
        let (Some(license_type), Some(quantity), true) =
            (license_type, quantity, input.errors.is_empty())
        else {
            return Err(AppError::Validation(input.merge(errors)));
        };
        let (period, proration) = licensing::proration_at(conn, &account, license_type, now)?;
        let offer = LicenseOffer {
            license_type,
            open_license_id: None,
            acquisition: Acquisition::Buy,
            period,
            proration,
        };
        db::licenses::add_open(conn, account.id, license_type, i64::from(quantity), now)?;
        let charge = licensing::record_charge(
            conn,
            &account,
            &offer,
            quantity,
            ChargeReason::LicensePurchase,
            None,
            None,
            now,
        )?;
        audit::record(
            conn,
            account_id,
            ctx.caller.into(),
            AuditAction::LicensesPurchased,
            Subject::Charge(charge.id),
            json!({
                "license_type": license_type,
                "quantity": quantity,
                "amount_cents": charge.amount.cents(),
                "currency": charge.amount.currency(),
            }),
            now,
        )?;
        Ok(contract::LicensePurchase {
            charge: views::charge(&charge)?,
            licenses: summary_of(conn, &account)?,
        })
    })
}
