//! The one authorisation gate. Who the bearer token speaks for, and whether
//! they may use the account in the path, is decided here, before a handler
//! reads its body; the answers come in one order everywhere:
//! `401` (no valid token, or its user is no longer active), then `404`
//! (another tenant's account: its existence is not revealed), then `403`
//! (a member who is not a manager).
//!
//! The gate hands handlers a `Context` (clock, configuration, caller and the
//! request's `Idempotency-Key` claim) for the services.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use crate::auth::{ClaimedCaller, Claims, Principal};
use crate::db::idempotency::ClaimRef;
use crate::domain::ids::AccountId;
use crate::error::{AppError, AuthFailure};
use crate::http::rate_limit;
use crate::http::state::AppState;
use crate::services::context::{Anonymous, Context, Manager, Member};

/// The token of an `Authorization: Bearer …` header: `Missing` without the
/// header, `NotBearer` for another scheme or an empty token.
pub fn bearer_token(req: &HttpRequest) -> Result<String, AuthFailure> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(AuthFailure::Missing)?;
    value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        })
        .filter(|t| !t.is_empty())
        .ok_or(AuthFailure::NotBearer)
}

/// The `{account_id}` of an `/accounts/{account_id}/…` path. Read from the
/// path itself, so the idempotency middleware (which runs before routing)
/// and the extractors apply the same rule.
pub fn account_in_path(path: &str) -> Option<AccountId> {
    let rest = path.strip_prefix("/accounts/")?;
    rest.split('/').next()?.parse().ok()
}

fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::internal("application state missing"))
}

fn verified_claims(req: &HttpRequest, state: &AppState) -> Result<Claims, AppError> {
    let token = bearer_token(req).map_err(AppError::Unauthorized)?;
    state.jwt.verify(&token, state.clock.now())
}

/// The token's user, re-read from the database (`401` unless still active).
async fn load(state: &AppState, claims: Claims) -> Result<Principal, AppError> {
    state.db(move |conn| Principal::load(conn, &claims)).await
}

/// An active member of the path's account.
pub async fn member_of_path(req: &HttpRequest, state: &AppState) -> Result<Principal, AppError> {
    let claims = verified_claims(req, state)?;
    let principal = load(state, claims).await?;
    match account_in_path(req.path()) {
        Some(account_id) if account_id == principal.account_id => Ok(principal),
        _ => Err(AppError::NotFound),
    }
}

/// An active manager of the path's account.
pub async fn manager_of_path(req: &HttpRequest, state: &AppState) -> Result<Manager, AppError> {
    let resolved = req.extensions().get::<Resolved>().copied();
    if let Some(Resolved(manager)) = resolved {
        return Ok(manager);
    }
    let member = member_of_path(req, state).await?;
    if !member.role.can_manage() {
        return Err(AppError::Forbidden);
    }
    Ok(Manager {
        user_id: member.user_id,
        account_id: member.account_id,
        scim_token: None,
    })
}

/// A manager of the path's account as far as the token alone says: for the
/// hottest writes, which check the caller under the account lock in the
/// locking statement itself (a round trip saved per request). Another
/// tenant's account is still `404` after a `401` for an inactive user.
async fn manager_by_token(req: &HttpRequest, state: &AppState) -> Result<Manager, AppError> {
    let claims = verified_claims(req, state)?;
    let caller = ClaimedCaller::from_claims(&claims)?;
    match account_in_path(req.path()) {
        Some(account_id) if account_id == caller.account_id => Ok(Manager {
            user_id: caller.user_id,
            account_id,
            scim_token: None,
        }),
        _ => {
            load(state, claims).await?;
            Err(AppError::NotFound)
        }
    }
}

/// Put in the request's extensions by the idempotency middleware, which had
/// to resolve the manager already: the extractor does not ask twice.
#[derive(Debug, Clone, Copy)]
pub struct Resolved(pub Manager);

fn context<C>(req: &HttpRequest, state: &AppState, caller: C) -> Context<C> {
    Context {
        clock: state.clock.clone(),
        config: state.config.clone(),
        caller,
        claim: req.extensions().get::<ClaimRef>().cloned(),
    }
}

type Extracted<T> = Pin<Box<dyn Future<Output = Result<T, AppError>>>>;

/// A context whose caller `resolve` finds for the request (asynchronously:
/// it may ask the database).
fn extract<C, F, Fut>(req: &HttpRequest, resolve: F) -> Extracted<Context<C>>
where
    C: 'static,
    F: FnOnce(HttpRequest, web::Data<AppState>) -> Fut + 'static,
    Fut: Future<Output = Result<C, AppError>>,
{
    let req = req.clone();
    Box::pin(async move {
        let state = state_of(&req)?;
        let caller = resolve(req.clone(), state.clone()).await?;
        Ok(context(&req, &state, caller))
    })
}

impl FromRequest for Context<Manager> {
    type Error = AppError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, |req, state| async move {
            manager_of_path(&req, &state).await
        })
    }
}

impl FromRequest for Context<Member> {
    type Error = AppError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, |req, state| async move {
            member_of_path(&req, &state).await
        })
    }
}

impl FromRequest for Context<Anonymous> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(state_of(req).map(|state| context(req, &state, Anonymous)))
    }
}

/// `Context<Manager>` for a request whose service checks the caller itself
/// (see `manager_by_token`): a write under the account lock, in its locking
/// statement; a read first thing on its own connection
/// (`services::check_manager`). Either way one trip to the blocking pool and
/// one pooled connection fewer per request.
pub struct ManagerCheckedByService(pub Context<Manager>);

impl FromRequest for ManagerCheckedByService {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let context = extract(req, |req, state| async move {
            let resolved = req.extensions().get::<Resolved>().copied();
            match resolved {
                Some(Resolved(manager)) => Ok(manager),
                None => manager_by_token(&req, &state).await,
            }
        });
        Box::pin(async move { context.await.map(ManagerCheckedByService) })
    }
}

/// Present in a handler's arguments: the request counts against its client's
/// quota for the token endpoints (`http::rate_limit`).
pub struct TokenEndpointQuota;

impl FromRequest for TokenEndpointQuota {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(state_of(req).and_then(|state| {
            rate_limit::admit(&state.token_limiter, req, &state.config.trusted_proxies)
                .map(|()| TokenEndpointQuota)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::account_in_path;
    use crate::domain::ids::AccountId;

    #[test]
    fn the_account_is_the_first_segment_after_accounts() {
        assert_eq!(
            account_in_path("/accounts/42/invitations"),
            Some(AccountId::new(42))
        );
        assert_eq!(account_in_path("/accounts/42"), Some(AccountId::new(42)));
        assert_eq!(account_in_path("/accounts/abc/invitations"), None);
        assert_eq!(account_in_path("/accounts//invitations"), None);
        assert_eq!(account_in_path("/invitations/42"), None);
    }
}
