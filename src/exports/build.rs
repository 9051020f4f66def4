//! Building an export: one loader reads the user's rows (a fixed number of
//! statements), then a blocking task writes the ZIP into a temporary file
//! beside its final place under the media root, copying each media file
//! through in blocks (memory does not grow with the videos), and renames it
//! into place when complete. The email job announces it.

use std::collections::HashSet;
use std::io::{Read, Seek, Write};

use anyhow::Context;
use diesel::prelude::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::queries::{self, DataExport};
use crate::accounts::queries::{display_names, find_auth_user};
use crate::accounts::tokens;
use crate::comments::queries::Comment;
use crate::comments::studio::DrawingRow;
use crate::comments::voice::VoiceoverRow;
use crate::db::schema::{
    comments_drawing, comments_videocomment, comments_voiceover, core_videoasset, exercises_exercise,
};
use crate::db::{self, DbConn, Id, Ts};
use crate::email::{ExportReadyEmail, Outgoing};
use crate::exercises::queries::Exercise;
use crate::jobs::registry::payload_id;
use crate::jobs::{Chore, JobContext, JobError, JobKind, Registry};
use crate::media::Storage;
use crate::videos::queries::Asset;

/// Build an export: `{"export_id": uuid}`.
pub const BUILD_EXPORT: &str = "build_export";
/// Tell its owner it is ready: `{"export_id": uuid}`.
pub const SEND_EXPORT_READY: &str = "send_export_ready";

pub fn register_jobs(registry: &mut Registry) {
    registry
        .register(
            JobKind::new(BUILD_EXPORT, |ctx, job| {
                Box::pin(async move { build(ctx, payload_id(job, "export_id")?).await })
            })
            .on_failure(|ctx, job, message, retry_at| {
                Box::pin(async move {
                    let (Ok(id), None) = (payload_id(job, "export_id"), retry_at) else {
                        return Ok(());
                    };
                    let message = message.to_owned();
                    crate::jobs::worker::blocking(&ctx.pool, move |c| queries::mark_failed(c, id, &message)).await
                })
            }),
        )
        .register(JobKind::new(SEND_EXPORT_READY, |ctx, job| {
            Box::pin(async move { announce(&ctx.outgoing()?, payload_id(job, "export_id")?).await })
        }));
    registry.chore(Chore {
        name: "remove expired data exports",
        every: std::time::Duration::from_secs(3600),
        run: |ctx| {
            Box::pin(async move {
                let (pool, storage) = (ctx.pool.clone(), ctx.storage.clone());
                tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
                    let mut conn = pool.get()?;
                    purge(&mut conn, &storage, Ts::now())
                })
                .await?
            })
        },
    });
}

/// Queues the build (in the request's transaction).
pub fn queue(conn: &mut DbConn, id: Id) -> QueryResult<i64> {
    crate::jobs::queue::enqueue(conn, BUILD_EXPORT, json!({ "export_id": id.to_string() }))
}

/// The link of a ready export (its owner must be logged in to use it).
/// What the ZIP is called when downloaded.
pub fn download_name(ready_at: Ts) -> String {
    format!("practika-export-{}.zip", ready_at.0.format("%Y-%m-%d"))
}

pub fn download_path(export: &DataExport, secret: &[u8]) -> String {
    let id = export.id.to_string();
    let token = tokens::export_token(secret, &id, export.user_id, export.expires_at);
    format!("/data-exports/{id}/{token}")
}

pub(super) fn time(at: Ts) -> Value {
    Value::String(at.0.to_rfc3339())
}

fn time_or_null(at: Option<Ts>) -> Value {
    at.map_or(Value::Null, time)
}

/// A media file to copy into the ZIP: from where (relative to the media
/// root), under what name.
struct MediaFile {
    stored: String,
    name: String,
}

/// What goes into one user's export.
pub struct Contents {
    account: Value,
    exercises: Vec<Value>,
    videos: Vec<(Value, Option<MediaFile>)>,
    comments: Vec<Value>,
    replies: Vec<Value>,
    drawings: Vec<Value>,
    voiceovers: Vec<(Value, Option<MediaFile>)>,
    practice: Vec<Value>,
}

/// A file's extension as stored, if it is a plain one ("mp4", "webm").
fn extension(stored: &str) -> Option<&str> {
    let ext = stored.rsplit_once('.')?.1;
    (!ext.is_empty() && ext.len() <= 5 && ext.chars().all(|c| c.is_ascii_alphanumeric())).then_some(ext)
}

impl Contents {
    /// The user's rows in nine statements: the account, their exercises,
    /// their comments (with their exercises), the replies others wrote to
    /// them and those authors' names, the drawings on their comments,
    /// their voice-overs, their videos, and the practice log.
    pub fn load(conn: &mut DbConn, user_id: i32) -> QueryResult<Option<Contents>> {
        let Some(user) = find_auth_user(conn, user_id)? else {
            return Ok(None);
        };
        let account = json!({
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "role": user.profile.role,
            "date_joined": time(user.date_joined),
            "last_login": time_or_null(user.last_login),
            "preferences": user.profile.preferences.to_json().0,
        });
        let exercises: Vec<Exercise> = exercises_exercise::table
            .filter(exercises_exercise::created_by_id.eq(user_id))
            .order((exercises_exercise::created_at.asc(), exercises_exercise::id.asc()))
            .select(Exercise::as_select())
            .load(conn)?;
        let own: Vec<(Comment, String, Id)> = comments_videocomment::table
            .inner_join(exercises_exercise::table)
            .filter(comments_videocomment::author_id.eq(user_id))
            .order((comments_videocomment::created_at.asc(), comments_videocomment::id.asc()))
            .select((
                Comment::as_select(),
                exercises_exercise::name,
                exercises_exercise::video_asset_id,
            ))
            .load(conn)?;
        let parent = diesel::alias!(comments_videocomment as parent);
        let replies: Vec<Comment> = comments_videocomment::table
            .inner_join(
                parent.on(comments_videocomment::parent_id.eq(parent.field(comments_videocomment::id).nullable())),
            )
            .filter(parent.field(comments_videocomment::author_id).eq(user_id))
            .filter(comments_videocomment::author_id.ne(user_id))
            .order((comments_videocomment::created_at.asc(), comments_videocomment::id.asc()))
            .select(Comment::as_select())
            .load(conn)?;
        let authors: Vec<i32> = replies
            .iter()
            .map(|r| r.author_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let names = if authors.is_empty() {
            Default::default()
        } else {
            display_names(conn, &authors)?
        };
        let drawings: Vec<DrawingRow> = comments_drawing::table
            .inner_join(comments_videocomment::table)
            .filter(comments_videocomment::author_id.eq(user_id))
            .order((comments_drawing::comment_id.asc(), comments_drawing::position.asc()))
            .select(DrawingRow::as_select())
            .load(conn)?;
        let voiceovers: Vec<VoiceoverRow> = comments_voiceover::table
            .filter(comments_voiceover::owner_id.eq(user_id))
            .order((comments_voiceover::created_at.asc(), comments_voiceover::id.asc()))
            .select(VoiceoverRow::as_select())
            .load(conn)?;
        // Their videos: those they uploaded, their attempts' own videos
        // (the Django app's rows name no uploader) and their exercises'
        // demonstrations; never someone else's demonstration that a
        // comment without a video of its own points at.
        let mut linked: Vec<Id> = own
            .iter()
            .filter(|(c, _, demonstration)| c.video_asset_id != *demonstration)
            .map(|(c, _, _)| c.video_asset_id)
            .chain(exercises.iter().map(|e| e.video_asset_id))
            .collect();
        linked.sort();
        linked.dedup();
        let videos: Vec<Asset> = core_videoasset::table
            .filter(
                core_videoasset::uploaded_by_id
                    .eq(user_id)
                    .or(core_videoasset::id.eq_any(&linked)),
            )
            .order((core_videoasset::created_at.asc(), core_videoasset::id.asc()))
            .select(Asset::as_select())
            .load(conn)?;
        let practice = super::practice::practice_log(conn, user_id)?;

        let videos = videos
            .into_iter()
            .map(|v| {
                let file = v
                    .storage_path
                    .as_deref()
                    .filter(|_| !v.is_youtube())
                    .map(|stored| MediaFile {
                        stored: stored.to_owned(),
                        name: match extension(stored) {
                            Some(ext) => format!("videos/{}.{ext}", v.id.0.simple()),
                            None => format!("videos/{}", v.id.0.simple()),
                        },
                    });
                let row = json!({
                    "id": v.id,
                    "title": v.display_title(),
                    "original_filename": v.orig_filename,
                    "type": v.video_type,
                    "youtube_url": v.youtube_url,
                    "mime_type": v.mime_type,
                    "size_bytes": v.size_bytes,
                    "sha256": v.checksum_sha256,
                    "duration_seconds": v.duration_sec,
                    "width": v.width,
                    "height": v.height,
                    "frame_rate": v.frame_rate,
                    "created_at": time(v.created_at),
                });
                (row, file)
            })
            .collect();
        let comments = own
            .into_iter()
            .map(|(c, exercise, demonstration)| {
                json!({
                    "id": c.id,
                    "exercise_id": c.exercise_id,
                    "exercise": exercise,
                    "parent_id": c.parent_id,
                    "text": c.text,
                    "video_id": (c.video_asset_id != demonstration).then_some(c.video_asset_id),
                    "clip_id": c.clip_id,
                    "range_start": c.range_start,
                    "range_end": c.range_end,
                    "range_video_id": c.range_video_id,
                    "compare_offset": c.compare_offset,
                    "created_at": time(c.created_at),
                    "updated_at": time(c.updated_at),
                })
            })
            .collect();
        let replies = replies
            .into_iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "in_reply_to": r.parent_id,
                    "exercise_id": r.exercise_id,
                    "author": names.get(&r.author_id).cloned().unwrap_or_else(|| "someone".to_owned()),
                    "text": r.text,
                    "clip_id": r.clip_id,
                    "range_start": r.range_start,
                    "range_end": r.range_end,
                    "created_at": time(r.created_at),
                })
            })
            .collect();
        let drawings = drawings
            .into_iter()
            .map(|d| {
                json!({
                    "id": d.id,
                    "comment_id": d.comment_id,
                    "video_id": d.video_id,
                    "position": d.position,
                    "start_time": d.start_time,
                    "end_time": d.end_time,
                    "shapes": d.shapes.0,
                    "created_at": time(d.created_at),
                })
            })
            .collect();
        let voiceovers = voiceovers
            .into_iter()
            .map(|v| {
                let stored = v.audio_path.clone().unwrap_or_else(|| v.original_path.clone());
                let name = match extension(&stored) {
                    Some(ext) => format!("voiceovers/{}.{ext}", v.id.0.simple()),
                    None => format!("voiceovers/{}", v.id.0.simple()),
                };
                let row = json!({
                    "id": v.id,
                    "comment_id": v.comment_id,
                    "video_id": v.video_id,
                    "duration_ms": v.duration_ms,
                    "timeline": v.timeline.0,
                    "transcript": v.transcript,
                    "created_at": time(v.created_at),
                });
                (row, Some(MediaFile { stored, name }))
            })
            .collect();
        let exercises = exercises
            .into_iter()
            .map(|e| {
                json!({
                    "id": e.id,
                    "name": e.name,
                    "description": e.description,
                    "video_id": e.video_asset_id,
                    "created_at": time(e.created_at),
                    "updated_at": time(e.updated_at),
                })
            })
            .collect();
        Ok(Some(Contents {
            account,
            exercises,
            videos,
            comments,
            replies,
            drawings,
            voiceovers,
            practice,
        }))
    }
}

const README: &str = "Your data from Practika\n\
\n\
account.json     your account and settings\n\
exercises.json   the exercises you published\n\
videos.json      your videos; each uploaded file is in videos/ (\"file\"), with its SHA-256\n\
comments.json    everything you wrote: attempts (parent_id null) and replies\n\
replies.json     the replies others wrote to your comments\n\
drawings.json    the drawings on your replies (shapes in 0..1 of the picture)\n\
voiceovers.json  your voice-overs; each sound file is in voiceovers/ (\"file\")\n\
practice.json    your practice log\n\
\n\
Times are UTC (RFC 3339).\n";

/// Copies `from` into the open ZIP entry in blocks, hashing it on the way.
fn copy_hashed(mut from: impl Read, to: &mut impl Write) -> std::io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = from.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        to.write_all(&buffer[..n])?;
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// Writes the ZIP (blocking). Media are stored as they are (videos and
/// sound are compressed already), JSON deflated. A media file missing from
/// storage is noted in its JSON (`"file": null, "missing": true`).
pub fn write_zip<W: Write + Seek>(storage: &Storage, contents: Contents, out: W) -> anyhow::Result<W> {
    use zip::write::SimpleFileOptions;
    use zip::CompressionMethod;
    let mut zip = zip::ZipWriter::new(out);
    let text = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let media = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);

    let add_media =
        |zip: &mut zip::ZipWriter<W>, entries: Vec<(Value, Option<MediaFile>)>| -> anyhow::Result<Vec<Value>> {
            let mut rows = Vec::with_capacity(entries.len());
            for (mut row, file) in entries {
                // From the bucket, a downloaded copy (removed after).
                let found = file.and_then(|f| {
                    let fetched = storage.fetch(&f.stored).ok()?;
                    let opened = std::fs::File::open(fetched.path()).ok()?;
                    Some((f, opened, fetched))
                });
                match found {
                    Some((file, opened, _fetched)) => {
                        let size = opened.metadata().map(|m| m.len()).unwrap_or(0);
                        zip.start_file(file.name.as_str(), media.large_file(size >= u64::from(u32::MAX)))
                            .with_context(|| format!("adding {}", file.name))?;
                        let (sha256, copied) =
                            copy_hashed(opened, zip).with_context(|| format!("copying {}", file.stored))?;
                        row["file"] = Value::String(file.name);
                        row["file_sha256"] = Value::String(sha256);
                        row["file_size"] = json!(copied);
                    }
                    None => {
                        row["file"] = Value::Null;
                        if row.get("youtube_url").is_none_or(Value::is_null) {
                            row["missing"] = Value::Bool(true);
                        }
                    }
                }
                rows.push(row);
            }
            Ok(rows)
        };
    let videos = add_media(&mut zip, contents.videos)?;
    let voiceovers = add_media(&mut zip, contents.voiceovers)?;

    let files: [(&str, Value); 8] = [
        ("account.json", contents.account),
        ("exercises.json", Value::Array(contents.exercises)),
        ("videos.json", Value::Array(videos)),
        ("comments.json", Value::Array(contents.comments)),
        ("replies.json", Value::Array(contents.replies)),
        ("drawings.json", Value::Array(contents.drawings)),
        ("voiceovers.json", Value::Array(voiceovers)),
        ("practice.json", Value::Array(contents.practice)),
    ];
    for (name, value) in files {
        zip.start_file(name, text)?;
        serde_json::to_writer_pretty(&mut zip, &value).with_context(|| format!("writing {name}"))?;
    }
    zip.start_file("README.txt", text)?;
    zip.write_all(README.as_bytes())?;
    Ok(zip.finish()?)
}

/// The job: builds the ZIP of a pending export, records it ready (with the
/// email's job, in one transaction) and removes the user's older exports.
pub async fn build(ctx: &JobContext, id: Id) -> Result<(), JobError> {
    let found = db::run(&ctx.pool, move |c| {
        let Some(export) = queries::find(c, id)?.filter(|e| e.status() == super::Status::Pending) else {
            return Ok::<_, diesel::result::Error>(None);
        };
        Ok(Contents::load(c, export.user_id)?.map(|contents| (export, contents)))
    })
    .await
    .map_err(|e| JobError::Retry(format!("database: {e}")))?;
    // Done already, removed, or its user is gone.
    let Some((export, contents)) = found else {
        return Ok(());
    };
    let relative = Storage::data_export_path(id);
    let storage = ctx.storage.clone();
    storage.remove_stale_parts(&relative);
    let target = relative.clone();
    // The day in the download's name is the day it is ready.
    let now = Ts::now();
    let name = download_name(now);
    let size = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
        let (part, _) = storage.part_for(&target)?;
        let file = std::fs::File::create(part.path())?;
        let file = write_zip(&storage, contents, std::io::BufWriter::new(file))?
            .into_inner()
            .map_err(|e| e.into_error())?;
        file.sync_all()?;
        let size = file.metadata()?.len();
        drop(file);
        let extra = crate::media::storage::Extra {
            sha256: None,
            download: Some(&name),
        };
        storage.place_with(part, &target, extra)?.keep();
        Ok(size)
    })
    .await
    .map_err(|e| JobError::Retry(format!("the export's task stopped: {e}")))?
    .map_err(|e| JobError::Retry(format!("{e:#}")))?;
    let (user_id, stored) = (export.user_id, relative.clone());
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    let superseded = db::run(&ctx.pool, move |c| {
        db::write_transaction(c, |c| {
            if !queries::mark_ready(c, id, &stored, size, now)? {
                return Ok::<_, diesel::result::Error>(None);
            }
            crate::jobs::queue::enqueue(c, SEND_EXPORT_READY, json!({ "export_id": id.to_string() }))?;
            let older = queries::superseded(c, user_id, id)?;
            for export in &older {
                queries::delete(c, export.id)?;
            }
            Ok(Some(older))
        })
    })
    .await
    .map_err(|e| JobError::Retry(format!("database: {e}")))?;
    match superseded {
        Some(older) => {
            for path in older.iter().filter_map(|e| e.file_path.as_deref()) {
                if let Err(error) = ctx.storage.remove(path) {
                    tracing::warn!(%error, path, "could not remove a superseded export");
                }
            }
        }
        // Removed while it was built: its file goes too.
        None => {
            let _ = ctx.storage.remove(&relative);
        }
    }
    tracing::info!(export = %id, size_bytes = size, "data export built");
    Ok(())
}

/// The email: the download link, its size and until when it works.
pub async fn announce(out: &Outgoing<'_>, id: Id) -> Result<(), JobError> {
    let found = db::run(out.pool, move |c| {
        let Some(export) = queries::find(c, id)?.filter(|e| e.status() == super::Status::Ready) else {
            return Ok::<_, diesel::result::Error>(None);
        };
        Ok(find_auth_user(c, export.user_id)?.map(|user| (export, user)))
    })
    .await
    .map_err(|e| JobError::Retry(format!("database: {e}")))?;
    let Some((export, user)) = found.filter(|(_, user)| !user.email.trim().is_empty()) else {
        return Ok(());
    };
    let link = format!("{}{}", out.public_url, download_path(&export, out.secret));
    let to = user.email.clone();
    let rendered = ExportReadyEmail {
        recipient: user.into_current().display_name(),
        link: link.clone(),
        size: crate::videos::handlers::mib(u64::try_from(export.size_bytes.unwrap_or(0)).unwrap_or(0)),
        expires: export.expires_at.0.format("%-d %B %Y, %H:%M UTC").to_string(),
        site: out.public_url.to_owned(),
    }
    .render(&to, &link);
    Ok(out.deliver(rendered).await?)
}

/// Removes exports past their time (file and row), and files under
/// `data-exports/` whose row is gone (a deleted user), once a few minutes old.
pub fn purge(conn: &mut DbConn, storage: &Storage, now: Ts) -> anyhow::Result<usize> {
    let mut removed = 0;
    for export in queries::expired(conn, now)? {
        if let Some(path) = &export.file_path {
            storage.remove(path).with_context(|| format!("removing {path}"))?;
        }
        queries::delete(conn, export.id)?;
        removed += 1;
    }
    let settled = storage.settled_files(
        crate::media::storage::DATA_EXPORTS_DIR,
        "zip",
        std::time::Duration::from_secs(10 * 60),
    );
    for (id, path) in settled {
        if !queries::exists(conn, id)? && storage.remove(&path).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}
