//! Exercises, with the comments on them.

use diesel::prelude::*;

use crate::accounts::forms::FieldErrors;
use crate::db::schema::{auth_user, comments_videocomment, exercises_exercise};
use diesel::query_builder::{QueryFragment, QueryId};
use diesel::query_dsl::methods::LoadQuery;

use crate::db::{Backend, DbConn, Id, MultiBackend, Ts};
use crate::exercises::forms::{DESCRIPTION_MAX, NAME_MAX};
use crate::exercises::queries::{self, Exercise};
use crate::exercises::search;
use crate::staff::audit::Entry;
use crate::staff::model::*;
use crate::web::auth::CurrentUser;

pub struct Exercises;

const RELATED_LIMIT: i64 = 20;

const COLUMNS: &[ListColumn] = &[
    col("name", "Name", true),
    col("coach", "Coach", true),
    col("comments", "Comments", false),
    col("created", "Created", true),
    col("updated", "Updated", true),
];

fn find(conn: &mut DbConn, id: &str) -> StaffResult<Exercise> {
    let id: Id = parse_id(id)?;
    found(queries::find(conn, id))
}

/// The list's filters on `$source`: exercises, or exercises joined with
/// their coach (every filter is on the exercise itself).
macro_rules! filtered {
    ($source:expr, $params:expr, $backend:expr) => {{
        let params = $params;
        let mut query = $source.into_boxed();
        // The library's search: every word, any order, accents ignored.
        if let Some(words) = search::Query::parse(&params.q) {
            query = query.filter(search::matches($backend, &words));
        }
        if let Some(coach) = params.choice("coach") {
            query = query.filter(exercises_exercise::created_by_id.eq(coach.parse::<i32>().unwrap_or(-1)));
        }
        if let Some(video) = params.choice("video") {
            match video.parse::<Id>() {
                Ok(video) => query = query.filter(exercises_exercise::video_asset_id.eq(video)),
                Err(_) => query = query.filter(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 0")),
            }
        }
        if let Some(since) = params.since("created") {
            query = query.filter(exercises_exercise::created_at.ge(since));
        }
        if let Some(before) = params.before("created") {
            query = query.filter(exercises_exercise::created_at.lt(before));
        }
        query
    }};
}

/// How many exercises the list's filters match, on the exercises alone.
pub fn count_query(
    backend: Backend,
    params: &ListParams,
) -> impl LoadQuery<'static, DbConn, i64> + QueryFragment<MultiBackend> + QueryId {
    filtered!(exercises_exercise::table, params, backend).count()
}

/// One page of the staff exercise list; searching without a chosen sort
/// puts the best matches first (public so that tests can `EXPLAIN` it).
pub fn page_query(
    backend: Backend,
    params: &ListParams,
) -> impl LoadQuery<'static, DbConn, (Exercise, String)> + QueryFragment<MultiBackend> + QueryId {
    let source = exercises_exercise::table.inner_join(auth_user::table);
    let query = sorted!(filtered!(source, params, backend), params, exercises_exercise::created_at.desc(), {
        "name" => exercises_exercise::name,
        "coach" => auth_user::username,
        "created" => exercises_exercise::created_at,
        "updated" => exercises_exercise::updated_at,
    })
    .then_order_by(exercises_exercise::id.desc())
    .offset(params.offset())
    .limit(PER_PAGE)
    .select((Exercise::as_select(), auth_user::username));
    match search::Query::parse(&params.q).filter(|_| params.sort.is_none()) {
        Some(words) => query.order((
            search::rank(backend, &words).desc(),
            exercises_exercise::created_at.desc(),
            exercises_exercise::id.desc(),
        )),
        None => query,
    }
}

impl StaffModel for Exercises {
    fn slug(&self) -> &'static str {
        "exercises"
    }
    fn plural(&self) -> &'static str {
        "Exercises"
    }
    fn singular(&self) -> &'static str {
        "exercise"
    }
    fn columns(&self) -> &'static [ListColumn] {
        COLUMNS
    }
    fn search_hint(&self) -> &'static str {
        "Name or description"
    }

    fn filters(&self, conn: &mut DbConn) -> QueryResult<Vec<FilterSpec>> {
        let coaches: Vec<(i32, String)> = auth_user::table
            .filter(auth_user::id.eq_any(exercises_exercise::table.select(exercises_exercise::created_by_id)))
            .order(auth_user::username.asc())
            .select((auth_user::id, auth_user::username))
            .load(conn)?;
        Ok(vec![
            FilterSpec {
                key: "coach",
                label: "Coach",
                kind: FilterKind::Choice(coaches.into_iter().map(|(id, n)| (id.to_string(), n)).collect()),
            },
            exact("video", "Video id"),
            dates("created", "Created"),
        ])
    }

    fn list(&self, conn: &mut DbConn, params: &ListParams) -> QueryResult<(Vec<Row>, i64)> {
        let backend = conn.backend();
        let total: i64 = count_query(backend, params).get_result(conn)?;
        let rows: Vec<(Exercise, String)> = page_query(backend, params).load(conn)?;
        let ids: Vec<Id> = rows.iter().map(|(e, _)| e.id).collect();
        let counts: Vec<(Id, i64)> = comments_videocomment::table
            .filter(comments_videocomment::exercise_id.eq_any(&ids))
            .group_by(comments_videocomment::exercise_id)
            .select((comments_videocomment::exercise_id, diesel::dsl::count_star()))
            .load(conn)?;
        Ok((
            rows.into_iter()
                .map(|(e, coach)| {
                    let count = counts.iter().find(|(id, _)| *id == e.id).map_or(0, |(_, n)| *n);
                    Row {
                        id: e.id.to_string(),
                        cells: vec![
                            Cell::text(e.name.clone()),
                            Cell::text(coach),
                            Cell::link(count.to_string(), format!("/staff/comments?exercise={}", e.id)),
                            Cell::when(Some(e.created_at)),
                            Cell::when(Some(e.updated_at)),
                        ],
                    }
                })
                .collect(),
            total,
        ))
    }

    fn detail(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Detail> {
        let e = find(conn, id)?;
        let coach: String = auth_user::table
            .find(e.created_by_id)
            .select(auth_user::username)
            .first(conn)?;
        Ok(Detail {
            repr: e.name.clone(),
            fields: vec![
                Field::new("name", "Name", InputKind::Text, e.name.clone()),
                Field::new(
                    "description",
                    "Description",
                    InputKind::Textarea,
                    e.description.clone().unwrap_or_default(),
                ),
            ],
            facts: vec![
                ("Coach", coach),
                ("Video", format!("/staff/videos/{}", e.video_asset_id)),
                ("Created", e.created_at.to_string()),
                ("Updated", e.updated_at.to_string()),
                ("Page", format!("/exercises/{}", e.id)),
            ],
        })
    }

    fn save(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser, input: &Input) -> StaffResult<Entry> {
        let e = find(conn, id)?;
        let name = input.text("name");
        let description = input.text("description");
        let mut errors = FieldErrors::default();
        if name.is_empty() {
            errors.add("name", "Give the exercise a name.");
        } else if name.chars().count() > NAME_MAX {
            errors.add("name", format!("Use at most {NAME_MAX} characters."));
        } else if name.chars().any(char::is_control) {
            errors.add("name", "The name contains characters that cannot be shown.");
        } else if name != e.name {
            let taken: bool = diesel::select(diesel::dsl::exists(
                exercises_exercise::table
                    .filter(exercises_exercise::created_by_id.eq(e.created_by_id))
                    .filter(exercises_exercise::name.eq(&name))
                    .filter(exercises_exercise::id.ne(e.id)),
            ))
            .get_result(conn)?;
            if taken {
                errors.add("name", "This coach already has an exercise with this name.");
            }
        }
        if description.chars().count() > DESCRIPTION_MAX {
            errors.add("description", format!("Use at most {DESCRIPTION_MAX} characters."));
        }
        if !errors.is_empty() {
            return Err(StaffError::Invalid(errors));
        }
        let description = Some(description).filter(|d| !d.is_empty());
        let mut entry = Entry::new("change", "exercises", e.id, e.name.clone());
        if name != e.name {
            entry = entry.change("name", e.name.clone(), name.clone());
        }
        if description != e.description {
            entry = entry.change("description", e.description.clone(), description.clone());
        }
        if !entry.changes.is_empty() {
            diesel::update(exercises_exercise::table.find(e.id))
                .set((
                    exercises_exercise::name.eq(&name),
                    exercises_exercise::description.eq(&description),
                    exercises_exercise::updated_at.eq(Ts::now()),
                ))
                .execute(conn)?;
        }
        Ok(entry)
    }

    fn related(&self, conn: &mut DbConn, id: &str) -> QueryResult<Vec<Related>> {
        let Ok(id) = id.parse::<Id>() else {
            return Ok(Vec::new());
        };
        let comments = comments_videocomment::table.filter(comments_videocomment::exercise_id.eq(id));
        let total: i64 = comments.count().get_result(conn)?;
        let rows: Vec<super::comments::CommentRow> = comments
            .inner_join(auth_user::table)
            .order(comments_videocomment::created_at.desc())
            .limit(RELATED_LIMIT)
            .select((
                comments_videocomment::id,
                comments_videocomment::text,
                auth_user::username,
                comments_videocomment::created_at,
            ))
            .load(conn)?;
        Ok(vec![Related {
            title: "Comments".into(),
            model: "comments",
            columns: vec!["Text", "Author", "Written"],
            total,
            rows: super::comments::comment_rows(rows),
            list_query: format!("exercise={id}"),
        }])
    }

    fn can_add(&self) -> bool {
        true
    }

    fn add_lead(&self) -> &'static str {
        "Published as the coach you name, as if they had written it."
    }

    fn add_fields(&self, conn: &mut DbConn, actor: &CurrentUser) -> QueryResult<Vec<Field>> {
        super::new_exercise::fields(conn, actor)
    }

    fn create(&self, conn: &mut DbConn, actor: &CurrentUser, input: &Input) -> StaffResult<(String, Entry)> {
        super::new_exercise::create(conn, actor, input)
    }

    fn delete_preview(&self, conn: &mut DbConn, id: &str) -> StaffResult<Vec<String>> {
        let e = find(conn, id)?;
        let comments = queries::comment_count(conn, e.id)?;
        Ok(vec![
            format!("The exercise {}.", e.name),
            format!("The {comments} comment(s) on it, replies included (their authors' counts go down)."),
            "Its video stays.".into(),
        ])
    }

    fn delete(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Entry> {
        let e = find(conn, id)?;
        let removed = queries::delete(conn, &e)?;
        Ok(Entry::new("delete", "exercises", e.id, e.name.clone()).change("comments", removed, 0))
    }
}
