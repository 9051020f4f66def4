//! Page structs of the videos area, one per template, and the views of a
//! video and a clip that the templates show.

use askama::Template;

use super::forms::{ClipForm, FieldErrors, YoutubeForm, YoutubeId};
use super::queries::{Asset, Clip};
use super::Status;
use crate::db::Ts;
use crate::media::Container;
use crate::web::page::PageCtx;

/// One `<source>` of a `<video>`.
pub struct Source {
    pub url: String,
    /// Empty when unknown: the browser then sniffs the first bytes itself.
    pub mime: String,
    pub label: String,
}

/// A video as the pages show it.
pub struct VideoView {
    pub id: String,
    pub title: String,
    /// The uploaded file's name (not for YouTube links).
    pub file_name: Option<String>,
    /// Frames per second, when processing found it (the player's step).
    pub frame_rate: Option<f64>,
    /// `"29.97"`, `"25"`.
    pub frame_rate_label: Option<String>,
    pub page_url: String,
    pub status_url: String,
    pub status: Status,
    pub status_label: &'static str,
    pub settled: bool,
    pub failed: bool,
    pub is_valid: bool,
    pub problems: Vec<String>,
    pub processing_error: Option<String>,
    pub youtube_url: Option<String>,
    pub embed_url: Option<String>,
    pub poster_url: Option<String>,
    pub thumb_url: Option<String>,
    pub sources: Vec<Source>,
    pub duration: Option<String>,
    pub duration_sec: Option<i32>,
    pub dimensions: Option<String>,
    pub size: Option<String>,
    pub uploaded_at: Ts,
    pub uploader: Option<String>,
    pub access_count: i32,
    pub last_accessed: Option<Ts>,
    pub has_renditions: bool,
}

/// `75.5` → `1:15.5`; whole seconds without the fraction.
pub fn clock(seconds: f64) -> String {
    let tenths = (seconds.max(0.0) * 10.0).round() as u64;
    let (whole, fraction) = (tenths / 10, tenths % 10);
    let (hours, minutes, secs) = (whole / 3600, (whole / 60) % 60, whole % 60);
    let mut text = if hours > 0 {
        format!("{hours}:{minutes:02}:{secs:02}")
    } else {
        format!("{minutes}:{secs:02}")
    };
    if fraction > 0 {
        text.push_str(&format!(".{fraction}"));
    }
    text
}

pub fn human_size(bytes: i64) -> String {
    let bytes = bytes.max(0) as f64;
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000.0 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

impl VideoView {
    pub fn new(asset: &Asset, uploader: Option<String>) -> VideoView {
        let id = asset.id.to_string();
        let status = asset.status();
        let youtube = asset
            .youtube_url
            .as_deref()
            .filter(|_| asset.is_youtube())
            .and_then(YoutubeId::from_canonical);
        let renditions = asset.renditions();
        let playable = !asset.is_youtube() && asset.is_valid && asset.storage_path.is_some();
        let mut sources = Vec::new();
        if playable {
            // Largest first: browsers take the first source they can play;
            // the original last, for when no rendition exists.
            for (label, _) in renditions.iter().rev() {
                sources.push(Source {
                    url: format!("/videos/{id}/media/{label}"),
                    mime: "video/mp4".to_owned(),
                    label: label.clone(),
                });
            }
            sources.push(Source {
                url: format!("/videos/{id}/media/original"),
                mime: Container::from_mime_type(&asset.mime_type)
                    .map(|c| c.mime_type().to_owned())
                    .unwrap_or_default(),
                label: "original".to_owned(),
            });
        }
        let poster_url = asset
            .poster_path
            .as_ref()
            .filter(|_| playable)
            .map(|_| format!("/videos/{id}/poster"));
        VideoView {
            file_name: (!asset.is_youtube()).then(|| asset.orig_filename.clone()),
            frame_rate: asset.frame_rate.filter(|r| r.is_finite() && *r > 0.0),
            frame_rate_label: asset
                .frame_rate
                .filter(|r| r.is_finite() && *r > 0.0)
                .map(|r| format!("{r:.2}").trim_end_matches('0').trim_end_matches('.').to_owned()),
            page_url: format!("/videos/{id}"),
            status_url: format!("/videos/{id}/status"),
            title: asset.display_title(),
            status,
            status_label: status.label_after(asset.processing_error.as_deref()),
            settled: status.is_settled(),
            failed: status == Status::Failed,
            is_valid: asset.is_valid,
            problems: asset.validation_errors(),
            processing_error: asset.processing_error.clone(),
            youtube_url: youtube.as_ref().map(YoutubeId::canonical_url),
            embed_url: youtube.as_ref().map(YoutubeId::embed_url),
            thumb_url: poster_url
                .clone()
                .or_else(|| youtube.as_ref().map(YoutubeId::thumbnail_url)),
            poster_url,
            has_renditions: !renditions.is_empty(),
            sources,
            duration: asset.duration_sec.map(|d| clock(f64::from(d))),
            duration_sec: asset.duration_sec,
            dimensions: match (asset.width, asset.height) {
                (Some(w), Some(h)) => Some(format!("{w} × {h}")),
                _ => None,
            },
            size: asset.size_bytes.map(human_size),
            uploaded_at: asset.created_at,
            uploader,
            access_count: asset.access_count,
            last_accessed: asset.last_accessed,
            id,
        }
    }
}

/// A clip as the pages show it.
pub struct ClipView {
    pub id: String,
    pub page_url: String,
    pub status_url: String,
    pub media_url: String,
    pub status: Status,
    pub status_label: &'static str,
    pub settled: bool,
    pub ready: bool,
    pub failed: bool,
    pub error: Option<String>,
    pub start: String,
    pub end: String,
    pub length: String,
    pub size: Option<String>,
}

impl ClipView {
    pub fn new(clip: &Clip) -> ClipView {
        let id = clip.id.to_string();
        let status = clip.status();
        ClipView {
            page_url: format!("/clips/{id}"),
            status_url: format!("/clips/{id}/status"),
            media_url: format!("/clips/{id}/media"),
            status,
            status_label: status.label_after(clip.processing_error.as_deref()),
            settled: status.is_settled(),
            ready: status == Status::Ready,
            failed: status == Status::Failed,
            error: clip.processing_error.clone(),
            start: clock(clip.start_time),
            end: clock(clip.end_time),
            length: clock(clip.duration),
            size: clip.size_bytes.map(human_size),
            id,
        }
    }
}

#[derive(Template)]
#[template(path = "videos/list.html")]
pub struct VideoListPage {
    pub ctx: PageCtx,
    pub videos: Vec<VideoView>,
    pub everyone: bool,
    pub page: i64,
    pub has_next: bool,
    pub tools_missing: bool,
    /// The viewer's own storage, for the meter.
    pub storage: StorageView,
    pub max_upload_bytes: u64,
}

/// Used and quota, as the videos page shows them.
pub struct StorageView {
    pub used: String,
    pub quota: Option<String>,
    pub percent: u64,
    pub full: bool,
}

impl StorageView {
    pub fn new(usage: &super::quota::Usage) -> StorageView {
        use super::handlers::mib;
        StorageView {
            used: mib(usage.used()),
            quota: usage.quota.map(mib),
            percent: usage.percent(),
            full: usage.quota.is_some_and(|q| usage.used() >= q),
        }
    }
}

#[derive(Template)]
#[template(path = "videos/new.html")]
pub struct NewVideoPage {
    pub ctx: PageCtx,
    pub max_upload_mb: u64,
    pub max_upload_bytes: u64,
    pub upload_errors: Vec<String>,
    pub youtube: YoutubeForm,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "videos/show.html")]
pub struct VideoPage {
    pub ctx: PageCtx,
    pub video: VideoView,
    pub clips: Vec<ClipView>,
    pub clip_form: ClipForm,
    /// The title field's value.
    pub title_form: String,
    pub errors: FieldErrors,
    pub can_edit: bool,
    pub can_clip: bool,
    /// The attempts this video is posted with.
    pub attempts: Vec<AttemptLink>,
    pub is_staff: bool,
    pub tools_missing: bool,
}

/// An attempt (a comment) that carries a video: the way back to it from
/// the video's page and its clips' pages.
pub struct AttemptLink {
    pub exercise_id: String,
    pub exercise_name: String,
    pub comment_id: String,
    pub author: String,
}

impl AttemptLink {
    pub fn comment_url(&self) -> String {
        format!("/exercises/{}#comment-{}", self.exercise_id, self.comment_id)
    }
}

#[derive(Template)]
#[template(path = "videos/clip.html")]
pub struct ClipPage {
    pub ctx: PageCtx,
    pub clip: ClipView,
    pub video: VideoView,
    pub is_staff: bool,
    /// The attempts (comments) whose video the clip comes from.
    pub cut_for: Vec<AttemptLink>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_read_well() {
        assert_eq!(clock(0.0), "0:00");
        assert_eq!(clock(75.5), "1:15.5");
        assert_eq!(clock(3725.0), "1:02:05");
        assert_eq!(human_size(999), "999 bytes");
        assert_eq!(human_size(1_500_000), "1.5 MB");
    }
}
