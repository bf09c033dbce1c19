//! What every use-case gets besides its input, passed explicitly: the clock,
//! the configuration, who is asking, and the request's `Idempotency-Key`
//! claim (marked as run in the same commit as the work).

use std::sync::Arc;

use chrono::NaiveDateTime;

use crate::auth::Principal;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::{self, DbConnection, idempotency::ClaimRef};
use crate::domain::ids::{AccountId, ScimTokenId, UserId};
use crate::error::AppError;

pub struct Context<C> {
    pub clock: Clock,
    pub config: Arc<Config>,
    pub caller: C,
    pub claim: Option<ClaimRef>,
}

impl<C> Context<C> {
    pub fn now(&self) -> NaiveDateTime {
        self.clock.now()
    }

    /// Runs `work` as this request's one transaction (see `db::transaction`).
    pub fn transaction<T>(
        &self,
        conn: &mut DbConnection,
        work: impl FnOnce(&mut DbConnection) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        db::transaction(conn, self.claim.as_ref(), work)
    }

    /// The same request, its commit not marking its `Idempotency-Key` claim:
    /// for an answer that may not be stored (a secret shown once, a bulk
    /// answer with an item a retry may cure), so that a retry with the key
    /// runs anew instead of waiting on a stored answer. Only for a request
    /// that is safe to run again.
    pub fn without_claim(self) -> Self {
        Context {
            claim: None,
            ..self
        }
    }

    /// The same request as someone else (e.g. a bulk item as its own use-case).
    pub fn with_caller<D>(&self, caller: D) -> Context<D> {
        Context {
            clock: self.clock.clone(),
            config: self.config.clone(),
            caller,
            claim: self.claim.clone(),
        }
    }
}

/// A manager of `account_id`, as the HTTP gate let them through. Every write
/// checks again under the account lock (a demotion may have committed since).
#[derive(Debug, Clone, Copy)]
pub struct Manager {
    pub user_id: UserId,
    pub account_id: AccountId,
    /// Set when a directory acts through this SCIM token, with the rights of
    /// the manager who created it (`user_id`): the audit trail names the token.
    pub scim_token: Option<ScimTokenId>,
}

/// An active member of `account_id` (any role).
pub type Member = Principal;

/// No one signed in: the invitee's token endpoints, signing in.
#[derive(Debug, Clone, Copy)]
pub struct Anonymous;

/// The service itself: the command line, background jobs.
#[derive(Debug, Clone, Copy)]
pub struct System;
