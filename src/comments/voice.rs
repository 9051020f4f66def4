//! Voice-overs: the coach's voice over an attempt, recorded in the browser
//! (MediaRecorder) while they play, pause, seek, change speed and draw.
//!
//! - The sound arrives through the resumable upload path (`videos::tus`,
//!   metadata `purpose: voiceover`): its first bytes must be WebM, Ogg or
//!   MP4 audio, and ffprobe and a decode check must find sound only, with a
//!   length of at most [`MAX_SECONDS`]. It is kept as a row of
//!   `comments_voiceover` owned by the coach, not yet on a comment, and a
//!   job ([`PROCESS_VOICEOVER`]) makes its web version (mono Opus in WebM).
//! - The reply that keeps it sends the row's id and the timeline of player
//!   actions as JSON, checked here against a strict schema ([`Event`]:
//!   unknown fields or actions are refused, times in order and bounded,
//!   values within the attempt, at most [`MAX_EVENTS`] and
//!   [`MAX_TIMELINE_BYTES`]), and an optional transcript.
//! - Who may hear it follows the comment (`accounts::permissions`).
//!   Unposted recordings are removed by the worker's hourly housekeeping
//!   after [`UNPOSTED_HOURS`], and files whose row is gone at its next run.

use std::collections::HashMap;
use std::path::Path;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::{comments_voiceover, videos_upload};
use crate::db::{DbConn, Id, Json, Ts};
use crate::jobs::registry::payload_id;
use crate::jobs::worker::{blocking, until_recorded, JobContext};
use crate::jobs::{Chore, JobError, JobKind, Registry};
use crate::media::probe::{self, ProbeError};
use crate::media::storage::Staging;
use crate::media::{transcode, Container, Placed, Storage, ToolError, Tools};
use crate::videos::pages::clock;

/// The longest voice-over, in seconds.
pub const MAX_SECONDS: f64 = 600.0;
/// The largest recording accepted (10 minutes of browser Opus is ~5 MB).
pub const MAX_AUDIO_BYTES: u64 = 64 * 1024 * 1024;
/// Player actions in one timeline.
pub const MAX_EVENTS: usize = 2000;
/// Bytes of the timeline field as it arrives.
pub const MAX_TIMELINE_BYTES: usize = 128 * 1024;
/// Characters of a transcript.
pub const MAX_TRANSCRIPT: usize = 5_000;
/// A recording not posted with a reply within this many hours is removed.
pub const UNPOSTED_HOURS: i64 = 24;
/// The upload metadata that marks a voice-over.
pub const PURPOSE: &str = "voiceover";

/// Process a voice-over's upload: `{"voiceover_id": uuid}`.
pub const PROCESS_VOICEOVER: &str = "process_voiceover";

/// A player action while recording.
#[derive(Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Playback starts at `value` seconds of the attempt.
    Play,
    /// Playback stops at `value` seconds.
    Pause,
    /// The attempt jumps to `value` seconds.
    Seek,
    /// The speed becomes `value` (0.1 to 2).
    Rate,
    /// The reply's drawing number `value` (0-based, in the reply's order)
    /// appears.
    Draw,
}

/// One action, `t_ms` milliseconds into the recording.
#[derive(Deserialize, Serialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub t_ms: u32,
    pub action: Action,
    pub value: f64,
}

/// Parses the `voiceover_timeline` field (empty: no actions): the schema,
/// the size, times in order. What depends on the attempt and the drawings
/// is [`check_timeline`]'s. Errors are sentences for the form.
pub fn parse_timeline(raw: &str) -> Result<Vec<Event>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    if raw.len() > MAX_TIMELINE_BYTES {
        return Err(format!(
            "The voice-over's timeline is too large ({} KiB; at most {} KiB). Record a shorter voice-over.",
            raw.len().div_ceil(1024),
            MAX_TIMELINE_BYTES / 1024
        ));
    }
    let mut events: Vec<Event> = serde_json::from_str(raw)
        .map_err(|_| "The voice-over's timeline could not be read. Record the voice-over again.".to_owned())?;
    if events.len() > MAX_EVENTS {
        return Err(format!(
            "The voice-over's timeline has more than {MAX_EVENTS} player actions."
        ));
    }
    let max_ms = (MAX_SECONDS * 1000.0) as u32;
    let mut last = 0;
    for event in &mut events {
        if event.t_ms < last || event.t_ms > max_ms {
            return Err("The voice-over's timeline is out of order or longer than the recording allows.".to_owned());
        }
        last = event.t_ms;
        let v = event.value;
        let ok = v.is_finite()
            && match event.action {
                Action::Play | Action::Pause | Action::Seek => v >= 0.0,
                Action::Rate => (0.1 - 1e-9..=2.0 + 1e-9).contains(&v),
                Action::Draw => v >= 0.0 && v.fract() == 0.0,
            };
        if !ok {
            return Err("The voice-over's timeline has an action with an impossible value.".to_owned());
        }
        event.value = (v * 1000.0).round() / 1000.0;
    }
    Ok(events)
}

/// The checks against the reply: times within the attempt (`duration`
/// seconds, when known), drawings that the reply holds.
pub fn check_timeline(events: &[Event], duration: Option<f64>, drawings: usize) -> Result<(), String> {
    for event in events {
        match event.action {
            Action::Draw if event.value as usize >= drawings => {
                return Err("The voice-over shows a drawing that the reply does not hold.".to_owned())
            }
            Action::Play | Action::Pause | Action::Seek if duration.is_some_and(|d| event.value > d + 0.5) => {
                return Err("The voice-over's timeline goes past the end of the attempt.".to_owned())
            }
            _ => {}
        }
    }
    Ok(())
}

/// Where a voice-over is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Processing,
    Ready,
    /// Processing failed for good (a tool missing); the reasons are kept.
    Failed,
    /// Not usable sound: refused by the job, its file removed.
    Invalid,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Processing => "processing",
            Status::Ready => "ready",
            Status::Failed => "failed",
            Status::Invalid => "invalid",
        }
    }

    pub fn parse(value: &str) -> Status {
        match value {
            "processing" => Status::Processing,
            "ready" => Status::Ready,
            "failed" => Status::Failed,
            "invalid" => Status::Invalid,
            _ => Status::Pending,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Pending => "waiting to be processed",
            Status::Processing => "being processed",
            Status::Ready => "ready",
            Status::Failed => "processing failed",
            Status::Invalid => "not usable sound",
        }
    }
}

/// A stored voice-over.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = comments_voiceover)]
pub struct VoiceoverRow {
    pub id: Id,
    pub owner_id: i32,
    pub comment_id: Option<Id>,
    pub video_id: Option<Id>,
    pub original_path: String,
    pub original_mime: String,
    pub original_size: i64,
    pub audio_path: Option<String>,
    pub audio_size: Option<i64>,
    pub duration_ms: Option<i32>,
    pub timeline: Json,
    pub transcript: Option<String>,
    pub status: String,
    pub processing_error: Option<String>,
    pub created_at: Ts,
    pub processed_at: Option<Ts>,
}

impl VoiceoverRow {
    pub fn status(&self) -> Status {
        Status::parse(&self.status)
    }

    pub fn seconds(&self) -> Option<f64> {
        self.duration_ms.map(|ms| f64::from(ms) / 1000.0)
    }

    /// "a voice-over of 0:42" ("a voice-over" until its length is known).
    pub fn describe(&self) -> String {
        match self.seconds() {
            Some(s) => format!("a voice-over of {}", clock(s.round())),
            None => "a voice-over".to_owned(),
        }
    }

    pub fn audio_url(&self) -> String {
        format!("/voiceovers/{}/audio", self.id)
    }

    /// The checked, stored timeline.
    pub fn events(&self) -> Vec<Event> {
        serde_json::from_value(self.timeline.0.clone()).unwrap_or_default()
    }
}

/// The recording as received, by its container.
pub fn original_path(id: Id, container: Container) -> String {
    let extension = match container {
        Container::Mp4 | Container::QuickTime => "m4a",
        other => other.extension(),
    };
    format!("voiceovers/originals/{}.{extension}", id.0.simple())
}

/// The web version the job makes.
pub fn audio_path(id: Id) -> String {
    format!("voiceovers/{}.webm", id.0.simple())
}

pub fn original_mime(container: Container) -> &'static str {
    match container {
        Container::WebM | Container::Matroska => "audio/webm",
        Container::Ogg => "audio/ogg",
        Container::Mp4 | Container::QuickTime => "audio/mp4",
    }
}

/// Whether an upload's metadata (tus `Upload-Metadata`) marks a voice-over.
pub fn is_voiceover_upload(metadata: &serde_json::Value) -> bool {
    metadata.get("purpose").and_then(|p| p.as_str()) == Some(PURPOSE)
}

/// ffprobe's and the decoder's verdict on an uploaded recording: the
/// problems, in words (empty: usable). Without ffprobe on this server the
/// file is taken on its first bytes (the job fails it, for want of ffmpeg).
pub async fn check_recording(tools: &Tools, path: &Path, container: Container) -> anyhow::Result<Vec<String>> {
    match probe::run(tools, path, "the recording").await {
        Ok(found) => {
            let problems = probe::audio_problems(&found, Some(container), MAX_SECONDS);
            if !problems.is_empty() {
                return Ok(problems);
            }
            match probe::decode_check_audio(tools, path, "the recording", found.duration).await {
                Ok(()) => Ok(Vec::new()),
                Err(ProbeError::Unreadable(message)) => Ok(vec![message]),
                Err(ProbeError::Tool(error)) => {
                    tracing::warn!(%error, "could not decode-check a voice-over; the worker will");
                    Ok(Vec::new())
                }
            }
        }
        Err(ProbeError::Unreadable(message)) => Ok(vec![message.replace("as a video", "as sound")]),
        Err(ProbeError::Tool(error)) if error.is_missing() => {
            tracing::warn!("ffprobe is not installed: accepting a voice-over on its first bytes alone");
            Ok(Vec::new())
        }
        Err(ProbeError::Tool(error)) => Err(anyhow::Error::new(error).context("checking a voice-over")),
    }
}

/// Keeps a checked recording: `staged` ([`Storage::stage`]) is put in
/// place, and the row, the upload's link to it and the processing job are
/// written in one transaction.
#[allow(clippy::too_many_arguments)]
pub fn store_recording(
    conn: &mut DbConn,
    id: Id,
    owner: i32,
    staged: Staging,
    relative: &str,
    container: Container,
    size: u64,
    upload: Id,
) -> anyhow::Result<()> {
    let placed = crate::db::write_transaction(conn, |c| -> anyhow::Result<Placed> {
        let placed = staged.commit()?;
        diesel::insert_into(comments_voiceover::table)
            .values((
                comments_voiceover::id.eq(id),
                comments_voiceover::owner_id.eq(owner),
                comments_voiceover::original_path.eq(relative),
                comments_voiceover::original_mime.eq(original_mime(container)),
                comments_voiceover::original_size.eq(i64::try_from(size).unwrap_or(i64::MAX)),
                comments_voiceover::timeline.eq(Json(serde_json::json!([]))),
                comments_voiceover::status.eq(Status::Pending.as_str()),
                comments_voiceover::created_at.eq(Ts::now()),
            ))
            .execute(c)?;
        diesel::update(videos_upload::table.find(upload))
            .set(videos_upload::voiceover_id.eq(Some(id)))
            .execute(c)?;
        crate::jobs::queue::enqueue(
            c,
            PROCESS_VOICEOVER,
            serde_json::json!({ "voiceover_id": id.to_string() }),
        )?;
        Ok(placed)
    })?;
    placed.keep();
    Ok(())
}

pub fn find(conn: &mut DbConn, id: Id) -> QueryResult<Option<VoiceoverRow>> {
    comments_voiceover::table
        .find(id)
        .select(VoiceoverRow::as_select())
        .first(conn)
        .optional()
}

/// Puts an unposted recording of `owner` on comment `comment` (the attempt
/// `video`), with its timeline and transcript, inside the caller's
/// transaction. `false`: it is gone, someone else's, or already posted.
pub fn attach(
    conn: &mut DbConn,
    id: Id,
    owner: i32,
    comment: Id,
    video: Id,
    timeline: &[Event],
    transcript: Option<&str>,
) -> QueryResult<bool> {
    let timeline = serde_json::to_value(timeline).unwrap_or_else(|_| serde_json::json!([]));
    diesel::update(
        comments_voiceover::table
            .filter(comments_voiceover::id.eq(id))
            .filter(comments_voiceover::owner_id.eq(owner))
            .filter(comments_voiceover::comment_id.is_null()),
    )
    .set((
        comments_voiceover::comment_id.eq(Some(comment)),
        comments_voiceover::video_id.eq(Some(video)),
        comments_voiceover::timeline.eq(Json(timeline)),
        comments_voiceover::transcript.eq(transcript),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// The voice-overs of these comments, by comment: one query.
pub fn of_comments(conn: &mut DbConn, ids: &[Id]) -> QueryResult<HashMap<Id, VoiceoverRow>> {
    let rows: Vec<VoiceoverRow> = comments_voiceover::table
        .filter(comments_voiceover::comment_id.eq_any(ids))
        .select(VoiceoverRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|row| row.comment_id.map(|c| (c, row)))
        .collect())
}

fn set_status(conn: &mut DbConn, id: Id, status: Status, error: Option<&str>) -> QueryResult<()> {
    diesel::update(comments_voiceover::table.find(id))
        .set((
            comments_voiceover::status.eq(status.as_str()),
            comments_voiceover::processing_error.eq(error),
        ))
        .execute(conn)
        .map(drop)
}

fn set_ready(conn: &mut DbConn, id: Id, duration_ms: i32, size: i64) -> QueryResult<()> {
    diesel::update(comments_voiceover::table.find(id))
        .set((
            comments_voiceover::status.eq(Status::Ready.as_str()),
            comments_voiceover::processing_error.eq(None::<String>),
            comments_voiceover::audio_path.eq(Some(audio_path(id))),
            comments_voiceover::audio_size.eq(Some(size)),
            comments_voiceover::duration_ms.eq(Some(duration_ms)),
            comments_voiceover::processed_at.eq(Some(Ts::now())),
        ))
        .execute(conn)
        .map(drop)
}

fn tool_error(error: ToolError) -> JobError {
    match error {
        ToolError::Missing { .. } => JobError::Permanent(format!("{error}: the voice-over cannot be processed.")),
        other => JobError::Retry(other.to_string()),
    }
}

/// The job: probe the recording again (sound only, a length, within the
/// limit, decodes to the end), make its Opus/WebM version, probe that for
/// its length, and mark the voice-over ready. A recording that is not
/// usable sound is marked invalid with the reasons, and its file goes.
pub async fn process(ctx: &JobContext, id: Id) -> Result<(), JobError> {
    let Some(row) = blocking(&ctx.pool, move |c| find(c, id)).await? else {
        return Ok(());
    };
    let input = match ctx.storage.fetch_async(&row.original_path).await {
        Ok(input) => input,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return rejected(ctx, &row, vec!["The recording is missing from storage.".to_owned()]).await
        }
        Err(error) if error.kind() == std::io::ErrorKind::InvalidInput => {
            return Err(JobError::Permanent("the voice-over has no stored file".to_owned()))
        }
        Err(error) => return Err(JobError::Retry(format!("reading the recording: {error}"))),
    };
    blocking(&ctx.pool, move |c| set_status(c, id, Status::Processing, None)).await?;
    let container = match row.original_mime.as_str() {
        "audio/ogg" => Container::Ogg,
        "audio/mp4" => Container::Mp4,
        _ => Container::WebM,
    };
    let found = match probe::run(&ctx.tools, &input, "the recording").await {
        Ok(found) => found,
        Err(ProbeError::Unreadable(message)) => return rejected(ctx, &row, vec![message]).await,
        Err(ProbeError::Tool(error)) => return Err(tool_error(error)),
    };
    let problems = probe::audio_problems(&found, Some(container), MAX_SECONDS);
    let (Some(duration), true) = (found.duration, problems.is_empty()) else {
        return rejected(ctx, &row, problems).await;
    };
    match probe::decode_check_audio(&ctx.tools, &input, "the recording", Some(duration)).await {
        Ok(()) => {}
        Err(ProbeError::Unreadable(message)) => return rejected(ctx, &row, vec![message]).await,
        Err(ProbeError::Tool(error)) => return Err(tool_error(error)),
    }
    let relative = audio_path(id);
    ctx.storage.remove_stale_parts(&relative);
    let (part, _) = ctx
        .storage
        .part_for(&relative)
        .map_err(|e| JobError::Retry(format!("preparing the voice-over: {e}")))?;
    transcode::voice_opus(&ctx.tools, &input, part.path(), duration)
        .await
        .map_err(tool_error)?;
    // The web version's own length: what the player will play.
    let made = match probe::run(&ctx.tools, part.path(), "the voice-over").await {
        Ok(made) => made,
        Err(ProbeError::Unreadable(message)) => return Err(JobError::Retry(message)),
        Err(ProbeError::Tool(error)) => return Err(tool_error(error)),
    };
    let problems = probe::audio_problems(&made, Some(Container::WebM), MAX_SECONDS);
    let Some(seconds) = made.duration.filter(|_| problems.is_empty()) else {
        return Err(JobError::Retry(format!(
            "the processed voice-over is not playable sound: {}",
            problems.join(" ")
        )));
    };
    let size = ctx
        .storage
        .place_async(part, &relative, None)
        .await
        .map_err(|e| JobError::Retry(format!("saving the voice-over: {e}")))?;
    let duration_ms = (seconds * 1000.0).round().clamp(0.0, f64::from(i32::MAX)) as i32;
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    until_recorded("storing a processed voice-over", None, || {
        blocking(&ctx.pool, move |c| set_ready(c, id, duration_ms, size))
    })
    .await;
    Ok(())
}

async fn rejected(ctx: &JobContext, row: &VoiceoverRow, problems: Vec<String>) -> Result<(), JobError> {
    let id = row.id;
    tracing::info!(voiceover = %id, reason = %problems.join(" "), "voice-over rejected by processing");
    let text = problems.join(" ");
    until_recorded("marking a voice-over invalid", None, || {
        let text = text.clone();
        blocking(&ctx.pool, move |c| set_status(c, id, Status::Invalid, Some(&text)))
    })
    .await;
    let (storage, relative) = (ctx.storage.clone(), row.original_path.clone());
    if let Ok(Err(error)) = tokio::task::spawn_blocking(move || storage.remove(&relative)).await {
        tracing::warn!(voiceover = %id, %error, "could not remove a rejected recording");
    }
    Ok(())
}

/// Removes voice-overs never posted with a reply (older than
/// [`UNPOSTED_HOURS`]) and the files under `voiceovers/` that no row
/// names (a comment, an attempt or a user deleted with theirs, a staff
/// deletion). Returns how many went.
pub fn purge(conn: &mut DbConn, storage: &Storage) -> anyhow::Result<usize> {
    let before = Ts(Ts::now().0 - chrono::Duration::hours(UNPOSTED_HOURS));
    let stale: Vec<VoiceoverRow> = comments_voiceover::table
        .filter(comments_voiceover::comment_id.is_null())
        .filter(comments_voiceover::created_at.lt(before))
        .select(VoiceoverRow::as_select())
        .limit(500)
        .load(conn)?;
    let mut removed = 0;
    for row in &stale {
        diesel::delete(comments_voiceover::table.find(row.id)).execute(conn)?;
        for relative in std::iter::once(&row.original_path).chain(row.audio_path.as_ref()) {
            if let Err(error) = storage.remove(relative) {
                tracing::warn!(voiceover = %row.id, %error, "could not remove an unposted voice-over's file");
            }
        }
        removed += 1;
    }
    // A file is renamed into place just before its row commits: only
    // files older than a few minutes can be orphans.
    let age = std::time::Duration::from_secs(10 * 60);
    for folder in ["voiceovers", "voiceovers/originals"] {
        for (id, relative) in storage.settled_files(folder, "*", age) {
            let known: bool =
                diesel::select(diesel::dsl::exists(comments_voiceover::table.find(id))).get_result(conn)?;
            if !known && storage.remove(&relative).is_ok() {
                removed += 1;
            }
        }
    }
    Ok(removed)
}

pub fn register_jobs(registry: &mut Registry) {
    registry.chore(Chore {
        name: "remove unposted voice-overs",
        every: std::time::Duration::from_secs(3600),
        run: |ctx| {
            Box::pin(async move {
                let (pool, storage) = (ctx.pool.clone(), ctx.storage.clone());
                tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
                    let mut conn = pool.get()?;
                    purge(&mut conn, &storage)
                })
                .await?
            })
        },
    });
    registry.register(
        JobKind::new(PROCESS_VOICEOVER, |ctx, job| {
            Box::pin(async move { process(ctx, payload_id(job, "voiceover_id")?).await })
        })
        .on_failure(|ctx, job, message, retry_at| {
            Box::pin(async move {
                let Ok(id) = payload_id(job, "voiceover_id") else {
                    return Ok(());
                };
                let (status, text) = match retry_at {
                    Some(at) => (Status::Pending, format!("{message} (trying again after {at})")),
                    None => (Status::Failed, message.to_owned()),
                };
                blocking(&ctx.pool, move |c| set_status(c, id, status, Some(&text))).await
            })
        })
        .on_release(|ctx, job| {
            Box::pin(async move {
                match payload_id(job, "voiceover_id") {
                    Ok(id) => blocking(&ctx.pool, move |c| set_status(c, id, Status::Pending, None)).await,
                    Err(_) => Ok(()),
                }
            })
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeline_parses_and_is_rounded() {
        let events = parse_timeline(
            r#"[{"t_ms":0,"action":"seek","value":1.23456},{"t_ms":0,"action":"play","value":1.2},
                {"t_ms":900,"action":"rate","value":0.5},{"t_ms":1500,"action":"pause","value":1.7},
                {"t_ms":2000,"action":"draw","value":0}]"#,
        )
        .expect("valid");
        assert_eq!(events.len(), 5);
        assert_eq!(events[0].value, 1.235);
        assert_eq!(parse_timeline(" "), Ok(Vec::new()));
        assert!(check_timeline(&events, Some(6.0), 1).is_ok());
        assert!(
            check_timeline(&events, Some(6.0), 0).is_err(),
            "a drawing the reply lacks"
        );
        assert!(check_timeline(&events, Some(1.0), 1).is_err(), "past the attempt's end");
    }

    #[test]
    fn anything_off_schema_is_refused() {
        for bad in [
            "not json".to_owned(),
            "{}".to_owned(),
            r#"[{"t_ms":0,"action":"play","value":1,"extra":1}]"#.to_owned(),
            r#"[{"t_ms":0,"action":"explode","value":1}]"#.to_owned(),
            r#"[{"t_ms":-5,"action":"play","value":1}]"#.to_owned(),
            r#"[{"t_ms":10,"action":"play","value":1},{"t_ms":5,"action":"pause","value":1}]"#.to_owned(),
            r#"[{"t_ms":700000,"action":"play","value":1}]"#.to_owned(),
            r#"[{"t_ms":0,"action":"rate","value":3}]"#.to_owned(),
            r#"[{"t_ms":0,"action":"seek","value":-1}]"#.to_owned(),
            r#"[{"t_ms":0,"action":"draw","value":0.5}]"#.to_owned(),
            r#"[{"t_ms":0,"action":"play"}]"#.to_owned(),
            format!(
                "[{}]",
                vec![r#"{"t_ms":1,"action":"seek","value":1}"#; MAX_EVENTS + 1].join(",")
            ),
        ] {
            assert!(parse_timeline(&bad).is_err(), "{bad}");
        }
        let huge = format!(
            "[{}]",
            vec![r#"{"t_ms":1,"action":"seek","value":1.123456789}"#; 3000].join(",")
        );
        assert!(parse_timeline(&huge).expect_err("too large").contains("too large"));
    }
}
