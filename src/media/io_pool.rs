//! A few threads of their own for upload file I/O (writing, hashing,
//! syncing, moving into place), so that uploads never occupy the threads
//! that database queries and password hashing run on.
//!
//! Before this pool each upload held a blocking-pool thread for its whole
//! life, waiting for the next chunk: 530 uploads trickling in from one user
//! took every thread, and every database-backed page stopped answering.
//! Here an upload holds no thread while it waits for the network: each
//! batch of bytes is one short task, and at most `size` of them run at once
//! (more wait their turn in the queue).

use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::oneshot;

type Task = Box<dyn FnOnce() + Send + 'static>;

pub struct IoPool {
    sender: Mutex<Sender<Task>>,
}

impl IoPool {
    /// Starts `size` threads (at least one) named `name`.
    pub fn new(name: &str, size: usize) -> io::Result<IoPool> {
        let (sender, receiver) = mpsc::channel::<Task>();
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..size.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{index}"))
                .spawn(move || work(&receiver))?;
        }
        Ok(IoPool {
            sender: Mutex::new(sender),
        })
    }

    /// Queues `f` now, to run on one of the pool's threads; it reports its
    /// own result (a panic is caught: the thread lives on).
    pub fn submit(&self, f: impl FnOnce() + Send + 'static) -> io::Result<()> {
        let task: Task = Box::new(move || {
            if catch_unwind(AssertUnwindSafe(f)).is_err() {
                tracing::error!("an upload I/O task panicked");
            }
        });
        self.sender
            .lock()
            .map_err(|_| io::Error::other("the upload I/O pool is poisoned"))?
            .send(task)
            .map_err(|_| io::Error::other("the upload I/O pool has stopped"))
    }

    /// Runs `f` on one of the pool's threads; a panic in it is an error, and
    /// the thread lives on.
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> io::Result<T> {
        let (done, result) = oneshot::channel();
        let task: Task = Box::new(move || {
            let _ = done.send(catch_unwind(AssertUnwindSafe(f)));
        });
        self.sender
            .lock()
            .map_err(|_| io::Error::other("the upload I/O pool is poisoned"))?
            .send(task)
            .map_err(|_| io::Error::other("the upload I/O pool has stopped"))?;
        match result.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(io::Error::other("an upload I/O task panicked")),
            Err(_) => Err(io::Error::other("the upload I/O pool dropped a task")),
        }
    }
}

fn work(receiver: &Mutex<Receiver<Task>>) {
    loop {
        // The lock is held only to take the next task, not to run it.
        let next = match receiver.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        match next {
            Ok(task) => task(),
            Err(_) => return, // the pool is gone
        }
    }
}

/// The process's pool for upload files: as many threads as cores, at least
/// four (a slow `fsync` at the end of one upload must not hold up the
/// writes of the others for long).
pub fn uploads() -> io::Result<&'static IoPool> {
    static POOL: OnceLock<IoPool> = OnceLock::new();
    if let Some(pool) = POOL.get() {
        return Ok(pool);
    }
    let size = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .max(4);
    let pool = IoPool::new("practika-upload-io", size)?;
    Ok(POOL.get_or_init(|| pool))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn runs_tasks_and_survives_a_panic() -> io::Result<()> {
        let pool = IoPool::new("test-io", 2)?;
        assert_eq!(pool.run(|| 40 + 2).await?, 42);
        assert!(pool.run(|| panic!("boom")).await.is_err());
        let name = pool.run(|| std::thread::current().name().map(str::to_owned)).await?;
        assert!(name.is_some_and(|n| n.starts_with("test-io-")));
        Ok(())
    }
}
