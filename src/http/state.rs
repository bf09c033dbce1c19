//! What every handler can reach.

use std::sync::Arc;

use actix_web::web;
use tokio::sync::Notify;

use crate::auth::JwtKeys;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::{DbConnection, DbPool};
use crate::domain::ids::AccountId;
use crate::error::AppError;
use crate::http::account_gate::AccountGates;
use crate::http::rate_limit::IpLimiter;
use crate::metrics::Metrics;
use crate::services::password_gate::PasswordGate;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: DbPool,
    pub jwt: JwtKeys,
    pub clock: Clock,
    /// Wakes the outbox worker when an email was queued.
    pub mail_wakeup: Arc<Notify>,
    pub token_limiter: Arc<IpLimiter>,
    /// Password checks (login, accept): one per core, a short queue, then 503.
    pub passwords: Arc<PasswordGate>,
    pub metrics: Arc<Metrics>,
    /// One write per account at a time in this process (see `account_gate`).
    pub account_gates: Arc<AccountGates>,
}

impl AppState {
    /// Runs blocking database work on the blocking pool with a pooled connection.
    pub async fn db<T, F>(&self, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await?
    }

    /// `db` for a write to one account: waits for the account's turn in this
    /// process first, so at most one of its writes holds a connection.
    pub async fn db_for_account<T, F>(&self, account_id: AccountId, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
    {
        let _turn = self.account_gates.enter(account_id).await;
        self.db(work).await
    }
}
