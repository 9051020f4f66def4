//! Exercises in the database. Counters in `accounts_usermetrics` change in
//! the same transaction as the rows they count, so they stay exact.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::accounts::queries::{display_name_of_parts, name_columns, NameParts};
use crate::db::schema::{accounts_profile, auth_user, comments_videocomment, core_videoasset, exercises_exercise};
use diesel::query_builder::{QueryFragment, QueryId};
use diesel::query_dsl::methods::LoadQuery;

use super::search;
use crate::db::{self, Backend, DbConn, Id, MultiBackend, Ts};
use crate::videos::queries::Asset;
use crate::web::paging::{seek_from, Cursor, Start};

pub const PAGE_SIZE: i64 = 20;

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = exercises_exercise)]
pub struct Exercise {
    pub id: Id,
    pub name: String,
    pub description: Option<String>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub created_by_id: i32,
    pub video_asset_id: Id,
    /// Comments and replies (kept by a trigger, whoever writes them).
    pub comment_count: i32,
}

/// What a library card shows.
#[derive(Debug, Clone)]
pub struct Card {
    pub exercise: Exercise,
    pub coach: String,
    pub poster_path: Option<String>,
    pub youtube_url: Option<String>,
    pub duration_sec: Option<i32>,
}

impl Card {
    pub fn cursor(&self) -> Cursor {
        Cursor::new(self.exercise.created_at, self.exercise.id)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub search: Option<String>,
    pub coach: Option<i32>,
}

/// Applies the filter to a boxed query over exercises (alone or joined):
/// the words through full-text search (`super::search`), and the coach.
macro_rules! filtered {
    ($query:expr, $backend:expr, $filter:expr) => {{
        let mut query = $query;
        if let Some(search) = $filter.search.as_deref().and_then(search::Query::parse) {
            query = query.filter(search::matches($backend, &search));
        }
        if let Some(coach) = $filter.coach {
            query = query.filter(exercises_exercise::created_by_id.eq(coach));
        }
        query
    }};
}

/// Where a page of the library starts. Search results are ranked, so they
/// go by page number (a cursor on the date means nothing in rank order);
/// without words, by cursor, newest first.
pub fn library_start(filter: &Filter, start: Start) -> Start {
    let ranked = filter.search.as_deref().and_then(search::Query::parse).is_some();
    match start {
        Start::After(_) | Start::Before(_) if ranked => Start::Page(1),
        other => other,
    }
}

/// How many exercises match (public so that tests can `EXPLAIN` it): on
/// the exercises alone. Every exercise has its creator and its video (NOT
/// NULL foreign keys), so the joins would change nothing but the cost:
/// joined, it read every video.
pub fn library_count_query(
    backend: Backend,
    filter: &Filter,
) -> impl LoadQuery<'static, DbConn, i64> + QueryFragment<MultiBackend> + QueryId {
    filtered!(exercises_exercise::table.into_boxed(), backend, filter).count()
}

/// How many exercises match. Without words, from the counts that
/// triggers keep: a coach's row of `exercises_coachcount`, or the one row
/// of `exercises_librarytotal` for all, instead of counting every exercise
/// on each request. With words, by counting the matches.
pub fn count(conn: &mut DbConn, filter: &Filter) -> QueryResult<i64> {
    use crate::db::schema::exercises_coachcount as counts;
    let searching = filter.search.as_deref().and_then(search::Query::parse).is_some();
    match (searching, filter.coach) {
        (true, _) => library_count_query(conn.backend(), filter).get_result(conn),
        (false, Some(coach)) => {
            let query = counts::table.find(coach).select(counts::exercises);
            let found: Option<i32> = db::direct!(conn, |c| query.first(c).optional())?;
            Ok(found.map_or(0, i64::from))
        }
        (false, None) => {
            use crate::db::schema::exercises_librarytotal as total;
            let query = total::table.find(1).select(total::exercises);
            let found: Option<i64> = db::direct!(conn, |c| query.first(c).optional())?;
            match found {
                Some(total) => Ok(total),
                // The row is made by its migration: only a hand-edited
                // database lacks it, and is still counted right.
                None => {
                    let query = counts::table.select(diesel::dsl::sum(counts::exercises));
                    let sum: Option<i64> = db::direct!(conn, |c| query.first(c))?;
                    Ok(sum.unwrap_or(0))
                }
            }
        }
    }
}

/// The exercise, the creator's name parts, and the video's poster, YouTube
/// link and duration.
pub type CardRow = (Exercise, NameParts, Option<String>, Option<String>, Option<i32>);

/// The library's joins and columns, up to `PAGE_SIZE + 1` rows.
macro_rules! library_select {
    () => {
        exercises_exercise::table
            .inner_join(auth_user::table)
            .inner_join(core_videoasset::table)
            .left_join(accounts_profile::table.on(accounts_profile::user_id.eq(exercises_exercise::created_by_id)))
            .select((
                Exercise::as_select(),
                name_columns!(),
                core_videoasset::poster_path,
                core_videoasset::youtube_url,
                core_videoasset::duration_sec,
            ))
            .limit(PAGE_SIZE + 1)
    };
}

/// One page of the library in one statement (public so that tests can
/// `EXPLAIN` it): best matches first when searching (by page number, see
/// [`library_start`]); otherwise newest first by seek pagination from a
/// cursor (page 250 costs what page 1 costs), or an offset for page
/// numbers. Up to `PAGE_SIZE + 1` rows, so the caller knows whether there
/// are more; with `Start::Before` they come oldest first.
pub fn library_page_query(
    backend: Backend,
    filter: &Filter,
    start: Start,
) -> impl LoadQuery<'static, DbConn, CardRow> + QueryFragment<MultiBackend> + QueryId {
    use exercises_exercise::{created_at, id};
    let query = filtered!(library_select!().into_boxed(), backend, filter);
    match (filter.search.as_deref().and_then(search::Query::parse), start) {
        (Some(search), start) => {
            let page = match start {
                Start::Page(n) => n,
                _ => 1,
            };
            query
                .order((search::rank(backend, &search).desc(), created_at.desc(), id.desc()))
                .offset(crate::web::paging::offset(page, PAGE_SIZE))
        }
        (None, start) => seek_from!(query, start, created_at, id, PAGE_SIZE),
    }
}

/// The library without a filter, the page most requests ask for: the same
/// statement as [`library_page_query`] builds, but not boxed and on the
/// inner connection (see `db::direct`), so that it is prepared once per
/// shape and its SQL is not written again at each request.
pub fn unfiltered_page(conn: &mut DbConn, start: Start) -> QueryResult<Vec<CardRow>> {
    use exercises_exercise::{created_at, id};
    db::direct!(conn, |c| seek_from!(
        library_select!(),
        start,
        created_at,
        id,
        PAGE_SIZE,
        |q| q.load(c)
    ))
}

/// A page of the library: see [`library_page_query`].
pub fn cards(conn: &mut DbConn, filter: &Filter, start: Start) -> QueryResult<Vec<Card>> {
    let start = library_start(filter, start);
    let searching = filter.search.as_deref().and_then(search::Query::parse).is_some();
    let mut rows: Vec<CardRow> = if searching || filter.coach.is_some() {
        library_page_query(conn.backend(), filter, start).load(conn)?
    } else {
        unfiltered_page(conn, start)?
    };
    if let Start::Before(_) = start {
        rows.reverse();
    }
    Ok(rows
        .into_iter()
        .map(|(exercise, name, poster_path, youtube_url, duration_sec)| Card {
            coach: display_name_of_parts(&name),
            exercise,
            poster_path,
            youtube_url,
            duration_sec,
        })
        .collect())
}

/// How many coaches the library's filter lists.
pub const TOP_COACHES: i64 = 12;

/// The coaches with the most exercises and the chosen one, with their name
/// parts (public so that tests can `EXPLAIN` it): the counts come from
/// `exercises_coachcount`, kept by triggers, through its index; the users
/// by primary key.
///
/// Its own query type rather than `sql_query`, so that diesel keeps it
/// prepared: a raw SQL query is parsed again at every execution, which was
/// 7 % of the library's CPU time on SQLite.
#[derive(Debug, Clone, Copy, QueryId)]
pub struct TopCoachesQuery {
    chosen: i32,
}

pub fn top_coaches_query(chosen: Option<i32>) -> TopCoachesQuery {
    TopCoachesQuery {
        chosen: chosen.unwrap_or(-1),
    }
}

impl<DB> QueryFragment<DB> for TopCoachesQuery
where
    DB: diesel::backend::Backend,
    i32: diesel::serialize::ToSql<diesel::sql_types::Integer, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(
            "SELECT u.id, u.username, u.first_name, u.last_name, p.preferences \
             FROM auth_user AS u LEFT JOIN accounts_profile AS p ON p.user_id = u.id \
             WHERE u.id IN (SELECT user_id FROM (SELECT user_id FROM exercises_coachcount WHERE exercises > 0 \
                                                ORDER BY exercises DESC, user_id LIMIT ",
        );
        out.push_sql(&TOP_COACHES.to_string());
        out.push_sql(") AS top UNION ALL SELECT ");
        out.push_bind_param::<diesel::sql_types::Integer, _>(&self.chosen)?;
        out.push_sql(")");
        Ok(())
    }
}

impl diesel::query_builder::Query for TopCoachesQuery {
    type SqlType = (
        diesel::sql_types::Integer,
        diesel::sql_types::Text,
        diesel::sql_types::Text,
        diesel::sql_types::Text,
        diesel::sql_types::Nullable<crate::db::types::sql::Jsonb>,
    );
}

impl<C> RunQueryDsl<C> for TopCoachesQuery {}

/// The coach filter's choices, by name: the coaches with the most
/// exercises, and the one chosen (whoever it is), in one statement. Every
/// other coach is a click away on their cards.
pub fn top_coaches(conn: &mut DbConn, chosen: Option<i32>) -> QueryResult<Vec<(i32, String)>> {
    let query = top_coaches_query(chosen);
    let rows: Vec<(i32, String, String, String, Option<crate::db::Json>)> = db::direct!(conn, |c| query.load(c))?;
    let mut named: Vec<(i32, String)> = rows
        .into_iter()
        .map(|(id, username, first, last, preferences)| {
            (id, display_name_of_parts(&(username, first, last, preferences)))
        })
        .collect();
    named.sort_by_key(|(_, name)| name.to_lowercase());
    Ok(named)
}

pub fn find(conn: &mut DbConn, id: Id) -> QueryResult<Option<Exercise>> {
    exercises_exercise::table
        .find(id)
        .select(Exercise::as_select())
        .first(conn)
        .optional()
}

/// An exercise with its creator and its demonstration video joined.
macro_rules! exercise_page_joins {
    ($id:expr) => {
        exercises_exercise::table
            .find($id)
            .inner_join(auth_user::table)
            .inner_join(core_videoasset::table)
            .left_join(accounts_profile::table.on(accounts_profile::user_id.eq(exercises_exercise::created_by_id)))
    };
}

/// The exercise with its demonstration video and its creator's name, in
/// one statement (`NotFound` when there is none).
pub fn find_for_page(conn: &mut DbConn, id: Id) -> QueryResult<(Exercise, Asset, String)> {
    let (exercise, asset, name): (Exercise, Asset, NameParts) = exercise_page_joins!(id)
        .select((Exercise::as_select(), Asset::as_select(), name_columns!()))
        .first(conn)?;
    Ok((exercise, asset, display_name_of_parts(&name)))
}

/// [`find_for_page`] and how many attempts (top-level comments) the
/// thread has, in one statement: the count is a subquery on the thread's
/// index, so the exercise page pays no round trip for it.
pub fn find_with_thread_total(conn: &mut DbConn, id: Id) -> QueryResult<(Exercise, Asset, String, i64)> {
    let total = comments_videocomment::table
        .filter(comments_videocomment::exercise_id.eq(id))
        .filter(comments_videocomment::parent_id.is_null())
        .select(diesel::dsl::count_star())
        .single_value();
    let (exercise, asset, name, total): (Exercise, Asset, NameParts, Option<i64>) = exercise_page_joins!(id)
        .select((Exercise::as_select(), Asset::as_select(), name_columns!(), total))
        .first(conn)?;
    Ok((exercise, asset, display_name_of_parts(&name), total.unwrap_or(0)))
}

pub fn comment_count(conn: &mut DbConn, id: Id) -> QueryResult<i64> {
    comments_videocomment::table
        .filter(comments_videocomment::exercise_id.eq(id))
        .count()
        .get_result(conn)
}

/// A checked exercise, ready to save.
#[derive(Debug, Clone)]
pub struct Draft {
    pub name: String,
    pub description: Option<String>,
    pub video_asset_id: Id,
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("you already have an exercise with this name")]
    NameTaken,
    #[error(transparent)]
    Database(#[from] DieselError),
}

fn name_taken(conn: &mut DbConn, creator: i32, name: &str, except: Option<Id>) -> QueryResult<bool> {
    let same = exercises_exercise::table
        .filter(exercises_exercise::created_by_id.eq(creator))
        .filter(exercises_exercise::name.eq(name))
        .select(exercises_exercise::id)
        .load::<Id>(conn)?;
    Ok(same.into_iter().any(|id| Some(id) != except))
}

fn map_unique(error: DieselError) -> SaveError {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => SaveError::NameTaken,
        other => SaveError::Database(other),
    }
}

pub use crate::accounts::queries::{bump_metric, Counter};

pub fn create(conn: &mut DbConn, creator: i32, draft: &Draft) -> Result<Exercise, SaveError> {
    db::write_transaction(conn, |c| {
        if name_taken(c, creator, &draft.name, None)? {
            return Err(SaveError::NameTaken);
        }
        let now = Ts::now();
        let id = Id::new();
        diesel::insert_into(exercises_exercise::table)
            .values((
                exercises_exercise::id.eq(id),
                exercises_exercise::name.eq(&draft.name),
                exercises_exercise::description.eq(draft.description.as_deref()),
                exercises_exercise::created_at.eq(now),
                exercises_exercise::updated_at.eq(now),
                exercises_exercise::created_by_id.eq(creator),
                exercises_exercise::video_asset_id.eq(draft.video_asset_id),
            ))
            .execute(c)
            .map_err(map_unique)?;
        bump_metric(c, creator, Counter::Exercises, 1)?;
        find(c, id)?.ok_or(SaveError::Database(DieselError::NotFound))
    })
}

pub fn update(conn: &mut DbConn, exercise: &Exercise, draft: &Draft) -> Result<(), SaveError> {
    db::write_transaction(conn, |c| {
        if name_taken(c, exercise.created_by_id, &draft.name, Some(exercise.id))? {
            return Err(SaveError::NameTaken);
        }
        diesel::update(exercises_exercise::table.find(exercise.id))
            .set((
                exercises_exercise::name.eq(&draft.name),
                exercises_exercise::description.eq(draft.description.as_deref()),
                exercises_exercise::video_asset_id.eq(draft.video_asset_id),
                exercises_exercise::updated_at.eq(Ts::now()),
            ))
            .execute(c)
            .map_err(map_unique)?;
        Ok(())
    })
}

/// Deletes the exercise and (by cascade) its comments, keeping every
/// author's counters exact. Returns how many comments went with it.
pub fn delete(conn: &mut DbConn, exercise: &Exercise) -> QueryResult<i64> {
    db::write_transaction(conn, |c| {
        let authors: Vec<(i32, i64)> = comments_videocomment::table
            .filter(comments_videocomment::exercise_id.eq(exercise.id))
            .group_by(comments_videocomment::author_id)
            .select((comments_videocomment::author_id, diesel::dsl::count_star()))
            .load(c)?;
        let mut removed = 0;
        for (author, count) in authors {
            bump_metric(c, author, Counter::Comments, -(count as i32))?;
            removed += count;
        }
        diesel::delete(exercises_exercise::table.find(exercise.id)).execute(c)?;
        bump_metric(c, exercise.created_by_id, Counter::Exercises, -1)?;
        Ok(removed)
    })
}
