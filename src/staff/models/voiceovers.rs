//! Voice-overs recorded by coaches over attempts (`comments::voice`),
//! posted with a reply or still waiting to be. Staff see and delete them;
//! the recording and its timeline are the coach's. A deleted voice-over's
//! files are removed by the worker's hourly clean-up.

use diesel::prelude::*;

use crate::comments::voice::{Action, VoiceoverRow};
use crate::db::schema::{auth_user, comments_voiceover};
use crate::db::{DbConn, Id};
use crate::staff::audit::Entry;
use crate::staff::model::*;
use crate::videos::pages::{clock, human_size};
use crate::web::auth::CurrentUser;

pub struct Voiceovers;

const COLUMNS: &[ListColumn] = &[
    col("length", "Length", true),
    col("owner", "Coach", true),
    col("comment", "Reply", false),
    col("status", "Status", true),
    col("size", "Size", true),
    col("created", "Recorded", true),
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
    ("invalid", "Not usable"),
];

fn find(conn: &mut DbConn, id: &str) -> StaffResult<VoiceoverRow> {
    let id: Id = parse_id(id)?;
    found(
        comments_voiceover::table
            .find(id)
            .select(VoiceoverRow::as_select())
            .first(conn)
            .optional(),
    )
}

fn length(v: &VoiceoverRow) -> String {
    v.seconds().map(clock).unwrap_or_else(|| "–".to_owned())
}

fn repr(v: &VoiceoverRow) -> String {
    format!("{} ({})", v.describe(), v.status().label())
}

/// "3 pauses, 2 seeks, 1 drawing shown".
fn actions(v: &VoiceoverRow) -> String {
    let events = v.events();
    let count = |a: Action| events.iter().filter(|e| e.action == a).count();
    format!(
        "{} plays, {} pauses, {} seeks, {} speed changes, {} drawings shown",
        count(Action::Play),
        count(Action::Pause),
        count(Action::Seek),
        count(Action::Rate),
        count(Action::Draw)
    )
}

fn size(v: &VoiceoverRow) -> String {
    human_size(v.original_size + v.audio_size.unwrap_or(0))
}

macro_rules! filtered {
    ($params:expr) => {{
        let params = $params;
        let mut query = comments_voiceover::table.inner_join(auth_user::table).into_boxed();
        if let Some(pattern) = params.like() {
            query = query.filter(search!(
                "coalesce(comments_voiceover.transcript, '') || ' ' || auth_user.username",
                pattern
            ));
        }
        if let Some(status) = params.choice("status") {
            query = query.filter(comments_voiceover::status.eq(status.to_owned()));
        }
        if let Some(value) = params.choice("comment") {
            query = match value.parse::<Id>() {
                Ok(id) => query.filter(comments_voiceover::comment_id.eq(id)),
                Err(_) => query.filter(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 0")),
            };
        }
        if let Some(since) = params.since("created") {
            query = query.filter(comments_voiceover::created_at.ge(since));
        }
        if let Some(before) = params.before("created") {
            query = query.filter(comments_voiceover::created_at.lt(before));
        }
        query
    }};
}

/// A comment's voice-over, for its staff page.
pub fn of_comment(conn: &mut DbConn, comment: Id) -> QueryResult<Related> {
    let rows: Vec<VoiceoverRow> = comments_voiceover::table
        .filter(comments_voiceover::comment_id.eq(comment))
        .select(VoiceoverRow::as_select())
        .load(conn)?;
    Ok(Related {
        title: "Voice-over".into(),
        model: "voiceovers",
        columns: vec!["Length", "Status", "Player actions"],
        total: rows.len() as i64,
        rows: rows
            .iter()
            .map(|v| Row {
                id: v.id.to_string(),
                cells: vec![
                    Cell::text(length(v)),
                    Cell::text(v.status().label()),
                    Cell::text(actions(v)),
                ],
            })
            .collect(),
        list_query: format!("comment={comment}"),
    })
}

impl StaffModel for Voiceovers {
    fn slug(&self) -> &'static str {
        "voiceovers"
    }
    fn plural(&self) -> &'static str {
        "Voice-overs"
    }
    fn singular(&self) -> &'static str {
        "voice-over"
    }
    fn columns(&self) -> &'static [ListColumn] {
        COLUMNS
    }
    fn search_hint(&self) -> &'static str {
        "Transcript or coach"
    }

    fn filters(&self, _conn: &mut DbConn) -> QueryResult<Vec<FilterSpec>> {
        Ok(vec![
            choice("status", "Status", STATUSES),
            exact("comment", "Comment id"),
            dates("created", "Recorded"),
        ])
    }

    fn list(&self, conn: &mut DbConn, params: &ListParams) -> QueryResult<(Vec<Row>, i64)> {
        let total: i64 = filtered!(params).count().get_result(conn)?;
        let rows: Vec<(VoiceoverRow, String)> =
            sorted!(filtered!(params), params, comments_voiceover::created_at.desc(), {
                "length" => comments_voiceover::duration_ms,
                "owner" => auth_user::username,
                "status" => comments_voiceover::status,
                "size" => comments_voiceover::original_size,
                "created" => comments_voiceover::created_at,
            })
            .then_order_by(comments_voiceover::id.desc())
            .offset(params.offset())
            .limit(PER_PAGE)
            .select((VoiceoverRow::as_select(), auth_user::username))
            .load(conn)?;
        Ok((
            rows.into_iter()
                .map(|(v, owner)| Row {
                    id: v.id.to_string(),
                    cells: vec![
                        Cell::text(length(&v)),
                        Cell::text(owner),
                        match v.comment_id {
                            Some(comment) => Cell::link("The reply", href("comments", &comment.to_string())),
                            None => Cell::text("Not posted yet"),
                        },
                        Cell::text(v.status().label()),
                        Cell::text(size(&v)),
                        Cell::when(Some(v.created_at)),
                    ],
                })
                .collect(),
            total,
        ))
    }

    fn detail(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Detail> {
        let v = find(conn, id)?;
        let mut facts = vec![
            (
                "Comment",
                v.comment_id
                    .map(|c| format!("/staff/comments/{c}"))
                    .unwrap_or_else(|| "Not posted yet".to_owned()),
            ),
            (
                "Video",
                v.video_id
                    .map(|video| format!("/staff/videos/{video}"))
                    .unwrap_or_else(|| "–".to_owned()),
            ),
            ("Length", length(&v)),
            ("Status", repr(&v)),
            ("Player actions", actions(&v)),
            ("Size", size(&v)),
            ("Recorded", v.created_at.to_string()),
        ];
        if let Some(error) = &v.processing_error {
            facts.push(("Processing", error.clone()));
        }
        if let Some(transcript) = &v.transcript {
            facts.push(("Transcript", excerpt(transcript, 200)));
        }
        Ok(Detail {
            repr: repr(&v),
            fields: Vec::new(),
            facts,
        })
    }

    fn delete_preview(&self, conn: &mut DbConn, id: &str) -> StaffResult<Vec<String>> {
        let v = find(conn, id)?;
        Ok(vec![
            format!("The voice-over {} with its timeline ({}).", repr(&v), actions(&v)),
            "Its sound files are removed by the worker's hourly clean-up.".into(),
            "The reply it is on stays, with its text and drawings.".into(),
        ])
    }

    fn delete(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Entry> {
        let v = find(conn, id)?;
        diesel::delete(comments_voiceover::table.find(v.id)).execute(conn)?;
        Ok(Entry::new("delete", "voiceovers", v.id, repr(&v)))
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
