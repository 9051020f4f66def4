//! Page structs of the comments area and the views of a thread.

use askama::Template;
use diesel::QueryResult;

pub use super::forms::CommentForm;
use super::queries::{Authored, Comment, Entry, Media};
use super::retry::Chain;
use crate::accounts::forms::FieldErrors;
use crate::db::{DbConn, Id, Ts};
use crate::exercises::queries::Exercise;
use crate::videos::pages::{clock, ClipView, VideoView};
use crate::videos::queries::{Asset, Clip};
use crate::web::auth::CurrentUser;
use crate::web::page::PageCtx;

/// An entry of a "choose a video" list (also sent as JSON to the
/// exercise page's forms, see `exercises::pages::Choices`).
#[derive(serde::Serialize)]
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
    /// How the kept comparison looked, in words (", the attempt mirrored").
    pub compare_view: String,
    /// The attempt video a pinned range is of (`None`: the demonstration).
    pub range_video: Option<String>,
    /// The comment's own playable attempt: its replies pin and draw on it.
    pub attempt_video: Option<String>,
    pub studio: StudioView,
    pub voice: Option<VoiceView>,
    /// The reply as a video, for who may download it.
    pub export: Option<ExportView>,
    /// "Export as a video" is offered (the author, on a reply that holds
    /// drawings or a processed voice-over, with no export in the making).
    pub can_export: bool,
    /// The viewer wrote it.
    pub mine: bool,
    /// On an attempt that tried again: the notes it answers.
    pub answers: Vec<ChainLink>,
    /// On a note that asked for another try: the attempt that answered it,
    /// if one has.
    pub asks: Option<Option<ChainLink>>,
    /// On an attempt: its author's progress page on the exercise, for those
    /// who may see it.
    pub progress_url: Option<String>,
}

/// A reply's voice-over: a plain `<audio>` once processed, the timeline
/// for "Play voice-over" to replay on the attempt, the transcript.
pub struct VoiceView {
    pub id: String,
    pub ready: bool,
    pub audio_url: String,
    pub status_label: String,
    /// Still being processed: the thread's script polls this.
    pub status_url: Option<String>,
    /// `[{"t_ms", "action", "value"}, ...]`, the checked, stored timeline.
    pub timeline_json: String,
    pub transcript: Option<String>,
}

impl VoiceView {
    pub fn new(row: &super::voice::VoiceoverRow) -> VoiceView {
        let status = row.status();
        VoiceView {
            id: row.id.to_string(),
            ready: status == super::voice::Status::Ready && row.audio_path.is_some(),
            audio_url: row.audio_url(),
            status_url: matches!(status, super::voice::Status::Pending | super::voice::Status::Processing)
                .then(|| format!("/voiceovers/{}/status", row.id)),
            status_label: match (status, &row.processing_error) {
                (super::voice::Status::Invalid | super::voice::Status::Failed, Some(error)) => {
                    format!("{} ({error})", status.label())
                }
                _ => status.label().to_owned(),
            },
            timeline_json: serde_json::to_string(&row.events()).unwrap_or_else(|_| "[]".to_owned()),
            transcript: row.transcript.clone(),
        }
    }
}

/// A reply's export: "Preparing your video…", then a download link.
pub struct ExportView {
    pub ready: bool,
    pub failed: Option<String>,
    pub file_url: String,
    pub status_url: String,
    pub size: String,
}

impl ExportView {
    pub fn new(row: &super::export::ExportRow) -> ExportView {
        let status = row.status();
        ExportView {
            ready: status == super::export::Status::Ready && row.path.is_some(),
            failed: (status == super::export::Status::Failed).then(|| row.processing_error.clone().unwrap_or_default()),
            file_url: row.file_url(),
            status_url: row.status_url(),
            size: row.size_bytes.map(crate::videos::pages::human_size).unwrap_or_default(),
        }
    }
}

/// A link along the chain attempt → note → retry: the comment's anchor in
/// the thread and when it was posted.
pub struct ChainLink {
    pub url: String,
    pub at: Ts,
}

impl ChainLink {
    fn to(exercise: &Exercise, comment: Id, at: Ts) -> ChainLink {
        ChainLink {
            url: format!("/exercises/{}#comment-{comment}", exercise.id),
            at,
        }
    }
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
    /// The drawings, and the voice-over when there is one: the summary
    /// says "a voice-over of 0:42 and 3 drawings".
    pub fn new(rows: &[super::studio::DrawingRow], voice: Option<&super::voice::VoiceoverRow>) -> StudioView {
        if rows.is_empty() {
            return StudioView {
                summary: voice.map(|v| v.describe()),
                ..StudioView::default()
            };
        }
        let drawings: Vec<super::studio::Drawing> = rows.iter().map(|r| r.to_drawing()).collect();
        let drawn = super::studio::describe(rows.len());
        StudioView {
            drawing_count: rows.len(),
            drawings_json: serde_json::to_string(&drawings).unwrap_or_else(|_| "[]".to_owned()),
            summary: Some(match voice {
                Some(voice) => format!("{} and {drawn}", voice.describe()),
                None => drawn,
            }),
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

/// What a comment carries, from the page's media.
pub fn attachment(media: &Media, exercise: &Exercise, comment: &Comment) -> Option<Attachment> {
    if let Some(clip) = comment.clip_id.and_then(|id| media.clips.get(&id)) {
        let video = media.assets.get(&clip.original_video_id)?;
        return Some(Attachment::Clip {
            clip: Box::new(ClipView::new(clip)),
            video: Box::new(VideoView::new(video, None)),
        });
    }
    if comment.has_own_video(exercise) {
        return media
            .assets
            .get(&comment.video_asset_id)
            .map(|asset| Attachment::Video(Box::new(VideoView::new(asset, None))));
    }
    None
}

pub fn comment_view(
    user: &CurrentUser,
    media: &Media,
    chain: &Chain,
    exercise: &Exercise,
    authored: &Authored,
) -> CommentView {
    let comment = &authored.comment;
    let answers = chain
        .by_retry
        .get(&comment.id)
        .map(|requests| {
            requests
                .iter()
                .map(|r| ChainLink::to(exercise, r.note_id, r.created_at))
                .collect()
        })
        .unwrap_or_default();
    let asks = chain
        .by_note
        .get(&comment.id)
        .map(|request| request.resolved().map(|(retry, at)| ChainLink::to(exercise, retry, at)));
    let attachment = attachment(media, exercise, comment);
    let view = super::forms::CompareView::of(comment.compare_mirror.as_deref(), comment.compare_overlay);
    let playable = match &attachment {
        Some(Attachment::Video(video)) => !video.sources.is_empty(),
        Some(Attachment::Clip { clip, .. }) => clip.ready,
        None => false,
    };
    CommentView {
        id: comment.id.to_string(),
        author: authored.author.clone(),
        text: comment.text.clone(),
        created_at: comment.created_at,
        edited: comment.updated_at.0 - comment.created_at.0 > chrono::Duration::seconds(5),
        range: comment
            .range_start
            .zip(comment.range_end)
            .map(|(s, e)| RangeChip::new(s, e)),
        compare_url: playable.then(|| format!("/comments/{}/compare", comment.id)),
        video_url: match &attachment {
            Some(Attachment::Video(video)) => Some(video.page_url.clone()),
            Some(Attachment::Clip { clip, .. }) => Some(clip.page_url.clone()),
            None => None,
        },
        reopen_url: comment
            .compare_offset
            .zip(comment.parent_id)
            .map(|(offset, parent)| format!("/comments/{parent}/compare?offset={offset}{}", view.query())),
        compare_view: view.describe(),
        attempt_video: match &attachment {
            Some(Attachment::Video(video)) if !video.sources.is_empty() => Some(video.id.clone()),
            _ => None,
        },
        attachment,
        can_change: crate::accounts::permissions::can_change_comment(user, comment.author_id),
        compare_offset: comment.compare_offset,
        range_video: comment.range_video_id.map(|id| id.to_string()),
        studio: StudioView::new(
            media.drawings.get(&comment.id).map(Vec::as_slice).unwrap_or_default(),
            media.voiceovers.get(&comment.id),
        ),
        voice: media.voiceovers.get(&comment.id).map(VoiceView::new),
        export: media
            .exports
            .get(&comment.id)
            .filter(|row| {
                let attempt_owner = media.assets.get(&row.video_id).and_then(|a| a.uploaded_by_id);
                crate::accounts::permissions::can_download_export(user, row.owner_id, attempt_owner)
            })
            .map(ExportView::new),
        can_export: crate::accounts::permissions::can_export_comment(user, comment.author_id)
            && comment.parent_id.is_some()
            && media
                .exports
                .get(&comment.id)
                .is_none_or(|row| row.status() == super::export::Status::Failed)
            && match media.voiceovers.get(&comment.id) {
                Some(voice) => voice.status() == super::voice::Status::Ready,
                None => media.drawings.get(&comment.id).is_some_and(|d| !d.is_empty()),
            },
        mine: comment.author_id == user.id,
        progress_url: (comment.parent_id.is_none()
            && crate::accounts::permissions::can_view_progress(user, comment.author_id, exercise.created_by_id))
        .then(|| crate::practice::progress_url(exercise.id, comment.author_id)),
        answers,
        asks,
    }
}

/// A page of the thread as the template shows it.
pub fn entry_views(
    user: &CurrentUser,
    media: &Media,
    chain: &Chain,
    exercise: &Exercise,
    entries: &[Entry],
) -> Vec<EntryView> {
    entries
        .iter()
        .map(|entry| EntryView {
            comment: comment_view(user, media, chain, exercise, &entry.comment),
            replies: entry
                .replies
                .iter()
                .map(|r| comment_view(user, media, chain, exercise, r))
                .collect(),
        })
        .collect()
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
    /// Always `None`: the edit form has its choices in the page (see
    /// `ExercisePage::choose_base`).
    pub choose_base: Option<String>,
    pub max_upload_mb: u64,
    /// The voice-over the comment holds, in words ("a voice-over of 0:42"):
    /// the form offers to remove it.
    pub voiceover: Option<String>,
    /// A reply to an attempt: that attempt, in the full player with the
    /// studio, to draw again or record a new voice-over.
    pub attempt: Option<VideoView>,
    pub speeds: Vec<(String, String, bool)>,
    /// The reply's drawings as the studio edits them (JSON; empty: none).
    pub drawings_json: String,
}

#[derive(Template)]
#[template(path = "comments/delete.html")]
pub struct DeleteCommentPage {
    pub ctx: PageCtx,
    pub comment_id: String,
    pub exercise: Exercise,
    pub excerpt: String,
    pub replies: i64,
    /// On it and its replies: they go with it.
    pub voiceovers: i64,
    pub drawings: i64,
    /// Exported videos of it or its replies: their MP4s go too.
    pub exports: i64,
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
    /// Mirroring and overlay, as the link or the comment keeps them.
    pub view: super::forms::CompareView,
    pub parent_id: String,
    pub speeds: Vec<(String, String, bool)>,
    /// Two attempts compared (`?with=`, from a progress page): the other
    /// one, in the demonstration's place, and when each was posted.
    pub earlier: Option<Attachment>,
    /// "Attempt of Tuesday 1 December 2026, 10:40 CET" (two attempts), or
    /// "Attempt".
    pub earlier_caption: String,
    pub attempt_caption: String,
}

impl EditCommentPage {
    /// The edit form, also shown again (422) with errors.
    #[allow(clippy::too_many_arguments)]
    pub fn load(
        conn: &mut DbConn,
        ctx: PageCtx,
        user: &CurrentUser,
        comment: &Comment,
        exercise: Exercise,
        mut form: CommentForm,
        errors: FieldErrors,
        max_upload_mb: u64,
    ) -> QueryResult<Self> {
        let mut videos = crate::exercises::pages::video_options(conn, user.id)?;
        // The attached video stays choosable even when it is not the editor's.
        let attached = comment.video_asset_id.to_string();
        if comment.has_own_video(&exercise) && comment.clip_id.is_none() && !videos.iter().any(|v| v.id == attached) {
            if let Some(asset) = crate::videos::queries::find_asset(conn, comment.video_asset_id)? {
                videos.insert(0, VideoOption::of_asset(&asset));
            }
        }
        let clips = super::queries::clip_choices_described(conn, exercise.id, user.id)?;
        let voiceover = super::voice::of_comments(conn, &[comment.id])?
            .remove(&comment.id)
            .map(|v| v.describe());
        let parent = match comment.parent_id {
            Some(id) => super::queries::find(conn, id)?,
            None => None,
        };
        let attempt = match parent.filter(|p| p.clip_id.is_none() && p.has_own_video(&exercise)) {
            Some(p) => crate::videos::queries::find_asset(conn, p.video_asset_id)?
                .map(|asset| VideoView::new(&asset, None))
                .filter(|v| v.embed_url.is_none() && !v.sources.is_empty()),
            None => None,
        };
        // A recording made here is attached to that attempt; a range the
        // reply already pins stays on what it is on.
        if let Some(video) = &attempt {
            if form.attempt_video_id.is_empty() && form.range_start.is_empty() && form.range_end.is_empty() {
                form.attempt_video_id = video.id.clone();
            }
        }
        let drawings = super::studio::of_comments(conn, &[comment.id])?
            .remove(&comment.id)
            .unwrap_or_default();
        Ok(EditCommentPage {
            voiceover,
            attempt,
            speeds: crate::exercises::pages::speed_choices(user.preferences.playback_speed),
            drawings_json: StudioView::new(&drawings, None).drawings_json,
            ctx,
            own_exercise: exercise.created_by_id == user.id,
            comment_id: comment.id.to_string(),
            exercise,
            form,
            errors,
            videos,
            clips: clips.iter().map(VideoOption::of_clip).collect(),
            choose_base: None,
            max_upload_mb,
        })
    }
}

impl ComparePage {
    /// The attempt of comment `id` beside the demonstration, at `offset`
    /// seconds (else the comment's own, else none); 404 when the comment
    /// carries nothing to compare.
    pub fn load(
        conn: &mut DbConn,
        ctx: PageCtx,
        user: &CurrentUser,
        id: Id,
        offset: Option<f64>,
        view: Option<super::forms::CompareView>,
        with: Option<Id>,
    ) -> QueryResult<Self> {
        let comment = super::queries::find(conn, id)?.ok_or(diesel::result::Error::NotFound)?;
        // The other attempt: another comment of the same thread.
        let other = match with {
            Some(other) if other != id => Some(
                super::queries::find(conn, other)?
                    .filter(|o| o.exercise_id == comment.exercise_id)
                    .ok_or(diesel::result::Error::NotFound)?,
            ),
            Some(_) => return Err(diesel::result::Error::NotFound),
            None => None,
        };
        let (exercise, demonstration, _) = crate::exercises::queries::find_for_page(conn, comment.exercise_id)?;
        let media = super::queries::load_media(conn, std::iter::once(&comment).chain(other.as_ref()))?;
        let attempt = attachment(&media, &exercise, &comment).ok_or(diesel::result::Error::NotFound)?;
        let earlier = match &other {
            Some(o) => Some(attachment(&media, &exercise, o).ok_or(diesel::result::Error::NotFound)?),
            None => None,
        };
        let author = crate::accounts::queries::display_name_of(conn, comment.author_id)?;
        Ok(ComparePage {
            speeds: crate::exercises::pages::speed_choices(user.preferences.playback_speed),
            demonstration: VideoView::new(&demonstration, None),
            attempt,
            attempt_author: author,
            offset: offset.or(comment.compare_offset).unwrap_or(0.0),
            view: view.unwrap_or_else(|| {
                super::forms::CompareView::of(comment.compare_mirror.as_deref(), comment.compare_overlay)
            }),
            parent_id: comment.parent_id.unwrap_or(comment.id).to_string(),
            exercise,
            earlier_caption: other
                .as_ref()
                .map(|o| format!("Attempt of {}", ctx.when(o.created_at).exact))
                .unwrap_or_default(),
            attempt_caption: match &other {
                Some(_) => format!("Attempt of {}", ctx.when(comment.created_at).exact),
                None => "Attempt".to_owned(),
            },
            earlier,
            ctx,
        })
    }
}
