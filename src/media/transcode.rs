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

/// A stretch of an exported reply (`comments::export`): the attempt
/// playing from `from` seconds at `rate`, or the frame at `at` held; both
/// last `frames` frames of the export.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Piece {
    Play { from: f64, rate: f64, frames: u32 },
    Hold { at: f64, frames: u32 },
}

impl Piece {
    pub fn frames(&self) -> u32 {
        match self {
            Piece::Play { frames, .. } | Piece::Hold { frames, .. } => *frames,
        }
    }
}

/// Pieces rendered by one ffmpeg run: each opens the video once, and all
/// of a run's decoders are in memory together.
pub const PIECES_PER_RUN: usize = 12;

/// A text for a filter's option value, escaped for both levels ffmpeg
/// parses (the option, then the filter graph): a server path can hold
/// characters either level treats as syntax.
pub fn filter_value(text: &str) -> String {
    let mut option = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '\'' | ':') {
            option.push('\\');
        }
        option.push(c);
    }
    let mut graph = String::with_capacity(option.len());
    for c in option.chars() {
        if matches!(c, '\\' | '\'' | '[' | ']' | ',' | ';') {
            graph.push('\\');
        }
        graph.push(c);
    }
    graph
}

/// One run's filter graph and inputs: each piece is the video opened at its
/// start, made `frames` frames long at `fps` (a play is retimed by its
/// rate; a hold is the last frame at or before its moment, repeated), and
/// the pieces are joined.
fn pieces_graph(input: &Path, pieces: &[Piece], (width, height): (u32, u32), fps: u32) -> (Vec<OsString>, String) {
    let mut args: Vec<OsString> = Vec::new();
    let mut graph = String::new();
    let frame = 1.0 / f64::from(fps);
    for (k, piece) in pieces.iter().enumerate() {
        let seconds = f64::from(piece.frames()) * frame;
        let (start, length, retime) = match *piece {
            Piece::Play { from, rate, .. } => (from, seconds * rate + 0.5, format!("setpts=(PTS-STARTPTS)/{rate:.4}")),
            // Up to a second before the moment, ending just after it: the
            // last frame of that is the one shown at the moment, also at
            // the very end of the video, where nothing follows it.
            Piece::Hold { at, .. } => {
                let start = (at - 1.0).max(0.0);
                (
                    start,
                    at - start + frame,
                    "reverse,trim=end_frame=1,setpts=PTS-STARTPTS".to_owned(),
                )
            }
        };
        args.extend([
            "-threads".into(),
            "1".into(),
            "-ss".into(),
            format!("{start:.3}").into(),
            "-t".into(),
            format!("{length:.3}").into(),
            "-i".into(),
            tools::file_url(input),
        ]);
        graph.push_str(&format!(
            "[{k}:v]{retime},fps={fps},tpad=stop_mode=clone:stop_duration={pad:.3},trim=end_frame={frames},\
             scale={width}:{height},setsar=1,format=yuv420p,setpts=PTS-STARTPTS[p{k}];",
            pad = seconds + 1.0,
            frames = piece.frames(),
        ));
    }
    for k in 0..pieces.len() {
        graph.push_str(&format!("[p{k}]"));
    }
    graph.push_str(&format!("concat=n={}:v=1:a=0[out]", pieces.len()));
    (args, graph)
}

/// Renders `pieces` of the video (at most [`PIECES_PER_RUN`]) one after
/// another into `output`: an intermediate MP4 of high quality, no sound.
pub async fn render_pieces(
    tools: &Tools,
    input: &Path,
    output: &Path,
    pieces: &[Piece],
    size: (u32, u32),
    fps: u32,
) -> Result<(), ToolError> {
    let mut args = common_args();
    let (inputs, graph) = pieces_graph(input, pieces, size, fps);
    args.extend(inputs);
    let seconds: f64 = pieces.iter().map(|p| f64::from(p.frames()) / f64::from(fps)).sum();
    args.extend(
        [
            "-filter_complex",
            &graph,
            "-map",
            "[out]",
            "-an",
            "-sn",
            "-dn",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "12",
            "-f",
            "mp4",
            "-y",
        ]
        .into_iter()
        .map(OsString::from),
    );
    args.push(tools::file_url(output));
    tools::run(
        &tools.ffmpeg,
        &args,
        encode_limit(seconds),
        &[(input, "the video"), (output, "the export")],
    )
    .await
    .map(drop)
}

/// The export itself: the pieces listed in `parts` (an ffconcat file
/// beside them) with the ASS file `drawings` burnt in, and the sound
/// (`sound`'s first audio track, if it has one), `seconds` long, as an
/// H.264/AAC MP4 that starts playing before it has all arrived.
pub async fn burn_in(
    tools: &Tools,
    parts: &Path,
    drawings: &Path,
    sound: Option<&Path>,
    output: &Path,
    seconds: f64,
) -> Result<(), ToolError> {
    let mut args = common_args();
    args.extend(["-f".into(), "concat".into(), "-i".into(), tools::file_url(parts)]);
    if let Some(sound) = sound {
        args.extend(["-i".into(), tools::file_url(sound)]);
    }
    let graph = format!("[0:v]ass=filename={}[v]", filter_value(&drawings.to_string_lossy()));
    args.extend(
        [
            "-filter_complex",
            &graph,
            "-map",
            "[v]",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
            "-sn",
            "-dn",
        ]
        .into_iter()
        .map(OsString::from),
    );
    if sound.is_some() {
        args.extend(
            ["-map", "1:a:0?", "-c:a", "aac", "-b:a", "128k", "-ac", "2"]
                .into_iter()
                .map(OsString::from),
        );
    }
    args.extend([
        "-t".into(),
        format!("{seconds:.3}").into(),
        "-movflags".into(),
        "+faststart".into(),
        "-f".into(),
        "mp4".into(),
        "-y".into(),
        tools::file_url(output),
    ]);
    let mut redact: Vec<(&Path, &str)> = vec![
        (parts, "the pieces"),
        (drawings, "the drawings"),
        (output, "the export"),
    ];
    if let Some(sound) = sound {
        redact.push((sound, "the sound"));
    }
    tools::run(&tools.ffmpeg, &args, encode_limit(seconds), &redact)
        .await
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_values_are_escaped_for_both_levels() {
        assert_eq!(filter_value("/data/media/x.ass"), "/data/media/x.ass");
        assert_eq!(filter_value("/a:b/c,d"), r"/a\\:b/c\,d");
        assert_eq!(filter_value("it's"), r"it\\\'s");
    }

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
