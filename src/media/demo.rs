//! The few tiny, real media files that `practika seed-demo` rows share, so
//! that demo pages play: made once with ffmpeg under `<media>/demo/`, and
//! reused by later runs.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

use super::Storage;

/// Seconds each demo video lasts.
pub const DURATION_SECS: i32 = 6;
pub const WIDTH: i32 = 640;
pub const HEIGHT: i32 = 360;
pub const FRAME_RATE: f64 = 30.0;
/// Seconds each demo clip lasts.
pub const CLIP_SECS: f64 = 2.0;

/// One demo video: its file, poster and a short clip of it, as relative
/// paths under the media root.
#[derive(Debug, Clone)]
pub struct DemoVideo {
    pub path: String,
    pub poster_path: String,
    pub clip_path: String,
    pub size_bytes: i64,
    pub clip_size_bytes: i64,
    pub sha256: String,
}

/// ffmpeg's built-in test patterns, one per demo video.
const SOURCES: &[&str] = &["testsrc2", "smptehdbars", "rgbtestsrc", "testsrc"];

/// Makes (or finds) the demo files.
pub fn ensure(storage: &Storage, ffmpeg: &str) -> anyhow::Result<Vec<DemoVideo>> {
    SOURCES
        .iter()
        .enumerate()
        .map(|(index, source)| {
            let path = format!("demo/demo-{}.mp4", index + 1);
            let poster_path = format!("demo/demo-{}.jpg", index + 1);
            let clip_path = format!("demo/clip-{}.mp4", index + 1);
            let size = format!("{WIDTH}x{HEIGHT}");
            let pattern = format!("{source}=size={size}:rate={FRAME_RATE}:duration={DURATION_SECS}");
            let tone = format!("sine=frequency={}:duration={DURATION_SECS}", 330 + 110 * index);
            make(storage, ffmpeg, &path, |out| {
                vec![
                    "-f".into(),
                    "lavfi".into(),
                    "-i".into(),
                    pattern.clone(),
                    "-f".into(),
                    "lavfi".into(),
                    "-i".into(),
                    tone.clone(),
                    "-c:v".into(),
                    "libx264".into(),
                    "-preset".into(),
                    "veryfast".into(),
                    "-crf".into(),
                    "30".into(),
                    "-pix_fmt".into(),
                    "yuv420p".into(),
                    "-c:a".into(),
                    "aac".into(),
                    "-b:a".into(),
                    "48k".into(),
                    "-shortest".into(),
                    "-movflags".into(),
                    "+faststart".into(),
                    "-f".into(),
                    "mp4".into(),
                    out.into(),
                ]
            })?;
            // The poster and clip are made from it (a downloaded copy when
            // media are in a bucket).
            let fetched = storage.fetch(&path).with_context(|| format!("reading {path}"))?;
            let video = fetched.to_string_lossy().into_owned();
            make(storage, ffmpeg, &poster_path, |out| {
                vec![
                    "-ss".into(),
                    "1".into(),
                    "-i".into(),
                    video.clone(),
                    "-frames:v".into(),
                    "1".into(),
                    "-f".into(),
                    "image2".into(),
                    "-c:v".into(),
                    "mjpeg".into(),
                    out.into(),
                ]
            })?;
            make(storage, ffmpeg, &clip_path, |out| {
                vec![
                    "-ss".into(),
                    "1".into(),
                    "-t".into(),
                    CLIP_SECS.to_string(),
                    "-i".into(),
                    video.clone(),
                    "-c".into(),
                    "copy".into(),
                    "-movflags".into(),
                    "+faststart".into(),
                    "-f".into(),
                    "mp4".into(),
                    out.into(),
                ]
            })?;
            let bytes = std::fs::read(&video).with_context(|| format!("reading {video}"))?;
            let clip_size = file_size(storage, &clip_path)?;
            Ok(DemoVideo {
                size_bytes: bytes.len() as i64,
                sha256: hex::encode(Sha256::digest(&bytes)),
                path,
                poster_path,
                clip_path,
                clip_size_bytes: clip_size,
            })
        })
        .collect()
}

fn file_size(storage: &Storage, relative: &str) -> anyhow::Result<i64> {
    let size = storage
        .size(relative)
        .with_context(|| format!("reading {relative}"))?
        .with_context(|| format!("{relative} is missing"))?;
    Ok(i64::try_from(size).unwrap_or(i64::MAX))
}

/// Runs ffmpeg into a temporary file beside `relative` and renames it into
/// place, unless the file is there already.
fn make(storage: &Storage, ffmpeg: &str, relative: &str, args: impl FnOnce(&str) -> Vec<String>) -> anyhow::Result<()> {
    if storage.exists(relative) {
        return Ok(());
    }
    let (part, _) = storage
        .part_for(relative)
        .with_context(|| format!("preparing {relative}"))?;
    let out = part.path().to_string_lossy().into_owned();
    let output = Command::new(ffmpeg)
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args(&out))
        .output()
        .with_context(|| format!("running {ffmpeg} (install ffmpeg: {})", super::tools::INSTALL_HINT))?;
    if !output.status.success() {
        bail!(
            "ffmpeg could not make {relative}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    storage
        .place(part, relative)
        .with_context(|| format!("storing {}", Path::new(relative).display()))?
        .keep();
    Ok(())
}
