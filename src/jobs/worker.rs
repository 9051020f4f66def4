//! The worker: claims a job, runs it while renewing its lease, and records
//! how it ended. `practika serve` runs one in-process; `practika worker`
//! runs any number, on any machine that shares the database and the media
//! storage. Tests drive it one job at a time with [`Worker::run_once`].

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::QueryResult;
use tokio::sync::watch;
use tracing::Instrument;

use super::queue::{self, AfterFailure, Job};
use super::registry::Registry;
use crate::config::Settings;
use crate::db::{DbConn, Pool, Ts};
use crate::email::{Mailer, Outgoing};
use crate::media::{Storage, Tools};

/// How long a claim lasts without renewal. A running job renews it every
/// third of this, so only a worker that died (or hangs) loses its job.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(300);
const DEFAULT_POLL: Duration = Duration::from_secs(2);
/// On shutdown a running job gets this long to finish before it is
/// stopped and given back to the queue.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
/// Finished jobs are kept this long for inspection, then deleted.
const KEEP_DONE: Duration = Duration::from_secs(7 * 24 * 3600);
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// What jobs need: the database, the media files and the tools.
pub struct JobContext {
    pub pool: Pool,
    pub storage: Storage,
    pub tools: Tools,
    /// `None` when the mail settings are unusable (logged at start).
    pub mailer: Option<Mailer>,
    pub public_url: String,
    /// Signs the links in emails.
    pub secret: crate::config::SecretKey,
    /// Resumable uploads' bytes, and how long one lives unused.
    pub tus_dir: std::path::PathBuf,
    pub upload_expiry: Duration,
}

impl JobContext {
    pub fn new(pool: Pool, settings: &Settings) -> JobContext {
        JobContext {
            pool,
            storage: Storage::from_settings(settings)
                .expect("the media storage settings were checked when they were read"),
            tools: Tools::from_settings(settings),
            mailer: Mailer::from_settings(settings)
                .map_err(|error| tracing::error!(error = %format!("{error:#}"), "email cannot be sent"))
                .ok(),
            public_url: settings.public_url.clone(),
            secret: settings.secret_key.clone(),
            tus_dir: settings.upload_tmp_dir().join("tus"),
            upload_expiry: settings.upload_expiry,
        }
    }

    /// What a mail job needs, if email can be sent at all.
    pub fn outgoing(&self) -> Result<Outgoing<'_>, JobError> {
        let mailer = self
            .mailer
            .as_ref()
            .ok_or_else(|| JobError::Permanent("email is not configured".to_owned()))?;
        Ok(Outgoing {
            pool: &self.pool,
            mailer,
            public_url: &self.public_url,
            secret: self.secret.bytes(),
        })
    }
}

/// Why a job did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// Worth trying again later (a tool failed, the database was down...).
    Retry(String),
    /// Trying again cannot help (the file is not a video, the tool is not
    /// installed): the job fails at once.
    Permanent(String),
}

impl JobError {
    pub fn message(&self) -> &str {
        match self {
            JobError::Retry(m) | JobError::Permanent(m) => m,
        }
    }
}

impl From<anyhow::Error> for JobError {
    fn from(error: anyhow::Error) -> Self {
        JobError::Retry(format!("{error:#}"))
    }
}

impl From<diesel::result::Error> for JobError {
    fn from(error: diesel::result::Error) -> Self {
        JobError::Retry(format!("database: {error}"))
    }
}

/// How one claimed job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done,
    /// Failed this time; queued again for this time.
    Retrying(Ts),
    /// Failed for good, with this message.
    Failed(String),
    /// Given back unfinished because the worker is stopping.
    Released,
    /// The lease ran out and another worker took the job over.
    LostLease,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub job_id: i64,
    pub kind: String,
    pub outcome: Outcome,
}

pub struct Worker {
    ctx: Arc<JobContext>,
    registry: Arc<Registry>,
    name: String,
    lease: Duration,
    poll_interval: Duration,
    shutdown_grace: Duration,
}

/// `host:pid:index`, so that `locked_by` says which process holds a job.
pub fn worker_name(index: usize) -> String {
    format!("{}:{}:{index}", crate::config::host_name(), std::process::id())
}

/// Runs blocking database work for the worker.
pub async fn blocking<T, F>(pool: &Pool, f: F) -> anyhow::Result<T>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> QueryResult<T> + Send + 'static,
{
    let pool = pool.clone();
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _span = span.enter();
        let mut conn = pool.get()?;
        Ok(f(&mut conn)?)
    })
    .await?
}

impl Worker {
    /// A worker running the kinds in `registry` (`startup::worker` builds
    /// one with every area's).
    pub fn new(ctx: JobContext, registry: Arc<Registry>, name: impl Into<String>) -> Worker {
        Worker {
            ctx: Arc::new(ctx),
            registry,
            name: name.into(),
            lease: DEFAULT_LEASE,
            poll_interval: DEFAULT_POLL,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }

    pub fn with_lease(mut self, lease: Duration) -> Worker {
        self.lease = lease.max(Duration::from_millis(100));
        self
    }

    pub fn with_poll_interval(mut self, interval: Duration) -> Worker {
        self.poll_interval = interval;
        self
    }

    pub fn with_shutdown_grace(mut self, grace: Duration) -> Worker {
        self.shutdown_grace = grace;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn context(&self) -> &JobContext {
        &self.ctx
    }

    /// Claims and runs one due job; `None` when there was none.
    pub async fn run_once(&self) -> anyhow::Result<Option<Report>> {
        self.run_next(std::future::pending()).await
    }

    /// Runs jobs until `shutdown` turns true. A job running at that moment
    /// gets the shutdown grace to finish; otherwise it is stopped (its
    /// ffmpeg killed, its partial files removed) and released.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.name, "worker started");
        let mut last_prune: Option<Instant> = None;
        let mut last_chores: Vec<Option<Instant>> = vec![None; self.registry.chores().len()];
        loop {
            if *shutdown.borrow() {
                break;
            }
            if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                last_prune = Some(Instant::now());
                self.prune().await;
            }
            for (chore, last) in self.registry.chores().iter().zip(last_chores.iter_mut()) {
                if last.is_none_or(|at| at.elapsed() >= chore.every) {
                    *last = Some(Instant::now());
                    self.run_chore(chore).await;
                }
            }
            let next = self.run_next(stopped(&mut shutdown)).await;
            let idle = match next {
                Ok(Some(_)) => false,
                Ok(None) => true,
                Err(error) => {
                    tracing::warn!(worker = %self.name, error = %format!("{error:#}"), "worker could not reach the database; retrying");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = tokio::time::sleep(self.poll_interval) => {}
                    _ = stopped(&mut shutdown) => {}
                }
            }
        }
        tracing::info!(worker = %self.name, "worker stopped");
    }

    /// Every periodic clean-up at once: finished jobs past their keeping
    /// time and each area's chores (expired sessions...). [`Worker::run`]
    /// runs each on its own schedule. Failures are logged and tried again
    /// next time.
    pub async fn housekeeping(&self) {
        self.prune().await;
        for chore in self.registry.chores() {
            self.run_chore(chore).await;
        }
    }

    async fn prune(&self) {
        let before = Ts(Ts::now().0 - chrono::Duration::from_std(KEEP_DONE).unwrap_or(chrono::Duration::zero()));
        match blocking(&self.ctx.pool, move |c| queue::prune_done(c, before)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "pruned finished jobs"),
            Err(error) => tracing::warn!(error = %format!("{error:#}"), "pruning jobs failed"),
        }
    }

    async fn run_chore(&self, chore: &super::registry::Chore) {
        match (chore.run)(&self.ctx).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(chore = chore.name, removed = n, "periodic clean-up done"),
            Err(error) => tracing::warn!(chore = chore.name, error = %format!("{error:#}"), "periodic clean-up failed"),
        }
    }

    async fn run_next(&self, stop: impl Future<Output = ()>) -> anyhow::Result<Option<Report>> {
        let abandoned = blocking(&self.ctx.pool, queue::fail_abandoned).await?;
        for job in abandoned {
            let message = job.last_error.clone().unwrap_or_default();
            tracing::warn!(job_id = job.id, kind = %job.kind, "job failed: its worker died on the last attempt");
            self.after_failure(&job, &message, None).await;
        }
        let (name, lease) = (self.name.clone(), self.lease);
        let Some(job) = blocking(&self.ctx.pool, move |c| queue::claim(c, &name, lease)).await? else {
            return Ok(None);
        };
        // Every line the job causes (its queries on blocking threads, ffmpeg's
        // reports, mail) carries the job's id and kind.
        let span = tracing::info_span!("job", id = job.id, kind = %job.kind);
        self.run_claimed(job, stop).instrument(span).await
    }

    async fn run_claimed(&self, job: Job, stop: impl Future<Output = ()>) -> anyhow::Result<Option<Report>> {
        tracing::info!(job_id = job.id, kind = %job.kind, attempt = job.attempts, worker = %self.name, "job started");
        let started = Instant::now();

        let work = self.dispatch(&job);
        tokio::pin!(work);
        tokio::pin!(stop);
        let mut beat = tokio::time::interval(self.lease / 3);
        beat.tick().await;
        let result = loop {
            tokio::select! {
                result = &mut work => break Some(result),
                _ = beat.tick() => {
                    let (id, name, lease) = (job.id, self.name.clone(), self.lease);
                    match blocking(&self.ctx.pool, move |c| queue::heartbeat(c, id, &name, lease)).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(job_id = job.id, "lost the lease on a running job: another worker took it over"),
                        Err(error) => tracing::warn!(job_id = job.id, error = %format!("{error:#}"), "could not renew a job's lease"),
                    }
                }
                _ = &mut stop => {
                    tracing::info!(job_id = job.id, grace_s = self.shutdown_grace.as_secs(), "shutting down: letting the running job finish");
                    break tokio::time::timeout(self.shutdown_grace, &mut work).await.ok();
                }
            }
        };
        // From here the work is over: its outcome is recorded even if the
        // database is away right now (a finished encode must not run again
        // because the UPDATE that says so failed), retrying until it is back.
        let (pool, id) = (&self.ctx.pool, job.id);
        let outcome = match result {
            None => {
                // `work` is dropped below: its child processes are killed
                // and its temporary files removed. A stopping worker tries
                // for its shutdown grace only: the lease gives the job back
                // anyway.
                let name = self.name.clone();
                let released = until_recorded("releasing a job", Some(self.shutdown_grace), || {
                    let name = name.clone();
                    blocking(pool, move |c| queue::release(c, id, &name))
                })
                .await;
                match released {
                    Some(true) => {
                        self.on_release(&job).await;
                        Outcome::Released
                    }
                    Some(false) => Outcome::LostLease,
                    None => Outcome::Released,
                }
            }
            Some(Ok(())) => {
                let name = self.name.clone();
                let completed = until_recorded("recording a finished job", None, || {
                    let name = name.clone();
                    blocking(pool, move |c| queue::complete(c, id, &name))
                })
                .await;
                if completed == Some(true) {
                    Outcome::Done
                } else {
                    Outcome::LostLease
                }
            }
            Some(Err(error)) => {
                let permanent = matches!(error, JobError::Permanent(_));
                let after = until_recorded("recording a failed job", None, || {
                    let (failed_job, name, message) = (job.clone(), self.name.clone(), error.message().to_owned());
                    blocking(pool, move |c| queue::fail(c, &failed_job, &name, &message, permanent))
                })
                .await
                .unwrap_or(AfterFailure::NotHeld);
                match after {
                    AfterFailure::Retry(at) => {
                        self.after_failure(&job, error.message(), Some(at)).await;
                        Outcome::Retrying(at)
                    }
                    AfterFailure::Failed => {
                        self.after_failure(&job, error.message(), None).await;
                        Outcome::Failed(error.message().to_owned())
                    }
                    AfterFailure::NotHeld => Outcome::LostLease,
                }
            }
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match &outcome {
            Outcome::Done => {
                tracing::info!(job_id = job.id, kind = %job.kind, elapsed_ms, "job done")
            }
            Outcome::Retrying(at) => {
                tracing::warn!(job_id = job.id, kind = %job.kind, elapsed_ms, retry_at = %at, "job failed; will retry")
            }
            Outcome::Failed(message) => {
                tracing::error!(job_id = job.id, kind = %job.kind, elapsed_ms, %message, "job failed for good")
            }
            Outcome::Released => {
                tracing::info!(job_id = job.id, kind = %job.kind, "job released for another worker")
            }
            Outcome::LostLease => {
                tracing::warn!(job_id = job.id, kind = %job.kind, "job result dropped: the lease had passed to another worker")
            }
        }
        Ok(Some(Report {
            job_id: job.id,
            kind: job.kind.clone(),
            outcome,
        }))
    }
}

/// The first wait before trying again to record an outcome; it doubles up
/// to [`RECORD_RETRY_MAX`].
const RECORD_RETRY_FIRST: Duration = Duration::from_millis(200);
const RECORD_RETRY_MAX: Duration = Duration::from_secs(15);

/// Runs `attempt` until it succeeds, waiting longer after each failure (the
/// database is down, or a connection broke), for at most `limit` if given
/// (`None` then). The work a job did is worth more than the worker's time:
/// without this, a failed write of "done" left the job `running`, and its
/// whole work ran again once its lease ran out.
pub async fn until_recorded<T, F, Fut>(what: &str, limit: Option<Duration>, mut attempt: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let started = Instant::now();
    let mut delay = RECORD_RETRY_FIRST;
    let mut failures = 0u32;
    loop {
        match attempt().await {
            Ok(value) => {
                if failures > 0 {
                    tracing::info!(what, failures, "recorded once the database answered again");
                }
                return Some(value);
            }
            Err(error) => {
                failures += 1;
                if limit.is_some_and(|limit| started.elapsed() + delay > limit) {
                    tracing::error!(what, failures, error = %format!("{error:#}"), "gave up recording: the database stayed away");
                    return None;
                }
                tracing::warn!(
                    what,
                    failures,
                    retry_in_ms = delay.as_millis() as u64,
                    error = %format!("{error:#}"),
                    "the database is away; keeping the outcome and trying again"
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(RECORD_RETRY_MAX);
            }
        }
    }
}

/// Resolves when `shutdown` turns true (never, if its sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

impl Worker {
    /// The job's work, as its kind registered it.
    async fn dispatch(&self, job: &Job) -> Result<(), JobError> {
        match self.registry.kind(&job.kind) {
            Some(kind) => (kind.run)(&self.ctx, job).await,
            None => Err(JobError::Permanent(format!("unknown job kind {:?}", job.kind))),
        }
    }

    /// Marks what the job was about after a failed attempt (`retry_at`: it
    /// will be tried again then; `None`: it failed for good), through an
    /// outage.
    async fn after_failure(&self, job: &Job, message: &str, retry_at: Option<Ts>) {
        let Some(failed) = self.registry.kind(&job.kind).and_then(|k| k.failed) else {
            return;
        };
        until_recorded("recording a job's failure on what it is about", None, || {
            failed(&self.ctx, job, message, retry_at)
        })
        .await;
    }

    /// The job was given back: what it was about is waiting again.
    async fn on_release(&self, job: &Job) {
        let Some(released) = self.registry.kind(&job.kind).and_then(|k| k.released) else {
            return;
        };
        if let Err(error) = released(&self.ctx, job).await {
            tracing::warn!(job_id = job.id, error = %format!("{error:#}"), "could not record a released job");
        }
    }
}
