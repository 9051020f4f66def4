//! The threads that run database work for async handlers ([`super::run`]):
//! one queue, first come first served, and at most one thread per pooled
//! connection.
//!
//! Why not tokio's blocking pool behind a semaphore (as before): each
//! query batch then cost three hand-offs between threads (the permit
//! released on a blocking thread wakes the next request's HTTP worker,
//! which wakes a parked blocking thread, whose result wakes the first
//! request's worker), and the threads parked and woke for every batch:
//! a quarter of the SQLite library's CPU time was the scheduler. Here a
//! thread that finishes a job takes the next one from the queue without
//! sleeping, so under load the only hand-off left is the result's.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A thread with nothing to do this long ends (a new one starts when work
/// comes).
const IDLE: Duration = Duration::from_secs(10);

struct State {
    queue: VecDeque<Job>,
    /// Threads waiting for a job.
    idle: usize,
    threads: usize,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    ready: Condvar,
    max_threads: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A job runs outside the lock and its panics are caught: the lock
        // is never held by a thread that panicked.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The queue and its threads; they end when the last clone is dropped.
pub struct Executor {
    shared: Arc<Shared>,
}

impl Executor {
    pub fn new(max_threads: usize) -> Executor {
        Executor {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    idle: 0,
                    threads: 0,
                    closed: false,
                }),
                ready: Condvar::new(),
                max_threads: max_threads.max(1),
            }),
        }
    }

    /// Queues `f`; its result comes back through the returned [`Ticket`].
    pub fn submit<T, F>(&self, f: F) -> Ticket<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (send, receive) = tokio::sync::oneshot::channel();
        let status = Arc::new(AtomicU8::new(WAITING));
        let job_status = status.clone();
        let job: Job = Box::new(move || {
            // The request gave up waiting (and answered 503): skip it.
            if job_status
                .compare_exchange(WAITING, STARTED, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                return;
            }
            // A panic drops `send`: the request sees an error, the thread
            // lives on (the pooled connection, dropped while panicking, is
            // discarded: see `Manager::has_broken`).
            if let Ok(value) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
                let _ = send.send(value);
            }
        });
        let mut state = self.shared.lock();
        state.queue.push_back(job);
        if state.idle >= state.queue.len() {
            drop(state);
            self.shared.ready.notify_one();
        } else if state.threads < self.shared.max_threads {
            state.threads += 1;
            drop(state);
            let shared = self.shared.clone();
            let spawned = std::thread::Builder::new()
                .name("practika-db".into())
                .spawn(move || work(&shared));
            if let Err(error) = spawned {
                tracing::error!(%error, "could not start a database thread");
                let mut state = self.shared.lock();
                state.threads -= 1;
                // With no thread at all, nothing would ever take the queue:
                // its requests fail now (503) instead of after the wait.
                let stranded: Vec<Job> = if state.threads == 0 {
                    state.queue.drain(..).collect()
                } else {
                    Vec::new()
                };
                drop(state);
                drop(stranded);
            }
        }
        // Otherwise every thread is busy: the first to finish takes it.
        Ticket { receive, status }
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.ready.notify_all();
    }
}

const WAITING: u8 = 0;
const STARTED: u8 = 1;
const ABANDONED: u8 = 2;

/// A queued job's result to come.
pub struct Ticket<T> {
    receive: tokio::sync::oneshot::Receiver<T>,
    status: Arc<AtomicU8>,
}

/// Why a job gave no result.
#[derive(Debug, PartialEq, Eq)]
pub enum Failed {
    /// Not run: still queued after the wait allowed, or no thread could
    /// be started for it.
    Waited,
    /// It panicked.
    Panicked,
}

impl<T> Ticket<T> {
    /// The result, or `Failed::Waited` if the job did not start within
    /// `wait` (it is then dropped from the queue, unrun). Once started, a
    /// job is waited for to the end.
    pub async fn result(mut self, wait: Duration) -> Result<T, Failed> {
        let outcome = match tokio::time::timeout(wait, &mut self.receive).await {
            Ok(result) => result,
            Err(_) => {
                let gave_up = self
                    .status
                    .compare_exchange(WAITING, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok();
                if gave_up {
                    return Err(Failed::Waited);
                }
                (&mut self.receive).await
            }
        };
        // No value: the job panicked, or was dropped without running.
        outcome.map_err(|_| match self.status.load(Ordering::Acquire) {
            STARTED => Failed::Panicked,
            _ => Failed::Waited,
        })
    }
}

/// A request that stops waiting (its client went away, the server shuts
/// down) takes its job out of the queue, as leaving the old semaphore's
/// queue did: a burst of requests that gave up costs no work.
impl<T> Drop for Ticket<T> {
    fn drop(&mut self) {
        let _ = self
            .status
            .compare_exchange(WAITING, ABANDONED, Ordering::AcqRel, Ordering::Acquire);
    }
}

fn work(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        if let Some(job) = state.queue.pop_front() {
            drop(state);
            // The job catches its own panics; this one is for what could
            // still panic around them (dropping a skipped job's closure),
            // so that the thread and its count never go astray.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            state = shared.lock();
            continue;
        }
        if state.closed {
            break;
        }
        state.idle += 1;
        let (next, waited) = shared
            .ready
            .wait_timeout(state, IDLE)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state = next;
        state.idle -= 1;
        if waited.timed_out() && state.queue.is_empty() {
            break;
        }
    }
    state.threads -= 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn jobs_run_in_order_and_panics_are_errors() {
        let executor = Executor::new(1);
        let order = Arc::new(Mutex::new(Vec::new()));
        let tickets: Vec<_> = (0..20)
            .map(|n| {
                let order = order.clone();
                executor.submit(move || order.lock().expect("lock").push(n))
            })
            .collect();
        for ticket in tickets {
            ticket.result(Duration::from_secs(5)).await.expect("ran");
        }
        assert_eq!(*order.lock().expect("lock"), (0..20).collect::<Vec<_>>());
        let panicked = executor.submit(|| -> u8 { panic!("on purpose") });
        assert_eq!(panicked.result(Duration::from_secs(5)).await, Err(Failed::Panicked));
        assert_eq!(executor.submit(|| 7).result(Duration::from_secs(5)).await, Ok(7));
    }

    /// Queues a job behind one that holds the only thread, lets `give_up`
    /// deal with its ticket, and tells whether the job ever ran.
    async fn ran_after<F: std::future::Future<Output = ()>>(give_up: impl FnOnce(Ticket<()>) -> F) -> bool {
        let executor = Executor::new(1);
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let busy = executor.submit(move || hold.recv().ok());
        let ran = Arc::new(AtomicU8::new(0));
        let flag = ran.clone();
        give_up(executor.submit(move || flag.store(1, Ordering::SeqCst))).await;
        release.send(()).expect("release");
        busy.result(Duration::from_secs(5)).await.expect("held");
        executor
            .submit(|| ())
            .result(Duration::from_secs(5))
            .await
            .expect("after");
        ran.load(Ordering::SeqCst) == 1
    }

    #[actix_web::test]
    async fn a_job_that_waited_too_long_never_runs() {
        let ran = ran_after(|late| async move {
            assert_eq!(late.result(Duration::from_millis(50)).await, Err(Failed::Waited));
        })
        .await;
        assert!(!ran, "the abandoned job was skipped");
    }

    #[actix_web::test]
    async fn a_request_that_stops_waiting_takes_its_job_out() {
        let ran = ran_after(|late| async move { drop(late) }).await;
        assert!(!ran, "the dropped request's job was skipped");
    }
}
