//! `invitations bootstrap`: a new account with its primary subscriber.

use chrono::NaiveDateTime;

use crate::db::{self, DbConnection, licenses::Holder};
use crate::domain::access::{Role, SubscriberType, UserStatus};
use crate::domain::billing::{BillingSystem, LicenseType, Plan};
use crate::domain::email::EmailAddress;
use crate::domain::ids::{AccountId, UserId};
use crate::domain::money::{Currency, Money};
use crate::domain::name::DisplayName;
use crate::domain::password;
use crate::domain::permission;
use crate::error::{AppError, is_unique_violation};

/// Ten billion in major units: keeps every charge (quantity ≤ 100) far from overflow.
pub const MAX_PRICE_CENTS: i64 = 1_000_000_000_000;
pub const MAX_INITIAL_LICENSES: i64 = 10_000;

pub struct BootstrapInput {
    pub account_name: String,
    pub billing_system: BillingSystem,
    pub plan: Plan,
    pub owner_email: String,
    pub owner_password: String,
    pub owner_first_name: String,
    pub owner_last_name: String,
    pub prices: Vec<(LicenseType, i64)>,
    pub licenses: Vec<(LicenseType, i64)>,
    pub currency: String,
    pub period_start: NaiveDateTime,
}

pub struct Bootstrapped {
    pub account_id: AccountId,
    pub user_id: UserId,
}

pub fn run(
    conn: &mut DbConnection,
    input: &BootstrapInput,
    now: NaiveDateTime,
) -> Result<Bootstrapped, String> {
    let email = EmailAddress::parse(&input.owner_email)
        .map_err(|e| format!("--owner-email: {}", e.message()))?;
    let account_name =
        DisplayName::parse(&input.account_name).map_err(|e| e.message("--account-name"))?;
    let owner_first_name = DisplayName::parse(&input.owner_first_name)
        .map_err(|e| e.message("--owner-name (first name)"))?;
    // A one-word owner name has no last name.
    let owner_last_name = match input.owner_last_name.trim() {
        "" => String::new(),
        last => DisplayName::parse(last)
            .map_err(|e| e.message("--owner-name (last name)"))?
            .into_string(),
    };
    if input.owner_password.chars().count() < password::MIN_PASSWORD_LEN {
        return Err(format!(
            "--owner-password must be at least {} characters",
            password::MIN_PASSWORD_LEN
        ));
    }
    let currency = Currency::parse(&input.currency.trim().to_ascii_uppercase())
        .map_err(|_| "--currency must be a three-letter ISO 4217 code".to_owned())?;
    for (license_type, amount) in input.prices.iter().chain(&input.licenses) {
        if !input.billing_system.accepts(*license_type) {
            return Err(format!(
                "license type {license_type} does not exist on {} accounts (use {})",
                input.billing_system,
                input
                    .billing_system
                    .license_types()
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
        }
        if *amount < 0 {
            return Err(format!("{license_type}: amounts must not be negative"));
        }
    }
    if let Some((license_type, _)) = input.prices.iter().find(|(_, p)| *p > MAX_PRICE_CENTS) {
        return Err(format!(
            "--price {license_type}: at most {MAX_PRICE_CENTS} cents"
        ));
    }
    if let Some((license_type, _)) = input
        .licenses
        .iter()
        .find(|(_, n)| *n > MAX_INITIAL_LICENSES)
    {
        return Err(format!(
            "--licenses {license_type}: at most {MAX_INITIAL_LICENSES}"
        ));
    }
    if input.period_start > now {
        return Err("--period-start must not be in the future: periods are counted from it".into());
    }
    let password_hash = password::hash(&input.owner_password).map_err(|e| e.to_string())?;

    db::transaction(conn, None, |conn| {
        let account = db::accounts::insert(
            conn,
            &db::accounts::NewAccount {
                name: account_name.as_str(),
                billing_system: input.billing_system.as_str(),
                plan: input.plan.as_str(),
                currency,
                period_anchor: input.period_start,
                created_at: now,
            },
        )?;
        for license_type in input.billing_system.license_types() {
            let price = input
                .prices
                .iter()
                .rev()
                .find(|(t, _)| t == license_type)
                .map_or(0, |(_, p)| *p);
            db::accounts::insert_price(conn, &account, *license_type, Money::new(price, currency))?;
        }
        let owner = db::users::insert(
            conn,
            &db::users::NewUser {
                account_id: account.id,
                email: email.as_str(),
                email_normalized: email.normalized(),
                first_name: owner_first_name.as_str(),
                last_name: &owner_last_name,
                password_hash: &password_hash,
                role: Role::PrimarySubscriber.as_str(),
                subscriber_type: SubscriberType::Attorney.as_str(),
                permissions: &permission::to_db(&[]),
                status: UserStatus::Active.as_str(),
                created_at: now,
                updated_at: now,
            },
        )
        .map_err(|e| {
            if is_unique_violation(&e) {
                AppError::EmailTaken
            } else {
                e.into()
            }
        })?;
        db::licenses::insert(
            conn,
            account.id,
            input.billing_system.owner_license_type(),
            Some(Holder::User(owner.id)),
            now,
        )?;
        for (license_type, quantity) in &input.licenses {
            db::licenses::add_open(conn, account.id, *license_type, *quantity, now)?;
        }
        Ok(Bootstrapped {
            account_id: account.id,
            user_id: owner.id,
        })
    })
    .map_err(|e| match e {
        AppError::EmailTaken => format!("{} already belongs to a user", email.as_str()),
        other => format!("bootstrap failed: {other}"),
    })
}
