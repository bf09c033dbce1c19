//! Group commit of invites (and quotes).
//!
//! Each invite holds its account's row lock until it commits, and a commit
//! (a WAL flush, an fsync) costs about as much as the invite's statements. So
//! invites that arrive together are committed together: a leader takes the
//! queued ones (up to `MAX_BATCH`, from any accounts not already in another
//! running batch), runs each as its own use-case inside one transaction —
//! each in a savepoint, so one invite's refusal or error undoes only its own
//! writes — and commits once. On PostgreSQL a batch first runs without
//! savepoints (each costs two round trips per invite): an invite refuses
//! before its first write, so a refusal leaves nothing to undo; only if one
//! fails otherwise (or any statement fails) is the batch rolled back and run
//! again with savepoints. Nobody hears back before that commit: a reply
//! always describes committed work; if the commit fails, every invite of the
//! batch gets the error (`503` when the database is busy or gone) and nothing
//! of the batch was written.
//!
//! Within a batch the invites run by account (ascending, so two batches, in
//! this process or another, always take account locks in the same order and
//! cannot deadlock), and within an account in order of arrival: each sees
//! the ones before it (their licenses, their rate-limit count), exactly as if
//! they had run one after the other. A lone invite runs in its own
//! transaction, with no savepoint. At most `LEADERS` batches run at once.

use std::collections::{BTreeSet, HashSet, VecDeque};
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
    /// Runs the use-case on the batch's connection; keeps its result (a
    /// second run, after the batch was rolled back, replaces it).
    fn run(&mut self, conn: &mut DbConnection);
    /// Whether the use-case succeeded or refused: what a refusal returns
    /// comes before any write. Anything else may have written half its work.
    fn succeeded_or_refused(&self) -> bool;
    /// Answers the caller once the batch's fate is known.
    fn finish(self: Box<Self>, batch: Result<(), &AppError>);
}

struct Queued<T, F> {
    work: F,
    result: Option<Result<T, AppError>>,
    reply: oneshot::Sender<Result<T, AppError>>,
}

impl<T, F> Job for Queued<T, F>
where
    T: Send,
    F: FnMut(&mut DbConnection) -> Result<T, AppError> + Send,
{
    fn run(&mut self, conn: &mut DbConnection) {
        self.result = Some((self.work)(conn));
    }

    fn succeeded_or_refused(&self) -> bool {
        !matches!(
            self.result,
            None | Some(Err(AppError::Internal(_) | AppError::Unavailable(_)))
        )
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

/// Batches running at once: enough to keep two cores and the database busy
/// while one batch waits on its commit, few enough that batches grow.
pub const LEADERS: usize = 2;

/// The queued use-cases, and which accounts are in a running batch.
#[derive(Default)]
pub struct GroupCommit {
    state: Mutex<Queues>,
}

#[derive(Default)]
struct Queues {
    waiting: VecDeque<(AccountId, Box<dyn Job>)>,
    /// Accounts in a running batch: their next invites wait for it.
    running: HashSet<AccountId>,
    leaders: usize,
}

/// What `enqueue` tells its caller to do.
pub enum Role {
    /// Start a leader: fewer than `LEADERS` are running.
    Lead,
    /// A running leader will take this job.
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
        F: FnMut(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Queued {
            work,
            result: None,
            reply,
        });
        let mut queues = self.state.lock().unwrap_or_else(|p| p.into_inner());
        queues.waiting.push_back((account_id, job));
        let role = if queues.leaders < LEADERS {
            queues.leaders += 1;
            Role::Lead
        } else {
            Role::Follow
        };
        (role, answer)
    }

    /// The next batch for a leader: the oldest waiting use-cases whose
    /// accounts are in no running batch (and then all of those accounts'
    /// waiting ones, up to `MAX_BATCH`). Empty when there is none: the
    /// leader then stops (it is no longer counted).
    pub fn next_batch(&self) -> Batch {
        let mut queues = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let Queues {
            waiting,
            running,
            leaders,
        } = &mut *queues;
        let mut taken: Vec<(AccountId, Box<dyn Job>)> = Vec::new();
        let mut accounts = BTreeSet::new();
        let mut left = VecDeque::with_capacity(waiting.len());
        for (account_id, job) in waiting.drain(..) {
            if taken.len() < MAX_BATCH && !running.contains(&account_id) {
                accounts.insert(account_id);
                taken.push((account_id, job));
            } else {
                left.push_back((account_id, job));
            }
        }
        *waiting = left;
        if taken.is_empty() {
            *leaders = leaders.saturating_sub(1);
        }
        running.extend(accounts.iter().copied());
        // By account, in arrival order within each (the sort is stable).
        taken.sort_by_key(|(account_id, _)| *account_id);
        Batch {
            accounts: accounts.into_iter().collect(),
            jobs: taken.into_iter().map(|(_, job)| job).collect(),
        }
    }

    /// A leader that ends without finding its queue empty (its task was
    /// dropped, e.g. at shutdown): its accounts are free again and the next
    /// job starts a leader.
    pub fn leader_lost(&self, accounts: &[AccountId]) {
        let mut queues = self.state.lock().unwrap_or_else(|p| p.into_inner());
        for account_id in accounts {
            queues.running.remove(account_id);
        }
        queues.leaders = queues.leaders.saturating_sub(1);
    }

    /// The batch's accounts may be taken by the next batch.
    pub fn finished(&self, accounts: &[AccountId]) {
        let mut queues = self.state.lock().unwrap_or_else(|p| p.into_inner());
        for account_id in accounts {
            queues.running.remove(account_id);
        }
    }
}

/// Use-cases that commit together.
pub struct Batch {
    /// Its accounts, ascending.
    pub accounts: Vec<AccountId>,
    jobs: Vec<Box<dyn Job>>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// Runs the batch on one pooled connection and answers every caller
    /// (blocking: call it on the blocking pool). Says whether it had to run
    /// twice (see `run_flat`).
    pub fn run(self, pool: &DbPool) -> Rerun {
        let mut jobs = self.jobs;
        let mut conn = match pool.get() {
            Ok(conn) => conn,
            Err(error) => {
                let error = AppError::from(error);
                for job in jobs {
                    job.finish(Err(&error));
                }
                return Rerun::No;
            }
        };
        if let [job] = jobs.as_mut_slice() {
            // Alone: its own transaction is the commit.
            job.run(&mut conn);
            for job in jobs {
                job.finish(Ok(()));
            }
            return Rerun::No;
        }
        let (outcome, rerun) = match &**conn {
            DbConnection::Postgres(_) => {
                let failures = conn.statement_failures();
                match run_flat(&mut conn, &mut jobs, &failures) {
                    Some(outcome) => (outcome, Rerun::No),
                    None => (run_with_savepoints(&mut conn, &mut jobs), Rerun::Yes),
                }
            }
            DbConnection::Sqlite(_) => (run_with_savepoints(&mut conn, &mut jobs), Rerun::No),
        };
        for job in jobs {
            job.finish(outcome.as_ref().map(|_| ()));
        }
        rerun
    }
}

/// Whether a batch was rolled back and run again with savepoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rerun {
    No,
    Yes,
}

/// Runs the jobs in one transaction, each in a savepoint of its own.
fn run_with_savepoints(conn: &mut DbConnection, jobs: &mut [Box<dyn Job>]) -> Result<(), AppError> {
    db::transaction(conn, None, |conn| {
        let depth = db::transaction_depth(conn);
        for job in jobs.iter_mut() {
            job.run(conn);
            // A use-case must leave the batch's transaction as it found it
            // (its own savepoint released or rolled back). If the database
            // ended the transaction instead, the rest must not run (they
            // would commit on their own) and nobody may hear "done".
            if db::transaction_depth(conn) != depth {
                return Err(AppError::Unavailable(
                    "the batch's transaction ended early".into(),
                ));
            }
        }
        Ok(())
    })
}

/// Runs the jobs in one transaction without savepoints (`db::flat`).
/// `None` when one of them spoilt it (failed other than by refusing, or a
/// statement failed): it was rolled back, and every job must run again.
fn run_flat(
    conn: &mut DbConnection,
    jobs: &mut [Box<dyn Job>],
    failures: &db::StatementFailures,
) -> Option<Result<(), AppError>> {
    let mut spoilt = false;
    let outcome = db::transaction(conn, None, |conn| {
        let depth = db::transaction_depth(conn);
        for job in jobs.iter_mut() {
            let failed_before = failures.count();
            db::flat(|| job.run(conn));
            if !job.succeeded_or_refused()
                || failures.count() != failed_before
                || db::transaction_depth(conn) != depth
            {
                spoilt = true;
                return Err(AppError::Unavailable("a batched write failed".into()));
            }
        }
        Ok(())
    });
    if spoilt {
        tracing::debug!(
            jobs = jobs.len(),
            "group commit: batch rolled back, running it with savepoints"
        );
        None
    } else {
        Some(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(batch: &Batch) -> Vec<i64> {
        batch.accounts.iter().map(|a| a.get()).collect()
    }

    #[test]
    fn leaders_are_counted_and_stop_when_nothing_is_left() {
        let commits = GroupCommit::default();
        let roles: Vec<Role> = (0..LEADERS + 2)
            .map(|n| commits.enqueue(AccountId::new(n as i64), |_| Ok(())).0)
            .collect();
        let leads = roles.iter().filter(|r| matches!(r, Role::Lead)).count();
        assert_eq!(leads, LEADERS);
        assert_eq!(commits.next_batch().len(), LEADERS + 2);
        assert!(
            commits.next_batch().is_empty(),
            "nothing left: a leader stops"
        );
        let (role, _answer) = commits.enqueue(AccountId::new(1), |_| Ok(()));
        assert!(
            matches!(role, Role::Lead),
            "a leader stopped: the next job starts one"
        );
        let (role, _answer) = commits.enqueue(AccountId::new(1), |_| Ok(()));
        assert!(matches!(role, Role::Follow), "the other leaders still run");
    }

    #[test]
    fn an_account_is_in_one_running_batch_at_a_time_and_batches_go_by_account() {
        let commits = GroupCommit::default();
        let _answers: Vec<_> = [3, 1, 3, 2]
            .into_iter()
            .map(|a| commits.enqueue(AccountId::new(a), |_| Ok(())).1)
            .collect();
        let first = commits.next_batch();
        assert_eq!(ids(&first), vec![1, 2, 3]);
        assert_eq!(first.len(), 4);
        let _more: Vec<_> = [2, 5]
            .into_iter()
            .map(|a| commits.enqueue(AccountId::new(a), |_| Ok(())).1)
            .collect();
        let second = commits.next_batch();
        assert_eq!(
            ids(&second),
            vec![5],
            "account 2 waits for the running batch"
        );
        commits.finished(&first.accounts);
        assert_eq!(ids(&commits.next_batch()), vec![2]);
    }

    #[test]
    fn a_lost_leader_gives_back_its_accounts_and_its_place() {
        let commits = GroupCommit::default();
        let _answers: Vec<_> = (0..LEADERS)
            .map(|_| commits.enqueue(AccountId::new(1), |_| Ok(())).1)
            .collect();
        let batch = commits.next_batch();
        commits.leader_lost(&batch.accounts);
        let (role, _answer) = commits.enqueue(AccountId::new(1), |_| Ok(()));
        assert!(matches!(role, Role::Lead), "its place is free");
        assert_eq!(ids(&commits.next_batch()), vec![1], "its account is free");
    }

    #[test]
    fn a_batch_is_at_most_max_batch_jobs() {
        let commits = GroupCommit::default();
        let _answers: Vec<_> = (0..MAX_BATCH + 5)
            .map(|n| commits.enqueue(AccountId::new(1), move |_| Ok(n)).1)
            .collect();
        let first = commits.next_batch();
        assert_eq!(first.len(), MAX_BATCH);
        commits.finished(&first.accounts);
        assert_eq!(commits.next_batch().len(), 5);
    }
}
