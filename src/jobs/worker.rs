//! The worker: claims a job, runs it while renewing its lease, and records
//! how it ended. `practika serve` runs one in-process; `practika worker`
//! runs any number, on any machine that shares the database and the media
//! storage. Tests drive it one job at a time with [`Worker::run_once`].

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::QueryResult;
use tokio::sync::watch;

use super::kinds;
use super::queue::{self, AfterFailure, Job};
use crate::config::Settings;
use crate::db::{DbConn, Id, Pool, Ts};
use crate::media::{Storage, Tools};
use crate::videos::processing;

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
    pub mailer: Option<crate::email::Mailer>,
    pub public_url: String,
    /// Signs the links in emails.
    pub secret: crate::config::SecretKey,
    /// Resumable uploads' bytes, and how long one lives unused.
    pub tus_dir: std::path::PathBuf,
    pub upload_expiry: Duration,
}

impl JobContext {
    /// What a mail job needs, if email can be sent at all.
    pub fn outgoing(&self) -> Result<crate::accounts::mail::Outgoing<'_>, JobError> {
        let mailer = self
            .mailer
            .as_ref()
            .ok_or_else(|| JobError::Permanent("email is not configured".to_owned()))?;
        Ok(crate::accounts::mail::Outgoing {
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
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        Ok(f(&mut conn)?)
    })
    .await?
}

impl Worker {
    pub fn new(pool: Pool, settings: &Settings, name: impl Into<String>) -> Worker {
        Worker {
            ctx: Arc::new(JobContext {
                pool,
                storage: Storage::new(settings.media_dir()),
                tools: Tools::from_settings(settings),
                mailer: crate::email::Mailer::from_settings(settings)
                    .map_err(|error| tracing::error!(error = %format!("{error:#}"), "email cannot be sent"))
                    .ok(),
                public_url: settings.public_url.clone(),
                secret: settings.secret_key.clone(),
                tus_dir: crate::videos::tus::tus_dir(settings),
                upload_expiry: settings.upload_expiry,
            }),
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
        loop {
            if *shutdown.borrow() {
                break;
            }
            if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                last_prune = Some(Instant::now());
                self.housekeeping().await;
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

    /// The periodic clean-up (hourly, from [`Worker::run`]): finished jobs
    /// past their keeping time, and sessions past their idle limit (never
    /// used again: the lookup ignores them). Failures are logged and tried
    /// again next time.
    pub async fn housekeeping(&self) {
        let before = Ts(Ts::now().0 - chrono::Duration::from_std(KEEP_DONE).unwrap_or(chrono::Duration::zero()));
        match blocking(&self.ctx.pool, move |c| queue::prune_done(c, before)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "pruned finished jobs"),
            Err(error) => tracing::warn!(error = %format!("{error:#}"), "pruning jobs failed"),
        }
        match blocking(&self.ctx.pool, |c| {
            crate::accounts::sessions::purge_expired(c, Ts::now())
        })
        .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "removed expired sessions"),
            Err(error) => tracing::warn!(error = %format!("{error:#}"), "removing expired sessions failed"),
        }
        let (tus_dir, expiry) = (self.ctx.tus_dir.clone(), self.ctx.upload_expiry);
        let pool = self.ctx.pool.clone();
        let purged = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            let mut conn = pool.get()?;
            crate::videos::tus::purge_expired(&mut conn, &tus_dir, expiry)
        })
        .await;
        match purged {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(removed = n, "removed abandoned resumable uploads"),
            Ok(Err(error)) => tracing::warn!(error = %format!("{error:#}"), "removing abandoned uploads failed"),
            Err(error) => tracing::warn!(%error, "removing abandoned uploads failed"),
        }
    }

    async fn run_next(&self, stop: impl Future<Output = ()>) -> anyhow::Result<Option<Report>> {
        let abandoned = blocking(&self.ctx.pool, queue::fail_abandoned).await?;
        for job in abandoned {
            let message = job.last_error.clone().unwrap_or_default();
            tracing::warn!(job_id = job.id, kind = %job.kind, "job failed: its worker died on the last attempt");
            after_failure(&self.ctx, &job, &message, None).await;
        }
        let (name, lease) = (self.name.clone(), self.lease);
        let Some(job) = blocking(&self.ctx.pool, move |c| queue::claim(c, &name, lease)).await? else {
            return Ok(None);
        };
        tracing::info!(job_id = job.id, kind = %job.kind, attempt = job.attempts, worker = %self.name, "job started");
        let started = Instant::now();

        let work = dispatch(&self.ctx, &job);
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
                        on_release(&self.ctx, &job).await;
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
                        after_failure(&self.ctx, &job, error.message(), Some(at)).await;
                        Outcome::Retrying(at)
                    }
                    AfterFailure::Failed => {
                        after_failure(&self.ctx, &job, error.message(), None).await;
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

/// The uuid a job's payload names under `key`.
pub fn payload_i64(job: &Job, key: &str) -> Result<i64, JobError> {
    job.payload.0[key]
        .as_i64()
        .ok_or_else(|| JobError::Permanent(format!("the job has no {key}")))
}

pub fn payload_text(job: &Job, key: &str) -> Result<String, JobError> {
    job.payload.0[key]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| JobError::Permanent(format!("the job has no {key}")))
}

pub fn payload_id(job: &Job, key: &str) -> Result<Id, JobError> {
    job.payload
        .0
        .get(key)
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| JobError::Permanent(format!("the job's payload has no valid {key}")))
}

async fn dispatch(ctx: &JobContext, job: &Job) -> Result<(), JobError> {
    match job.kind.as_str() {
        kinds::PROCESS_VIDEO => processing::process_video(ctx, payload_id(job, "asset_id")?).await,
        kinds::CUT_CLIP => processing::cut_clip(ctx, payload_id(job, "clip_id")?).await,
        kinds::REVALIDATE_VIDEO => processing::revalidate(ctx, payload_id(job, "asset_id")?)
            .await
            .map(drop),
        kinds::SEND_INVITATION => {
            let id = payload_i64(job, "invitation_id")?;
            let out = ctx.outgoing()?;
            crate::accounts::mail::invitation_job(out.pool, out.mailer, out.public_url, id)
                .await
                .map_err(JobError::Retry)
        }
        kinds::SEND_PASSWORD_RESET => {
            let email = payload_text(job, "email")?;
            crate::accounts::mail::password_reset_job(&ctx.outgoing()?, email)
                .await
                .map_err(JobError::Retry)
        }
        kinds::SEND_EMAIL_CHANGE => {
            let user_id = i32::try_from(payload_i64(job, "user_id")?)
                .map_err(|_| JobError::Permanent("user_id out of range".to_owned()))?;
            let new_email = payload_text(job, "new_email")?;
            crate::accounts::mail::email_change_job(&ctx.outgoing()?, user_id, new_email)
                .await
                .map_err(JobError::Retry)
        }
        kinds::SEND_COMMENT_NOTICE => {
            let comment_id = payload_id(job, "comment_id")?;
            crate::comments::notify::notice_job(&ctx.outgoing()?, comment_id)
                .await
                .map_err(JobError::Retry)
        }
        other => Err(JobError::Permanent(format!("unknown job kind {other:?}"))),
    }
}

/// Marks what the job was about after a failed attempt (`retry_at`: it will
/// be tried again then; `None`: it failed for good), through an outage.
async fn after_failure(ctx: &JobContext, job: &Job, message: &str, retry_at: Option<Ts>) {
    until_recorded("recording a job's failure on its video", None, || async {
        match job.kind.as_str() {
            kinds::PROCESS_VIDEO => match payload_id(job, "asset_id") {
                Ok(id) => processing::video_failed(ctx, id, message, retry_at).await,
                Err(_) => Ok(()),
            },
            kinds::CUT_CLIP => match payload_id(job, "clip_id") {
                Ok(id) => processing::clip_failed(ctx, id, message, retry_at).await,
                Err(_) => Ok(()),
            },
            _ => Ok(()),
        }
    })
    .await;
}

/// The job was given back: what it was about is waiting again.
async fn on_release(ctx: &JobContext, job: &Job) {
    let result = match job.kind.as_str() {
        kinds::PROCESS_VIDEO => match payload_id(job, "asset_id") {
            Ok(id) => processing::video_requeued(ctx, id).await,
            Err(_) => Ok(()),
        },
        kinds::CUT_CLIP => match payload_id(job, "clip_id") {
            Ok(id) => processing::clip_requeued(ctx, id).await,
            Err(_) => Ok(()),
        },
        _ => Ok(()),
    };
    if let Err(error) = result {
        tracing::warn!(job_id = job.id, error = %format!("{error:#}"), "could not record a released job");
    }
}
