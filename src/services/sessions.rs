//! Signing in with email and password.

use crate::auth::JwtKeys;
use crate::contract;
use crate::db::{self, DbPool};
use crate::domain::access::UserStatus;
use crate::domain::email::normalize;
use crate::domain::field_error::FieldError;
use crate::domain::password;
use crate::error::AppError;
use crate::services::context::{Anonymous, Context};
use crate::services::views;

/// Takes a pooled connection only around the two lookups: the Argon2
/// verification in between is slow on purpose and must not hold one.
pub fn sign_in(
    pool: &DbPool,
    ctx: &Context<Anonymous>,
    jwt: &JwtKeys,
    request: &contract::SessionRequest,
) -> Result<contract::SessionGrant, AppError> {
    let config = &ctx.config;
    let mut errors = Vec::new();
    if request.email.as_deref().is_none_or(|e| e.trim().is_empty()) {
        errors.push(FieldError::required("email"));
    }
    if request.password.as_deref().is_none_or(str::is_empty) {
        errors.push(FieldError::required("password"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let email = normalize(request.email.as_deref().unwrap_or_default());
    let secret = request.password.as_deref().unwrap_or_default();
    let user = db::users::find_by_email(&mut *pool.get()?, &email)?;
    // Always one Argon2 verification, so unknown emails take as long as wrong passwords.
    let verified = password::verify(secret, user.as_ref().map(|u| u.password_hash.as_str()));
    let user = match user {
        Some(user) if verified && user.status()? == UserStatus::Active => user,
        _ => return Err(AppError::InvalidCredentials),
    };
    let access_token = jwt.issue(user.account_id, user.id, config.access_token_ttl, ctx.now())?;
    Ok(contract::SessionGrant {
        user: views::user(&mut *pool.get()?, user)?,
        access_token,
        token_type: "Bearer".into(),
        expires_in: config.access_token_ttl.as_secs(),
    })
}
