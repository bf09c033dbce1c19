//! Group commit of one account's invites (and quotes).
//!
//! An account's writes are serial: each holds the account's row lock until
//! it commits, and the commit (a WAL flush and an fsync) is most of the time
//! the lock is held. So when several invites into one firm arrive together,
//! the first one to arrive leads: it takes every invite queued for that
//! account, runs each as its own use-case inside one transaction — each in a
//! savepoint, so one invite's refusal or error undoes only its own writes —
//! and commits once. Nobody hears back before that commit: a reply always
//! describes committed work, and if the commit fails every invite of the
//! batch gets the error and nothing of the batch was written.
//!
//! The order within a batch is the order of arrival, and each invite sees the
//! ones before it (their licenses, their rate-limit count), exactly as if
//! they had run one after the other. A lone invite runs in its own
//! transaction, with no savepoint.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use tokio::sync::oneshot;

use crate::db::{self, DbConnection, DbPool};
use crate::domain::ids::AccountId;
use crate::error::AppError;

/// The most use-cases one commit carries: bounds how long the account lock
/// is held and how long the last one waits.
pub const MAX_BATCH: usize = 32;

/// One queued use-case and where its answer goes.
trait Job: Send {
    /// Runs the use-case on the batch's connection; keeps its result.
    fn run(&mut self, conn: &mut DbConnection);
    /// Answers the caller once the batch's fate is known.
    fn finish(self: Box<Self>, batch: Result<(), &AppError>);
}

struct Queued<T, F> {
    work: Option<F>,
    result: Option<Result<T, AppError>>,
    reply: oneshot::Sender<Result<T, AppError>>,
}

impl<T, F> Job for Queued<T, F>
where
    T: Send,
    F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send,
{
    fn run(&mut self, conn: &mut DbConnection) {
        if let Some(work) = self.work.take() {
            self.result = Some(work(conn));
        }
    }

    fn finish(self: Box<Self>, batch: Result<(), &AppError>) {
        let answer = match (batch, self.result) {
            (Ok(()), Some(result)) => result,
            (Ok(()), None) => Err(AppError::internal("a batched write did not run")),
            (Err(error), _) => Err(shared_failure(error)),
        };
        // The caller may have gone (client disconnected): nothing to tell.
        let _ = self.reply.send(answer);
    }
}

/// Every caller of a failed batch gets the batch's error: `503` when the
/// database is busy or gone (retry), `500` otherwise.
fn shared_failure(error: &AppError) -> AppError {
    match error {
        AppError::Unavailable(message) => AppError::Unavailable(message.clone()),
        other => AppError::internal(other.to_string()),
    }
}

/// The queued use-cases of each account that has some.
#[derive(Default)]
pub struct GroupCommit {
    queues: Mutex<HashMap<AccountId, VecDeque<Box<dyn Job>>>>,
}

/// What `enqueue` tells its caller to do.
pub enum Role {
    /// Start a leader for the account: nobody is draining its queue.
    Lead,
    /// A leader is running and will take this job.
    Follow,
}

impl GroupCommit {
    /// Queues `work` for `account_id`. The receiver gets its answer after the
    /// commit that carries it.
    pub fn enqueue<T, F>(
        &self,
        account_id: AccountId,
        work: F,
    ) -> (Role, oneshot::Receiver<Result<T, AppError>>)
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Queued {
            work: Some(work),
            result: None,
            reply,
        });
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        // An entry exists exactly while a leader runs for the account.
        let role = match queues.get_mut(&account_id) {
            Some(queue) => {
                queue.push_back(job);
                Role::Follow
            }
            None => {
                queues.insert(account_id, VecDeque::from([job as Box<dyn Job>]));
                Role::Lead
            }
        };
        (role, answer)
    }

    /// The next batch of the account, oldest first; empty when its queue is
    /// (and then the account has no leader any more).
    pub fn next_batch(&self, account_id: AccountId) -> Batch {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        let Some(queue) = queues.get_mut(&account_id) else {
            return Batch(Vec::new());
        };
        if queue.is_empty() {
            queues.remove(&account_id);
            return Batch(Vec::new());
        }
        let take = queue.len().min(MAX_BATCH);
        Batch(queue.drain(..take).collect())
    }
}

/// Use-cases that commit together.
pub struct Batch(Vec<Box<dyn Job>>);

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Runs the batch on one pooled connection and answers every caller
    /// (blocking: call it on the blocking pool).
    pub fn run(self, pool: &DbPool) {
        let mut jobs = self.0;
        let mut conn = match pool.get() {
            Ok(conn) => conn,
            Err(error) => {
                let error = AppError::from(error);
                for job in jobs {
                    job.finish(Err(&error));
                }
                return;
            }
        };
        if let [job] = jobs.as_mut_slice() {
            // Alone: its own transaction is the commit.
            job.run(&mut conn);
            for job in jobs {
                job.finish(Ok(()));
            }
            return;
        }
        // Each use-case opens its own transaction inside this one: a
        // savepoint that its failure rolls back.
        let outcome = db::transaction(&mut conn, None, |conn| {
            for job in jobs.iter_mut() {
                job.run(conn);
            }
            Ok(())
        });
        for job in jobs {
            job.finish(outcome.as_ref().map(|_| ()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_job_leads_and_the_queue_drains_in_order() {
        let commits = GroupCommit::default();
        let account = AccountId::new(7);
        let (first, _a) = commits.enqueue(account, |_| Ok(1));
        let (second, _b) = commits.enqueue(account, |_| Ok(2));
        let (other, _c) = commits.enqueue(AccountId::new(8), |_| Ok(3));
        assert!(matches!(first, Role::Lead));
        assert!(matches!(second, Role::Follow));
        assert!(
            matches!(other, Role::Lead),
            "another account has its own leader"
        );
        assert_eq!(commits.next_batch(account).len(), 2);
        assert!(commits.next_batch(account).is_empty());
        let (again, _d) = commits.enqueue(account, |_| Ok(4));
        assert!(
            matches!(again, Role::Lead),
            "once drained, the next job leads again"
        );
    }

    #[test]
    fn a_batch_is_at_most_max_batch_jobs() {
        let commits = GroupCommit::default();
        let account = AccountId::new(1);
        let _answers: Vec<_> = (0..MAX_BATCH + 5)
            .map(|n| commits.enqueue(account, move |_| Ok(n)).1)
            .collect();
        assert_eq!(commits.next_batch(account).len(), MAX_BATCH);
        assert_eq!(commits.next_batch(account).len(), 5);
    }
}
