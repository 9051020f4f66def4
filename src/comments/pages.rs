//! Page structs of the comments area and the views of a thread.

use askama::Template;

pub use super::forms::CommentForm;
use crate::accounts::forms::FieldErrors;
use crate::db::Ts;
use crate::exercises::queries::Exercise;
use crate::videos::pages::{clock, ClipView, VideoView};
use crate::videos::queries::{Asset, Clip};
use crate::web::page::PageCtx;

/// An entry of a "choose a video" list.
pub struct VideoOption {
    pub id: String,
    pub label: String,
}

impl VideoOption {
    pub fn of_asset(asset: &Asset) -> VideoOption {
        let name = match &asset.youtube_url {
            Some(url) if asset.is_youtube() && asset.title.is_none() => format!("YouTube {url}"),
            _ => asset.display_title(),
        };
        let status = asset.status();
        let when = asset.created_at.0.format("%-d %b %Y");
        VideoOption {
            id: asset.id.to_string(),
            label: format!("{name} · {when} · {}", status.label().to_lowercase()),
        }
    }

    pub fn of_clip((clip, source): &(Clip, String)) -> VideoOption {
        let from = if source.is_empty() {
            String::new()
        } else {
            format!(" of {source}")
        };
        VideoOption {
            id: clip.id.to_string(),
            label: format!(
                "Clip {}–{}{from} ({})",
                clock(clip.start_time),
                clock(clip.end_time),
                clip.status().label().to_lowercase()
            ),
        }
    }
}

/// What a comment carries besides text.
pub enum Attachment {
    Video(Box<VideoView>),
    Clip { clip: Box<ClipView>, video: Box<VideoView> },
}

/// One comment as the thread shows it.
pub struct CommentView {
    pub id: String,
    pub author: String,
    pub text: Option<String>,
    pub created_at: Ts,
    pub edited: bool,
    pub range: Option<RangeChip>,
    pub attachment: Option<Attachment>,
    pub can_change: bool,
    /// The comparison link, when the comment carries a playable attempt.
    pub compare_url: Option<String>,
    /// On a reply that kept a comparison's offset: the comparison, reopened.
    pub reopen_url: Option<String>,
    /// The attached video's own page (where clips are cut).
    pub video_url: Option<String>,
    pub compare_offset: Option<f64>,
    /// The attempt video a pinned range is of (`None`: the demonstration).
    pub range_video: Option<String>,
    /// The comment's own playable attempt: its replies pin and draw on it.
    pub attempt_video: Option<String>,
    pub studio: StudioView,
}

/// What the studio left on a comment: its drawings, for the player to
/// replay (JSON in a data attribute) and in words for pages without
/// JavaScript.
#[derive(Default)]
pub struct StudioView {
    pub drawing_count: usize,
    /// `[{"start", "end", "shapes"}, ...]`, the checked, stored shapes.
    pub drawings_json: String,
    /// "3 drawings", shown with the comment; `None` when there are none.
    pub summary: Option<String>,
    /// The first drawing's moment, and as a clock.
    pub first_at: Option<f64>,
    pub first_label: String,
}

impl StudioView {
    pub fn new(rows: &[super::studio::DrawingRow]) -> StudioView {
        if rows.is_empty() {
            return StudioView::default();
        }
        let drawings: Vec<super::studio::Drawing> = rows.iter().map(|r| r.to_drawing()).collect();
        StudioView {
            drawing_count: rows.len(),
            drawings_json: serde_json::to_string(&drawings).unwrap_or_else(|_| "[]".to_owned()),
            summary: Some(super::studio::describe(rows.len())),
            first_at: drawings.first().map(|d| d.start),
            first_label: drawings.first().map(|d| clock(d.start)).unwrap_or_default(),
        }
    }
}

/// A pinned time range of the demonstration: shown as a chip that seeks
/// the demonstration to it and loops it.
pub struct RangeChip {
    pub start: f64,
    pub end: f64,
    pub label: String,
}

impl RangeChip {
    pub fn new(start: f64, end: f64) -> RangeChip {
        RangeChip {
            start,
            end,
            label: format!("{}–{}", clock(start), clock(end)),
        }
    }
}

pub struct EntryView {
    pub comment: CommentView,
    pub replies: Vec<CommentView>,
}

#[derive(Template)]
#[template(path = "comments/edit.html")]
pub struct EditCommentPage {
    pub ctx: PageCtx,
    pub comment_id: String,
    pub exercise: Exercise,
    /// The editor published the exercise (the form's wording).
    pub own_exercise: bool,
    pub form: CommentForm,
    pub errors: FieldErrors,
    pub videos: Vec<VideoOption>,
    pub clips: Vec<VideoOption>,
    pub max_upload_mb: u64,
}

#[derive(Template)]
#[template(path = "comments/delete.html")]
pub struct DeleteCommentPage {
    pub ctx: PageCtx,
    pub comment_id: String,
    pub exercise: Exercise,
    pub excerpt: String,
    pub replies: i64,
}

#[derive(Template)]
#[template(path = "comments/compare.html")]
pub struct ComparePage {
    pub ctx: PageCtx,
    pub exercise: Exercise,
    pub demonstration: VideoView,
    pub attempt: Attachment,
    pub attempt_author: String,
    pub offset: f64,
    pub parent_id: String,
    pub speeds: Vec<(String, String, bool)>,
}
