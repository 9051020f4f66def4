//! Exercises in the database. Counters in `accounts_usermetrics` change in
//! the same transaction as the rows they count, so they stay exact.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use diesel::query_builder::{QueryFragment, QueryId};
use diesel::query_dsl::methods::LoadQuery;

use super::search;
use crate::db::schema::{auth_user, comments_videocomment, core_videoasset, exercises_exercise};
use crate::db::{self, Backend, DbConn, Id, MultiBackend, Ts};

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
}

/// What a library card shows.
#[derive(Debug, Clone)]
pub struct Card {
    pub exercise: Exercise,
    pub coach: String,
    pub poster_path: Option<String>,
    pub youtube_url: Option<String>,
    pub duration_sec: Option<i32>,
    pub comment_count: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub search: Option<String>,
    pub coach: Option<i32>,
    pub page: i64,
}

/// The library's filter on `$source` (exercises, or exercises joined).
macro_rules! filtered {
    ($source:expr, $backend:expr, $filter:expr) => {{
        let mut query = $source.into_boxed();
        if let Some(search) = $filter.search.as_deref().and_then(search::Query::parse) {
            query = query.filter(search::matches($backend, &search));
        }
        if let Some(coach) = $filter.coach {
            query = query.filter(exercises_exercise::created_by_id.eq(coach));
        }
        query
    }};
}

/// Exercise, creator's username, and the video's poster, YouTube link and
/// duration.
type CardRow = (Exercise, String, Option<String>, Option<String>, Option<i32>);

/// How many exercises the library's filter matches (public so that tests
/// can `EXPLAIN` the statement the page runs). Every exercise has its
/// creator and its video (NOT NULL foreign keys), so the count needs
/// neither join: joined, it read every video.
pub fn library_count_query(
    backend: Backend,
    filter: &Filter,
) -> impl LoadQuery<'static, DbConn, i64> + QueryFragment<MultiBackend> + QueryId {
    filtered!(exercises_exercise::table, backend, filter).count()
}

/// One page of the library: best matches first when searching, otherwise
/// newest first.
pub fn library_page_query(
    backend: Backend,
    filter: &Filter,
) -> impl LoadQuery<'static, DbConn, CardRow> + QueryFragment<MultiBackend> + QueryId {
    let source = exercises_exercise::table
        .inner_join(auth_user::table)
        .inner_join(core_videoasset::table);
    let query = filtered!(source, backend, filter)
        .order((exercises_exercise::created_at.desc(), exercises_exercise::id.desc()))
        .offset(filter.page.max(0) * PAGE_SIZE)
        .limit(PAGE_SIZE)
        .select((
            Exercise::as_select(),
            auth_user::username,
            core_videoasset::poster_path,
            core_videoasset::youtube_url,
            core_videoasset::duration_sec,
        ));
    match filter.search.as_deref().and_then(search::Query::parse) {
        Some(search) => query.order((
            search::rank(backend, &search).desc(),
            exercises_exercise::created_at.desc(),
            exercises_exercise::id.desc(),
        )),
        None => query,
    }
}

/// A page of the library and how many match in all.
pub fn list(conn: &mut DbConn, filter: &Filter) -> QueryResult<(Vec<Card>, i64)> {
    let backend = conn.backend();
    let total: i64 = library_count_query(backend, filter).get_result(conn)?;
    let rows: Vec<CardRow> = library_page_query(backend, filter).load(conn)?;
    let ids: Vec<Id> = rows.iter().map(|r| r.0.id).collect();
    let creators: Vec<i32> = rows.iter().map(|r| r.0.created_by_id).collect();
    let names = display_names(conn, &creators)?;
    // One grouped count for the page, not one query per card.
    let counts: Vec<(Id, i64)> = comments_videocomment::table
        .filter(comments_videocomment::exercise_id.eq_any(&ids))
        .group_by(comments_videocomment::exercise_id)
        .select((comments_videocomment::exercise_id, diesel::dsl::count_star()))
        .load(conn)?;
    let cards = rows
        .into_iter()
        .map(|(exercise, username, poster_path, youtube_url, duration_sec)| {
            let comment_count = counts.iter().find(|(id, _)| *id == exercise.id).map_or(0, |(_, n)| *n);
            Card {
                coach: names.get(&exercise.created_by_id).cloned().unwrap_or(username),
                exercise,
                poster_path,
                youtube_url,
                duration_sec,
                comment_count,
            }
        })
        .collect();
    Ok((cards, total))
}

/// People who have published exercises, for the library's coach filter.
pub fn coaches(conn: &mut DbConn) -> QueryResult<Vec<(i32, String)>> {
    let ids: Vec<i32> = exercises_exercise::table
        .select(exercises_exercise::created_by_id)
        .distinct()
        .load(conn)?;
    let mut named: Vec<(i32, String)> = display_names(conn, &ids)?.into_iter().collect();
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

/// The exercise with its creator's name.
pub fn find_with_coach(conn: &mut DbConn, id: Id) -> QueryResult<Option<(Exercise, String)>> {
    match find(conn, id)? {
        Some(exercise) => {
            let coach = display_name_of(conn, exercise.created_by_id)?;
            Ok(Some((exercise, coach)))
        }
        None => Ok(None),
    }
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
use crate::accounts::queries::{display_name_of, display_names};

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
