//! Page structs of the videos area, one per template, and the views of a
//! video and a clip that the templates show.

use askama::Template;
use diesel::QueryResult;

use super::forms::{ClipForm, FieldErrors, YoutubeForm, YoutubeId};
use super::queries::{Asset, Clip};
use super::Status;
use crate::db::{DbConn, Id, Ts};
use crate::media::Container;
use crate::web::auth::CurrentUser;
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

impl VideoView {
    /// Whether clips can be cut from it now (the player's "Clip this"):
    /// the rule of `handlers::clippable`, which checks it again.
    pub fn clippable(&self) -> bool {
        self.status == Status::Ready
            && self.is_valid
            && self.embed_url.is_none()
            && self.duration_sec.is_some_and(|d| d > 0)
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
    /// The clip's one playable file, for the player's controls.
    pub sources: Vec<Source>,
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
            sources: vec![Source {
                url: format!("/clips/{id}/media"),
                mime: "video/mp4".to_owned(),
                label: "clip".to_owned(),
            }],
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
    /// Not the first page.
    pub deep: bool,
    /// The page number when it was opened by one past the first (old
    /// `?page=` links).
    pub number: Option<i64>,
    /// The newer and older pages, by cursor (bookmarkable).
    pub newer: Option<String>,
    pub older: Option<String>,
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
    /// The player's speed choices, the viewer's default selected.
    pub speeds: Vec<(String, String, bool)>,
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

pub fn attempt_links(
    attempts: Vec<(crate::comments::queries::Authored, crate::exercises::queries::Exercise)>,
) -> Vec<AttemptLink> {
    attempts
        .into_iter()
        .map(|(attempt, exercise)| AttemptLink {
            exercise_id: exercise.id.to_string(),
            exercise_name: exercise.name,
            comment_id: attempt.comment.id.to_string(),
            author: attempt.author,
        })
        .collect()
}

/// What the video page's forms show: as typed after an error, or fresh.
#[derive(Default)]
pub struct VideoForms {
    pub clip: ClipForm,
    pub title: Option<String>,
    pub errors: FieldErrors,
}

/// Why a video cannot be clipped, if it cannot.
pub fn clippable(asset: &Asset) -> Result<f64, &'static str> {
    if asset.is_youtube() {
        return Err("YouTube videos cannot be cut into clips.");
    }
    if !asset.is_valid {
        return Err("This file cannot be played, so it cannot be cut.");
    }
    match (asset.status(), asset.duration_sec) {
        (Status::Ready, Some(duration)) if duration > 0 => Ok(f64::from(duration)),
        _ => Err("Clips can be made once the video is processed."),
    }
}

impl VideoPage {
    /// The video (404 unless this user may see it), its clips, the attempts
    /// it is posted with and, for staff, its uploader; shown again (422)
    /// with a form's errors.
    pub fn load(
        conn: &mut DbConn,
        ctx: PageCtx,
        user: &CurrentUser,
        id: Id,
        forms: VideoForms,
        tools_missing: bool,
    ) -> QueryResult<Self> {
        let (asset, access) = match super::queries::find_with_access(conn, id)? {
            Some((asset, access))
                if crate::accounts::permissions::can_view_video(user, access.uploaded_by_id, access.attached) =>
            {
                (asset, access)
            }
            _ => return Err(diesel::result::Error::NotFound),
        };
        let clips = super::queries::clips_of(conn, id)?;
        let attempts = crate::comments::queries::attempts_with_video(conn, id)?;
        let is_staff = user.is_staff || user.is_superuser;
        let uploader = match asset.uploaded_by_id {
            Some(uploader_id) if is_staff => {
                crate::accounts::queries::find_auth_user(conn, uploader_id)?.map(|u| u.row.username)
            }
            _ => None,
        };
        Ok(VideoPage {
            speeds: crate::exercises::pages::speed_choices(user.preferences.playback_speed),
            title_form: forms.title.unwrap_or_else(|| asset.display_title()),
            video: VideoView::new(&asset, uploader),
            clips: clips.iter().map(ClipView::new).collect(),
            clip_form: forms.clip,
            errors: forms.errors,
            can_edit: crate::accounts::permissions::can_edit_video(user, access.uploaded_by_id),
            can_clip: clippable(&asset).is_ok(),
            attempts: attempt_links(attempts),
            is_staff,
            tools_missing,
            ctx,
        })
    }
}

impl ClipPage {
    /// The clip (404 unless this user may see its video) and the attempts
    /// its video is posted with.
    pub fn load(conn: &mut DbConn, ctx: PageCtx, user: &CurrentUser, id: Id) -> QueryResult<Self> {
        let clip = super::queries::find_clip(conn, id)?.ok_or(diesel::result::Error::NotFound)?;
        let asset = match super::queries::find_with_access(conn, clip.original_video_id)? {
            Some((asset, access))
                if crate::accounts::permissions::can_view_video(user, access.uploaded_by_id, access.attached) =>
            {
                asset
            }
            _ => return Err(diesel::result::Error::NotFound),
        };
        let attempts = crate::comments::queries::attempts_with_video(conn, asset.id)?;
        Ok(ClipPage {
            clip: ClipView::new(&clip),
            video: VideoView::new(&asset, None),
            is_staff: user.is_staff || user.is_superuser,
            cut_for: attempt_links(attempts),
            ctx,
        })
    }
}
