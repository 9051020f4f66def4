//! What waits for feedback: the top-level comments (attempts) whose
//! `answered_at` is NULL, on a coach's exercises or, for admins, on all.
//! A partial index on each of `(created_at, id)` and
//! `(exercise_id, created_at, id)` holds exactly these rows; SQLite is told
//! that most comments are attempts ([`likely`]) so that it reads them.

use diesel::helper_types::InnerJoinQuerySource;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::accounts::permissions;
use crate::comments::queries::Comment;
use crate::db::hint::likely;
use crate::db::schema::{comments_videocomment, exercises_exercise};
use crate::db::{DbConn, Id, MultiBackend, Ts};
use crate::web::auth::CurrentUser;
use crate::web::paging::{seek_from, Start};
use diesel::query_builder::{QueryFragment, QueryId};
use diesel::query_dsl::methods::LoadQuery;

pub const PAGE_SIZE: i64 = 20;
/// The navigation counts up to this many ("99+").
pub const NAV_CAP: i64 = 100;
/// How many exercises and students each filter lists (the most waiting).
pub const CHOICES: i64 = 12;

/// Whose attempts, narrowed how.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    /// The exercises of this coach; `None`: every exercise (admins).
    pub coach: Option<i32>,
    pub exercise: Option<Id>,
    pub student: Option<i32>,
}

impl Filter {
    /// The user's inbox: their exercises' attempts, or everyone's for admins.
    pub fn of(user: &CurrentUser) -> Filter {
        Filter {
            coach: (!permissions::sees_every_attempt(user)).then_some(user.id),
            exercise: None,
            student: None,
        }
    }
}

type Joined = InnerJoinQuerySource<comments_videocomment::table, exercises_exercise::table>;

/// Which comments are waiting attempts a filter selects: a boxed condition
/// (grouped queries take it too) on the comments alone, or on the comments
/// joined with their exercise (`$source`). The coach's exercises are a
/// subquery, not a join, so that counting every waiting attempt (admins)
/// reads the partial index alone.
macro_rules! waiting_on {
    ($filter:expr, $source:ty, $coach:ident => $of_coach:expr) => {{
        let filter: Filter = $filter;
        let mut predicate: Box<dyn BoxableExpression<$source, MultiBackend, SqlType = Bool>> = Box::new(
            likely(comments_videocomment::parent_id.is_null()).and(comments_videocomment::answered_at.is_null()),
        );
        if let Some($coach) = filter.coach {
            predicate = Box::new(predicate.and($of_coach));
        }
        if let Some(exercise) = filter.exercise {
            predicate = Box::new(predicate.and(comments_videocomment::exercise_id.eq(exercise)));
        }
        if let Some(student) = filter.student {
            predicate = Box::new(predicate.and(comments_videocomment::author_id.eq(student)));
        }
        predicate
    }};
}

/// The waiting attempts a filter selects (`joined`: with their exercise).
macro_rules! waiting {
    ($filter:expr) => {
        comments_videocomment::table.filter(waiting_on!($filter, comments_videocomment::table, coach =>
            comments_videocomment::exercise_id.eq_any(
                exercises_exercise::table
                    .filter(exercises_exercise::created_by_id.eq(coach))
                    .select(exercises_exercise::id),
            )
        ))
    };
    ($filter:expr, joined) => {
        comments_videocomment::table
            .inner_join(exercises_exercise::table)
            .filter(waiting_on!($filter, Joined, coach => exercises_exercise::created_by_id.eq(coach)))
    };
}

/// The navigation's count: the waiting attempts, up to [`NAV_CAP`] (an
/// index-only read of at most that many rows, for admins too).
pub fn nav_count(conn: &mut DbConn, user: &CurrentUser) -> QueryResult<i64> {
    nav_count_query(Filter::of(user))
        .load::<Id>(conn)
        .map(|ids| ids.len() as i64)
}

/// The statement of [`nav_count`] (public, so that tests can `EXPLAIN` it).
pub fn nav_count_query(filter: Filter) -> impl LoadQuery<'static, DbConn, Id> + QueryFragment<MultiBackend> + QueryId {
    waiting!(filter).select(comments_videocomment::id).limit(NAV_CAP)
}

/// How many attempts the filter selects.
pub fn count_query(filter: Filter) -> impl LoadQuery<'static, DbConn, i64> + QueryFragment<MultiBackend> + QueryId {
    waiting!(filter).count()
}

/// The waiting attempts of each of these coaches' exercises, in one grouped
/// statement (the digests count a batch of coaches at once). Coaches with
/// none are absent.
pub fn waiting_by_coach(conn: &mut DbConn, coaches: &[i32]) -> QueryResult<std::collections::HashMap<i32, i64>> {
    waiting!(Filter::default(), joined)
        .filter(exercises_exercise::created_by_id.eq_any(coaches))
        .group_by(exercises_exercise::created_by_id)
        .select((exercises_exercise::created_by_id, diesel::dsl::count_star()))
        .load::<(i32, i64)>(conn)
        .map(|rows| rows.into_iter().collect())
}

/// A waiting attempt with its exercise's name.
pub struct Waiting {
    pub comment: Comment,
    pub exercise_name: String,
    /// The exercise's demonstration (a comment without a video of its own points at it).
    pub exercise_video: Id,
}

/// One page of the inbox, oldest first: seek from a cursor (`After`: the
/// rows after it, later ones), an offset for page numbers; up to
/// `PAGE_SIZE + 1` rows (newest first for `Start::Before`).
pub fn page_query(
    filter: Filter,
    start: Start,
) -> impl LoadQuery<'static, DbConn, (Comment, String, Id)> + QueryFragment<MultiBackend> + QueryId {
    use comments_videocomment::{created_at, id};
    let query = waiting!(filter, joined)
        .into_boxed::<MultiBackend>()
        .select((
            Comment::as_select(),
            exercises_exercise::name,
            exercises_exercise::video_asset_id,
        ))
        .limit(PAGE_SIZE + 1);
    // The thread's seek, the other way round: oldest first.
    match start {
        Start::Page(page) => query
            .order((created_at.asc(), id.asc()))
            .offset(crate::web::paging::offset(page, PAGE_SIZE)),
        Start::After(cursor) => seek_from!(query, Start::Before(cursor), created_at, id, PAGE_SIZE),
        Start::Before(cursor) => seek_from!(query, Start::After(cursor), created_at, id, PAGE_SIZE),
    }
}

pub fn page(conn: &mut DbConn, filter: Filter, start: Start) -> QueryResult<Vec<Waiting>> {
    let mut rows: Vec<Waiting> = page_query(filter, start)
        .load(conn)?
        .into_iter()
        .map(|(comment, exercise_name, exercise_video)| Waiting {
            comment,
            exercise_name,
            exercise_video,
        })
        .collect();
    if let Start::Before(_) = start {
        rows.reverse();
    }
    Ok(rows)
}

/// How many of the longest-waiting attempts the filters' short lists are
/// made from: a fixed cost however full the inbox (an admin's holds every
/// exercise's).
pub const SAMPLE: i64 = 1_000;

/// The filters' short lists: the exercises and the students with the most
/// of the [`SAMPLE`] longest-waiting attempts (the chosen ones first), with
/// those counts, from one statement.
pub struct Choices {
    pub exercises: Vec<(Id, String, i64)>,
    pub students: Vec<(i32, i64)>,
}

/// The statement [`choices`] reads its sample with: the exercise, its name
/// and the student of the longest-waiting attempts.
pub fn choices_query(
    filter: Filter,
) -> impl LoadQuery<'static, DbConn, (Id, String, i32)> + QueryFragment<MultiBackend> + QueryId {
    use comments_videocomment::{author_id, created_at, exercise_id, id};
    waiting!(filter, joined)
        .order((created_at.asc(), id.asc()))
        .limit(SAMPLE)
        .select((exercise_id, exercises_exercise::name, author_id))
}

pub fn choices(conn: &mut DbConn, filter: Filter) -> QueryResult<Choices> {
    let scope = Filter {
        exercise: None,
        student: None,
        ..filter
    };
    let rows: Vec<(Id, String, i32)> = choices_query(scope).load(conn)?;
    let mut exercises: Vec<(Id, String, i64)> = Vec::new();
    let mut students: Vec<(i32, i64)> = Vec::new();
    for (exercise, name, student) in rows {
        match exercises.iter_mut().find(|e| e.0 == exercise) {
            Some(e) => e.2 += 1,
            None => exercises.push((exercise, name, 1)),
        }
        match students.iter_mut().find(|s| s.0 == student) {
            Some(s) => s.1 += 1,
            None => students.push((student, 1)),
        }
    }
    exercises.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
    students.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    exercises.truncate(CHOICES as usize);
    students.truncate(CHOICES as usize);
    keep_chosen(&mut exercises, filter.exercise, |r| r.0);
    keep_chosen(&mut students, filter.student, |r| r.0);
    Ok(Choices { exercises, students })
}

/// The chosen entry goes first when the short list has it.
fn keep_chosen<T, K: PartialEq>(rows: &mut [T], chosen: Option<K>, key: impl Fn(&T) -> K) {
    if let Some(at) = chosen.and_then(|c| rows.iter().position(|r| key(r) == c)) {
        rows[..=at].rotate_right(1);
    }
}

/// "Seen, no reply needed": the attempt leaves the inbox. `false` when it
/// was no longer waiting (answered, or seen already).
pub fn mark_seen(conn: &mut DbConn, attempt: Id, now: Ts) -> QueryResult<bool> {
    diesel::update(
        comments_videocomment::table
            .filter(comments_videocomment::id.eq(attempt))
            .filter(comments_videocomment::parent_id.is_null())
            .filter(comments_videocomment::answered_at.is_null()),
    )
    .set(comments_videocomment::answered_at.eq(now))
    .execute(conn)
    .map(|n| n == 1)
}
