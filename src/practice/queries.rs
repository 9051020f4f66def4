//! The practice log (`exercises_practicesession`) and the progress page's
//! timeline: plain functions on a connection.
//!
//! A session is reported by the browser as running totals (seconds
//! practised, loops played, the highest speed reached) under an id the
//! browser chose. The row keeps the largest value of each it was sent, so a
//! report sent twice, retried, or overtaken by a later one counts once.

use chrono::NaiveDate;
use diesel::dsl::{case_when, count_star, max, sum};
use diesel::prelude::*;
use diesel::query_builder::{QueryFragment, QueryId};
use diesel::query_dsl::methods::LoadQuery;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{Bool, Double, Integer};

use crate::comments::queries::Comment;
use crate::db::schema::{comments_videocomment, exercises_practicesession};
use crate::db::{self, DbConn, Id, MultiBackend, Ts};
use crate::web::paging::{seek_from, Start};

/// A session longer than this is cut there (four hours).
pub const MAX_SECONDS: i32 = 4 * 3600;
/// The first report of a session may claim this much practice already (a
/// browser whose first report was lost, or sent late): the rest must be
/// lived through, see [`SLACK_SECONDS`].
pub const FIRST_REPORT_SECONDS: i32 = 300;
/// A report may claim this much more than the time since the session
/// started (clocks, a slow network).
pub const SLACK_SECONDS: i64 = 60;
pub const MAX_LOOPS: i32 = 100_000;
/// The player's speeds: 0.1× to 2×.
pub const MIN_SPEED: f64 = 0.1;
pub const MAX_SPEED: f64 = 2.0;
/// New sessions one user may start in one day (their zone's).
pub const SESSIONS_PER_DAY: i64 = 100;
/// The days a summary reads back: streaks and totals are of the last year.
pub const DAYS: i64 = 366;
/// Attempts per page of the progress timeline.
pub const TIMELINE_PAGE: i64 = 10;
/// The coach's notes the timeline shows for a page of attempts, at most.
pub const NOTES_MAX: i64 = 60;

#[derive(Queryable, Selectable, Debug, Clone, PartialEq)]
#[diesel(table_name = exercises_practicesession)]
pub struct Session {
    pub id: Id,
    pub client_id: Id,
    pub user_id: i32,
    pub exercise_id: Id,
    pub started_at: Ts,
    pub updated_at: Ts,
    /// `YYYY-MM-DD`, in the student's zone when the session started.
    pub day: String,
    pub seconds: i32,
    pub max_speed: f64,
    pub loops: i32,
}

/// One report of a session's running totals, checked (see `forms`).
#[derive(Debug, Clone, Copy)]
pub struct Report {
    pub client_id: Id,
    pub exercise_id: Id,
    pub seconds: i32,
    pub max_speed: f64,
    pub loops: i32,
}

/// Why a report is refused (nothing is changed).
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// No such exercise.
    NoExercise,
    /// The session id is already used for another exercise.
    OtherExercise,
    /// More seconds than have passed since the session started.
    TooLong { allowed: i64 },
    /// [`SESSIONS_PER_DAY`] sessions already today.
    TooMany,
}

#[derive(Debug)]
pub enum LogError {
    Refused(Refusal),
    Db(DieselError),
}

impl From<DieselError> for LogError {
    fn from(e: DieselError) -> Self {
        LogError::Db(e)
    }
}

impl From<Refusal> for LogError {
    fn from(r: Refusal) -> Self {
        LogError::Refused(r)
    }
}

fn find(conn: &mut DbConn, user: i32, client_id: Id) -> QueryResult<Option<Session>> {
    exercises_practicesession::table
        .filter(exercises_practicesession::user_id.eq(user))
        .filter(exercises_practicesession::client_id.eq(client_id))
        .select(Session::as_select())
        .first(conn)
        .optional()
}

/// Records a report: creates the session on its first, otherwise raises
/// its totals to the report's (never lowers them). `day` is today in the
/// user's zone, for a new session.
pub fn log(conn: &mut DbConn, user: i32, day: &str, report: &Report, now: Ts) -> Result<Session, LogError> {
    db::write_transaction(conn, |c| {
        if let Some(session) = find(c, user, report.client_id)? {
            return raise(c, &session, report, now);
        }
        if crate::exercises::queries::find(c, report.exercise_id)?.is_none() {
            return Err(Refusal::NoExercise.into());
        }
        let today: i64 = exercises_practicesession::table
            .filter(exercises_practicesession::user_id.eq(user))
            .filter(exercises_practicesession::day.eq(day))
            .count()
            .get_result(c)?;
        if today >= SESSIONS_PER_DAY {
            return Err(Refusal::TooMany.into());
        }
        if report.seconds > FIRST_REPORT_SECONDS {
            return Err(Refusal::TooLong {
                allowed: i64::from(FIRST_REPORT_SECONDS),
            }
            .into());
        }
        let started = Ts(now.0 - chrono::Duration::seconds(i64::from(report.seconds)));
        // Two first reports at once: the second finds the unique key taken
        // and raises the row the first made (inside a savepoint, so that the
        // failed insert does not end the transaction on PostgreSQL).
        let inserted = c.transaction(|c| {
            diesel::insert_into(exercises_practicesession::table)
                .values((
                    exercises_practicesession::id.eq(Id::new()),
                    exercises_practicesession::client_id.eq(report.client_id),
                    exercises_practicesession::user_id.eq(user),
                    exercises_practicesession::exercise_id.eq(report.exercise_id),
                    exercises_practicesession::started_at.eq(started),
                    exercises_practicesession::updated_at.eq(now),
                    exercises_practicesession::day.eq(day),
                    exercises_practicesession::seconds.eq(report.seconds),
                    exercises_practicesession::max_speed.eq(report.max_speed),
                    exercises_practicesession::loops.eq(report.loops),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => find(c, user, report.client_id)?.ok_or(LogError::Db(DieselError::NotFound)),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                let session = find(c, user, report.client_id)?.ok_or(LogError::Db(DieselError::NotFound))?;
                raise(c, &session, report, now)
            }
            Err(e) => Err(e.into()),
        }
    })
}

/// The totals go up to the report's, in one UPDATE that compares in SQL:
/// two reports at once cannot lower what the other wrote.
fn raise(conn: &mut DbConn, session: &Session, report: &Report, now: Ts) -> Result<Session, LogError> {
    use exercises_practicesession::{loops, max_speed, seconds, updated_at};
    if session.exercise_id != report.exercise_id {
        return Err(Refusal::OtherExercise.into());
    }
    let allowed = (now.0 - session.started_at.0).num_seconds() + SLACK_SECONDS;
    if i64::from(report.seconds) > allowed {
        return Err(Refusal::TooLong { allowed }.into());
    }
    diesel::update(exercises_practicesession::table.find(session.id))
        .set((
            seconds.eq(case_when(seconds.lt(report.seconds), report.seconds.into_sql::<Integer>()).otherwise(seconds)),
            loops.eq(case_when(loops.lt(report.loops), report.loops.into_sql::<Integer>()).otherwise(loops)),
            max_speed.eq(
                case_when(max_speed.lt(report.max_speed), report.max_speed.into_sql::<Double>()).otherwise(max_speed),
            ),
            updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(exercises_practicesession::table
        .find(session.id)
        .select(Session::as_select())
        .first(conn)?)
}

/// A day's practice: its sessions' seconds, loops and top speed.
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    pub day: NaiveDate,
    pub seconds: i64,
    pub loops: i64,
    pub max_speed: f64,
    pub sessions: i64,
}

/// The statement of [`days`] (public, so that tests can `EXPLAIN` it).
pub fn days_query(
    user: i32,
    exercise: Option<Id>,
    since: NaiveDate,
) -> impl LoadQuery<'static, DbConn, (String, Option<i64>, Option<i64>, Option<f64>, i64)>
       + QueryFragment<MultiBackend>
       + QueryId {
    use exercises_practicesession as p;
    let mut predicate: Box<dyn BoxableExpression<p::table, MultiBackend, SqlType = Bool>> =
        Box::new(p::user_id.eq(user).and(p::day.ge(since.format("%Y-%m-%d").to_string())));
    if let Some(exercise) = exercise {
        predicate = Box::new(predicate.and(p::exercise_id.eq(exercise)));
    }
    p::table
        .filter(predicate)
        .group_by(p::day)
        .select((p::day, sum(p::seconds), sum(p::loops), max(p::max_speed), count_star()))
        .order(p::day.desc())
        .limit(DAYS)
}

/// The days the user practised (on one exercise, or on any) since `since`,
/// newest first: one grouped statement on the `(user_id, day)` index (or
/// `(user_id, exercise_id, day)`), at most [`DAYS`] rows. It reads the
/// user's sessions of that year, at most [`SESSIONS_PER_DAY`] a day.
pub fn days(conn: &mut DbConn, user: i32, exercise: Option<Id>, since: NaiveDate) -> QueryResult<Vec<Day>> {
    Ok(days_query(user, exercise, since)
        .load(conn)?
        .into_iter()
        .filter_map(|(day, seconds, loops, speed, sessions)| {
            Some(Day {
                day: NaiveDate::parse_from_str(&day, "%Y-%m-%d").ok()?,
                seconds: seconds.unwrap_or(0),
                loops: loops.unwrap_or(0),
                max_speed: speed.unwrap_or(1.0),
                sessions,
            })
        })
        .collect())
}

/// The student's attempts at the exercise the timeline counts.
pub fn attempts_count_query(
    exercise: Id,
    student: i32,
) -> impl LoadQuery<'static, DbConn, i64> + QueryFragment<MultiBackend> + QueryId {
    comments_videocomment::table
        .filter(comments_videocomment::exercise_id.eq(exercise))
        .filter(comments_videocomment::author_id.eq(student))
        .filter(comments_videocomment::parent_id.is_null())
        .count()
}

/// A page of the student's attempts at the exercise, newest first, by seek
/// (up to `TIMELINE_PAGE + 1` rows, oldest first for `Start::Before`).
pub fn attempts_page_query(
    exercise: Id,
    student: i32,
    start: Start,
) -> impl LoadQuery<'static, DbConn, Comment> + QueryFragment<MultiBackend> + QueryId {
    use comments_videocomment::{created_at, id};
    let query = comments_videocomment::table
        .filter(comments_videocomment::exercise_id.eq(exercise))
        .filter(comments_videocomment::author_id.eq(student))
        .filter(comments_videocomment::parent_id.is_null())
        .select(Comment::as_select())
        .limit(TIMELINE_PAGE + 1)
        .into_boxed::<MultiBackend>();
    seek_from!(query, start, created_at, id, TIMELINE_PAGE)
}

/// The student's first and latest attempts that carry a video of their own
/// (not the demonstration): what "compare the first and the latest" opens.
/// Two statements on the timeline's index, each reading from one end.
pub fn first_and_latest_with_video(
    conn: &mut DbConn,
    exercise: Id,
    demonstration: Id,
    student: i32,
) -> QueryResult<Option<(Id, Id)>> {
    use comments_videocomment::{clip_id, created_at, id, video_asset_id};
    let with_video = || {
        comments_videocomment::table
            .filter(comments_videocomment::exercise_id.eq(exercise))
            .filter(comments_videocomment::author_id.eq(student))
            .filter(comments_videocomment::parent_id.is_null())
            .filter(clip_id.is_not_null().or(video_asset_id.ne(demonstration)))
            .select(id)
    };
    let first: Option<Id> = with_video()
        .order((created_at.asc(), id.asc()))
        .first(conn)
        .optional()?;
    let Some(first) = first else {
        return Ok(None);
    };
    let latest: Id = with_video().order((created_at.desc(), id.desc())).first(conn)?;
    Ok((latest != first).then_some((first, latest)))
}

/// The replies to these attempts by anyone but the student (the coach's
/// notes), oldest first, with their authors' names: one statement, at most
/// [`NOTES_MAX`] rows.
pub fn notes(conn: &mut DbConn, attempts: &[Id], student: i32) -> QueryResult<Vec<(Comment, String)>> {
    use crate::accounts::queries::{display_name_of_parts, name_columns, NameParts};
    use crate::db::schema::{accounts_profile, auth_user};
    if attempts.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(Comment, NameParts)> = comments_videocomment::table
        .inner_join(auth_user::table)
        .left_join(accounts_profile::table.on(accounts_profile::user_id.eq(comments_videocomment::author_id)))
        .filter(comments_videocomment::parent_id.eq_any(attempts))
        .filter(comments_videocomment::author_id.ne(student))
        .order((comments_videocomment::created_at.asc(), comments_videocomment::id.asc()))
        .limit(NOTES_MAX)
        .select((Comment::as_select(), name_columns!()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(comment, name)| (comment, display_name_of_parts(&name)))
        .collect())
}

/// A person's display name and time zone (the zone their streaks' days
/// are counted in), if they exist: one statement.
pub fn person(conn: &mut DbConn, id: i32) -> QueryResult<Option<(String, Option<chrono_tz::Tz>)>> {
    use crate::accounts::queries::{display_name_of_parts, name_columns, NameParts, Preferences};
    use crate::db::schema::{accounts_profile, auth_user};
    let row: Option<NameParts> = auth_user::table
        .left_join(accounts_profile::table)
        .filter(auth_user::id.eq(id))
        .select(name_columns!())
        .first(conn)
        .optional()?;
    Ok(row.map(|parts| {
        let zone = parts.3.as_ref().map(Preferences::from_json).and_then(|p| p.time_zone);
        (display_name_of_parts(&parts), zone)
    }))
}
