//! The job table and its operations: plain functions on a connection, so
//! that a job is enqueued in the same transaction as the row it is about.
//!
//! A job is `queued` until a worker claims it (`running`, with a lease in
//! `locked_until` and the worker's name in `locked_by`). The worker then
//! completes it (`done`), releases it (back to `queued`, on shutdown), or
//! reports a failure: the job is queued again after an exponential backoff,
//! or `failed` once `max_attempts` are used up. A running job whose lease ran
//! out (its worker died) is claimed again like a queued one.

use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::db::schema::jobs_job;
use crate::db::types::sql::UtcTime;
use crate::db::{DbConn, Json, Ts};

pub const DEFAULT_MAX_ATTEMPTS: i32 = 5;
/// First retry after this; each further retry waits twice as long.
pub const BACKOFF_BASE: Duration = Duration::from_secs(30);
pub const BACKOFF_MAX: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }
}

#[derive(Queryable, Selectable, QueryableByName, Debug, Clone)]
#[diesel(table_name = jobs_job)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: Json,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: Ts,
    pub locked_until: Option<Ts>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub created_at: Ts,
    pub updated_at: Ts,
}

#[derive(Insertable)]
#[diesel(table_name = jobs_job)]
struct NewJobRow<'a> {
    kind: &'a str,
    payload: Json,
    status: &'a str,
    attempts: i32,
    max_attempts: i32,
    run_after: Ts,
    locked_until: Option<Ts>,
    locked_by: Option<&'a str>,
    last_error: Option<&'a str>,
    created_at: Ts,
    updated_at: Ts,
}

fn after(now: Ts, duration: Duration) -> Ts {
    let delta = chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX);
    Ts(now.0.checked_add_signed(delta).unwrap_or(now.0))
}

/// Queues a job to run now, with the default number of attempts.
pub fn enqueue(conn: &mut DbConn, kind: &str, payload: serde_json::Value) -> QueryResult<i64> {
    enqueue_with(conn, kind, payload, DEFAULT_MAX_ATTEMPTS, Ts::now())
}

pub fn enqueue_with(
    conn: &mut DbConn,
    kind: &str,
    payload: serde_json::Value,
    max_attempts: i32,
    run_after: Ts,
) -> QueryResult<i64> {
    let now = Ts::now();
    diesel::insert_into(jobs_job::table)
        .values(NewJobRow {
            kind,
            payload: Json(payload),
            status: JobStatus::Queued.as_str(),
            attempts: 0,
            max_attempts: max_attempts.max(1),
            run_after,
            locked_until: None,
            locked_by: None,
            last_error: None,
            created_at: now,
            updated_at: now,
        })
        .returning(jobs_job::id)
        .get_result(conn)
}

const COLUMNS: &str = "id, kind, payload, status, attempts, max_attempts, run_after, \
    locked_until, locked_by, last_error, created_at, updated_at";

/// Claims the next due job for `worker`, holding it for `lease`: the oldest
/// queued job whose time has come, or a running job whose lease ran out
/// (its worker died) and that has attempts left. One statement on both
/// backends: PostgreSQL skips rows other workers are claiming at the same
/// moment (`FOR UPDATE SKIP LOCKED`); SQLite runs one writer at a time, so
/// its `UPDATE ... RETURNING` is atomic as it is.
pub fn claim(conn: &mut DbConn, worker: &str, lease: Duration) -> QueryResult<Option<Job>> {
    let now = Ts::now();
    let lock = match conn {
        DbConn::Pg(_) => "FOR UPDATE SKIP LOCKED",
        DbConn::Sqlite(_) => "",
    };
    let sql = format!(
        "UPDATE jobs_job SET status = 'running', attempts = attempts + 1, \
           locked_by = $1, locked_until = $2, updated_at = $3 \
         WHERE id = (SELECT id FROM jobs_job \
           WHERE (status = 'queued' AND run_after <= $4) \
              OR (status = 'running' AND locked_until < $5 AND attempts < max_attempts) \
           ORDER BY run_after, id LIMIT 1 {lock}) \
         RETURNING {COLUMNS}"
    );
    diesel::sql_query(sql)
        .bind::<Text, _>(worker)
        .bind::<UtcTime, _>(after(now, lease))
        .bind::<UtcTime, _>(now)
        .bind::<UtcTime, _>(now)
        .bind::<UtcTime, _>(now)
        .get_result::<Job>(conn)
        .optional()
}

/// Jobs whose worker died during their last attempt: marked `failed` (they
/// have no attempt left to be claimed with). Returns them, so that what
/// they were about can be marked too.
pub fn fail_abandoned(conn: &mut DbConn) -> QueryResult<Vec<Job>> {
    let now = Ts::now();
    diesel::update(
        jobs_job::table
            .filter(jobs_job::status.eq(JobStatus::Running.as_str()))
            .filter(jobs_job::locked_until.lt(now))
            .filter(jobs_job::attempts.ge(jobs_job::max_attempts)),
    )
    .set((
        jobs_job::status.eq(JobStatus::Failed.as_str()),
        jobs_job::last_error.eq(Some(
            "the worker running the last attempt stopped before it finished (its lease ran out)",
        )),
        jobs_job::locked_by.eq(None::<String>),
        jobs_job::locked_until.eq(None::<Ts>),
        jobs_job::updated_at.eq(now),
    ))
    .get_results(conn)
}

/// The job `id` while `worker` holds it. Only the holder may change a
/// running job: a worker whose lease ran out and was taken over finds no
/// row.
macro_rules! owned_by {
    ($id:expr, $worker:expr) => {
        jobs_job::table
            .filter(jobs_job::id.eq($id))
            .filter(jobs_job::status.eq(JobStatus::Running.as_str()))
            .filter(jobs_job::locked_by.eq($worker))
    };
}

/// Extends the lease of a job the worker still holds (long encodes).
pub fn heartbeat(conn: &mut DbConn, id: i64, worker: &str, lease: Duration) -> QueryResult<bool> {
    let now = Ts::now();
    diesel::update(owned_by!(id, worker))
        .set((
            jobs_job::locked_until.eq(Some(after(now, lease))),
            jobs_job::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// The job is finished. `false`: the worker no longer held it.
pub fn complete(conn: &mut DbConn, id: i64, worker: &str) -> QueryResult<bool> {
    diesel::update(owned_by!(id, worker))
        .set((
            jobs_job::status.eq(JobStatus::Done.as_str()),
            jobs_job::locked_by.eq(None::<String>),
            jobs_job::locked_until.eq(None::<Ts>),
            jobs_job::updated_at.eq(Ts::now()),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Gives the job back unfinished (the worker is shutting down): queued again
/// at once, and the attempt does not count.
pub fn release(conn: &mut DbConn, id: i64, worker: &str) -> QueryResult<bool> {
    diesel::update(owned_by!(id, worker))
        .set((
            jobs_job::status.eq(JobStatus::Queued.as_str()),
            jobs_job::attempts.eq(jobs_job::attempts - 1),
            jobs_job::locked_by.eq(None::<String>),
            jobs_job::locked_until.eq(None::<Ts>),
            jobs_job::updated_at.eq(Ts::now()),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// The wait before the next try after `attempts` failed ones.
pub fn backoff(attempts: i32) -> Duration {
    let exponent = attempts.saturating_sub(1).clamp(0, 20) as u32;
    BACKOFF_BASE
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(BACKOFF_MAX)
}

/// What became of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Queued again, to run at this time.
    Retry(Ts),
    /// No attempts left (or the error is permanent): `failed` for good.
    Failed,
    /// The worker no longer held the job; nothing was changed.
    NotHeld,
}

/// Records a failed attempt: a retry after the backoff, or `failed` when
/// `permanent` or out of attempts.
pub fn fail(conn: &mut DbConn, job: &Job, worker: &str, error: &str, permanent: bool) -> QueryResult<AfterFailure> {
    let now = Ts::now();
    let give_up = permanent || job.attempts >= job.max_attempts;
    let (status, run_after) = if give_up {
        (JobStatus::Failed, job.run_after)
    } else {
        (JobStatus::Queued, after(now, backoff(job.attempts)))
    };
    let changed = diesel::update(owned_by!(job.id, worker))
        .set((
            jobs_job::status.eq(status.as_str()),
            jobs_job::run_after.eq(run_after),
            jobs_job::last_error.eq(Some(error)),
            jobs_job::locked_by.eq(None::<String>),
            jobs_job::locked_until.eq(None::<Ts>),
            jobs_job::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(match (changed, give_up) {
        (0, _) => AfterFailure::NotHeld,
        (_, true) => AfterFailure::Failed,
        (_, false) => AfterFailure::Retry(run_after),
    })
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Job>> {
    jobs_job::table.find(id).first(conn).optional()
}

/// Deletes `done` jobs last changed before `before` (failed ones stay).
pub fn prune_done(conn: &mut DbConn, before: Ts) -> QueryResult<usize> {
    diesel::delete(
        jobs_job::table
            .filter(jobs_job::status.eq(JobStatus::Done.as_str()))
            .filter(jobs_job::updated_at.lt(before)),
    )
    .execute(conn)
}

/// Counts of jobs per status (for `practika check` and staff pages).
pub fn counts(conn: &mut DbConn) -> QueryResult<Vec<(String, i64)>> {
    jobs_job::table
        .group_by(jobs_job::status)
        .select((jobs_job::status, diesel::dsl::count_star()))
        .load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::from_secs(30));
        assert_eq!(backoff(2), Duration::from_secs(60));
        assert_eq!(backoff(4), Duration::from_secs(240));
        assert_eq!(backoff(30), BACKOFF_MAX);
        assert_eq!(backoff(0), Duration::from_secs(30));
    }
}
