//! ffprobe's view of a file, and the whitelist a video must pass.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::tools::{self, ToolError, Tools};
use super::Container;

/// A probe reads headers only; even a large file takes a moment.
const PROBE_LIMIT: Duration = Duration::from_secs(60);

/// Containers by ffprobe's demuxer name.
const CONTAINERS: &[&str] = &["mov", "mp4", "matroska", "webm"];
const VIDEO_CODECS: &[&str] = &["h264", "hevc", "vp8", "vp9", "av1", "mpeg4"];
const AUDIO_CODECS: &[&str] = &[
    "aac",
    "mp3",
    "opus",
    "vorbis",
    "flac",
    "alac",
    "ac3",
    "eac3",
    "pcm_s16le",
    "pcm_s16be",
    "pcm_s24le",
    "pcm_f32le",
];
/// Larger than 8K is not a practice video.
const MAX_DIMENSION: u32 = 8192;

/// What Practika needs to know about a video.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub format_name: String,
    pub duration: Option<f64>,
    pub video: Option<VideoStream>,
    pub audio_codec: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VideoStream {
    pub codec: String,
    /// As stored (before rotation).
    pub coded_width: u32,
    pub coded_height: u32,
    /// Degrees the picture is turned when shown (phones record sideways).
    pub rotation: i32,
    /// Frames per second (the average, for variable-rate phone videos).
    pub frame_rate: Option<f64>,
}

impl VideoStream {
    /// The size as shown: width and height swap for a quarter turn.
    pub fn display_size(&self) -> (u32, u32) {
        if self.rotation.rem_euclid(180) == 90 {
            (self.coded_height, self.coded_width)
        } else {
            (self.coded_width, self.coded_height)
        }
    }
}

#[derive(Deserialize)]
struct RawProbe {
    #[serde(default)]
    streams: Vec<RawStream>,
    format: Option<RawFormat>,
}

#[derive(Deserialize)]
struct RawFormat {
    #[serde(default)]
    format_name: String,
    duration: Option<String>,
}

#[derive(Deserialize)]
struct RawStream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    duration: Option<String>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    #[serde(default)]
    disposition: std::collections::HashMap<String, i64>,
    #[serde(default)]
    tags: std::collections::HashMap<String, String>,
    #[serde(default)]
    side_data_list: Vec<serde_json::Value>,
}

/// ffprobe's `"30000/1001"`; `"0/0"` (unknown) and nonsense are `None`.
fn frame_rate(rational: Option<&str>) -> Option<f64> {
    let (num, den) = rational?.split_once('/')?;
    let (num, den) = (num.trim().parse::<f64>().ok()?, den.trim().parse::<f64>().ok()?);
    let rate = num / den;
    (rate.is_finite() && (1.0..=1000.0).contains(&rate)).then_some(rate)
}

impl RawStream {
    fn frame_rate(&self) -> Option<f64> {
        frame_rate(self.avg_frame_rate.as_deref()).or_else(|| frame_rate(self.r_frame_rate.as_deref()))
    }

    fn rotation(&self) -> i32 {
        let from_side_data = self.side_data_list.iter().find_map(|side| {
            side.get("rotation").and_then(|r| {
                r.as_i64()
                    .or_else(|| r.as_f64().map(|f| f.round() as i64))
                    .or_else(|| r.as_str().and_then(|s| s.parse().ok()))
            })
        });
        let from_tag = self.tags.get("rotate").and_then(|r| r.parse::<i64>().ok());
        from_side_data.or(from_tag).unwrap_or(0) as i32
    }
}

/// Reads ffprobe's `-show_format -show_streams` JSON.
pub fn parse(json: &[u8]) -> Result<Probe, String> {
    let raw: RawProbe = serde_json::from_slice(json).map_err(|e| format!("unreadable ffprobe output: {e}"))?;
    let format = raw.format.ok_or_else(|| "ffprobe found no container".to_owned())?;
    let seconds = |s: &Option<String>| {
        s.as_deref()
            .and_then(|d| d.parse::<f64>().ok())
            .filter(|d| d.is_finite() && *d >= 0.0)
    };
    let video = raw
        .streams
        .iter()
        // Cover art in an MP4 is a one-picture "video" stream: not the video.
        .filter(|s| s.disposition.get("attached_pic").copied().unwrap_or(0) == 0)
        .find(|s| s.codec_type.as_deref() == Some("video"));
    let duration = seconds(&format.duration).or_else(|| video.and_then(|v| seconds(&v.duration)));
    Ok(Probe {
        format_name: format.format_name,
        duration,
        video: video.map(|v| VideoStream {
            codec: v.codec_name.clone().unwrap_or_default(),
            coded_width: v.width.unwrap_or(0),
            coded_height: v.height.unwrap_or(0),
            rotation: v.rotation(),
            frame_rate: v.frame_rate(),
        }),
        audio_codec: raw
            .streams
            .iter()
            .find(|s| s.codec_type.as_deref() == Some("audio"))
            .map(|s| s.codec_name.clone().unwrap_or_default()),
    })
}

/// The problems that make a probed file unacceptable, in words for the
/// person who uploaded it (empty: it is a video Practika can use).
pub fn problems(probe: &Probe, sniffed: Option<Container>) -> Vec<String> {
    let mut problems = Vec::new();
    let names: Vec<&str> = probe.format_name.split(',').collect();
    if !names.iter().any(|n| CONTAINERS.contains(n)) {
        problems.push(format!(
            "The file is in the {} format; Practika accepts MP4, MOV, WebM and MKV videos.",
            if probe.format_name.is_empty() {
                "unknown"
            } else {
                &probe.format_name
            }
        ));
    } else if let Some(container) = sniffed {
        if !container.matches_format(&probe.format_name) {
            problems.push("The file's contents do not match its container.".to_owned());
        }
    }
    match &probe.video {
        None => problems.push("The file has no video track.".to_owned()),
        Some(video) => {
            if !VIDEO_CODECS.contains(&video.codec.as_str()) {
                problems.push(format!(
                    "Its video is encoded as {}; Practika accepts H.264, H.265, VP8, VP9, AV1 and MPEG-4 video.",
                    if video.codec.is_empty() {
                        "an unknown codec"
                    } else {
                        &video.codec
                    }
                ));
            }
            if video.coded_width == 0 || video.coded_height == 0 {
                problems.push("The video track has no picture size.".to_owned());
            } else if video.coded_width > MAX_DIMENSION || video.coded_height > MAX_DIMENSION {
                problems.push(format!(
                    "The picture is {}×{}; the largest accepted is {MAX_DIMENSION}×{MAX_DIMENSION}.",
                    video.coded_width, video.coded_height
                ));
            }
        }
    }
    if let Some(codec) = &probe.audio_codec {
        if !AUDIO_CODECS.contains(&codec.as_str()) {
            problems.push(format!(
                "Its sound is encoded as {}; Practika accepts AAC, MP3, Opus, Vorbis, FLAC, ALAC, AC-3 and PCM sound.",
                if codec.is_empty() { "an unknown codec" } else { codec }
            ));
        }
    }
    if !probe.duration.is_some_and(|d| d > 0.0) {
        problems.push("The video has no length.".to_owned());
    }
    problems
}

/// Containers of a voice-over, by ffprobe's demuxer name.
const AUDIO_CONTAINERS: &[&str] = &["webm", "matroska", "ogg", "mov", "mp4"];

/// The problems that make a probed voice-over unacceptable (empty: it is
/// sound Practika can use): sound only, in a known codec, with a length of
/// at most `max_seconds`.
pub fn audio_problems(probe: &Probe, sniffed: Option<Container>, max_seconds: f64) -> Vec<String> {
    let mut problems = Vec::new();
    let names: Vec<&str> = probe.format_name.split(',').collect();
    if !names.iter().any(|n| AUDIO_CONTAINERS.contains(n)) {
        problems.push("The recording is not in a format Practika accepts (WebM, Ogg or M4A audio).".to_owned());
    } else if let Some(container) = sniffed {
        if !container.matches_format(&probe.format_name) {
            problems.push("The file's contents do not match its container.".to_owned());
        }
    }
    if probe.video.is_some() {
        problems.push("The file has a video track: a voice-over is sound only.".to_owned());
    }
    match &probe.audio_codec {
        None => problems.push("The file has no sound.".to_owned()),
        Some(codec) if !AUDIO_CODECS.contains(&codec.as_str()) => problems.push(format!(
            "Its sound is encoded as {}; Practika accepts Opus, Vorbis, AAC, MP3 and FLAC sound.",
            if codec.is_empty() { "an unknown codec" } else { codec }
        )),
        Some(_) => {}
    }
    match probe.duration {
        Some(d) if d > 0.0 && d <= max_seconds + 0.5 => {}
        Some(d) if d > 0.0 => problems.push(format!(
            "The recording is {} long; a voice-over is at most {} minutes.",
            crate::videos::pages::clock(d),
            (max_seconds / 60.0).round()
        )),
        _ => problems.push("The recording has no length.".to_owned()),
    }
    problems
}

/// How a probe ended.
#[derive(Debug)]
pub enum ProbeError {
    /// ffprobe ran and could not read the file as media: the file is bad.
    Unreadable(String),
    /// ffprobe could not do its work (missing, timed out, ...).
    Tool(ToolError),
}

/// Runs ffprobe on `path`. `shown_as` replaces the path in messages.
pub async fn run(tools: &Tools, path: &Path, shown_as: &str) -> Result<Probe, ProbeError> {
    let args = [
        "-v",
        "error",
        "-protocol_whitelist",
        "file,pipe",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
    ]
    .into_iter()
    .map(Into::into)
    .chain([tools::file_url(path)])
    .collect::<Vec<_>>();
    let mut probe = match tools::run(&tools.ffprobe, &args, PROBE_LIMIT, &[(path, shown_as)]).await {
        Ok(output) => parse(&output.stdout).map_err(ProbeError::Unreadable)?,
        Err(ToolError::Failed { stderr, .. }) => return Err(ProbeError::Unreadable(readable(&stderr))),
        Err(other) => return Err(ProbeError::Tool(other)),
    };
    if probe.duration.is_none() && (probe.video.is_some() || probe.audio_codec.is_some()) {
        // A browser's MediaRecorder writes WebM without a duration in its
        // header: the end of its last packet says how long it is (the
        // video's, or the sound's in a voice-over).
        let stream = if probe.video.is_some() { "v:0" } else { "a:0" };
        probe.duration = last_packet_end(tools, path, shown_as, stream).await?;
    }
    Ok(probe)
}

/// The end time of the last packet of `stream` (`v:0`, `a:0`), reading
/// packets only (no decoding): about disk speed.
async fn last_packet_end(tools: &Tools, path: &Path, shown_as: &str, stream: &str) -> Result<Option<f64>, ProbeError> {
    let args = [
        "-v",
        "error",
        "-protocol_whitelist",
        "file,pipe",
        "-select_streams",
        stream,
        "-show_entries",
        "packet=pts_time,duration_time",
        "-of",
        "csv=p=0",
    ]
    .into_iter()
    .map(Into::into)
    .chain([tools::file_url(path)])
    .collect::<Vec<_>>();
    match tools::run(&tools.ffprobe, &args, PROBE_LIMIT, &[(path, shown_as)]).await {
        Ok(output) => Ok(packets_end(&String::from_utf8_lossy(&output.stdout))),
        Err(ToolError::Failed { stderr, .. }) => Err(ProbeError::Unreadable(readable(&stderr))),
        Err(other) => Err(ProbeError::Tool(other)),
    }
}

/// The latest `pts + duration` of ffprobe's `pts_time,duration_time` lines.
fn packets_end(csv: &str) -> Option<f64> {
    csv.lines()
        .filter_map(|line| {
            let mut fields = line.split(',').map(|f| f.trim().parse::<f64>().ok());
            let pts = fields.next().flatten()?;
            Some(pts + fields.next().flatten().unwrap_or(0.0))
        })
        .filter(|end| end.is_finite())
        .reduce(f64::max)
        .filter(|end| *end > 0.0)
}

/// Time allowed for a decode check: it reads every packet but decodes
/// only keyframes (and the sound), far faster than real time.
pub fn decode_limit(duration: Option<f64>) -> Duration {
    Duration::from_secs(120 + (duration.unwrap_or(0.0).max(0.0) / 2.0) as u64)
}

/// Whether the whole file can be read and decoded: every packet is read
/// (a truncated file runs out, the demuxer says "partial file" or "ended
/// prematurely"), keyframes and sound are decoded, and ffmpeg stops at the
/// first error (`-xerror`). Cheap next to an encode. ffprobe alone reads
/// only the headers: the first 4 KiB of a faststart MP4 pass it, and so
/// does the first half of one. `Unreadable` carries the reason.
pub async fn decode_check(tools: &Tools, path: &Path, shown_as: &str, duration: Option<f64>) -> Result<(), ProbeError> {
    decode(tools, path, shown_as, duration, &["-map", "0:v:0", "-map", "0:a:0?"]).await
}

/// [`decode_check`] for a sound-only file (a voice-over): its first audio
/// track decodes to the end.
pub async fn decode_check_audio(
    tools: &Tools,
    path: &Path,
    shown_as: &str,
    duration: Option<f64>,
) -> Result<(), ProbeError> {
    decode(tools, path, shown_as, duration, &["-map", "0:a:0"]).await
}

async fn decode(
    tools: &Tools,
    path: &Path,
    shown_as: &str,
    duration: Option<f64>,
    maps: &[&str],
) -> Result<(), ProbeError> {
    let args = [
        "-nostdin",
        "-hide_banner",
        "-v",
        "error",
        "-xerror",
        "-protocol_whitelist",
        "file,pipe",
        "-skip_frame",
        "nokey",
        "-i",
    ]
    .into_iter()
    .map(Into::into)
    .chain([tools::file_url(path)])
    // `vfr`: frames that share a timestamp (MediaRecorder writes them on a
    // busy machine, and WebM allows it) are dropped before the null muxer,
    // which would otherwise refuse them as "non monotonically increasing
    // dts" and fail a file that decodes perfectly well.
    .chain(
        maps.iter()
            .copied()
            .chain(["-fps_mode", "vfr", "-f", "null", "-"])
            .map(Into::into),
    )
    .collect::<Vec<_>>();
    match tools::run(&tools.ffmpeg, &args, decode_limit(duration), &[(path, shown_as)]).await {
        // At this log level ffmpeg prints errors only: any is a problem
        // (a truncated WebM ends "prematurely" with exit code 0).
        Ok(output) if output.stderr_tail.is_empty() => Ok(()),
        Ok(output) => Err(ProbeError::Unreadable(undecodable(&output.stderr_tail))),
        Err(ToolError::Failed { stderr, .. }) => Err(ProbeError::Unreadable(undecodable(&stderr))),
        Err(other) => Err(ProbeError::Tool(other)),
    }
}

/// A failed decode, as a sentence for the person who uploaded the file.
fn undecodable(stderr: &str) -> String {
    format!(
        "The file is damaged or incomplete: it cannot be decoded to the end ({}). \
         If the upload was cut short, upload the whole file again.",
        last_message(stderr)
    )
}

/// ffmpeg's last message without its "[demuxer @ 0x...]" prefix.
fn last_message(stderr: &str) -> &str {
    let last = stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("no message");
    match last.split_once("] ") {
        Some((prefix, rest)) if prefix.starts_with('[') => rest,
        _ => last,
    }
}

/// ffprobe's last message, as a sentence ("[mov,mp4 @ 0x55d...] moov atom
/// not found" → "moov atom not found").
fn readable(stderr: &str) -> String {
    format!("The file could not be read as a video ({}).", last_message(stderr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_packet_gives_a_recordings_length() {
        assert_eq!(packets_end("0.000000,0.033000\n2.967000,0.033000\n1.5,\n"), Some(3.0));
        assert_eq!(packets_end("N/A,N/A\n"), None);
        assert_eq!(packets_end(""), None);
    }

    const GOOD: &str = r#"{"streams":[
        {"codec_type":"video","codec_name":"h264","width":1920,"height":1080,
         "avg_frame_rate":"30000/1001","r_frame_rate":"30/1",
         "side_data_list":[{"side_data_type":"Display Matrix","rotation":-90}]},
        {"codec_type":"audio","codec_name":"aac"}],
        "format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"12.5"}}"#;

    #[test]
    fn reads_what_matters_and_turns_phone_videos() -> Result<(), String> {
        let probe = parse(GOOD.as_bytes())?;
        assert_eq!(probe.duration, Some(12.5));
        let video = probe.video.clone().ok_or("no video")?;
        assert_eq!(video.display_size(), (1080, 1920));
        assert!(
            video.frame_rate.is_some_and(|r| (r - 29.97).abs() < 0.01),
            "{:?}",
            video.frame_rate
        );
        assert!(problems(&probe, Some(Container::Mp4)).is_empty());
        Ok(())
    }

    #[test]
    fn refuses_what_is_not_a_usable_video() -> Result<(), String> {
        let gif = r#"{"streams":[{"codec_type":"video","codec_name":"gif","width":10,"height":10}],
            "format":{"format_name":"gif","duration":"1.0"}}"#;
        let found = problems(&parse(gif.as_bytes())?, None);
        assert!(found.iter().any(|p| p.contains("gif format")), "{found:?}");
        assert!(found.iter().any(|p| p.contains("encoded as gif")), "{found:?}");
        let audio_only = r#"{"streams":[{"codec_type":"audio","codec_name":"aac"}],
            "format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"3"}}"#;
        let found = problems(&parse(audio_only.as_bytes())?, Some(Container::Mp4));
        assert_eq!(found, vec!["The file has no video track.".to_owned()]);
        let mismatch = problems(&parse(GOOD.as_bytes())?, Some(Container::WebM));
        assert!(mismatch[0].contains("do not match"));
        Ok(())
    }

    #[test]
    fn a_voice_over_is_sound_only_and_not_too_long() -> Result<(), String> {
        let opus = r#"{"streams":[{"codec_type":"audio","codec_name":"opus"}],
            "format":{"format_name":"matroska,webm","duration":"42.0"}}"#;
        assert!(audio_problems(&parse(opus.as_bytes())?, Some(Container::WebM), 600.0).is_empty());
        let long = audio_problems(&parse(opus.as_bytes())?, Some(Container::WebM), 30.0);
        assert!(long[0].contains("at most"), "{long:?}");
        let video = audio_problems(&parse(GOOD.as_bytes())?, Some(Container::Mp4), 600.0);
        assert_eq!(
            video,
            vec!["The file has a video track: a voice-over is sound only.".to_owned()]
        );
        let silent = r#"{"streams":[{"codec_type":"video","codec_name":"h264","width":2,"height":2}],
            "format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"3"}}"#;
        let found = audio_problems(&parse(silent.as_bytes())?, Some(Container::Mp4), 600.0);
        assert!(found.iter().any(|p| p.contains("no sound")), "{found:?}");
        Ok(())
    }

    #[test]
    fn frame_rates_read_as_ffprobe_writes_them() {
        assert_eq!(frame_rate(Some("25/1")), Some(25.0));
        assert_eq!(frame_rate(Some("0/0")), None, "ffprobe's unknown");
        assert_eq!(frame_rate(Some("90000/0")), None);
        assert_eq!(frame_rate(Some("abc")), None);
        assert_eq!(frame_rate(None), None);
        let unknown_average = RawStream {
            avg_frame_rate: Some("0/0".into()),
            r_frame_rate: Some("24/1".into()),
            ..serde_json::from_str(r#"{"codec_type":"video"}"#).expect("a stream")
        };
        assert_eq!(unknown_average.frame_rate(), Some(24.0));
    }

    #[test]
    fn ffprobe_messages_become_sentences() {
        assert_eq!(
            readable("[mov,mp4,m4a @ 0x55] moov atom not found\ninput: Invalid data found when processing input"),
            "The file could not be read as a video (input: Invalid data found when processing input)."
        );
    }
}
