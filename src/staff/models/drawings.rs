//! Drawings (telestration) left on comments by the review studio. Staff
//! see and delete them; their shapes are changed only by the comment's
//! author, in the studio.

use diesel::prelude::*;

use crate::comments::studio::DrawingRow;
use crate::db::schema::{auth_user, comments_drawing, comments_videocomment};
use crate::db::{DbConn, Id};
use crate::staff::audit::Entry;
use crate::staff::model::*;
use crate::videos::pages::clock;
use crate::web::auth::CurrentUser;

pub struct Drawings;

const COLUMNS: &[ListColumn] = &[
    col("time", "Shows", true),
    col("comment", "Comment", false),
    col("author", "Author", true),
    col("shapes", "Shapes", false),
    col("size", "Size", true),
    col("created", "Drawn", true),
];

const ACTIONS: &[BulkAction] = &[BulkAction {
    key: "delete",
    label: "Delete",
}];

fn find(conn: &mut DbConn, id: &str) -> StaffResult<DrawingRow> {
    let id: Id = parse_id(id)?;
    found(
        comments_drawing::table
            .find(id)
            .select(DrawingRow::as_select())
            .first(conn)
            .optional(),
    )
}

fn repr(d: &DrawingRow) -> String {
    let shapes = d.to_drawing().shapes.len();
    format!(
        "{}–{}, {shapes} shape{}",
        clock(d.start_time),
        clock(d.end_time),
        if shapes == 1 { "" } else { "s" }
    )
}

/// "2 lines, 1 angle, 1 text".
fn shape_summary(d: &DrawingRow) -> String {
    use crate::comments::studio::Shape;
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for shape in d.to_drawing().shapes {
        let name = match shape {
            Shape::Line { .. } => "line",
            Shape::Arrow { .. } => "arrow",
            Shape::Ellipse { .. } => "ellipse",
            Shape::Freehand { .. } => "freehand",
            Shape::Angle { .. } => "angle",
            Shape::Text { .. } => "text",
        };
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 += 1,
            None => counts.push((name, 1)),
        }
    }
    counts
        .iter()
        .map(|(name, n)| format!("{n} {name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

macro_rules! filtered {
    ($params:expr) => {{
        let params = $params;
        let mut query = comments_drawing::table
            .inner_join(comments_videocomment::table.inner_join(auth_user::table))
            .into_boxed();
        if let Some(pattern) = params.like() {
            query = query.filter(search!(
                "coalesce(comments_videocomment.text, '') || ' ' || auth_user.username",
                pattern
            ));
        }
        for (key, column) in [("comment", "comment_id"), ("video", "video_id")] {
            if let Some(value) = params.choice(key) {
                query = match value.parse::<Id>() {
                    Ok(id) if column == "comment_id" => query.filter(comments_drawing::comment_id.eq(id)),
                    Ok(id) => query.filter(comments_drawing::video_id.eq(id)),
                    Err(_) => query.filter(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 0")),
                };
            }
        }
        if let Some(since) = params.since("created") {
            query = query.filter(comments_drawing::created_at.ge(since));
        }
        if let Some(before) = params.before("created") {
            query = query.filter(comments_drawing::created_at.lt(before));
        }
        query
    }};
}

/// A comment's drawings, for its staff page.
pub fn of_comment(conn: &mut DbConn, comment: Id) -> QueryResult<Related> {
    let rows: Vec<DrawingRow> = comments_drawing::table
        .filter(comments_drawing::comment_id.eq(comment))
        .order(comments_drawing::position.asc())
        .select(DrawingRow::as_select())
        .load(conn)?;
    Ok(Related {
        title: "Drawings".into(),
        model: "drawings",
        columns: vec!["Shows", "Shapes", "Size"],
        total: rows.len() as i64,
        rows: rows
            .iter()
            .map(|d| Row {
                id: d.id.to_string(),
                cells: vec![
                    Cell::text(format!("{}–{}", clock(d.start_time), clock(d.end_time))),
                    Cell::text(shape_summary(d)),
                    Cell::text(crate::videos::pages::human_size(i64::from(d.size_bytes))),
                ],
            })
            .collect(),
        list_query: format!("comment={comment}"),
    })
}

impl StaffModel for Drawings {
    fn slug(&self) -> &'static str {
        "drawings"
    }
    fn plural(&self) -> &'static str {
        "Drawings"
    }
    fn singular(&self) -> &'static str {
        "drawing"
    }
    fn columns(&self) -> &'static [ListColumn] {
        COLUMNS
    }
    fn search_hint(&self) -> &'static str {
        "Comment text or author"
    }

    fn filters(&self, _conn: &mut DbConn) -> QueryResult<Vec<FilterSpec>> {
        Ok(vec![
            exact("comment", "Comment id"),
            exact("video", "Video id"),
            dates("created", "Drawn"),
        ])
    }

    fn list(&self, conn: &mut DbConn, params: &ListParams) -> QueryResult<(Vec<Row>, i64)> {
        let total: i64 = filtered!(params).count().get_result(conn)?;
        let rows: Vec<(DrawingRow, Option<String>, String)> =
            sorted!(filtered!(params), params, comments_drawing::created_at.desc(), {
                "time" => comments_drawing::start_time,
                "author" => auth_user::username,
                "size" => comments_drawing::size_bytes,
                "created" => comments_drawing::created_at,
            })
            .then_order_by(comments_drawing::id.desc())
            .offset(params.offset())
            .limit(PER_PAGE)
            .select((
                DrawingRow::as_select(),
                comments_videocomment::text,
                auth_user::username,
            ))
            .load(conn)?;
        Ok((
            rows.into_iter()
                .map(|(d, text, author)| Row {
                    id: d.id.to_string(),
                    cells: vec![
                        Cell::text(format!("{}–{}", clock(d.start_time), clock(d.end_time))),
                        Cell::link(
                            excerpt(text.as_deref().unwrap_or("(no text)"), 50),
                            href("comments", &d.comment_id.to_string()),
                        ),
                        Cell::text(author),
                        Cell::text(shape_summary(&d)),
                        Cell::text(crate::videos::pages::human_size(i64::from(d.size_bytes))),
                        Cell::when(Some(d.created_at)),
                    ],
                })
                .collect(),
            total,
        ))
    }

    fn detail(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Detail> {
        let d = find(conn, id)?;
        Ok(Detail {
            repr: repr(&d),
            fields: Vec::new(),
            facts: vec![
                ("Comment", format!("/staff/comments/{}", d.comment_id)),
                ("Video", format!("/staff/videos/{}", d.video_id)),
                ("Shows", format!("{}–{}", clock(d.start_time), clock(d.end_time))),
                ("Shapes", shape_summary(&d)),
                ("Size", crate::videos::pages::human_size(i64::from(d.size_bytes))),
                ("Drawn", d.created_at.to_string()),
            ],
        })
    }

    fn delete_preview(&self, conn: &mut DbConn, id: &str) -> StaffResult<Vec<String>> {
        let d = find(conn, id)?;
        Ok(vec![
            format!("The drawing {} ({}).", repr(&d), shape_summary(&d)),
            "The comment it is on stays, with its other drawings.".into(),
        ])
    }

    fn delete(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Entry> {
        let d = find(conn, id)?;
        diesel::delete(comments_drawing::table.find(d.id)).execute(conn)?;
        Ok(Entry::new("delete", "drawings", d.id, repr(&d)))
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
