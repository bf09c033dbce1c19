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
use crate::http::group_commit::{GroupCommit, Rerun, Role};
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
    /// Invites into one account that arrive together commit together (see `group_commit`).
    pub group_commit: Arc<GroupCommit>,
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

    /// `db_for_account` for an invite or a quote: queued with others and
    /// committed with them (see `group_commit`). `work` must be one use-case
    /// that opens its own transaction (`Context::transaction`), refuses (any
    /// error but `Internal` and `Unavailable`) only before its first write
    /// other than the account lock and the expiries it records, and may run
    /// again if its batch is rolled back.
    pub async fn db_group_commit<T, F>(&self, account_id: AccountId, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnMut(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
    {
        let (role, answer) = self.group_commit.enqueue(account_id, work);
        if let Role::Lead = role {
            // Detached: the batch is answered even if this request is dropped.
            let state = self.clone();
            actix_web::rt::spawn(async move { state.lead_group_commits().await });
        }
        answer
            .await
            .unwrap_or_else(|_| Err(AppError::internal("the batched write was interrupted")))
    }

    /// Runs batches until none is waiting.
    async fn lead_group_commits(&self) {
        /// Until the loop ends by itself: if this task is dropped midway, the
        /// leader and its accounts are given back.
        struct Leading<'a> {
            commits: &'a GroupCommit,
            accounts: Vec<AccountId>,
            done: bool,
        }
        impl Drop for Leading<'_> {
            fn drop(&mut self) {
                if !self.done {
                    self.commits.leader_lost(&self.accounts);
                }
            }
        }
        let mut leading = Leading {
            commits: &self.group_commit,
            accounts: Vec::new(),
            done: false,
        };
        loop {
            let batch = self.group_commit.next_batch();
            if batch.is_empty() {
                leading.done = true;
                return;
            }
            leading.accounts = batch.accounts.clone();
            // Each account's turn, ascending (as every leader takes them).
            let mut turns = Vec::with_capacity(leading.accounts.len());
            for account_id in &leading.accounts {
                turns.push(self.account_gates.enter(*account_id).await);
            }
            self.metrics.observe_group_commit(batch.len());
            let pool = self.pool.clone();
            // A panic drops the batch: its callers hear "interrupted".
            if let Ok(Rerun::Yes) = web::block(move || batch.run(&pool)).await {
                self.metrics.observe_group_commit_rerun();
            }
            drop(turns);
            self.group_commit.finished(&leading.accounts);
            leading.accounts.clear();
        }
    }
}
