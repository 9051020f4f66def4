//! Replies exported as videos (`comments::export`): the MP4s their
//! authors asked for. Staff see and delete them; a deleted export's file
//! is removed by the worker's hourly clean-up, and its author may ask for
//! it again.

use diesel::prelude::*;

use crate::comments::export::ExportRow;
use crate::db::schema::{auth_user, comments_export};
use crate::db::{DbConn, Id};
use crate::staff::audit::Entry;
use crate::staff::model::*;
use crate::videos::pages::{clock, human_size};
use crate::web::auth::CurrentUser;

pub struct Exports;

const COLUMNS: &[ListColumn] = &[
    col("owner", "Asked by", true),
    col("comment", "Reply", false),
    col("status", "Status", true),
    col("length", "Length", true),
    col("size", "Size", true),
    col("created", "Asked", true),
];

const ACTIONS: &[BulkAction] = &[BulkAction {
    key: "delete",
    label: "Delete",
}];

const STATUSES: &[(&str, &str)] = &[
    ("pending", "Waiting"),
    ("processing", "Processing"),
    ("ready", "Ready"),
    ("failed", "Failed"),
];

fn find(conn: &mut DbConn, id: &str) -> StaffResult<ExportRow> {
    let id: Id = parse_id(id)?;
    found(
        comments_export::table
            .find(id)
            .select(ExportRow::as_select())
            .first(conn)
            .optional(),
    )
}

fn length(e: &ExportRow) -> String {
    e.duration_ms
        .map(|ms| clock(f64::from(ms) / 1000.0))
        .unwrap_or_else(|| "–".to_owned())
}

fn size(e: &ExportRow) -> String {
    e.size_bytes.map(human_size).unwrap_or_else(|| "–".to_owned())
}

fn status(e: &ExportRow) -> &'static str {
    match e.status() {
        crate::comments::export::Status::Ready => "ready",
        crate::comments::export::Status::Failed => "failed",
        _ => "being made",
    }
}

fn repr(e: &ExportRow) -> String {
    format!("The export of a reply ({}, {})", status(e), length(e))
}

/// The exports of comment `comment`, for its staff page.
pub fn of_comment(conn: &mut DbConn, comment: Id) -> QueryResult<Related> {
    let rows: Vec<ExportRow> = comments_export::table
        .filter(comments_export::comment_id.eq(comment))
        .order(comments_export::id.asc())
        .select(ExportRow::as_select())
        .load(conn)?;
    Ok(Related {
        title: "Exported video".into(),
        model: "exports",
        columns: vec!["Status", "Length", "Size"],
        total: rows.len() as i64,
        rows: rows
            .iter()
            .map(|e| Row {
                id: e.id.to_string(),
                cells: vec![Cell::text(status(e)), Cell::text(length(e)), Cell::text(size(e))],
            })
            .collect(),
        list_query: format!("comment={comment}"),
    })
}

macro_rules! filtered {
    ($params:expr) => {{
        let params = $params;
        let mut query = comments_export::table.inner_join(auth_user::table).into_boxed();
        if let Some(pattern) = params.like() {
            query = query.filter(search!("auth_user.username", pattern));
        }
        if let Some(status) = params.choice("status") {
            query = query.filter(comments_export::status.eq(status.to_owned()));
        }
        if let Some(value) = params.choice("comment") {
            query = match value.parse::<Id>() {
                Ok(id) => query.filter(comments_export::comment_id.eq(id)),
                Err(_) => query.filter(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 0")),
            };
        }
        if let Some(since) = params.since("created") {
            query = query.filter(comments_export::created_at.ge(since));
        }
        if let Some(before) = params.before("created") {
            query = query.filter(comments_export::created_at.lt(before));
        }
        query
    }};
}

impl StaffModel for Exports {
    fn slug(&self) -> &'static str {
        "exports"
    }
    fn plural(&self) -> &'static str {
        "Exports"
    }
    fn singular(&self) -> &'static str {
        "export"
    }
    fn columns(&self) -> &'static [ListColumn] {
        COLUMNS
    }
    fn search_hint(&self) -> &'static str {
        "Who asked"
    }

    fn filters(&self, _conn: &mut DbConn) -> QueryResult<Vec<FilterSpec>> {
        Ok(vec![
            choice("status", "Status", STATUSES),
            exact("comment", "Comment id"),
            dates("created", "Asked"),
        ])
    }

    fn list(&self, conn: &mut DbConn, params: &ListParams) -> QueryResult<(Vec<Row>, i64)> {
        let total: i64 = filtered!(params).count().get_result(conn)?;
        let rows: Vec<(ExportRow, String)> = sorted!(filtered!(params), params, comments_export::created_at.desc(), {
            "owner" => auth_user::username,
            "status" => comments_export::status,
            "length" => comments_export::duration_ms,
            "size" => comments_export::size_bytes,
            "created" => comments_export::created_at,
        })
        .then_order_by(comments_export::id.desc())
        .offset(params.offset())
        .limit(PER_PAGE)
        .select((ExportRow::as_select(), auth_user::username))
        .load(conn)?;
        Ok((
            rows.into_iter()
                .map(|(e, owner)| Row {
                    id: e.id.to_string(),
                    cells: vec![
                        Cell::text(owner),
                        Cell::link("The reply", href("comments", &e.comment_id.to_string())),
                        Cell::text(status(&e)),
                        Cell::text(length(&e)),
                        Cell::text(size(&e)),
                        Cell::when(Some(e.created_at)),
                    ],
                })
                .collect(),
            total,
        ))
    }

    fn detail(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Detail> {
        let e = find(conn, id)?;
        let mut facts = vec![
            ("Comment", format!("/staff/comments/{}", e.comment_id)),
            ("Video", format!("/staff/videos/{}", e.video_id)),
            ("Status", status(&e).to_owned()),
            ("Length", length(&e)),
            ("Size", size(&e)),
            ("Asked", e.created_at.to_string()),
        ];
        if let Some(error) = &e.processing_error {
            facts.push(("Processing", error.clone()));
        }
        Ok(Detail {
            repr: repr(&e),
            fields: Vec::new(),
            facts,
        })
    }

    fn delete_preview(&self, conn: &mut DbConn, id: &str) -> StaffResult<Vec<String>> {
        let e = find(conn, id)?;
        Ok(vec![
            format!("{}.", repr(&e)),
            "Its MP4 file is removed by the worker's hourly clean-up.".into(),
            "The reply stays, with its drawings and voice-over; its author may export it again.".into(),
        ])
    }

    fn delete(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Entry> {
        let e = find(conn, id)?;
        diesel::delete(comments_export::table.find(e.id)).execute(conn)?;
        Ok(Entry::new("delete", "exports", e.id, repr(&e)))
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
