//! A reply exported as a video: the attempt it is on, rendered by ffmpeg
//! with the reply's drawings and its voice-over burnt in, as an MP4 to
//! download and share outside Practika. Asked for by the reply's author
//! (one export per reply: asking again while it exists changes nothing),
//! made by the job [`EXPORT_REPLY`].
//!
//! - The video follows the voice-over's timeline as the player replays it
//!   (`static/js/voiceover.js`): the export lasts as long as the voice, a
//!   pause holds the frame, a seek jumps, a speed change retimes, and at the
//!   attempt's end its last frame stays. Without a voice-over the attempt
//!   plays once at its own speed, with its own sound.
//! - Each drawing shows while the attempt is within its time, as in the
//!   player, and with a voice-over only once the coach drew it.
//! - The drawings become an ASS subtitle file of vector drawings (`\p1`
//!   paths stroked with `\bord`, colours with `\c`, labels and an angle's
//!   degrees as text) that ffmpeg's libass filter draws on the frames: the
//!   same shapes as the SVG overlay, with no image library in Practika.
//! - The timeline becomes pieces (`media::transcode::Piece`), each the
//!   video opened at its moment and retimed or held for a whole number of
//!   frames; a few pieces per ffmpeg run into intermediate files, then one
//!   run joins them, burns the drawings in and adds the sound.
//! - The file is `exports/<uuid>.mp4` (written under a temporary name,
//!   then renamed). It goes with the comment (removed at once) and, when a
//!   row goes another way (a staff deletion, the attempt or the user
//!   deleted, the Django app), at the worker's hourly clean-up. Who may
//!   download it: `accounts::permissions::can_download_export`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::ErrorKind;

use diesel::prelude::*;

use super::studio::{Colour, Drawing, Point, Shape};
use super::voice::{Action, Event};
use crate::db::schema::comments_export;
use crate::db::{DbConn, Id, Ts};
use crate::jobs::registry::payload_id;
use crate::jobs::worker::{blocking, until_recorded, JobContext};
use crate::jobs::{Chore, JobError, JobKind, Registry};
use crate::media::probe::{self, ProbeError};
use crate::media::transcode::{self, Piece, PIECES_PER_RUN};
use crate::media::{Storage, ToolError};

/// Render a reply as a video: `{"export_id": uuid}`.
pub const EXPORT_REPLY: &str = "export_reply";

/// The export's frame rate at most (and when the attempt's is unknown).
pub const MAX_FPS: u32 = 30;
/// The longest export, in seconds (a voice-over is at most 10 minutes).
pub const MAX_SECONDS: f64 = 600.0;
/// A play this close to the attempt's end shows its last frame instead:
/// the decoder may have no frame left to start from.
const END_MARGIN: f64 = 0.25;

/// Where an export is in its life: the states of a video's processing
/// (the same column values), worded for an export by [`label`].
pub use crate::videos::Status;

/// An export's status as the thread's script shows it.
pub fn label(status: Status) -> &'static str {
    match status {
        Status::Pending | Status::Processing => "Preparing your video…",
        Status::Ready => "ready",
        Status::Failed => "the video could not be made",
    }
}

/// A stored export.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = comments_export)]
pub struct ExportRow {
    pub id: Id,
    pub comment_id: Id,
    pub owner_id: i32,
    pub video_id: Id,
    pub path: Option<String>,
    pub size_bytes: Option<i64>,
    pub duration_ms: Option<i32>,
    pub status: String,
    pub processing_error: Option<String>,
    pub created_at: Ts,
    pub finished_at: Option<Ts>,
}

impl ExportRow {
    pub fn status(&self) -> Status {
        Status::parse(&self.status)
    }

    pub fn file_url(&self) -> String {
        format!("/exports/{}/file", self.id)
    }

    pub fn status_url(&self) -> String {
        format!("/exports/{}/status", self.id)
    }

    /// The file's name for the browser: nothing of the user's in it.
    pub fn download_name(&self) -> String {
        format!("practika-feedback-{}.mp4", self.created_at.0.format("%Y-%m-%d"))
    }
}

// ------------------------------------------------------------------ plan

/// What ffmpeg is to make: the pieces of video, each drawing's times in
/// the export (`(drawing, from, to)` in seconds), and the export's length.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub pieces: Vec<Piece>,
    pub shown: Vec<(usize, f64, f64)>,
    pub seconds: f64,
    pub fps: u32,
}

/// A stretch of the export before it is cut into frames.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Span {
    Play { from: f64, rate: f64 },
    Hold { at: f64 },
}

/// The export of an attempt `video` seconds long at `fps`, following
/// `events` over a voice-over of `voice_ms` (`None`: no voice-over, the
/// attempt plays once), with `drawings`.
pub fn plan(events: &[Event], voice_ms: Option<u32>, drawings: &[Drawing], video: f64, fps: u32) -> Plan {
    let fps = fps.clamp(1, MAX_FPS);
    let video = video.max(0.0);
    let (events, seconds): (Vec<Event>, f64) = match voice_ms {
        Some(ms) => (events.to_vec(), (f64::from(ms) / 1000.0).min(MAX_SECONDS)),
        None => (
            vec![Event {
                t_ms: 0,
                action: Action::Play,
                value: 0.0,
            }],
            video.min(MAX_SECONDS),
        ),
    };
    // When each drawing appears: with a voice-over, when it was drawn.
    let drawn_at: Vec<Option<f64>> = (0..drawings.len())
        .map(|i| match voice_ms {
            None => Some(0.0),
            Some(_) => events
                .iter()
                .find(|e| e.action == Action::Draw && e.value as usize == i)
                .map(|e| f64::from(e.t_ms) / 1000.0),
        })
        .collect();

    // The state between actions, as the player's model keeps it.
    let (mut position, mut playing, mut rate) = (0.0_f64, false, 1.0_f64);
    let mut spans: Vec<(f64, f64, Span)> = Vec::new();
    let mut at = 0.0_f64;
    let mut push = |from_t: f64, to_t: f64, position: f64, playing: bool, rate: f64| {
        if to_t <= from_t {
            return;
        }
        if !playing || position >= video - END_MARGIN {
            spans.push((
                from_t,
                to_t,
                Span::Hold {
                    at: position.min(video),
                },
            ));
            return;
        }
        let reaches = position + (to_t - from_t) * rate;
        if reaches <= video {
            spans.push((from_t, to_t, Span::Play { from: position, rate }));
        } else {
            let end_t = from_t + (video - position) / rate;
            spans.push((from_t, end_t, Span::Play { from: position, rate }));
            spans.push((end_t, to_t, Span::Hold { at: video }));
        }
    };
    for event in &events {
        let t = (f64::from(event.t_ms) / 1000.0).min(seconds);
        if t > at {
            push(at, t, position, playing, rate);
            if playing {
                position = (position + (t - at) * rate).min(video);
            }
            at = t;
        }
        match event.action {
            Action::Draw => {}
            Action::Rate => rate = event.value.clamp(0.1, 2.0),
            Action::Seek => position = event.value.min(video),
            Action::Play => {
                position = event.value.min(video);
                playing = true;
            }
            Action::Pause => {
                position = event.value.min(video);
                playing = false;
            }
        }
    }
    push(at, seconds, position, playing, rate);
    let spans = merged(spans);

    // Whole frames: each span ends on the frame its end rounds to.
    let frame_of = |t: f64| (t * f64::from(fps)).round() as u32;
    let pieces = spans
        .iter()
        .filter_map(|&(from_t, to_t, span)| {
            let frames = frame_of(to_t).saturating_sub(frame_of(from_t));
            (frames > 0).then_some(match span {
                Span::Play { from, rate } => Piece::Play { from, rate, frames },
                Span::Hold { at } => Piece::Hold { at, frames },
            })
        })
        .collect();

    // A drawing shows while the attempt is within its time, give or take
    // half a frame (the player's rule), once it has appeared.
    let half = 0.5 / f64::from(fps);
    let mut shown: Vec<(usize, f64, f64)> = Vec::new();
    for (i, drawing) in drawings.iter().enumerate() {
        let Some(appears) = drawn_at[i] else { continue };
        let (lo, hi) = (drawing.start - half, drawing.end + half);
        let mut times: Vec<(f64, f64)> = Vec::new();
        for &(from_t, to_t, span) in &spans {
            let (a, b) = match span {
                Span::Hold { at } if at >= lo && at <= hi => (from_t, to_t),
                Span::Hold { .. } => continue,
                Span::Play { from, rate } => (from_t + (lo - from) / rate, from_t + (hi - from) / rate),
            };
            let (a, b) = (a.max(from_t).max(appears), b.min(to_t));
            if b > a {
                match times.last_mut() {
                    Some(last) if a <= last.1 + 0.001 => last.1 = last.1.max(b),
                    _ => times.push((a, b)),
                }
            }
        }
        shown.extend(times.into_iter().map(|(a, b)| (i, a, b)));
    }
    Plan {
        pieces,
        shown,
        seconds,
        fps,
    }
}

/// Joins spans that continue each other (a play at the same speed from
/// where the last one ended, a hold of the same frame).
fn merged(spans: Vec<(f64, f64, Span)>) -> Vec<(f64, f64, Span)> {
    let mut out: Vec<(f64, f64, Span)> = Vec::new();
    for (from_t, to_t, span) in spans {
        if let Some(last) = out.last_mut() {
            let continues = match (last.2, span) {
                (Span::Hold { at: a }, Span::Hold { at: b }) => (a - b).abs() < 1e-6,
                (Span::Play { from: a, rate: r }, Span::Play { from: b, rate: s }) => {
                    (r - s).abs() < 1e-9 && (a + (last.1 - last.0) * r - b).abs() < 0.001
                }
                _ => false,
            };
            if continues {
                last.1 = to_t;
                continue;
            }
        }
        out.push((from_t, to_t, span));
    }
    out
}

// ------------------------------------------------------------- drawings

/// The colours of `static/js/studio.js`, as ASS writes them (`&HBBGGRR&`).
fn ass_colour(colour: Colour) -> &'static str {
    match colour {
        Colour::Red => "&H3539E5&",
        Colour::Yellow => "&H35D8FD&",
        Colour::Green => "&H47A043&",
        Colour::Blue => "&HE5881E&",
        Colour::White => "&HFFFFFF&",
    }
}

fn ass_time(seconds: f64) -> String {
    let cs = (seconds.max(0.0) * 100.0).round() as u64;
    format!(
        "{}:{:02}:{:02}.{:02}",
        cs / 360_000,
        (cs / 6000) % 60,
        (cs / 100) % 60,
        cs % 100
    )
}

/// A label as ASS text: its override braces and backslashes become
/// look-alikes (labels are plain text; nothing in one is a command).
fn ass_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\\' => '＼',
            '{' => '｛',
            '}' => '｝',
            other => other,
        })
        .collect()
}

/// Degrees of the angle at `vertex` between the rays to `from` and `to`
/// on a frame of `w` × `h` (as the player shows them).
pub fn angle_degrees(from: Point, vertex: Point, to: Point, w: f64, h: f64) -> i64 {
    let (ax, ay) = ((from.0 - vertex.0) * w, (from.1 - vertex.1) * h);
    let (bx, by) = ((to.0 - vertex.0) * w, (to.1 - vertex.1) * h);
    let (la, lb) = (ax.hypot(ay), bx.hypot(by));
    if la == 0.0 || lb == 0.0 {
        return 0;
    }
    let cos = ((ax * bx + ay * by) / (la * lb)).clamp(-1.0, 1.0);
    cos.acos().to_degrees().round() as i64
}

/// The ASS file that draws `drawings` at the times `shown` on a frame of
/// `width` × `height` pixels: strokes are outlines (`\bord`) of paths with
/// no fill, an open line traced there and back so it is not closed.
pub fn ass_script(drawings: &[Drawing], shown: &[(usize, f64, f64)], (width, height): (u32, u32)) -> String {
    let (w, h) = (f64::from(width), f64::from(height));
    // At least 4 px: a thinner line loses its colour to the chroma
    // subsampling of the encoded video.
    let stroke = (w / 240.0).max(4.0);
    let font = (28.0 * w / 640.0).max(16.0).round();
    let mut out = format!(
        "[Script Info]\nScriptType: v4.00+\nPlayResX: {width}\nPlayResY: {height}\nWrapStyle: 2\n\
         ScaledBorderAndShadow: yes\n\n[V4+ Styles]\n\
         Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, \
         Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, \
         MarginL, MarginR, MarginV, Encoding\n\
         Style: Default,DejaVu Sans,{font},&H00FFFFFF,&H00FFFFFF,&H00000000,&H00000000,-1,0,0,0,100,100,0,0,1,0,0,\
         7,0,0,0,1\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    );
    let x = |p: &Point| (p.0 * w).round();
    let y = |p: &Point| (p.1 * h).round();
    for &(index, from, to) in shown {
        let Some(drawing) = drawings.get(index) else { continue };
        let (start, end) = (ass_time(from), ass_time(to));
        let mut line = |text: String| {
            let _ = writeln!(out, "Dialogue: 0,{start},{end},Default,,0,0,0,,{text}");
        };
        let path = |points: &[(f64, f64)], closed: bool| {
            let mut route: Vec<(f64, f64)> = points.to_vec();
            if !closed && points.len() > 2 {
                route.extend(points[1..points.len() - 1].iter().rev());
            }
            let mut text = String::new();
            for (i, (px, py)) in route.iter().enumerate() {
                text.push_str(match i {
                    0 => "m ",
                    1 => " l ",
                    _ => " ",
                });
                let _ = write!(text, "{px} {py}");
            }
            text
        };
        let strokes = |colour: Colour, drawing: String| {
            format!(
                "{{\\an7\\pos(0,0)\\bord{:.1}\\shad0\\1a&HFF&\\3c{}\\p1}}{drawing}{{\\p0}}",
                stroke / 2.0,
                ass_colour(colour)
            )
        };
        let label = |colour: Colour, px: f64, py: f64, text: &str| {
            format!(
                "{{\\an1\\pos({px},{py})\\bord{:.1}\\shad0\\1c{}\\3c&H000000&}}{}",
                (font / 14.0).max(1.0),
                ass_colour(colour),
                ass_text(text)
            )
        };
        for shape in &drawing.shapes {
            match shape {
                Shape::Line { colour, from, to } => {
                    line(strokes(*colour, path(&[(x(from), y(from)), (x(to), y(to))], false)))
                }
                Shape::Arrow { colour, from, to } => {
                    line(strokes(*colour, path(&[(x(from), y(from)), (x(to), y(to))], false)));
                    let (tx, ty) = (to.0 * w, to.1 * h);
                    let angle = (ty - from.1 * h).atan2(tx - from.0 * w);
                    let size = stroke * 5.0;
                    let head = |a: f64| ((tx - size * a.cos()).round(), (ty - size * a.sin()).round());
                    let points = [head(angle - 0.45), (x(to), y(to)), head(angle + 0.45)];
                    line(strokes(*colour, path(&points, false)));
                }
                Shape::Ellipse { colour, from, to } => {
                    let (cx, cy) = ((from.0 + to.0) / 2.0 * w, (from.1 + to.1) / 2.0 * h);
                    let (rx, ry) = ((to.0 - from.0).abs() / 2.0 * w, (to.1 - from.1).abs() / 2.0 * h);
                    // Four Bézier quarters (the usual 0.5523 handles).
                    let (kx, ky) = (rx * 0.5523, ry * 0.5523);
                    let r = |v: f64| v.round();
                    let drawing = format!(
                        "m {} {} b {} {} {} {} {} {} b {} {} {} {} {} {} b {} {} {} {} {} {} b {} {} {} {} {} {}",
                        r(cx + rx),
                        r(cy),
                        r(cx + rx),
                        r(cy + ky),
                        r(cx + kx),
                        r(cy + ry),
                        r(cx),
                        r(cy + ry),
                        r(cx - kx),
                        r(cy + ry),
                        r(cx - rx),
                        r(cy + ky),
                        r(cx - rx),
                        r(cy),
                        r(cx - rx),
                        r(cy - ky),
                        r(cx - kx),
                        r(cy - ry),
                        r(cx),
                        r(cy - ry),
                        r(cx + kx),
                        r(cy - ry),
                        r(cx + rx),
                        r(cy - ky),
                        r(cx + rx),
                        r(cy),
                    );
                    line(strokes(*colour, drawing));
                }
                Shape::Freehand { colour, points } => {
                    let points: Vec<(f64, f64)> = points.iter().map(|p| (x(p), y(p))).collect();
                    line(strokes(*colour, path(&points, false)));
                }
                Shape::Angle {
                    colour,
                    from,
                    vertex,
                    to,
                } => {
                    let points = [(x(from), y(from)), (x(vertex), y(vertex)), (x(to), y(to))];
                    line(strokes(*colour, path(&points, false)));
                    let degrees = angle_degrees(*from, *vertex, *to, w, h);
                    let (px, py) = (
                        (vertex.0 * w + stroke * 4.0).round(),
                        (vertex.1 * h - stroke * 4.0).round(),
                    );
                    line(label(*colour, px, py, &format!("{degrees}°")));
                }
                Shape::Text { colour, at, text } => line(label(*colour, x(at), y(at), text)),
            }
        }
    }
    out
}

// --------------------------------------------------------------- queries

pub fn find(conn: &mut DbConn, id: Id) -> QueryResult<Option<ExportRow>> {
    comments_export::table
        .find(id)
        .select(ExportRow::as_select())
        .first(conn)
        .optional()
}

/// The exports of these comments, by comment: one query.
pub fn of_comments(conn: &mut DbConn, ids: &[Id]) -> QueryResult<HashMap<Id, ExportRow>> {
    let rows: Vec<ExportRow> = comments_export::table
        .filter(comments_export::comment_id.eq_any(ids))
        .select(ExportRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|row| (row.comment_id, row)).collect())
}

/// The attempt a comment's export would show, or why there is none to
/// make (a sentence for the flash message).
pub fn attempt_of(conn: &mut DbConn, comment: Id) -> QueryResult<Result<Id, &'static str>> {
    let drawn = super::studio::of_comments(conn, &[comment])?
        .remove(&comment)
        .and_then(|rows| rows.first().map(|r| r.video_id));
    let voice = super::voice::of_comments(conn, &[comment])?.remove(&comment);
    if let Some(voice) = &voice {
        if voice.status() != super::voice::Status::Ready {
            return Ok(Err(
                "The voice-over is not processed yet: export the reply once it plays.",
            ));
        }
    }
    let Some(video) = voice.and_then(|v| v.video_id).or(drawn) else {
        return Ok(Err(
            "Only a reply with drawings or a voice-over on an attempt can be exported as a video.",
        ));
    };
    let playable = crate::videos::queries::find_asset(conn, video)?
        .is_some_and(|a| a.is_valid && a.storage_path.is_some() && !a.is_youtube());
    Ok(if playable {
        Ok(video)
    } else {
        Err("The attempt's video cannot be played, so the reply cannot be exported.")
    })
}

/// Asks for the export of comment `comment` (on the attempt `video`) for
/// `owner`: the row and its job, in one transaction. An export that exists
/// and has not failed is kept as it is (`false`: nothing new was queued);
/// a failed one is tried again.
pub fn request(conn: &mut DbConn, comment: Id, owner: i32, video: Id) -> QueryResult<(ExportRow, bool)> {
    let attempt = crate::db::write_transaction(conn, |c| {
        let existing: Option<ExportRow> = comments_export::table
            .filter(comments_export::comment_id.eq(comment))
            .select(ExportRow::as_select())
            .first(c)
            .optional()?;
        let id = match existing {
            Some(row) if row.status() != Status::Failed && row.video_id == video => return Ok((row, false)),
            Some(row) => {
                diesel::update(comments_export::table.find(row.id))
                    .set((
                        comments_export::status.eq(Status::Pending.as_str()),
                        comments_export::processing_error.eq(None::<String>),
                        comments_export::video_id.eq(video),
                        comments_export::owner_id.eq(owner),
                    ))
                    .execute(c)?;
                row.id
            }
            None => {
                let id = Id::new();
                diesel::insert_into(comments_export::table)
                    .values((
                        comments_export::id.eq(id),
                        comments_export::comment_id.eq(comment),
                        comments_export::owner_id.eq(owner),
                        comments_export::video_id.eq(video),
                        comments_export::status.eq(Status::Pending.as_str()),
                        comments_export::created_at.eq(Ts::now()),
                    ))
                    .execute(c)?;
                id
            }
        };
        crate::jobs::queue::enqueue(c, EXPORT_REPLY, serde_json::json!({ "export_id": id.to_string() }))?;
        let row = find(c, id)?.ok_or(diesel::result::Error::NotFound)?;
        Ok((row, true))
    });
    match attempt {
        // Two requests at once on PostgreSQL: the other one made it.
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            let row = comments_export::table
                .filter(comments_export::comment_id.eq(comment))
                .select(ExportRow::as_select())
                .first(conn)?;
            Ok((row, false))
        }
        other => other,
    }
}

/// The files of the exports of a comment and its replies (they go with it).
pub fn files_of_thread(conn: &mut DbConn, comment: Id) -> QueryResult<Vec<String>> {
    use crate::db::schema::comments_videocomment;
    let paths: Vec<Option<String>> = comments_export::table
        .inner_join(comments_videocomment::table)
        .filter(
            comments_videocomment::id
                .eq(comment)
                .or(comments_videocomment::parent_id.eq(comment)),
        )
        .select(comments_export::path)
        .load(conn)?;
    Ok(paths.into_iter().flatten().collect())
}

/// Drops a comment's export (its drawings or voice-over changed, so it no
/// longer shows the reply): the file's path, to remove after the commit.
pub fn discard(conn: &mut DbConn, comment: Id) -> QueryResult<Vec<String>> {
    let paths: Vec<Option<String>> =
        diesel::delete(comments_export::table.filter(comments_export::comment_id.eq(comment)))
            .returning(comments_export::path)
            .get_results(conn)?;
    Ok(paths.into_iter().flatten().collect())
}

/// Removes stored files (after the rows that named them are gone).
pub fn remove_files(storage: &Storage, paths: &[String]) {
    for path in paths {
        if let Err(error) = storage.remove(path) {
            tracing::warn!(%path, %error, "could not remove an export's file");
        }
    }
}

fn set_status(conn: &mut DbConn, id: Id, status: Status, error: Option<&str>) -> QueryResult<()> {
    diesel::update(comments_export::table.find(id))
        .set((
            comments_export::status.eq(status.as_str()),
            comments_export::processing_error.eq(error),
        ))
        .execute(conn)
        .map(drop)
}

fn set_ready(conn: &mut DbConn, id: Id, path: &str, size: i64, duration_ms: i32) -> QueryResult<()> {
    diesel::update(comments_export::table.find(id))
        .set((
            comments_export::status.eq(Status::Ready.as_str()),
            comments_export::processing_error.eq(None::<String>),
            comments_export::path.eq(Some(path)),
            comments_export::size_bytes.eq(Some(size)),
            comments_export::duration_ms.eq(Some(duration_ms)),
            comments_export::finished_at.eq(Some(Ts::now())),
        ))
        .execute(conn)
        .map(drop)
}

// ------------------------------------------------------------------- job

fn tool_error(error: ToolError) -> JobError {
    match error {
        ToolError::Missing { .. } => JobError::Permanent(format!("{error}: the video cannot be made.")),
        other => JobError::Retry(other.to_string()),
    }
}

fn io_error(what: &'static str) -> impl Fn(std::io::Error) -> JobError {
    move |e| JobError::Retry(format!("{what}: {e}"))
}

/// What the job reads: the export, its comment's drawings and voice-over,
/// the attempt.
type Sources = (
    ExportRow,
    Vec<Drawing>,
    Option<super::voice::VoiceoverRow>,
    crate::videos::queries::Asset,
);

fn sources(conn: &mut DbConn, id: Id) -> QueryResult<Option<Sources>> {
    let Some(row) = find(conn, id)? else {
        return Ok(None);
    };
    let drawings = super::studio::of_comments(conn, &[row.comment_id])?
        .remove(&row.comment_id)
        .unwrap_or_default()
        .iter()
        .map(super::studio::DrawingRow::to_drawing)
        .collect();
    let voice = super::voice::of_comments(conn, &[row.comment_id])?.remove(&row.comment_id);
    let Some(asset) = crate::videos::queries::find_asset(conn, row.video_id)? else {
        return Ok(None);
    };
    Ok(Some((row, drawings, voice, asset)))
}

/// The job: plan the export from the timeline, write the drawings as ASS,
/// render the pieces, burn in the drawings with the sound, check the
/// result with ffprobe and keep it.
pub async fn render(ctx: &JobContext, id: Id) -> Result<(), JobError> {
    let Some((row, drawings, voice, asset)) = blocking(&ctx.pool, move |c| sources(c, id)).await? else {
        return Ok(());
    };
    let missing = || JobError::Permanent("the attempt's file is missing from storage".to_owned());
    let input = match ctx
        .storage
        .fetch_async(asset.storage_path.as_deref().unwrap_or_default())
        .await
    {
        Ok(input) => input,
        Err(error) if matches!(error.kind(), ErrorKind::NotFound | ErrorKind::InvalidInput) => return Err(missing()),
        Err(error) => return Err(io_error("reading the attempt")(error)),
    };
    let sound = match &voice {
        None => None,
        Some(v) => match (v.status(), v.audio_path.as_deref(), v.duration_ms) {
            (super::voice::Status::Ready, Some(path), Some(ms)) => {
                let path = match ctx.storage.fetch_async(path).await {
                    Ok(path) => path,
                    Err(error) if matches!(error.kind(), ErrorKind::NotFound | ErrorKind::InvalidInput) => {
                        return Err(JobError::Permanent("the voice-over has no stored file".to_owned()))
                    }
                    Err(error) => return Err(io_error("reading the voice-over")(error)),
                };
                Some((path, u32::try_from(ms).unwrap_or(0)))
            }
            (super::voice::Status::Pending | super::voice::Status::Processing, ..) => {
                return Err(JobError::Retry("the voice-over is still being processed".to_owned()))
            }
            _ => return Err(JobError::Permanent("the voice-over is not playable".to_owned())),
        },
    };
    blocking(&ctx.pool, move |c| set_status(c, id, Status::Processing, None)).await?;
    let found = match probe::run(&ctx.tools, &input, "the attempt").await {
        Ok(found) => found,
        Err(ProbeError::Unreadable(message)) => return Err(JobError::Permanent(message)),
        Err(ProbeError::Tool(error)) => return Err(tool_error(error)),
    };
    let (Some(duration), Some(stream)) = (found.duration, found.video.as_ref()) else {
        return Err(JobError::Permanent(
            "the attempt has no picture or no length".to_owned(),
        ));
    };
    let (w, h) = stream.display_size();
    let size = transcode::scaled(w, h, 720);
    let fps = asset
        .frame_rate
        .or(stream.frame_rate)
        .filter(|r| r.is_finite() && *r >= 1.0)
        .map_or(MAX_FPS, |r| (r.round() as u32).min(MAX_FPS));
    let events = voice.as_ref().map(|v| v.events()).unwrap_or_default();
    let plan = plan(&events, sound.as_ref().map(|s| s.1), &drawings, duration, fps);
    if plan.pieces.is_empty() {
        return Err(JobError::Permanent(
            "the voice-over is too short to make a video of".to_owned(),
        ));
    }

    let relative = Storage::export_path(id);
    ctx.storage.remove_stale_parts(&relative);
    let work = ctx
        .storage
        .work_dir(&relative)
        .map_err(io_error("preparing the export"))?;
    let subtitles = work.path().join("drawings.ass");
    let script = ass_script(&drawings, &plan.shown, size);
    let mut list = String::from("ffconcat version 1.0\n");
    for (n, pieces) in plan.pieces.chunks(PIECES_PER_RUN).enumerate() {
        let name = format!("part-{n:04}.mp4");
        transcode::render_pieces(&ctx.tools, &input, &work.path().join(&name), pieces, size, plan.fps)
            .await
            .map_err(tool_error)?;
        list.push_str(&format!("file {name}\n"));
    }
    let parts = work.path().join("parts.ffconcat");
    {
        let (parts, subtitles) = (parts.clone(), subtitles.clone());
        tokio::task::spawn_blocking(move || {
            std::fs::write(&parts, list)?;
            std::fs::write(&subtitles, script)
        })
        .await
        .map_err(|e| JobError::Retry(format!("writing the drawings: {e}")))?
        .map_err(io_error("writing the drawings"))?;
    }
    let (part, _) = ctx
        .storage
        .part_for(&relative)
        .map_err(io_error("preparing the export"))?;
    let audio = match &sound {
        Some((path, _)) => Some(path.path()),
        // No voice-over: the attempt's own sound, if it has one.
        None => Some(input.path()),
    };
    transcode::burn_in(&ctx.tools, &parts, &subtitles, audio, part.path(), plan.seconds)
        .await
        .map_err(tool_error)?;
    drop(work);
    let made = match probe::run(&ctx.tools, part.path(), "the export").await {
        Ok(made) => made,
        Err(ProbeError::Unreadable(message)) => return Err(JobError::Retry(message)),
        Err(ProbeError::Tool(error)) => return Err(tool_error(error)),
    };
    let seconds = made.duration.unwrap_or(plan.seconds);
    let size_bytes = ctx
        .storage
        .place_async(part, &relative, Some(row.download_name()))
        .await
        .map_err(io_error("saving the export"))?;
    let size_bytes = i64::try_from(size_bytes).unwrap_or(i64::MAX);
    let duration_ms = (seconds * 1000.0).round().clamp(0.0, f64::from(i32::MAX)) as i32;
    tracing::info!(export = %id, comment = %row.comment_id, pieces = plan.pieces.len(), seconds, size_bytes, "reply exported");
    until_recorded("storing a reply's export", None, || {
        let relative = relative.clone();
        blocking(&ctx.pool, move |c| set_ready(c, id, &relative, size_bytes, duration_ms))
    })
    .await;
    Ok(())
}

/// Removes the files under `exports/` that no row names (a staff deletion,
/// the attempt or the user deleted, an export made again): older than a few
/// minutes, as a file is renamed into place just before its row commits.
pub fn purge(conn: &mut DbConn, storage: &Storage) -> anyhow::Result<usize> {
    let mut removed = 0;
    for (id, path) in storage.settled_files("exports", "mp4", std::time::Duration::from_secs(10 * 60)) {
        let known: bool = diesel::select(diesel::dsl::exists(
            comments_export::table
                .find(id)
                .filter(comments_export::path.is_not_null()),
        ))
        .get_result(conn)?;
        if !known && storage.remove(&path).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

pub fn register_jobs(registry: &mut Registry) {
    registry.chore(Chore {
        name: "remove exports whose row is gone",
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
        JobKind::new(EXPORT_REPLY, |ctx, job| {
            Box::pin(async move { render(ctx, payload_id(job, "export_id")?).await })
        })
        .on_failure(|ctx, job, message, retry_at| {
            Box::pin(async move {
                let Ok(id) = payload_id(job, "export_id") else {
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
                match payload_id(job, "export_id") {
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

    fn event(t_ms: u32, action: Action, value: f64) -> Event {
        Event { t_ms, action, value }
    }

    fn drawing(start: f64, end: f64) -> Drawing {
        Drawing {
            start,
            end,
            shapes: vec![Shape::Line {
                colour: Colour::Red,
                from: Point(0.1, 0.1),
                to: Point(0.9, 0.9),
            }],
        }
    }

    #[test]
    fn a_pause_holds_the_frame_and_the_export_lasts_as_long_as_the_voice() {
        let events = [
            event(0, Action::Seek, 0.0),
            event(0, Action::Play, 0.0),
            event(1000, Action::Pause, 1.0),
            event(2000, Action::Play, 1.0),
        ];
        let plan = plan(&events, Some(3000), &[], 2.0, 15);
        assert_eq!(
            plan.pieces,
            vec![
                Piece::Play {
                    from: 0.0,
                    rate: 1.0,
                    frames: 15
                },
                Piece::Hold { at: 1.0, frames: 15 },
                Piece::Play {
                    from: 1.0,
                    rate: 1.0,
                    frames: 15
                },
            ]
        );
        assert_eq!(plan.seconds, 3.0);
        // Without a voice-over: the attempt once.
        let once = super::plan(&[], None, &[], 2.0, 15);
        assert_eq!(
            once.pieces,
            vec![Piece::Play {
                from: 0.0,
                rate: 1.0,
                frames: 30
            }]
        );
    }

    #[test]
    fn seeks_jump_speeds_retime_and_the_end_holds_the_last_frame() {
        let events = [
            event(0, Action::Play, 0.5),
            event(500, Action::Seek, 0.2),
            event(1000, Action::Rate, 0.5),
            event(3000, Action::Rate, 2.0),
        ];
        let plan = plan(&events, Some(4000), &[], 2.0, 10);
        assert_eq!(
            plan.pieces,
            vec![
                Piece::Play {
                    from: 0.5,
                    rate: 1.0,
                    frames: 5
                },
                Piece::Play {
                    from: 0.2,
                    rate: 1.0,
                    frames: 5
                },
                Piece::Play {
                    from: 0.7,
                    rate: 0.5,
                    frames: 20
                },
                // From 1.7 s at 2×: the end (2 s) after 0.15 s, then its last frame.
                Piece::Play {
                    from: 1.7,
                    rate: 2.0,
                    frames: 2
                },
                Piece::Hold { at: 2.0, frames: 8 },
            ]
        );
        let frames: u32 = plan.pieces.iter().map(Piece::frames).sum();
        assert_eq!(frames, 40, "the voice's 4 s at 10 frames a second");
    }

    #[test]
    fn drawings_show_in_their_time_once_drawn() {
        let events = [
            event(0, Action::Play, 0.0),
            event(1000, Action::Pause, 1.0),
            event(1500, Action::Draw, 0.0),
            event(2500, Action::Play, 1.0),
        ];
        let drawings = [drawing(1.0, 1.5), drawing(0.2, 0.4)];
        let plan = plan(&events, Some(4000), &drawings, 3.0, 10);
        // Drawing 0 from when it was drawn, through the hold and the play
        // to 1.5 s of the attempt (+ half a frame); drawing 1 never drawn.
        assert_eq!(plan.shown.len(), 1);
        let (index, from, to) = plan.shown[0];
        assert_eq!(index, 0);
        assert!((from - 1.5).abs() < 1e-9, "{from}");
        assert!((to - 3.05).abs() < 1e-9, "{to}");
        // Without a voice-over every drawing shows in its time.
        let plain = super::plan(&[], None, &drawings, 3.0, 10);
        let times: Vec<(usize, f64, f64)> = plain
            .shown
            .iter()
            .map(|&(i, a, b)| (i, (a * 100.0).round() / 100.0, (b * 100.0).round() / 100.0))
            .collect();
        assert_eq!(times, vec![(0, 0.95, 1.55), (1, 0.15, 0.45)]);
    }

    #[test]
    fn the_ass_file_strokes_shapes_and_writes_labels_as_text() {
        let drawing = Drawing {
            start: 0.0,
            end: 1.0,
            shapes: vec![
                Shape::Freehand {
                    colour: Colour::Blue,
                    points: vec![Point(0.0, 0.0), Point(0.5, 0.5), Point(1.0, 0.0)],
                },
                Shape::Angle {
                    colour: Colour::White,
                    from: Point(1.0, 0.5),
                    vertex: Point(0.5, 0.5),
                    to: Point(0.5, 0.0),
                },
                Shape::Text {
                    colour: Colour::Yellow,
                    at: Point(0.5, 0.5),
                    text: "Up {\\b1} here".to_owned(),
                },
            ],
        };
        let script = ass_script(&[drawing], &[(0, 0.5, 1.25)], (200, 100));
        assert!(script.contains("PlayResX: 200\nPlayResY: 100"));
        let events: Vec<&str> = script.lines().filter(|l| l.starts_with("Dialogue:")).collect();
        assert_eq!(events.len(), 4, "{script}");
        assert!(events[0].starts_with("Dialogue: 0,0:00:00.50,0:00:01.25,"));
        // There and back: an open stroke, not a closed triangle.
        assert!(
            events[0].ends_with("m 0 0 l 100 50 200 0 100 50{\\p0}"),
            "{}",
            events[0]
        );
        assert!(events[0].contains("\\3c&HE5881E&"));
        assert!(events[2].ends_with("90°"), "{}", events[2]);
        assert!(events[3].ends_with("Up ｛＼b1｝ here"), "{}", events[3]);
        assert_eq!(ass_time(3723.456), "1:02:03.46");
    }
}
