//! The background work on videos, run by the job worker: processing an
//! upload (probe, poster, renditions), cutting a clip, re-validating a
//! stored file. Outputs go to fixed paths per video (written under a
//! temporary name, then renamed, or sent to the bucket), so a job that runs twice — a worker died,
//! another took over — still leaves exactly one set of files.

use std::collections::BTreeMap;
use std::path::Path;

use super::queries::{self, Asset, Processed, Rendition};
use super::{Status, TYPE_UPLOAD};
use crate::db::{Id, Ts};
use crate::jobs::worker::{blocking, until_recorded, JobContext};
use crate::jobs::JobError;
use crate::media::probe::{self, ProbeError};
use crate::media::storage::sha256_file;
use crate::media::{transcode, Container, Fetched, PartFile, Storage, ToolError};

/// A tool failure as a job error: a missing tool will not appear by
/// retrying; the rest (a timeout, a crash) may pass.
fn tool_error(error: ToolError) -> JobError {
    match error {
        ToolError::Missing { .. } => JobError::Permanent(format!(
            "{error}. The original upload plays as it is, without a poster or smaller versions."
        )),
        other => JobError::Retry(other.to_string()),
    }
}

fn io_error(what: &str) -> impl FnOnce(std::io::Error) -> JobError + '_ {
    move |error| JobError::Retry(format!("{what}: {error}"))
}

async fn load(ctx: &JobContext, id: Id) -> Result<Option<Asset>, JobError> {
    Ok(blocking(&ctx.pool, move |c| queries::find_asset(c, id)).await?)
}

/// The stored file of an upload, readable at a local path (downloaded
/// from the bucket for the job's length when media are there), or `None`
/// when it is missing from storage.
async fn original(ctx: &JobContext, asset: &Asset) -> Result<Option<Fetched>, JobError> {
    let relative = asset
        .storage_path
        .clone()
        .ok_or_else(|| JobError::Permanent("the video has no stored file".to_owned()))?;
    match ctx.storage.fetch_async(&relative).await {
        Ok(fetched) => Ok(Some(fetched)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) if error.kind() == std::io::ErrorKind::InvalidInput => {
            Err(JobError::Permanent("the video has no stored file".to_owned()))
        }
        Err(error) => Err(io_error("reading the video")(error)),
    }
}

/// Sends a finished output to its place in storage; returns its size.
async fn persist(ctx: &JobContext, part: PartFile, relative: String) -> Result<u64, JobError> {
    ctx.storage
        .place_async(part, &relative, None)
        .await
        .map_err(io_error("saving an output"))
}

/// Probes an upload and makes its poster and renditions.
pub async fn process_video(ctx: &JobContext, id: Id) -> Result<(), JobError> {
    let Some(asset) = load(ctx, id).await? else {
        return Ok(()); // deleted meanwhile: nothing to do
    };
    if asset.video_type != TYPE_UPLOAD {
        return Ok(());
    }
    let Some(input) = original(ctx, &asset).await? else {
        let problems = vec!["The uploaded file is missing from storage.".to_owned()];
        blocking(&ctx.pool, move |c| queries::set_invalid(c, id, &problems)).await?;
        return Ok(());
    };
    blocking(&ctx.pool, move |c| queries::set_status(c, id, Status::Processing, None)).await?;

    // A file that is not a usable video will not become one by retrying:
    // it is marked invalid at once, with the reason, and its original goes.
    let probe = match probe::run(&ctx.tools, &input, "the video").await {
        Ok(probe) => probe,
        Err(ProbeError::Unreadable(message)) => return rejected(ctx, id, vec![message]).await,
        Err(ProbeError::Tool(error)) => return Err(tool_error(error)),
    };
    let problems = probe::problems(&probe, Container::from_mime_type(&asset.mime_type));
    let (Some(video), Some(duration), true) = (&probe.video, probe.duration, problems.is_empty()) else {
        return rejected(ctx, id, problems).await;
    };
    // Before anything is made from it: does the file decode to the end?
    match probe::decode_check(&ctx.tools, &input, "the video", Some(duration)).await {
        Ok(()) => {}
        Err(ProbeError::Unreadable(message)) => return rejected(ctx, id, vec![message]).await,
        Err(ProbeError::Tool(error)) => return Err(tool_error(error)),
    }
    let (width, height) = video.display_size();

    let plan = transcode::renditions_for(width, height);
    // Whatever a killed run of this job left half-written goes first.
    ctx.storage.remove_stale_parts(&Storage::poster_path(id));
    for (label, _) in transcode::RENDITIONS {
        ctx.storage.remove_stale_parts(&Storage::rendition_path(id, label));
    }

    let poster_size = plan.last().map(|(_, w, h)| (*w, *h)).unwrap_or((width, height));
    let poster_path = Storage::poster_path(id);
    let (part, _) = ctx
        .storage
        .part_for(&poster_path)
        .map_err(io_error("preparing the poster"))?;
    // A quarter in (at most a second): past any fade-in, and safe for
    // very short videos.
    let at = (duration * 0.25).min(1.0);
    transcode::poster(&ctx.tools, &input, part.path(), at, poster_size)
        .await
        .map_err(tool_error)?;
    if std::fs::metadata(part.path()).map(|m| m.len()).unwrap_or(0) == 0 {
        transcode::poster(&ctx.tools, &input, part.path(), 0.0, poster_size)
            .await
            .map_err(tool_error)?;
    }
    persist(ctx, part, poster_path.clone()).await?;

    let mut renditions = BTreeMap::new();
    for (label, w, h) in plan {
        let relative = Storage::rendition_path(id, label);
        let (part, _) = ctx
            .storage
            .part_for(&relative)
            .map_err(io_error("preparing a rendition"))?;
        transcode::rendition(&ctx.tools, &input, part.path(), (w, h), duration)
            .await
            .map_err(tool_error)?;
        let size_bytes = persist(ctx, part, relative.clone()).await?;
        renditions.insert(
            label.to_owned(),
            Rendition {
                path: relative,
                width: w,
                height: h,
                size_bytes,
            },
        );
    }

    let done = Processed {
        duration_sec: duration.round().clamp(0.0, f64::from(i32::MAX)) as i32,
        width: i32::try_from(width).unwrap_or(i32::MAX),
        height: i32::try_from(height).unwrap_or(i32::MAX),
        frame_rate: video.frame_rate,
        poster_path: Some(poster_path),
        renditions,
    };
    // The encodes are done: their result is kept through a database outage.
    until_recorded("storing a processed video", None, || {
        let done = done.clone();
        blocking(&ctx.pool, move |c| queries::set_processed(c, id, &done))
    })
    .await;
    Ok(())
}

/// A stored upload that is not a video Practika can use: marked invalid with
/// the reasons (the owner sees them), and its original removed from storage
/// unless another video shares the file (none can be valid: they hold the
/// same bytes). Nothing is kept for staff: the reasons are, and the file
/// could only be downloaded again, not played. The job itself succeeds:
/// trying again cannot help.
async fn rejected(ctx: &JobContext, id: Id, problems: Vec<String>) -> Result<(), JobError> {
    tracing::info!(video = %id, reason = %problems.join(" "), "upload rejected by processing");
    let unused = until_recorded("marking a video invalid", None, || {
        let problems = problems.clone();
        blocking(&ctx.pool, move |c| queries::reject_upload(c, id, &problems))
    })
    .await
    .flatten();
    if let Some(relative) = unused {
        let storage = ctx.storage.clone();
        let removed = tokio::task::spawn_blocking(move || storage.remove(&relative)).await;
        if let Ok(Err(error)) | Err(error) = removed.map_err(std::io::Error::other) {
            tracing::warn!(video = %id, %error, "could not remove the original of a rejected upload");
        }
    }
    Ok(())
}

/// Records a failed processing attempt on the video. The original upload
/// stays valid (it passed its checks) and still plays.
pub async fn video_failed(ctx: &JobContext, id: Id, message: &str, retry_at: Option<Ts>) -> anyhow::Result<()> {
    let (status, text) = match retry_at {
        Some(at) => (Status::Pending, format!("{message} (trying again after {at})")),
        None => (Status::Failed, message.to_owned()),
    };
    blocking(&ctx.pool, move |c| queries::set_status(c, id, status, Some(&text))).await
}

/// A stopped worker gave the job back: the video waits again.
pub async fn video_requeued(ctx: &JobContext, id: Id) -> anyhow::Result<()> {
    blocking(&ctx.pool, move |c| queries::set_status(c, id, Status::Pending, None)).await
}

/// Cuts a clip from its video's original.
pub async fn cut_clip(ctx: &JobContext, id: Id) -> Result<(), JobError> {
    let Some(clip) = blocking(&ctx.pool, move |c| queries::find_clip(c, id)).await? else {
        return Ok(());
    };
    let Some(asset) = load(ctx, clip.original_video_id).await? else {
        return Ok(());
    };
    let Some(input) = original(ctx, &asset).await? else {
        return Err(JobError::Permanent(
            "the video's file is missing from storage".to_owned(),
        ));
    };
    blocking(&ctx.pool, move |c| {
        queries::set_clip_status(c, id, Status::Processing, None)
    })
    .await?;
    let (width, height) = match (asset.width, asset.height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => (w as u32, h as u32),
        _ => {
            return Err(JobError::Permanent(
                "the video has not been processed, so its size is unknown".to_owned(),
            ))
        }
    };
    let size = transcode::scaled(width, height, 720);
    ctx.storage.remove_stale_parts(&clip.storage_path);
    let (part, _) = ctx
        .storage
        .part_for(&clip.storage_path)
        .map_err(io_error("preparing the clip"))?;
    transcode::clip(&ctx.tools, &input, part.path(), (clip.start_time, clip.end_time), size)
        .await
        .map_err(tool_error)?;
    let size_bytes = persist(ctx, part, clip.storage_path.clone()).await?;
    until_recorded("storing a cut clip", None, || {
        blocking(&ctx.pool, move |c| queries::set_clip_ready(c, id, size_bytes))
    })
    .await;
    Ok(())
}

pub async fn clip_failed(ctx: &JobContext, id: Id, message: &str, retry_at: Option<Ts>) -> anyhow::Result<()> {
    let (status, text) = match retry_at {
        Some(at) => (Status::Pending, format!("{message} (trying again after {at})")),
        None => (Status::Failed, message.to_owned()),
    };
    blocking(&ctx.pool, move |c| queries::set_clip_status(c, id, status, Some(&text))).await
}

pub async fn clip_requeued(ctx: &JobContext, id: Id) -> anyhow::Result<()> {
    blocking(&ctx.pool, move |c| {
        queries::set_clip_status(c, id, Status::Pending, None)
    })
    .await
}

/// What a re-validation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    pub is_valid: bool,
    pub problems: Vec<String>,
}

/// Re-checks a stored upload: the file is there, its bytes still have the
/// recorded checksum, and (where ffprobe is installed) it is still a video
/// Practika accepts. Records is_valid, validation_errors and last_validated.
pub async fn revalidate(ctx: &JobContext, id: Id) -> Result<Validation, JobError> {
    let Some(asset) = load(ctx, id).await? else {
        return Err(JobError::Permanent("the video no longer exists".to_owned()));
    };
    if asset.video_type != TYPE_UPLOAD {
        return Ok(Validation {
            is_valid: true,
            problems: Vec::new(),
        });
    }
    let Some(path) = original(ctx, &asset).await? else {
        let problems = vec!["The stored file is missing.".to_owned()];
        let saved = problems.clone();
        blocking(&ctx.pool, move |c| queries::set_validation(c, id, false, &saved, None)).await?;
        return Ok(Validation {
            is_valid: false,
            problems,
        });
    };
    let (mut problems, checksum) = check_file(&path, asset.checksum_sha256.clone()).await?;
    if problems.is_empty() {
        match probe::run(&ctx.tools, &path, "the video").await {
            Ok(probe) => {
                problems.extend(probe::problems(&probe, Container::from_mime_type(&asset.mime_type)));
            }
            Err(ProbeError::Unreadable(message)) => problems.push(message),
            // Without ffprobe only the file checks count; an earlier
            // verdict that the file is not a usable video stands.
            Err(ProbeError::Tool(error)) if error.is_missing() => {
                if !asset.is_valid {
                    problems.extend(asset.validation_errors());
                }
            }
            Err(ProbeError::Tool(error)) => return Err(tool_error(error)),
        }
    }
    let validation = Validation {
        is_valid: problems.is_empty(),
        problems,
    };
    let saved = validation.clone();
    blocking(&ctx.pool, move |c| {
        queries::set_validation(c, id, saved.is_valid, &saved.problems, checksum.as_deref())
    })
    .await?;
    Ok(validation)
}

/// The file problems, and the checksum to record when none was.
async fn check_file(path: &Path, recorded: Option<String>) -> Result<(Vec<String>, Option<String>), JobError> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        if !path.is_file() {
            return Ok((vec!["The stored file is missing.".to_owned()], None));
        }
        let (actual, _) = sha256_file(&path).map_err(io_error("reading the stored file"))?;
        Ok(match recorded {
            Some(expected) if !expected.eq_ignore_ascii_case(&actual) => (
                vec!["The stored file has changed since it was uploaded (its checksum differs).".to_owned()],
                None,
            ),
            Some(_) => (Vec::new(), None),
            None => (Vec::new(), Some(actual)),
        })
    })
    .await
    .map_err(|e| JobError::Retry(format!("checking the file: {e}")))?
}
