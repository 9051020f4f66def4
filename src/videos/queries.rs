//! Videos and clips in the database: plain functions on a connection,
//! usable inside a transaction; no web types here.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::jobs as kinds;
use super::{Access, Status, TYPE_UPLOAD, TYPE_YOUTUBE};
use crate::db::schema::{
    auth_user, comments_videocomment, core_videoasset, core_videoclip, exercises_exercise, videos_upload,
};
use crate::db::{DbConn, Id, Json, Ts};
use crate::jobs::queue;
use crate::web::paging::{seek_from, Cursor, Start};

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = core_videoasset)]
pub struct Asset {
    pub id: Id,
    pub orig_filename: String,
    pub storage_path: Option<String>,
    pub mime_type: String,
    pub size_bytes: Option<i64>,
    pub checksum_sha256: Option<String>,
    pub poster_path: Option<String>,
    pub renditions: Json,
    pub youtube_url: Option<String>,
    pub video_type: String,
    pub duration_sec: Option<i32>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub processing_status: String,
    pub processing_error: Option<String>,
    pub processed_at: Option<Ts>,
    pub is_valid: bool,
    pub last_validated: Option<Ts>,
    pub validation_errors: Json,
    pub access_count: i32,
    pub last_accessed: Option<Ts>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub uploaded_by_id: Option<i32>,
    pub title: Option<String>,
    pub frame_rate: Option<f64>,
}

/// One entry of `renditions`: `{"360p": {"path", "width", "height", "size_bytes"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendition {
    pub path: String,
    pub width: u32,
    pub height: u32,
    pub size_bytes: u64,
}

impl Asset {
    pub fn status(&self) -> Status {
        Status::parse(&self.processing_status)
    }

    /// What the video is called: its title; for rows without one (the
    /// Django app's), the file name without its extension.
    pub fn display_title(&self) -> String {
        match self.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(title) => title.to_owned(),
            None if self.is_youtube() => "YouTube video".to_owned(),
            None => title_from_filename(&self.orig_filename),
        }
    }

    pub fn is_youtube(&self) -> bool {
        self.video_type == TYPE_YOUTUBE
    }

    /// The renditions by label; entries that do not read are skipped.
    pub fn renditions(&self) -> BTreeMap<String, Rendition> {
        self.renditions
            .0
            .as_object()
            .map(|map| {
                map.iter()
                    .filter_map(|(label, value)| serde_json::from_value(value.clone()).ok().map(|r| (label.clone(), r)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `validation_errors` as text (a list of strings, as Practika writes it).
    pub fn validation_errors(&self) -> Vec<String> {
        match &self.validation_errors.0 {
            serde_json::Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
            serde_json::Value::Null => Vec::new(),
            other => vec![other.to_string()],
        }
    }
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = core_videoclip)]
pub struct Clip {
    pub id: Id,
    pub clip_hash: String,
    pub start_time: f64,
    pub end_time: f64,
    pub duration: f64,
    pub storage_path: String,
    pub size_bytes: Option<i64>,
    pub processing_status: String,
    pub processing_error: Option<String>,
    pub processed_at: Option<Ts>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub original_video_id: Id,
}

impl Clip {
    pub fn status(&self) -> Status {
        Status::parse(&self.processing_status)
    }
}

#[derive(Insertable, Debug, Clone)]
#[diesel(table_name = core_videoasset)]
pub struct NewAsset {
    pub id: Id,
    pub orig_filename: String,
    pub storage_path: Option<String>,
    pub mime_type: String,
    pub size_bytes: Option<i64>,
    pub checksum_sha256: Option<String>,
    pub poster_path: Option<String>,
    pub renditions: Json,
    pub youtube_url: Option<String>,
    pub video_type: String,
    pub duration_sec: Option<i32>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub processing_status: String,
    pub processing_error: Option<String>,
    pub processed_at: Option<Ts>,
    pub is_valid: bool,
    pub last_validated: Option<Ts>,
    pub validation_errors: Json,
    pub access_count: i32,
    pub last_accessed: Option<Ts>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub uploaded_by_id: Option<i32>,
    pub title: Option<String>,
    pub frame_rate: Option<f64>,
}

/// A video's first title: the file name without its extension
/// (`"Scales, take 3.MOV"` → `"Scales, take 3"`).
pub fn title_from_filename(filename: &str) -> String {
    let name = filename.trim();
    let stem = match name.rsplit_once('.') {
        Some((stem, ext))
            if !stem.trim().is_empty()
                && (1..=5).contains(&ext.len())
                && ext.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            stem.trim()
        }
        _ => name,
    };
    if stem.is_empty() {
        "Untitled video".to_owned()
    } else {
        stem.chars().take(TITLE_MAX).collect()
    }
}

/// `core_videoasset.title` is a `varchar(255)`.
pub const TITLE_MAX: usize = 255;

impl NewAsset {
    /// A stored upload waiting for processing.
    pub fn upload(
        id: Id,
        orig_filename: &str,
        storage_path: String,
        mime_type: &str,
        size: u64,
        sha256: &str,
        uploader: i32,
    ) -> NewAsset {
        let now = Ts::now();
        NewAsset {
            id,
            orig_filename: orig_filename.to_owned(),
            storage_path: Some(storage_path),
            mime_type: mime_type.to_owned(),
            size_bytes: Some(i64::try_from(size).unwrap_or(i64::MAX)),
            checksum_sha256: Some(sha256.to_owned()),
            poster_path: None,
            renditions: Json::empty_object(),
            youtube_url: None,
            video_type: TYPE_UPLOAD.to_owned(),
            duration_sec: None,
            width: None,
            height: None,
            processing_status: Status::Pending.as_str().to_owned(),
            processing_error: None,
            processed_at: None,
            is_valid: true,
            last_validated: None,
            validation_errors: Json::empty_array(),
            access_count: 0,
            last_accessed: None,
            created_at: now,
            updated_at: now,
            uploaded_by_id: Some(uploader),
            title: Some(title_from_filename(orig_filename)),
            frame_rate: None,
        }
    }

    /// A YouTube link: nothing to process.
    pub fn youtube(canonical_url: &str, uploader: i32) -> NewAsset {
        let now = Ts::now();
        NewAsset {
            id: Id::new(),
            orig_filename: canonical_url.to_owned(),
            storage_path: None,
            mime_type: "video/youtube".to_owned(),
            size_bytes: None,
            checksum_sha256: None,
            poster_path: None,
            renditions: Json::empty_object(),
            youtube_url: Some(canonical_url.to_owned()),
            video_type: TYPE_YOUTUBE.to_owned(),
            duration_sec: None,
            width: None,
            height: None,
            processing_status: Status::Ready.as_str().to_owned(),
            processing_error: None,
            processed_at: Some(now),
            is_valid: true,
            last_validated: None,
            validation_errors: Json::empty_array(),
            access_count: 0,
            last_accessed: None,
            created_at: now,
            updated_at: now,
            uploaded_by_id: Some(uploader),
            title: None,
            frame_rate: None,
        }
    }
}

pub fn find_asset(conn: &mut DbConn, id: Id) -> QueryResult<Option<Asset>> {
    core_videoasset::table
        .find(id)
        .select(Asset::as_select())
        .first(conn)
        .optional()
}

/// Whether an exercise or a comment uses the video: two `EXISTS` on their
/// video indexes, one expression for every statement that asks.
macro_rules! attached {
    ($id:expr) => {
        diesel::dsl::exists(exercises_exercise::table.filter(exercises_exercise::video_asset_id.eq($id))).or(
            diesel::dsl::exists(comments_videocomment::table.filter(comments_videocomment::video_asset_id.eq($id))),
        )
    };
}

/// Whether an exercise or a comment uses the video.
pub fn is_attached(conn: &mut DbConn, id: Id) -> QueryResult<bool> {
    diesel::select(attached!(id)).get_result(conn)
}

pub fn access_of(conn: &mut DbConn, asset: &Asset) -> QueryResult<Access> {
    Ok(Access {
        uploaded_by_id: asset.uploaded_by_id,
        attached: is_attached(conn, asset.id)?,
    })
}

/// The video with what decides who may see it, in one statement: whether
/// an exercise or a comment uses it are `EXISTS` subqueries on their
/// video indexes.
pub fn find_with_access(conn: &mut DbConn, id: Id) -> QueryResult<Option<(Asset, Access)>> {
    let found: Option<(Asset, bool)> = core_videoasset::table
        .find(id)
        .select((Asset::as_select(), attached!(id)))
        .first(conn)
        .optional()?;
    Ok(found.map(|(asset, attached)| {
        let access = Access {
            uploaded_by_id: asset.uploaded_by_id,
            attached,
        };
        (asset, access)
    }))
}

/// A page of the videos list from `start` (seek by cursor, an offset for
/// old `?page=` links), up to `per_page + 1` rows: everyone's for staff
/// (with the uploader's username), otherwise the user's own, which the
/// `(uploaded_by_id, created_at)` index reads in order from the cursor.
/// Oldest first for `Start::Before`: see [`paging::seek`].
pub fn list_page(
    conn: &mut DbConn,
    user_id: i32,
    everyone: bool,
    start: Start,
    per_page: i64,
) -> QueryResult<Vec<(Asset, Option<String>)>> {
    let mut query = core_videoasset::table
        .left_join(auth_user::table)
        .select((Asset::as_select(), auth_user::username.nullable()))
        .limit(per_page + 1)
        .into_boxed();
    if !everyone {
        query = query.filter(core_videoasset::uploaded_by_id.eq(user_id));
    }
    let mut rows = seek_from!(query, start, core_videoasset::created_at, core_videoasset::id, per_page).load(conn)?;
    if let Start::Before(_) = start {
        rows.reverse();
    }
    Ok(rows)
}

/// A video's position in the videos list.
pub fn list_cursor(row: &(Asset, Option<String>)) -> Cursor {
    Cursor::new(row.0.created_at, row.0.id)
}

/// The newest `limit` videos: everyone's for staff (with the uploader's
/// username), otherwise the user's own uploads.
pub fn list(conn: &mut DbConn, user_id: i32, everyone: bool, limit: i64) -> QueryResult<Vec<(Asset, Option<String>)>> {
    list_page(conn, user_id, everyone, Start::first(), limit - 1)
}

/// Valid stored uploads with these bytes, oldest first.
pub fn find_by_checksum(conn: &mut DbConn, sha256: &str) -> QueryResult<Vec<Asset>> {
    core_videoasset::table
        .filter(core_videoasset::checksum_sha256.eq(sha256))
        .filter(core_videoasset::video_type.eq(TYPE_UPLOAD))
        .filter(core_videoasset::storage_path.is_not_null())
        .filter(core_videoasset::is_valid.eq(true))
        .order(core_videoasset::created_at.asc())
        .select(Asset::as_select())
        .load(conn)
}

pub fn find_youtube(conn: &mut DbConn, user_id: i32, url: &str) -> QueryResult<Option<Asset>> {
    core_videoasset::table
        .filter(core_videoasset::video_type.eq(TYPE_YOUTUBE))
        .filter(core_videoasset::youtube_url.eq(url))
        .filter(core_videoasset::uploaded_by_id.eq(user_id))
        .select(Asset::as_select())
        .first(conn)
        .optional()
}

/// Inserts the video and, for an upload still to process, its job, in one
/// transaction.
pub fn insert_asset(conn: &mut DbConn, new: &NewAsset) -> QueryResult<Asset> {
    conn.transaction(|c| {
        diesel::insert_into(core_videoasset::table).values(new).execute(c)?;
        if new.video_type == TYPE_UPLOAD && new.processing_status == Status::Pending.as_str() {
            enqueue_processing(c, new.id)?;
        }
        core_videoasset::table.find(new.id).select(Asset::as_select()).first(c)
    })
}

pub fn enqueue_processing(conn: &mut DbConn, id: Id) -> QueryResult<i64> {
    queue::enqueue(
        conn,
        kinds::PROCESS_VIDEO,
        serde_json::json!({ "asset_id": id.to_string() }),
    )
}

/// Queues a re-check of the stored file (staff pages call this).
pub fn request_revalidation(conn: &mut DbConn, id: Id) -> QueryResult<i64> {
    queue::enqueue(
        conn,
        kinds::REVALIDATE_VIDEO,
        serde_json::json!({ "asset_id": id.to_string() }),
    )
}

/// One playback started: counted once, not per range request.
pub fn record_playback(conn: &mut DbConn, id: Id) -> QueryResult<()> {
    diesel::update(core_videoasset::table.find(id))
        .set((
            core_videoasset::access_count.eq(core_videoasset::access_count + 1),
            core_videoasset::last_accessed.eq(Some(Ts::now())),
        ))
        .execute(conn)
        .map(drop)
}

/// Renames a video (the caller checked who may).
pub fn set_title(conn: &mut DbConn, id: Id, title: &str) -> QueryResult<()> {
    diesel::update(core_videoasset::table.find(id))
        .set((
            core_videoasset::title.eq(Some(title)),
            core_videoasset::updated_at.eq(Ts::now()),
        ))
        .execute(conn)
        .map(drop)
}

pub fn set_status(conn: &mut DbConn, id: Id, status: Status, error: Option<&str>) -> QueryResult<()> {
    diesel::update(core_videoasset::table.find(id))
        .set((
            core_videoasset::processing_status.eq(status.as_str()),
            core_videoasset::processing_error.eq(error),
            core_videoasset::updated_at.eq(Ts::now()),
        ))
        .execute(conn)
        .map(drop)
}

/// The results of processing a video.
#[derive(Debug, Clone)]
pub struct Processed {
    pub duration_sec: i32,
    pub width: i32,
    pub height: i32,
    pub frame_rate: Option<f64>,
    pub poster_path: Option<String>,
    pub renditions: BTreeMap<String, Rendition>,
}

/// The video is processed. The first time, its length counts towards the
/// uploader's `total_video_time` (reprocessing does not count it again).
pub fn set_processed(conn: &mut DbConn, id: Id, done: &Processed) -> QueryResult<()> {
    let now = Ts::now();
    let renditions =
        serde_json::to_value(&done.renditions).unwrap_or_else(|_| serde_json::Value::Object(Default::default()));
    crate::db::write_transaction(conn, |c| {
        let (processed_before, uploader): (Option<Ts>, Option<i32>) = core_videoasset::table
            .find(id)
            .select((core_videoasset::processed_at, core_videoasset::uploaded_by_id))
            .first(c)?;
        diesel::update(core_videoasset::table.find(id))
            .set((
                core_videoasset::duration_sec.eq(Some(done.duration_sec)),
                core_videoasset::width.eq(Some(done.width)),
                core_videoasset::height.eq(Some(done.height)),
                core_videoasset::frame_rate.eq(done.frame_rate),
                core_videoasset::poster_path.eq(done.poster_path.as_deref()),
                core_videoasset::renditions.eq(Json(renditions)),
                core_videoasset::processing_status.eq(Status::Ready.as_str()),
                core_videoasset::processing_error.eq(None::<String>),
                core_videoasset::processed_at.eq(Some(now)),
                core_videoasset::is_valid.eq(true),
                core_videoasset::validation_errors.eq(Json::empty_array()),
                core_videoasset::last_validated.eq(Some(now)),
                core_videoasset::updated_at.eq(now),
            ))
            .execute(c)?;
        if let (None, Some(uploader)) = (processed_before, uploader) {
            crate::accounts::queries::bump_metric(
                c,
                uploader,
                crate::accounts::queries::Counter::VideoSeconds,
                done.duration_sec.max(0),
            )?;
        }
        Ok(())
    })
}

/// The file is not a usable video: invalid, with the reasons, and failed.
pub fn set_invalid(conn: &mut DbConn, id: Id, problems: &[String]) -> QueryResult<()> {
    let now = Ts::now();
    diesel::update(core_videoasset::table.find(id))
        .set((
            core_videoasset::is_valid.eq(false),
            core_videoasset::validation_errors.eq(Json(serde_json::json!(problems))),
            core_videoasset::last_validated.eq(Some(now)),
            core_videoasset::processing_status.eq(Status::Failed.as_str()),
            core_videoasset::processing_error.eq(Some(problems.join(" "))),
            core_videoasset::processed_at.eq(Some(now)),
            core_videoasset::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Processing found the stored upload unusable: invalid, with the reasons.
/// Returns its file's path when no other video shares the file (it is then
/// forgotten here, and the caller deletes it once this has committed).
pub fn reject_upload(conn: &mut DbConn, id: Id, problems: &[String]) -> QueryResult<Option<String>> {
    crate::db::write_transaction(conn, |c| {
        let path: Option<String> = core_videoasset::table
            .find(id)
            .select(core_videoasset::storage_path)
            .first::<Option<String>>(c)
            .optional()?
            .flatten();
        set_invalid(c, id, problems)?;
        let Some(path) = path else { return Ok(None) };
        let shared: bool = diesel::select(diesel::dsl::exists(
            core_videoasset::table
                .filter(core_videoasset::storage_path.eq(&path))
                .filter(core_videoasset::id.ne(id)),
        ))
        .get_result(c)?;
        if shared {
            return Ok(None);
        }
        diesel::update(core_videoasset::table.find(id))
            .set(core_videoasset::storage_path.eq(None::<String>))
            .execute(c)?;
        Ok(Some(path))
    })
}

/// The outcome of a re-validation.
pub fn set_validation(
    conn: &mut DbConn,
    id: Id,
    is_valid: bool,
    problems: &[String],
    checksum: Option<&str>,
) -> QueryResult<()> {
    let now = Ts::now();
    diesel::update(core_videoasset::table.find(id))
        .set((
            core_videoasset::is_valid.eq(is_valid),
            core_videoasset::validation_errors.eq(Json(serde_json::json!(problems))),
            core_videoasset::last_validated.eq(Some(now)),
            core_videoasset::updated_at.eq(now),
        ))
        .execute(conn)?;
    if let Some(checksum) = checksum {
        // Rows from the Django app may have none: recorded at first check.
        diesel::update(
            core_videoasset::table
                .find(id)
                .filter(core_videoasset::checksum_sha256.is_null()),
        )
        .set(core_videoasset::checksum_sha256.eq(checksum))
        .execute(conn)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- clips

#[derive(Insertable, Debug, Clone)]
#[diesel(table_name = core_videoclip)]
pub struct NewClip {
    pub id: Id,
    pub clip_hash: String,
    pub start_time: f64,
    pub end_time: f64,
    pub duration: f64,
    pub storage_path: String,
    pub size_bytes: Option<i64>,
    pub processing_status: String,
    pub processing_error: Option<String>,
    pub processed_at: Option<Ts>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub original_video_id: Id,
}

/// The clip with this hash, made (with its job) if it did not exist.
/// Two requests for the same cut at the same instant get the same clip:
/// the unique `clip_hash` lets one insert through and the other find it.
/// Returns whether this call made it.
pub fn insert_or_get_clip(conn: &mut DbConn, new: &NewClip) -> QueryResult<(Clip, bool)> {
    crate::db::write_transaction(conn, |c| {
        let inserted = crate::for_each_backend!(&mut *c, |inner| {
            diesel::insert_into(core_videoclip::table)
                .values(new)
                .on_conflict(core_videoclip::clip_hash)
                .do_nothing()
                .execute(inner)
        })?;
        if inserted == 1 {
            queue::enqueue(c, kinds::CUT_CLIP, serde_json::json!({ "clip_id": new.id.to_string() }))?;
        }
        let clip = core_videoclip::table
            .filter(core_videoclip::clip_hash.eq(&new.clip_hash))
            .select(Clip::as_select())
            .first(c)?;
        Ok((clip, inserted == 1))
    })
}

pub fn find_clip(conn: &mut DbConn, id: Id) -> QueryResult<Option<Clip>> {
    core_videoclip::table
        .find(id)
        .select(Clip::as_select())
        .first(conn)
        .optional()
}

pub fn clips_of(conn: &mut DbConn, video_id: Id) -> QueryResult<Vec<Clip>> {
    core_videoclip::table
        .filter(core_videoclip::original_video_id.eq(video_id))
        .order((core_videoclip::start_time.asc(), core_videoclip::end_time.asc()))
        .select(Clip::as_select())
        .load(conn)
}

pub fn set_clip_status(conn: &mut DbConn, id: Id, status: Status, error: Option<&str>) -> QueryResult<()> {
    diesel::update(core_videoclip::table.find(id))
        .set((
            core_videoclip::processing_status.eq(status.as_str()),
            core_videoclip::processing_error.eq(error),
            core_videoclip::updated_at.eq(Ts::now()),
        ))
        .execute(conn)
        .map(drop)
}

pub fn set_clip_ready(conn: &mut DbConn, id: Id, size_bytes: u64) -> QueryResult<()> {
    let now = Ts::now();
    diesel::update(core_videoclip::table.find(id))
        .set((
            core_videoclip::size_bytes.eq(Some(i64::try_from(size_bytes).unwrap_or(i64::MAX))),
            core_videoclip::processing_status.eq(Status::Ready.as_str()),
            core_videoclip::processing_error.eq(None::<String>),
            core_videoclip::processed_at.eq(Some(now)),
            core_videoclip::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

// ---------------------------------------------------------------- resumable uploads

/// A resumable (tus) upload: how much has arrived, of how much.
#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = videos_upload)]
pub struct Resumable {
    pub id: Id,
    pub owner_id: i32,
    pub node_id: String,
    pub upload_length: i64,
    pub upload_offset: i64,
    pub filename: String,
    pub metadata: Json,
    pub video_id: Option<Id>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub expires_at: Ts,
    /// The voice-over it became (`comments::voice`).
    pub voiceover_id: Option<Id>,
}

impl Resumable {
    pub fn is_complete(&self) -> bool {
        self.upload_offset >= self.upload_length
    }
}

pub fn insert_resumable(conn: &mut DbConn, new: &Resumable) -> QueryResult<()> {
    diesel::insert_into(videos_upload::table)
        .values(new)
        .execute(conn)
        .map(drop)
}

pub fn find_resumable(conn: &mut DbConn, id: Id) -> QueryResult<Option<Resumable>> {
    videos_upload::table
        .find(id)
        .select(Resumable::as_select())
        .first(conn)
        .optional()
}

/// Records that the bytes up to `to` are on disk, if the offset is still
/// `from` (a terminated upload, or another request that got there first,
/// changes nothing). Each write pushes the expiry back.
pub fn advance_resumable(conn: &mut DbConn, id: Id, from: i64, to: i64, expires_at: Ts) -> QueryResult<bool> {
    let now = Ts::now();
    diesel::update(
        videos_upload::table
            .filter(videos_upload::id.eq(id))
            .filter(videos_upload::upload_offset.eq(from)),
    )
    .set((
        videos_upload::upload_offset.eq(to),
        videos_upload::updated_at.eq(now),
        videos_upload::expires_at.eq(expires_at),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// The video a finished upload became.
pub fn link_resumable(conn: &mut DbConn, id: Id, video: Id) -> QueryResult<()> {
    diesel::update(videos_upload::table.find(id))
        .set(videos_upload::video_id.eq(Some(video)))
        .execute(conn)
        .map(drop)
}

pub fn delete_resumable(conn: &mut DbConn, id: Id) -> QueryResult<bool> {
    diesel::delete(videos_upload::table.find(id))
        .execute(conn)
        .map(|n| n == 1)
}

/// Up to `limit` uploads whose expiry has passed, oldest first.
pub fn expired_resumables(conn: &mut DbConn, now: Ts, limit: i64) -> QueryResult<Vec<Id>> {
    videos_upload::table
        .filter(videos_upload::expires_at.lt(now))
        .order(videos_upload::expires_at.asc())
        .select(videos_upload::id)
        .limit(limit)
        .load(conn)
}

/// Whether an upload row exists (the sweep of orphaned files asks).
pub fn resumable_exists(conn: &mut DbConn, id: Id) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(videos_upload::table.find(id))).get_result(conn)
}

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    total: i64,
}

/// The bytes a user's stored videos and voice-overs take (their rows'
/// sizes, from the uploader and owner indexes: right whoever wrote the
/// rows; a voice-over's recording and its web version both count) plus the
/// declared lengths of their unfinished, unexpired resumable uploads
/// (promised space).
pub fn storage_used(conn: &mut DbConn, owner: i32, now: Ts) -> QueryResult<(i64, i64)> {
    let stored: Total = diesel::sql_query(
        "SELECT CAST(COALESCE((SELECT SUM(size_bytes) FROM core_videoasset WHERE uploaded_by_id = $1), 0) \
           + COALESCE((SELECT SUM(original_size + COALESCE(audio_size, 0)) FROM comments_voiceover \
                       WHERE owner_id = $2), 0) AS BIGINT) AS total",
    )
    .bind::<diesel::sql_types::Integer, _>(owner)
    .bind::<diesel::sql_types::Integer, _>(owner)
    .get_result(conn)?;
    let pending: Option<i64> = videos_upload::table
        .filter(videos_upload::owner_id.eq(owner))
        .filter(videos_upload::video_id.is_null())
        // A finished upload that became a voice-over counts as the voice-over.
        .filter(videos_upload::voiceover_id.is_null())
        .filter(videos_upload::expires_at.ge(now))
        .select(
            diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>>(
                "CAST(SUM(upload_length) AS BIGINT)",
            ),
        )
        .first(conn)?;
    Ok((stored.total, pending.unwrap_or(0)))
}
