//! Comments on exercise threads, with their replies.

use diesel::prelude::*;

use crate::accounts::forms::FieldErrors;
use crate::comments::queries::{self, Comment};
use crate::db::schema::{auth_user, comments_videocomment, exercises_exercise};
use diesel::query_builder::{QueryFragment, QueryId};
use diesel::query_dsl::methods::LoadQuery;

use crate::db::{DbConn, Id, MultiBackend, Ts};
use crate::staff::audit::Entry;
use crate::staff::model::*;
use crate::web::auth::CurrentUser;

pub struct Comments;

/// A comment as another object's related row: id, text, author, written.
pub(crate) type CommentRow = (Id, Option<String>, String, Ts);

/// Related rows of comments (a comment's replies, an exercise's thread).
pub(crate) fn comment_rows(rows: Vec<CommentRow>) -> Vec<Row> {
    rows.into_iter()
        .map(|(id, text, author, at)| Row {
            id: id.to_string(),
            cells: vec![
                Cell::text(excerpt(text.as_deref().unwrap_or("(video only)"), 80)),
                Cell::text(author),
                Cell::when(Some(at)),
            ],
        })
        .collect()
}

const TEXT_MAX: usize = 10_000;

const COLUMNS: &[ListColumn] = &[
    col("text", "Text", false),
    col("author", "Author", true),
    col("exercise", "Exercise", true),
    col("kind", "Reply", true),
    col("created", "Written", true),
];

const ACTIONS: &[BulkAction] = &[BulkAction {
    key: "delete",
    label: "Delete",
}];

fn find(conn: &mut DbConn, id: &str) -> StaffResult<Comment> {
    let id: Id = parse_id(id)?;
    found(queries::find(conn, id))
}

fn repr(comment: &Comment) -> String {
    excerpt(comment.text.as_deref().unwrap_or("(video only)"), 60)
}

/// The list's filters on `$source`: comments, or comments joined with what
/// the rows show (every filter is on the comment itself).
macro_rules! filtered {
    ($source:expr, $params:expr) => {{
        let params = $params;
        let mut query = $source.into_boxed();
        if let Some(pattern) = params.like() {
            query = query.filter(search!("coalesce(comments_videocomment.text, '')", pattern));
        }
        if let Some(author) = params.choice("author") {
            query = query.filter(comments_videocomment::author_id.eq(author.parse::<i32>().unwrap_or(-1)));
        }
        if let Some(exercise) = params.choice("exercise") {
            match exercise.parse::<Id>() {
                Ok(exercise) => query = query.filter(comments_videocomment::exercise_id.eq(exercise)),
                Err(_) => query = query.filter(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 0")),
            }
        }
        match params.choice("kind") {
            Some("reply") => query = query.filter(comments_videocomment::parent_id.is_not_null()),
            Some("top") => query = query.filter(comments_videocomment::parent_id.is_null()),
            _ => {}
        }
        if let Some(since) = params.since("created") {
            query = query.filter(comments_videocomment::created_at.ge(since));
        }
        if let Some(before) = params.before("created") {
            query = query.filter(comments_videocomment::created_at.lt(before));
        }
        query
    }};
}

/// How many comments the list's filters match: on the comments alone, as
/// the joins add nothing to the count (public, like [`page_query`], so that
/// tests can `EXPLAIN` them).
pub fn count_query(
    params: &ListParams,
) -> impl LoadQuery<'static, DbConn, i64> + QueryFragment<MultiBackend> + QueryId {
    filtered!(comments_videocomment::table, params).count()
}

/// One page of the list, with each comment's author and exercise.
pub fn page_query(
    params: &ListParams,
) -> impl LoadQuery<'static, DbConn, (Comment, String, String)> + QueryFragment<MultiBackend> + QueryId {
    let source = comments_videocomment::table
        .inner_join(auth_user::table)
        .inner_join(exercises_exercise::table);
    sorted!(filtered!(source, params), params, comments_videocomment::created_at.desc(), {
        "author" => auth_user::username,
        "exercise" => exercises_exercise::name,
        "kind" => comments_videocomment::parent_id,
        "created" => comments_videocomment::created_at,
    })
    .then_order_by(comments_videocomment::id.desc())
    .offset(params.offset())
    .limit(PER_PAGE)
    .select((Comment::as_select(), auth_user::username, exercises_exercise::name))
}

impl StaffModel for Comments {
    fn slug(&self) -> &'static str {
        "comments"
    }
    fn plural(&self) -> &'static str {
        "Comments"
    }
    fn singular(&self) -> &'static str {
        "comment"
    }
    fn columns(&self) -> &'static [ListColumn] {
        COLUMNS
    }
    fn search_hint(&self) -> &'static str {
        "Text"
    }

    fn filters(&self, conn: &mut DbConn) -> QueryResult<Vec<FilterSpec>> {
        let authors: Vec<(i32, String)> = auth_user::table
            .filter(auth_user::id.eq_any(comments_videocomment::table.select(comments_videocomment::author_id)))
            .order(auth_user::username.asc())
            .select((auth_user::id, auth_user::username))
            .load(conn)?;
        Ok(vec![
            FilterSpec {
                key: "author",
                label: "Author",
                kind: FilterKind::Choice(authors.into_iter().map(|(id, n)| (id.to_string(), n)).collect()),
            },
            choice("kind", "Kind", &[("top", "top-level"), ("reply", "reply")]),
            exact("exercise", "Exercise id"),
            dates("created", "Written"),
        ])
    }

    fn list(&self, conn: &mut DbConn, params: &ListParams) -> QueryResult<(Vec<Row>, i64)> {
        let total: i64 = count_query(params).get_result(conn)?;
        let rows: Vec<(Comment, String, String)> = page_query(params).load(conn)?;
        Ok((
            rows.into_iter()
                .map(|(c, author, exercise)| Row {
                    id: c.id.to_string(),
                    cells: vec![
                        Cell::text(repr(&c)),
                        Cell::text(author),
                        Cell::link(exercise, href("exercises", &c.exercise_id.to_string())),
                        Cell::text(if c.parent_id.is_some() { "reply" } else { "—" }),
                        Cell::when(Some(c.created_at)),
                    ],
                })
                .collect(),
            total,
        ))
    }

    fn detail(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Detail> {
        let c = find(conn, id)?;
        let (author, exercise): (String, String) = comments_videocomment::table
            .find(c.id)
            .inner_join(auth_user::table)
            .inner_join(exercises_exercise::table)
            .select((auth_user::username, exercises_exercise::name))
            .first(conn)?;
        Ok(Detail {
            repr: repr(&c),
            fields: vec![
                Field::new("text", "Text", InputKind::Textarea, c.text.clone().unwrap_or_default())
                    .hint("May be empty only when the comment carries a video or clip."),
            ],
            facts: vec![
                ("Author", author),
                ("Exercise", exercise),
                (
                    "Reply to",
                    c.parent_id.map(|p| p.to_string()).unwrap_or_else(|| "—".into()),
                ),
                ("Clip", c.clip_id.map(|p| p.to_string()).unwrap_or_else(|| "—".into())),
                ("Video", c.video_asset_id.to_string()),
                ("Written", c.created_at.to_string()),
                ("Updated", c.updated_at.to_string()),
            ],
        })
    }

    fn save(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser, input: &Input) -> StaffResult<Entry> {
        let c = find(conn, id)?;
        let text = input.text("text");
        let exercise_video: Id = exercises_exercise::table
            .find(c.exercise_id)
            .select(exercises_exercise::video_asset_id)
            .first(conn)?;
        let carries_video = c.clip_id.is_some() || c.video_asset_id != exercise_video;
        let mut errors = FieldErrors::default();
        if text.is_empty() && !carries_video {
            errors.add("text", "Write something: this comment has no video of its own.");
        } else if text.chars().count() > TEXT_MAX {
            errors.add("text", format!("Use at most {TEXT_MAX} characters."));
        }
        if !errors.is_empty() {
            return Err(StaffError::Invalid(errors));
        }
        let text = Some(text).filter(|t| !t.is_empty());
        let mut entry = Entry::new("change", "comments", c.id, repr(&c));
        if text != c.text {
            diesel::update(comments_videocomment::table.find(c.id))
                .set((
                    comments_videocomment::text.eq(&text),
                    comments_videocomment::updated_at.eq(Ts::now()),
                ))
                .execute(conn)?;
            entry = entry.change("text", c.text.clone(), text);
        }
        Ok(entry)
    }

    fn related(&self, conn: &mut DbConn, id: &str) -> QueryResult<Vec<Related>> {
        let Ok(id) = id.parse::<Id>() else {
            return Ok(Vec::new());
        };
        let rows: Vec<CommentRow> = comments_videocomment::table
            .filter(comments_videocomment::parent_id.eq(id))
            .inner_join(auth_user::table)
            .order(comments_videocomment::created_at.asc())
            .select((
                comments_videocomment::id,
                comments_videocomment::text,
                auth_user::username,
                comments_videocomment::created_at,
            ))
            .load(conn)?;
        Ok(vec![
            Related {
                title: "Replies".into(),
                model: "comments",
                columns: vec!["Text", "Author", "Written"],
                total: rows.len() as i64,
                rows: comment_rows(rows),
                list_query: String::new(),
            },
            super::drawings::of_comment(conn, id)?,
            super::voiceovers::of_comment(conn, id)?,
            super::exports::of_comment(conn, id)?,
        ])
    }

    fn delete_preview(&self, conn: &mut DbConn, id: &str) -> StaffResult<Vec<String>> {
        let c = find(conn, id)?;
        let replies = queries::reply_count(conn, c.id)?;
        // Its drawings and voice-overs, and its replies', go with it.
        let (voiceovers, drawings, exports) = queries::studio_counts(conn, c.id)?;
        Ok(vec![
            format!("The comment “{}”.", repr(&c)),
            format!("{replies} repl(ies) to it (their authors' counts go down)."),
            format!("{drawings} drawing(s) on it and its replies."),
            format!("{voiceovers} voice-over(s) on it and its replies, with their sound files."),
            format!("{exports} exported video(s) of it and its replies, with their MP4 files."),
            "Videos and clips it carries stay.".into(),
        ])
    }

    fn delete(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Entry> {
        let c = find(conn, id)?;
        let replies = queries::delete(conn, &c)?;
        Ok(Entry::new("delete", "comments", c.id, repr(&c)).change("replies", replies, 0))
    }

    fn bulk_actions(&self) -> &'static [BulkAction] {
        ACTIONS
    }

    fn bulk(
        &self,
        conn: &mut DbConn,
        action: &str,
        ids: &[String],
        actor: &CurrentUser,
        _input: &Input,
    ) -> StaffResult<BulkOutcome> {
        bulk_delete(self, conn, action, ids, actor)
    }
}
