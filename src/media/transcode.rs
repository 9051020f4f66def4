//! ffmpeg commands: a poster frame, H.264/AAC MP4 renditions, clips.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use super::tools::{self, ToolError, Tools};

/// The renditions Practika makes, by the length of the picture's shorter
/// side (360p is 640×360 in landscape, 360×640 in portrait).
pub const RENDITIONS: &[(&str, u32)] = &[("360p", 360), ("720p", 720)];

/// Which renditions to make for a picture of this size: never larger than
/// the source. The smallest is always made (at the source's own size when
/// that is smaller still), so every video has one version that browsers
/// play; larger ones only when the source is at least that large.
pub fn renditions_for(width: u32, height: u32) -> Vec<(&'static str, u32, u32)> {
    let short = width.min(height);
    RENDITIONS
        .iter()
        .enumerate()
        .filter(|(i, (_, target))| *i == 0 || short >= *target)
        .map(|(_, (label, target))| {
            let (w, h) = scaled(width, height, *target);
            (*label, w, h)
        })
        .collect()
}

/// `width`×`height` scaled so that the shorter side is at most `short_side`,
/// keeping the aspect ratio; even numbers, as H.264 in 4:2:0 needs.
pub fn scaled(width: u32, height: u32, short_side: u32) -> (u32, u32) {
    let short = width.min(height).max(1);
    let factor = if short > short_side {
        f64::from(short_side) / f64::from(short)
    } else {
        1.0
    };
    let even = |v: f64| ((v.round() as u32) / 2 * 2).max(2);
    (even(f64::from(width) * factor), even(f64::from(height) * factor))
}

/// Time allowed for encoding a video of `duration` seconds: generous, as
/// two slow cores encode at about real time for 720p.
pub fn encode_limit(duration: f64) -> Duration {
    Duration::from_secs(300 + (duration.max(0.0) * 4.0) as u64)
}

fn common_args() -> Vec<OsString> {
    [
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-protocol_whitelist",
        "file,pipe",
    ]
    .into_iter()
    .map(Into::into)
    .collect()
}

/// Video to H.264, the first audio track (if any: `?`) to AAC stereo.
fn h264_aac_mp4(args: &mut Vec<OsString>, width: u32, height: u32) {
    let more = [
        "-map".to_owned(),
        "0:v:0".to_owned(),
        "-vf".to_owned(),
        format!("scale={width}:{height}"),
        "-c:v".to_owned(),
        "libx264".to_owned(),
        "-preset".to_owned(),
        "veryfast".to_owned(),
        "-crf".to_owned(),
        "23".to_owned(),
        "-pix_fmt".to_owned(),
        "yuv420p".to_owned(),
        "-sn".to_owned(),
        "-dn".to_owned(),
    ];
    args.extend(more.into_iter().map(OsString::from));
    args.extend(
        ["-map", "0:a:0?", "-c:a", "aac", "-b:a", "128k", "-ac", "2"]
            .into_iter()
            .map(OsString::from),
    );
    // The index first, so playback starts before the whole file arrives.
    args.extend(
        ["-movflags", "+faststart", "-f", "mp4", "-y"]
            .into_iter()
            .map(OsString::from),
    );
}

/// A voice-over's sound as mono Opus in WebM (48 kbit/s: clear speech,
/// about 360 KB a minute), which every current browser plays.
pub async fn voice_opus(tools: &Tools, input: &Path, output: &Path, duration: f64) -> Result<(), ToolError> {
    let mut args = common_args();
    args.extend(["-i".into(), tools::file_url(input)]);
    args.extend(
        [
            "-map", "0:a:0", "-vn", "-sn", "-dn", "-c:a", "libopus", "-b:a", "48k", "-ac", "1", "-ar", "48000", "-f",
            "webm", "-y",
        ]
        .into_iter()
        .map(OsString::from),
    );
    args.push(tools::file_url(output));
    tools::run(
        &tools.ffmpeg,
        &args,
        Duration::from_secs(120 + duration.max(0.0) as u64),
        &[(input, "the recording"), (output, "the voice-over")],
    )
    .await
    .map(drop)
}

/// A JPEG of one frame, `at` seconds in.
pub async fn poster(
    tools: &Tools,
    input: &Path,
    output: &Path,
    at: f64,
    (width, height): (u32, u32),
) -> Result<(), ToolError> {
    let mut args = common_args();
    args.extend([
        "-ss".into(),
        format!("{at:.3}").into(),
        "-i".into(),
        tools::file_url(input),
        "-frames:v".into(),
        "1".into(),
        "-vf".into(),
        format!("scale={width}:{height}").into(),
        "-q:v".into(),
        "3".into(),
        "-f".into(),
        "image2".into(),
        "-update".into(),
        "1".into(),
        "-y".into(),
        tools::file_url(output),
    ]);
    tools::run(
        &tools.ffmpeg,
        &args,
        Duration::from_secs(120),
        &[(input, "the video"), (output, "the poster")],
    )
    .await
    .map(drop)
}

/// The whole video as an H.264/AAC MP4 of the given size.
pub async fn rendition(
    tools: &Tools,
    input: &Path,
    output: &Path,
    size: (u32, u32),
    duration: f64,
) -> Result<(), ToolError> {
    let mut args = common_args();
    args.extend(["-i".into(), tools::file_url(input)]);
    h264_aac_mp4(&mut args, size.0, size.1);
    args.push(tools::file_url(output));
    tools::run(
        &tools.ffmpeg,
        &args,
        encode_limit(duration),
        &[(input, "the video"), (output, "the rendition")],
    )
    .await
    .map(drop)
}

/// `start`..`end` seconds of the video as an H.264/AAC MP4 (re-encoded, so
/// the cut is exact to the frame rather than to the nearest keyframe).
pub async fn clip(
    tools: &Tools,
    input: &Path,
    output: &Path,
    (start, end): (f64, f64),
    size: (u32, u32),
) -> Result<(), ToolError> {
    let mut args = common_args();
    args.extend([
        "-ss".into(),
        format!("{start:.3}").into(),
        "-i".into(),
        tools::file_url(input),
        "-t".into(),
        format!("{:.3}", end - start).into(),
    ]);
    h264_aac_mp4(&mut args, size.0, size.1);
    args.push(tools::file_url(output));
    tools::run(
        &tools.ffmpeg,
        &args,
        encode_limit(end - start),
        &[(input, "the video"), (output, "the clip")],
    )
    .await
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renditions_are_never_upscaled() {
        assert_eq!(renditions_for(1280, 720), vec![("360p", 640, 360), ("720p", 1280, 720)]);
        assert_eq!(renditions_for(1920, 1080)[1], ("720p", 1280, 720));
        assert_eq!(renditions_for(1080, 1920)[0], ("360p", 360, 640));
        assert_eq!(renditions_for(640, 480), vec![("360p", 480, 360)]);
        assert_eq!(renditions_for(320, 240), vec![("360p", 320, 240)]);
        assert_eq!(scaled(321, 241, 360), (320, 240), "odd sizes made even");
    }
}
