//! The background job queue.

use diesel::prelude::*;

use crate::accounts::forms::FieldErrors;
use crate::db::schema::jobs_job;
use crate::db::{DbConn, Ts};
use crate::jobs::Job;
use crate::staff::audit::Entry;
use crate::staff::model::*;
use crate::web::auth::CurrentUser;

pub struct Jobs;

const MAX_ATTEMPTS_LIMIT: i32 = 100;

const COLUMNS: &[ListColumn] = &[
    col("id", "Job", true),
    col("kind", "Kind", true),
    col("status", "Status", true),
    col("attempts", "Attempts", true),
    col("run_after", "Due", true),
    col("last_error", "Last error", false),
    col("created", "Created", true),
];

const ACTIONS: &[BulkAction] = &[BulkAction {
    key: "retry",
    label: "Retry now",
}];

const STATUSES: &[(&str, &str)] = &[
    ("queued", "queued"),
    ("running", "running"),
    ("done", "done"),
    ("failed", "failed"),
];

fn repr(job: &Job) -> String {
    format!("#{} {}", job.id, job.kind)
}

fn find(conn: &mut DbConn, id: &str) -> StaffResult<Job> {
    let id: i64 = parse_id(id)?;
    found(crate::jobs::queue::find(conn, id))
}

macro_rules! filtered {
    ($params:expr) => {{
        let params = $params;
        let mut query = jobs_job::table.into_boxed();
        if let Some(pattern) = params.like() {
            query = query.filter(search!(
                "jobs_job.kind || ' ' || coalesce(jobs_job.last_error, '')",
                pattern
            ));
        }
        if let Some(status) = params.choice("status") {
            query = query.filter(jobs_job::status.eq(status.to_owned()));
        }
        if let Some(kind) = params.choice("kind") {
            query = query.filter(jobs_job::kind.eq(kind.to_owned()));
        }
        if let Some(since) = params.since("created") {
            query = query.filter(jobs_job::created_at.ge(since));
        }
        if let Some(before) = params.before("created") {
            query = query.filter(jobs_job::created_at.lt(before));
        }
        query
    }};
}

impl StaffModel for Jobs {
    fn slug(&self) -> &'static str {
        "jobs"
    }
    fn plural(&self) -> &'static str {
        "Jobs"
    }
    fn singular(&self) -> &'static str {
        "job"
    }
    fn columns(&self) -> &'static [ListColumn] {
        COLUMNS
    }
    fn search_hint(&self) -> &'static str {
        "Kind or error message"
    }

    fn filters(&self, conn: &mut DbConn) -> QueryResult<Vec<FilterSpec>> {
        let kinds: Vec<String> = jobs_job::table
            .select(jobs_job::kind)
            .distinct()
            .order(jobs_job::kind.asc())
            .load(conn)?;
        Ok(vec![
            choice("status", "Status", STATUSES),
            FilterSpec {
                key: "kind",
                label: "Kind",
                kind: FilterKind::Choice(kinds.into_iter().map(|k| (k.clone(), k)).collect()),
            },
            dates("created", "Created"),
        ])
    }

    fn list(&self, conn: &mut DbConn, params: &ListParams) -> QueryResult<(Vec<Row>, i64)> {
        let total: i64 = filtered!(params).count().get_result(conn)?;
        let jobs: Vec<Job> = sorted!(filtered!(params), params, jobs_job::id.desc(), {
            "id" => jobs_job::id,
            "kind" => jobs_job::kind,
            "status" => jobs_job::status,
            "attempts" => jobs_job::attempts,
            "run_after" => jobs_job::run_after,
            "created" => jobs_job::created_at,
        })
        .then_order_by(jobs_job::id.desc())
        .offset(params.offset())
        .limit(PER_PAGE)
        .select(Job::as_select())
        .load(conn)?;
        Ok((
            jobs.into_iter()
                .map(|job| Row {
                    id: job.id.to_string(),
                    cells: vec![
                        Cell::text(format!("#{}", job.id)),
                        Cell::text(job.kind.clone()),
                        Cell::badge(job.status.clone(), job.status.clone()),
                        Cell::text(format!("{}/{}", job.attempts, job.max_attempts)),
                        Cell::when(Some(job.run_after)),
                        Cell::text(excerpt(job.last_error.as_deref().unwrap_or(""), 80)),
                        Cell::when(Some(job.created_at)),
                    ],
                })
                .collect(),
            total,
        ))
    }

    fn detail(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Detail> {
        let job = find(conn, id)?;
        Ok(Detail {
            repr: repr(&job),
            fields: vec![Field::new(
                "max_attempts",
                "Most attempts",
                InputKind::Number,
                job.max_attempts.to_string(),
            )
            .hint(format!(
                "From 1 to {MAX_ATTEMPTS_LIMIT}; a failed job is tried this often in all."
            ))],
            facts: vec![
                ("Kind", job.kind.clone()),
                ("Status", job.status.clone()),
                ("Attempts", job.attempts.to_string()),
                ("Payload", job.payload.0.to_string()),
                ("Due", job.run_after.to_string()),
                ("Locked by", job.locked_by.clone().unwrap_or_else(|| "—".into())),
                ("Last error", job.last_error.clone().unwrap_or_else(|| "—".into())),
                ("Created", job.created_at.to_string()),
                ("Updated", job.updated_at.to_string()),
            ],
        })
    }

    fn save(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser, input: &Input) -> StaffResult<Entry> {
        let job = find(conn, id)?;
        let raw = input.text("max_attempts");
        let max_attempts = match raw.parse::<i32>() {
            Ok(n) if (1..=MAX_ATTEMPTS_LIMIT).contains(&n) => n,
            _ => {
                let mut errors = FieldErrors::default();
                errors.add(
                    "max_attempts",
                    format!("Enter a whole number from 1 to {MAX_ATTEMPTS_LIMIT}."),
                );
                return Err(StaffError::Invalid(errors));
            }
        };
        let mut entry = Entry::new("change", "jobs", job.id, repr(&job));
        if max_attempts != job.max_attempts {
            diesel::update(jobs_job::table.find(job.id))
                .set((
                    jobs_job::max_attempts.eq(max_attempts),
                    jobs_job::updated_at.eq(Ts::now()),
                ))
                .execute(conn)?;
            entry = entry.change("max_attempts", job.max_attempts, max_attempts);
        }
        Ok(entry)
    }

    fn related(&self, _conn: &mut DbConn, _id: &str) -> QueryResult<Vec<Related>> {
        Ok(Vec::new())
    }

    fn delete_preview(&self, conn: &mut DbConn, id: &str) -> StaffResult<Vec<String>> {
        let job = find(conn, id)?;
        let mut lines = vec![format!("The job {} (nothing else).", repr(&job))];
        if job.status == "running" {
            lines.push("It is running: its worker's result will be lost.".into());
        }
        Ok(lines)
    }

    fn delete(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Entry> {
        let job = find(conn, id)?;
        diesel::delete(jobs_job::table.find(job.id)).execute(conn)?;
        Ok(Entry::new("delete", "jobs", job.id, repr(&job)))
    }

    fn bulk_actions(&self) -> &'static [BulkAction] {
        ACTIONS
    }

    fn bulk(
        &self,
        conn: &mut DbConn,
        action: &str,
        ids: &[String],
        _actor: &CurrentUser,
        _input: &Input,
    ) -> StaffResult<BulkOutcome> {
        if action != "retry" {
            return Err(StaffError::Refused(format!("Unknown action “{action}”.")));
        }
        let mut outcome = BulkOutcome::default();
        for id in ids {
            let Ok(job) = find(conn, id) else {
                outcome.skipped.push(format!("No job with id {id}."));
                continue;
            };
            if job.status == "running" {
                outcome
                    .skipped
                    .push(format!("{} is running; it was not retried.", repr(&job)));
                continue;
            }
            let now = Ts::now();
            diesel::update(jobs_job::table.find(job.id))
                .set((
                    jobs_job::status.eq("queued"),
                    jobs_job::attempts.eq(0),
                    jobs_job::run_after.eq(now),
                    jobs_job::locked_until.eq(None::<Ts>),
                    jobs_job::locked_by.eq(None::<String>),
                    jobs_job::updated_at.eq(now),
                ))
                .execute(conn)?;
            outcome.entries.push(
                Entry::new("retry", "jobs", job.id, repr(&job))
                    .change("status", job.status.clone(), "queued")
                    .change("attempts", job.attempts, 0),
            );
        }
        Ok(outcome)
    }
}
