//! Clips cut from videos.

use diesel::prelude::*;

use crate::accounts::forms::FieldErrors;
use crate::db::schema::{comments_videocomment, core_videoasset, core_videoclip};
use crate::db::{DbConn, Id, Ts};
use crate::staff::audit::Entry;
use crate::staff::model::*;
use crate::videos::pages::clock;
use crate::videos::queries::{self, Clip};
use crate::web::auth::CurrentUser;

pub struct Clips;

const COLUMNS: &[ListColumn] = &[
    col("range", "Range", true),
    col("video", "Video", true),
    col("duration", "Duration", true),
    col("status", "Status", true),
    col("created", "Cut", true),
];

fn find(conn: &mut DbConn, id: &str) -> StaffResult<Clip> {
    let id: Id = parse_id(id)?;
    found(queries::find_clip(conn, id))
}

fn repr(clip: &Clip) -> String {
    format!(
        "{}–{} ({})",
        clock(clip.start_time),
        clock(clip.end_time),
        clip.clip_hash
    )
}

macro_rules! filtered {
    ($params:expr) => {{
        let params = $params;
        let mut query = core_videoclip::table.inner_join(core_videoasset::table).into_boxed();
        if let Some(pattern) = params.like() {
            query = query.filter(search!(
                "core_videoclip.clip_hash || ' ' || coalesce(core_videoasset.title, '') || ' ' || core_videoasset.orig_filename",
                pattern
            ));
        }
        if let Some(status) = params.choice("status") {
            query = query.filter(core_videoclip::processing_status.eq(status.to_owned()));
        }
        if let Some(video) = params.choice("video") {
            match video.parse::<Id>() {
                Ok(video) => query = query.filter(core_videoclip::original_video_id.eq(video)),
                Err(_) => query = query.filter(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 0")),
            }
        }
        if let Some(since) = params.since("created") {
            query = query.filter(core_videoclip::created_at.ge(since));
        }
        if let Some(before) = params.before("created") {
            query = query.filter(core_videoclip::created_at.lt(before));
        }
        query
    }};
}

impl StaffModel for Clips {
    fn slug(&self) -> &'static str {
        "clips"
    }
    fn plural(&self) -> &'static str {
        "Clips"
    }
    fn singular(&self) -> &'static str {
        "clip"
    }
    fn columns(&self) -> &'static [ListColumn] {
        COLUMNS
    }
    fn search_hint(&self) -> &'static str {
        "Clip hash or video file name"
    }

    fn filters(&self, _conn: &mut DbConn) -> QueryResult<Vec<FilterSpec>> {
        Ok(vec![
            choice("status", "Status", super::videos::STATUSES),
            exact("video", "Video id"),
            dates("created", "Cut"),
        ])
    }

    fn list(&self, conn: &mut DbConn, params: &ListParams) -> QueryResult<(Vec<Row>, i64)> {
        let total: i64 = filtered!(params).count().get_result(conn)?;
        let rows: Vec<(Clip, String)> = sorted!(filtered!(params), params, core_videoclip::created_at.desc(), {
            "range" => core_videoclip::start_time,
            "video" => diesel::dsl::sql::<diesel::sql_types::Text>("coalesce(core_videoasset.title, core_videoasset.orig_filename)"),
            "duration" => core_videoclip::duration,
            "status" => core_videoclip::processing_status,
            "created" => core_videoclip::created_at,
        })
        .then_order_by(core_videoclip::id.desc())
        .offset(params.offset())
        .limit(PER_PAGE)
        .select((Clip::as_select(), crate::videos::queries::Asset::as_select()))
        .load::<(Clip, crate::videos::queries::Asset)>(conn)?
        .into_iter()
        .map(|(clip, video)| (clip, video.display_title()))
        .collect::<Vec<_>>();
        Ok((
            rows.into_iter()
                .map(|(c, video)| Row {
                    id: c.id.to_string(),
                    cells: vec![
                        Cell::text(format!("{}–{}", clock(c.start_time), clock(c.end_time))),
                        Cell::link(excerpt(&video, 50), href("videos", &c.original_video_id.to_string())),
                        Cell::text(clock(c.duration)),
                        Cell::badge(c.processing_status.clone(), c.processing_status.clone()),
                        Cell::when(Some(c.created_at)),
                    ],
                })
                .collect(),
            total,
        ))
    }

    fn detail(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Detail> {
        let c = find(conn, id)?;
        let statuses = super::videos::STATUSES
            .iter()
            .map(|(v, l)| (v.to_string(), l.to_string()))
            .collect();
        Ok(Detail {
            repr: repr(&c),
            fields: vec![
                Field::new(
                    "processing_status",
                    "Status",
                    InputKind::Select(statuses),
                    c.processing_status.clone(),
                )
                .hint("Setting it by hand does not cut the clip: the worker does that."),
                Field::new(
                    "processing_error",
                    "Processing error",
                    InputKind::Textarea,
                    c.processing_error.clone().unwrap_or_default(),
                ),
            ],
            facts: vec![
                ("Video", format!("/staff/videos/{}", c.original_video_id)),
                ("Range", format!("{}–{}", clock(c.start_time), clock(c.end_time))),
                (
                    "Size",
                    c.size_bytes
                        .map(crate::videos::pages::human_size)
                        .unwrap_or_else(|| "—".into()),
                ),
                ("Cut", c.created_at.to_string()),
            ],
        })
    }

    fn save(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser, input: &Input) -> StaffResult<Entry> {
        let c = find(conn, id)?;
        let status = input.text("processing_status");
        let error = Some(input.text("processing_error")).filter(|e| !e.is_empty());
        let mut errors = FieldErrors::default();
        if !super::videos::STATUSES.iter().any(|(v, _)| *v == status) {
            errors.add("processing_status", "Choose pending, processing, ready or failed.");
        }
        if status == "failed" && error.is_none() {
            errors.add("processing_error", "Say what failed.");
        }
        if !errors.is_empty() {
            return Err(StaffError::Invalid(errors));
        }
        let mut entry = Entry::new("change", "clips", c.id, repr(&c));
        if status != c.processing_status {
            entry = entry.change("processing_status", c.processing_status.clone(), status.clone());
        }
        if error != c.processing_error {
            entry = entry.change("processing_error", c.processing_error.clone(), error.clone());
        }
        if !entry.changes.is_empty() {
            diesel::update(core_videoclip::table.find(c.id))
                .set((
                    core_videoclip::processing_status.eq(&status),
                    core_videoclip::processing_error.eq(&error),
                    core_videoclip::updated_at.eq(Ts::now()),
                ))
                .execute(conn)?;
        }
        Ok(entry)
    }

    fn related(&self, _conn: &mut DbConn, _id: &str) -> QueryResult<Vec<Related>> {
        Ok(Vec::new())
    }

    fn delete_preview(&self, conn: &mut DbConn, id: &str) -> StaffResult<Vec<String>> {
        let c = find(conn, id)?;
        let comments: i64 = comments_videocomment::table
            .filter(comments_videocomment::clip_id.eq(c.id))
            .count()
            .get_result(conn)?;
        Ok(vec![
            format!("The clip {}.", repr(&c)),
            format!("{comments} comment(s) that attach it stay, without the clip."),
            "Its file.".into(),
        ])
    }

    fn stored_files(&self, conn: &mut DbConn, id: &str) -> StaffResult<Vec<String>> {
        Ok(vec![find(conn, id)?.storage_path])
    }

    fn delete(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Entry> {
        let c = find(conn, id)?;
        diesel::delete(core_videoclip::table.find(c.id)).execute(conn)?;
        Ok(Entry::new("delete", "clips", c.id, repr(&c)))
    }
}
