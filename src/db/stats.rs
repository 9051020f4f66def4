//! What the database costs a request: every connection carries an
//! instrumentation that counts its statements (and their time) into the
//! counter of the request being served, and logs each one at `debug`
//! inside the caller's span (so a statement's log line names its request).
//!
//! The counter travels with the request's future (a task-local, set by
//! [`counted`]) and [`super::run`] carries it, with the tracing span, onto
//! the blocking thread where the closure runs; the instrumentation finds
//! it there in a thread-local.
//!
//! The same instrumentation notices a connection that has been lost (the
//! server went away) so that the pool drops it, instead of testing every
//! connection with a `SELECT 1` at each check-out.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::result::{DatabaseErrorKind, Error};

/// Statements and their time, for one request (or one job).
#[derive(Debug, Default, Clone)]
pub struct StatementCounter(Arc<Totals>);

#[derive(Debug, Default)]
struct Totals {
    statements: AtomicU64,
    micros: AtomicU64,
}

impl StatementCounter {
    pub fn statements(&self) -> u64 {
        self.0.statements.load(Ordering::Relaxed)
    }

    /// Time spent waiting for statements, in milliseconds.
    pub fn millis(&self) -> f64 {
        self.0.micros.load(Ordering::Relaxed) as f64 / 1000.0
    }

    /// Counts into this counter on the current thread until the guard drops.
    pub fn enter(&self) -> CountingGuard {
        let previous = CURRENT.with(|c| c.replace(Some(self.clone())));
        CountingGuard { previous }
    }
}

pub struct CountingGuard {
    previous: Option<StatementCounter>,
}

impl Drop for CountingGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

thread_local! {
    static CURRENT: RefCell<Option<StatementCounter>> = const { RefCell::new(None) };
    /// Set when a statement on this thread failed because its connection is
    /// gone; read (and cleared) when the connection goes back to the pool.
    static LOST: Cell<bool> = const { Cell::new(false) };
}

tokio::task_local! {
    static TASK: StatementCounter;
}

/// Runs `fut` with `counter` as the counter of every [`super::run`] inside it.
pub async fn counted<F: Future>(counter: StatementCounter, fut: F) -> F::Output {
    TASK.scope(counter, fut).await
}

/// The counter of the request (or job) this task serves, if any.
pub fn current_task_counter() -> Option<StatementCounter> {
    TASK.try_with(Clone::clone)
        .ok()
        .or_else(|| CURRENT.with(|c| c.borrow().clone()))
}

/// Whether a statement on this thread lost its connection since the last call.
pub(super) fn take_lost() -> bool {
    LOST.with(|l| l.replace(false))
}

pub(super) fn mark_lost() {
    LOST.with(|l| l.set(true));
}

pub(super) fn clear_lost() {
    LOST.with(|l| l.set(false));
}

/// Errors that mean the connection itself is unusable.
pub fn is_connection_lost(error: &Error) -> bool {
    matches!(
        error,
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        )
    )
}

/// The SQL of a statement without its bound values (they can hold
/// password hashes, tokens, text people wrote).
fn sql_only(query: &dyn std::fmt::Display) -> String {
    let text = query.to_string();
    match text.find(" -- binds:") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Installed on every pooled connection (see [`super::establish`]).
#[derive(Default)]
pub struct Counting {
    started: Option<Instant>,
}

impl Instrumentation for Counting {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                self.started = Some(Instant::now());
                CURRENT.with(|c| {
                    if let Some(counter) = c.borrow().as_ref() {
                        counter.0.statements.fetch_add(1, Ordering::Relaxed);
                    }
                });
                if tracing::enabled!(target: "practika::sql", tracing::Level::DEBUG) {
                    tracing::debug!(target: "practika::sql", sql = %sql_only(query), "statement");
                }
            }
            InstrumentationEvent::FinishQuery { error, .. } => {
                if let Some(started) = self.started.take() {
                    let micros = started.elapsed().as_micros() as u64;
                    CURRENT.with(|c| {
                        if let Some(counter) = c.borrow().as_ref() {
                            counter.0.micros.fetch_add(micros, Ordering::Relaxed);
                        }
                    });
                }
                if error.is_some_and(is_connection_lost) {
                    LOST.with(|l| l.set(true));
                }
            }
            _ => {}
        }
    }
}
