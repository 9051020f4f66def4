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
}
