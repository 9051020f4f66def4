//! The kinds of job the worker knows, filled by the areas at start-up
//! (`startup::job_registry`): each area registers what its jobs do, what
//! to mark when one fails or is given back, and its periodic chores. The
//! queue and the worker know nothing of videos or emails.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::queue::Job;
use super::worker::{JobContext, JobError};
use crate::db::Ts;

/// A boxed future borrowing the job and its context.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Does the job's work.
pub type RunFn = for<'a> fn(&'a JobContext, &'a Job) -> BoxFuture<'a, Result<(), JobError>>;
/// After a failed attempt: what the job is about is marked (`retry_at`: it
/// is tried again then; `None`: it failed for good), with the message.
pub type FailedFn = for<'a> fn(&'a JobContext, &'a Job, &'a str, Option<Ts>) -> BoxFuture<'a, anyhow::Result<()>>;
/// The job was given back unfinished (the worker stopped): what it is about
/// is waiting again.
pub type ReleasedFn = for<'a> fn(&'a JobContext, &'a Job) -> BoxFuture<'a, anyhow::Result<()>>;
/// A periodic clean-up; returns how many things it removed.
pub type ChoreFn = for<'a> fn(&'a JobContext) -> BoxFuture<'a, anyhow::Result<usize>>;

/// One kind of job, as stored in `jobs_job.kind`.
#[derive(Clone, Copy)]
pub struct JobKind {
    pub name: &'static str,
    pub run: RunFn,
    pub failed: Option<FailedFn>,
    pub released: Option<ReleasedFn>,
}

impl JobKind {
    pub const fn new(name: &'static str, run: RunFn) -> JobKind {
        JobKind {
            name,
            run,
            failed: None,
            released: None,
        }
    }

    pub const fn on_failure(mut self, failed: FailedFn) -> JobKind {
        self.failed = Some(failed);
        self
    }

    pub const fn on_release(mut self, released: ReleasedFn) -> JobKind {
        self.released = Some(released);
        self
    }
}

/// Work the worker does every `every`, between jobs (pruning, purging).
#[derive(Clone, Copy)]
pub struct Chore {
    pub name: &'static str,
    pub every: Duration,
    pub run: ChoreFn,
}

#[derive(Default, Clone)]
pub struct Registry {
    kinds: BTreeMap<&'static str, JobKind>,
    chores: Vec<Chore>,
}

impl Registry {
    /// Adds a kind. Two areas registering the same name is a programming
    /// error, found by the first start (and `registry` tests).
    pub fn register(&mut self, kind: JobKind) -> &mut Registry {
        let previous = self.kinds.insert(kind.name, kind);
        assert!(previous.is_none(), "job kind {:?} registered twice", kind.name);
        self
    }

    pub fn chore(&mut self, chore: Chore) -> &mut Registry {
        self.chores.push(chore);
        self
    }

    pub fn kind(&self, name: &str) -> Option<&JobKind> {
        self.kinds.get(name)
    }

    pub fn kind_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.kinds.keys().copied()
    }

    pub fn chores(&self) -> &[Chore] {
        &self.chores
    }
}

/// The uuid a job's payload names under `key`.
pub fn payload_id(job: &Job, key: &str) -> Result<crate::db::Id, JobError> {
    job.payload
        .0
        .get(key)
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| JobError::Permanent(format!("the job's payload has no valid {key}")))
}

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
