//! Argon2 is slow and memory-hard on purpose (7 MiB per check): a burst of
//! logins must not run hundreds at once. Checks run on one dedicated thread
//! per core (so the memory is a few blocks, reused, never one per request);
//! a short queue waits for them, and anything beyond is answered `503` at once.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::AppError;

/// Checks waiting for a thread, per thread (a check takes tens of milliseconds).
const QUEUE_PER_THREAD: usize = 8;
/// Even on a big host: four checks at once are ~100 logins a second, and
/// memory stays at 4 × 7 MiB.
const MAX_THREADS: usize = 4;

type Job = Box<dyn FnOnce() + Send>;

pub struct PasswordGate {
    queue: SyncSender<Job>,
}

fn busy() -> AppError {
    AppError::Unavailable("every password check thread and queue place is taken".into())
}

impl PasswordGate {
    /// `threads` checks at once, `queued` more waiting; the threads end with the gate.
    pub fn new(threads: usize, queued: usize) -> Result<Self, String> {
        let (queue, jobs) = sync_channel::<Job>(queued);
        let jobs = Arc::new(Mutex::new(jobs));
        for i in 0..threads.max(1) {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("password-{i}"))
                .spawn(move || work_through(&jobs))
                .map_err(|e| format!("cannot start the password check threads: {e}"))?;
        }
        Ok(Self { queue })
    }

    /// One thread per core of this host (at most `MAX_THREADS`).
    pub fn per_core() -> Result<Self, String> {
        let threads = std::thread::available_parallelism()
            .map_or(2, std::num::NonZero::get)
            .min(MAX_THREADS);
        Self::new(threads, threads * QUEUE_PER_THREAD)
    }

    /// Runs `work` (which checks or hashes a password) on a password thread;
    /// `503 unavailable` at once when every thread is busy and the queue full.
    pub async fn run<T, F>(&self, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, AppError> + Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => return Err(busy()),
        }
        result
            .await
            .map_err(|_| AppError::internal("a password check panicked"))?
    }
}

fn work_through(jobs: &Mutex<Receiver<Job>>) {
    loop {
        let job = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match job {
            Ok(job) => {
                return_free_heap_memory();
                // A panicking check fails its own request, not the thread.
                drop(std::panic::catch_unwind(AssertUnwindSafe(job)));
            }
            Err(_) => return,
        }
    }
}

/// Hands the heap's free pages back to the system before a check runs: the
/// memory that requests freed stays resident in the allocator's arenas
/// otherwise, and a check's 7 MiB work area would add to it rather than stand
/// in its place (peak RSS under a burst of logins). About 0.1 ms, against
/// tens of milliseconds per check.
fn return_free_heap_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory the allocator holds.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn beyond_the_threads_and_the_queue_it_answers_unavailable() {
        let gate = Arc::new(PasswordGate::new(1, 1).unwrap());
        let (started, running) = std::sync::mpsc::channel::<()>();
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let slow = {
            let gate = gate.clone();
            tokio::spawn(async move {
                gate.run(move || {
                    let _ = started.send(());
                    let _ = hold.recv();
                    Ok(1)
                })
                .await
            })
        };
        tokio::task::spawn_blocking(move || running.recv())
            .await
            .unwrap()
            .unwrap();
        // The thread is busy: one more waits in the queue, the next is refused.
        let queued = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.run(|| Ok(2)).await })
        };
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        let refused = tokio::time::timeout(Duration::from_secs(5), gate.run(|| Ok(3))).await;
        assert!(matches!(refused, Ok(Err(AppError::Unavailable(_)))));
        release.send(()).unwrap();
        assert_eq!(slow.await.unwrap().unwrap(), 1);
        assert_eq!(queued.await.unwrap().unwrap(), 2);
        assert_eq!(gate.run(|| Ok(4)).await.unwrap(), 4);
    }

    #[tokio::test]
    async fn a_panicking_check_fails_alone() {
        let gate = PasswordGate::new(1, 4).unwrap();
        let failed = gate
            .run(|| -> Result<(), AppError> { panic!("boom") })
            .await;
        assert!(matches!(failed, Err(AppError::Internal(_))));
        assert_eq!(gate.run(|| Ok(5)).await.unwrap(), 5);
    }
}
