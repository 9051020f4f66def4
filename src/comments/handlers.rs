//! Comment handlers: thin; permissions in `accounts::permissions`, checks in
//! `forms` and here (what needs the database), storage in `queries`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::forms::{CommentForm, Parsed};
use super::pages::{ComparePage, DeleteCommentPage, EditCommentPage};
use super::queries::{self, Comment, Draft};
use super::{export, voice};
use crate::accounts::forms::FieldErrors;
use crate::accounts::permissions;
use crate::accounts::submissions::{self, Once};
use crate::db::{self, Id};
use crate::error::{AppError, AppResult};
use crate::exercises::handlers::{exercise_page, load};
use crate::exercises::queries::Exercise;
use crate::startup::AppState;
use crate::videos;
use crate::web::auth::CurrentUser;
use crate::web::page::{flash, render, render_status, Level, PageCtx};
use crate::web::paging::Start;
use crate::web::see_other;

/// Turns a parsed form into a draft, checking what needs the database:
/// the attached video is the author's own, the clip belongs to this thread
/// or to the author, the answered comment is on this exercise, the range
/// lies within the demonstration.
async fn draft_for(
    state: &AppState,
    user: &CurrentUser,
    exercise: &Exercise,
    parsed: Parsed,
    keep: Option<&Comment>,
) -> AppResult<Result<Draft, FieldErrors>> {
    let mut errors = FieldErrors::default();
    let (user_id, exercise_id, demo) = (user.id, exercise.id, exercise.video_asset_id);
    let kept_video = keep
        .filter(|c| c.has_own_video(exercise) && c.clip_id.is_none())
        .map(|c| c.video_asset_id);
    let kept_clip = keep.and_then(|c| c.clip_id);
    let kept_attempt = keep.and_then(|c| c.range_video_id);
    let (video_ok, clip_ok, parent, duration, attempt, recording, top) = {
        let parsed = parsed.clone();
        db::run(&state.pool, move |c| {
            let video_ok = match parsed.video {
                None => true,
                Some(id) if Some(id) == kept_video => true,
                // Only one's own videos: attaching makes a video visible to all.
                Some(id) => match videos::queries::find_with_access(c, id)? {
                    Some((_, access)) => access.uploaded_by_id == Some(user_id),
                    None => false,
                },
            };
            let clip_ok = match parsed.clip {
                None => true,
                Some(id) if Some(id) == kept_clip => true,
                Some(id) => queries::clip_allowed(c, id, exercise_id, user_id)?,
            };
            let parent = match parsed.parent {
                Some(id) => queries::find(c, id)?,
                None => None,
            };
            let duration = videos::queries::find_asset(c, demo)?.and_then(|a| a.duration_sec);
            // The attempt a range or drawings are on: the video of the
            // comment answered (its attempt, not a clip), the comment's own
            // attempt, or the one an edited comment already had.
            let attempt = match parsed.attempt {
                None => None,
                Some(id) => {
                    let answered = match &parent {
                        Some(parent) if parent.exercise_id == exercise_id && parent.clip_id.is_none() => {
                            let top = match parent.parent_id {
                                Some(top) => queries::find(c, top)?,
                                None => Some(parent.clone()),
                            };
                            top.filter(|t| t.clip_id.is_none() && t.video_asset_id != demo)
                                .map(|t| t.video_asset_id)
                        }
                        _ => None,
                    };
                    let allowed = answered == Some(id) || parsed.video == Some(id) || kept_attempt == Some(id);
                    match allowed {
                        true => Some((id, videos::queries::find_asset(c, id)?.and_then(|a| a.duration_sec))),
                        false => None,
                    }
                }
            };
            let recording = match &parsed.voiceover {
                Some(draft) => voice::find(c, draft.id)?,
                None => None,
            };
            // The attempt a "try again" is about: the top of the thread entry.
            let top = match (&parent, parsed.retry) {
                (Some(parent), true) => match parent.parent_id {
                    Some(top) => queries::find(c, top)?,
                    None => Some(parent.clone()),
                },
                _ => None,
            };
            Ok::<_, diesel::result::Error>((video_ok, clip_ok, parent, duration, attempt, recording, top))
        })
        .await?
    };
    if parsed.attempt.is_some() && attempt.is_none() {
        errors.add(
            "attempt_video_id",
            "The attempt you pinned or drew on is not in this thread.",
        );
    }
    let on_attempt = attempt.is_some();
    let duration = match attempt {
        Some((_, attempt_duration)) => attempt_duration,
        None => duration,
    };
    if !video_ok {
        errors.add("video_id", "Choose one of your own videos.");
    }
    if !clip_ok {
        errors.add(
            "clip_id",
            "Choose a clip from this exercise's thread or your own videos.",
        );
    }
    // Replies hang under the top-level comment they answer.
    let parent = match (parsed.parent, parent) {
        (None, _) => None,
        (Some(_), Some(parent)) if parent.exercise_id == exercise.id => Some(parent.parent_id.unwrap_or(parent.id)),
        (Some(_), _) => {
            errors.add("text", "The comment you answered no longer exists.");
            None
        }
    };
    if let (Some((_, end)), Some(duration)) = (parsed.range, duration) {
        if end > f64::from(duration) + 0.5 {
            errors.add(
                "range_end",
                format!(
                    "The {} is only {} long.",
                    if on_attempt { "attempt" } else { "demonstration" },
                    videos::pages::clock(f64::from(duration))
                ),
            );
        }
    }
    if let (Some(drawings), Some(duration)) = (&parsed.drawings, duration) {
        if drawings.iter().any(|d| d.start > f64::from(duration) + 0.5) {
            errors.add("drawings", "A drawing is placed after the end of the attempt.");
        }
    }
    if let Some(draft) = &parsed.voiceover {
        // Only one's own recording, not yet on a reply, and usable.
        let usable = recording.as_ref().is_some_and(|r| {
            r.owner_id == user.id && r.comment_id.is_none() && !matches!(r.status(), voice::Status::Invalid)
        });
        let drawings = parsed.drawings.as_ref().map_or(0, Vec::len);
        if !usable {
            errors.add("voiceover_id", "The voice-over could not be found: record it again.");
        } else if let Err(message) = voice::check_timeline(&draft.timeline, duration.map(f64::from), drawings) {
            errors.add("voiceover_id", message);
        }
    }
    let retry = match top.filter(|t| t.exercise_id == exercise.id) {
        _ if !parsed.retry => None,
        _ if !permissions::gives_feedback(user, exercise.created_by_id) => {
            errors.add("retry", "Only the exercise's coach can ask for another try.");
            None
        }
        Some(top) if top.author_id == user.id => {
            errors.add("retry", "This is your own attempt: there is nobody to ask.");
            None
        }
        Some(top) => Some(top),
        None => {
            errors.add("retry", "Ask for another try in a reply to an attempt.");
            None
        }
    };
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    Ok(Ok(Draft {
        retry,
        remove_voiceover: parsed.remove_voiceover,
        text: parsed.text,
        video: parsed.video,
        clip: parsed.clip,
        range: parsed.range,
        parent,
        compare_offset: parsed.compare_offset,
        compare_view: parsed.compare_view,
        range_video: attempt.map(|a| a.0).filter(|_| parsed.range.is_some()),
        drawings: match (parsed.drawings, attempt) {
            (Some(drawings), Some((video, _))) => Some((video, drawings)),
            // No attempt: only "no drawings" passed the form's checks.
            (Some(drawings), None) => drawings.is_empty().then_some((demo, drawings)),
            (None, _) => None,
        },
        voiceover: match (parsed.voiceover, attempt) {
            (Some(draft), Some((video, _))) => Some((video, draft)),
            _ => None,
        },
    }))
}

pub async fn create(
    req: HttpRequest,
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
    form: web::Form<CommentForm>,
) -> AppResult<HttpResponse> {
    let exercise = load(&state, id.into_inner()).await?;
    let form = form.into_inner();
    let mut draft = match form.parse() {
        Ok(parsed) => draft_for(&state, &user, &exercise, parsed, None).await?,
        Err(errors) => Err(errors),
    };
    let key = submissions::check_form(
        state.settings.secret_key.bytes(),
        user.id,
        &form.once,
        "text",
        &mut draft,
    );
    let draft = match draft {
        Ok(draft) => draft,
        Err(errors) => {
            let page = exercise_page(ctx, &state, &user, exercise.id, Start::first(), form, errors).await?;
            return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let is_reply = draft.parent.is_some();
    let (author, target) = (user.id, exercise.clone());
    // Once per form key: a double click or a retried request answers the
    // first one's redirect and stores nothing.
    let posted = db::run(&state.pool, move |c| {
        submissions::once(c, author, key.as_ref(), |c| {
            let comment = queries::create(c, author, &target, &draft)?;
            let at = comment_url(&comment);
            Ok::<_, diesel::result::Error>((comment, at))
        })
    })
    .await?;
    let at = match posted {
        Once::First(comment) => comment_url(&comment),
        Once::Repeat(at) => at,
    };
    flash(
        &req,
        Level::Success,
        if is_reply {
            "Your reply is posted."
        } else {
            "Your comment is posted."
        },
    );
    Ok(see_other(&at))
}

/// Where a comment is shown: its thread entry on the exercise's page.
fn comment_url(comment: &Comment) -> String {
    format!(
        "/exercises/{}#comment-{}",
        comment.exercise_id,
        comment.parent_id.unwrap_or(comment.id)
    )
}

/// The comment and its exercise, if this user may change it (403 if not).
async fn changeable(state: &AppState, user: &CurrentUser, id: Id) -> AppResult<(Comment, Exercise)> {
    let comment = db::run(&state.pool, move |c| queries::find(c, id))
        .await?
        .ok_or(AppError::NotFound)?;
    if !permissions::can_change_comment(user, comment.author_id) {
        return Err(AppError::Forbidden);
    }
    let exercise = load(state, comment.exercise_id).await?;
    Ok((comment, exercise))
}

fn form_of(comment: &Comment, exercise: &Exercise) -> CommentForm {
    let seconds = |v: Option<f64>| v.map(|s| format!("{s}")).unwrap_or_default();
    CommentForm {
        text: comment.text.clone().unwrap_or_default(),
        video_id: if comment.has_own_video(exercise) && comment.clip_id.is_none() {
            comment.video_asset_id.to_string()
        } else {
            String::new()
        },
        clip_id: comment.clip_id.map(|id| id.to_string()).unwrap_or_default(),
        range_start: seconds(comment.range_start),
        range_end: seconds(comment.range_end),
        parent_id: comment.parent_id.map(|id| id.to_string()).unwrap_or_default(),
        compare_offset: seconds(comment.compare_offset),
        compare_mirror: comment.compare_mirror.clone().unwrap_or_default(),
        compare_overlay: comment.compare_overlay.map(|o| o.to_string()).unwrap_or_default(),
        once: String::new(),
        attempt_video_id: comment.range_video_id.map(|id| id.to_string()).unwrap_or_default(),
        drawings: None,
        ..CommentForm::default()
    }
}

async fn edit_page(
    ctx: PageCtx,
    state: &AppState,
    user: &CurrentUser,
    comment: &Comment,
    exercise: Exercise,
    form: CommentForm,
    errors: FieldErrors,
) -> AppResult<EditCommentPage> {
    let (user, comment) = (user.clone(), comment.clone());
    let max_upload_mb = state.settings.max_upload_bytes / 1024 / 1024;
    db::run(&state.pool, move |c| {
        EditCommentPage::load(c, ctx, &user, &comment, exercise, form, errors, max_upload_mb)
    })
    .await
}

pub async fn edit_form(
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> AppResult<HttpResponse> {
    let (comment, exercise) = changeable(&state, &user, id.into_inner()).await?;
    let form = form_of(&comment, &exercise);
    let page = edit_page(ctx, &state, &user, &comment, exercise, form, FieldErrors::default()).await?;
    render(&page)
}

pub async fn update(
    req: HttpRequest,
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
    form: web::Form<CommentForm>,
) -> AppResult<HttpResponse> {
    let (comment, exercise) = changeable(&state, &user, id.into_inner()).await?;
    let mut form = form.into_inner();
    // Where a comment sits in the thread does not change on edit.
    form.parent_id = comment.parent_id.map(|id| id.to_string()).unwrap_or_default();
    let draft = match form.parse() {
        Ok(parsed) => draft_for(&state, &user, &exercise, parsed, Some(&comment)).await?,
        Err(errors) => Err(errors),
    };
    let draft = match draft {
        Ok(draft) => draft,
        Err(errors) => {
            let page = edit_page(ctx, &state, &user, &comment, exercise, form, errors).await?;
            return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let (target, on) = (comment.clone(), exercise.clone());
    let stale = db::run(&state.pool, move |c| queries::update(c, &target, &on, &draft)).await?;
    remove_files(&state, stale).await;
    flash(&req, Level::Success, "The comment is saved.");
    Ok(see_other(&format!(
        "/exercises/{}#comment-{}",
        exercise.id,
        comment.parent_id.unwrap_or(comment.id)
    )))
}

pub async fn delete_confirm(
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> AppResult<HttpResponse> {
    let (comment, exercise) = changeable(&state, &user, id.into_inner()).await?;
    let comment_id = comment.id;
    let (replies, (voiceovers, drawings, exports)) = db::run(&state.pool, move |c| {
        Ok::<_, diesel::result::Error>((
            queries::reply_count(c, comment_id)?,
            queries::studio_counts(c, comment_id)?,
        ))
    })
    .await?;
    let text = comment.text.clone().unwrap_or_default();
    let excerpt = if text.chars().count() > 140 {
        format!("{}…", text.chars().take(140).collect::<String>())
    } else {
        text
    };
    render(&DeleteCommentPage {
        ctx,
        comment_id: comment.id.to_string(),
        exercise,
        excerpt,
        replies,
        voiceovers,
        drawings,
        exports,
    })
}

pub async fn delete(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> AppResult<HttpResponse> {
    let (comment, exercise) = changeable(&state, &user, id.into_inner()).await?;
    let target = comment.clone();
    let (replies, exported) = db::run(&state.pool, move |c| {
        let exported = export::files_of_thread(c, target.id)?;
        Ok::<_, diesel::result::Error>((queries::delete(c, &target)?, exported))
    })
    .await?;
    // The rows went with the comment: their files go now.
    remove_files(&state, exported).await;
    flash(
        &req,
        Level::Success,
        match replies {
            0 => "The comment is deleted.".to_owned(),
            1 => "The comment and its reply are deleted.".to_owned(),
            n => format!("The comment and its {n} replies are deleted."),
        },
    );
    Ok(see_other(&format!("/exercises/{}#comments", exercise.id)))
}

#[derive(Deserialize)]
pub struct CompareQuery {
    offset: Option<String>,
    mirror: Option<String>,
    overlay: Option<String>,
    /// Another attempt of the thread, in the demonstration's place.
    with: Option<String>,
}

/// The attempt next to the demonstration, with one set of controls and an
/// adjustable offset; a reply from here keeps the offset. Opened from a
/// reply that kept one, it compares that reply's parent at that offset.
pub async fn compare(
    ctx: PageCtx,
    // Everyone logged in sees every exercise and its thread.
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
    query: web::Query<CompareQuery>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let offset = query
        .offset
        .as_deref()
        .and_then(|o| o.parse::<f64>().ok())
        .filter(|o| o.is_finite() && o.abs() <= 3600.0);
    // A reply's link reopens the comparison as it was kept; a link that
    // names neither opens it as the comment keeps it.
    let view = match (&query.mirror, &query.overlay) {
        (None, None) => None,
        (mirror, overlay) => super::forms::CompareView::parse(
            mirror.as_deref().unwrap_or_default(),
            overlay.as_deref().unwrap_or_default(),
        ),
    };
    let with = match query.with.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        Some(other) => Some(other.parse::<Id>().map_err(|_| AppError::NotFound)?),
        None => None,
    };
    let page = db::run(&state.pool, move |c| {
        ComparePage::load(c, ctx, &user, id, offset, view, with)
    })
    .await?;
    render(&page)
}

/// A voice-over this user may hear (a 404 for one they may not).
async fn audible(state: &AppState, user: &CurrentUser, id: Id) -> AppResult<voice::VoiceoverRow> {
    let row = db::run(&state.pool, move |c| voice::find(c, id))
        .await?
        .ok_or(AppError::NotFound)?;
    if !permissions::can_hear_voiceover(user, row.owner_id, row.comment_id.is_some()) {
        return Err(AppError::NotFound);
    }
    Ok(row)
}

/// The processed sound of a voice-over, with ranges: for whoever may see
/// the comment it is on (its owner alone before it is posted); a 404 for
/// everyone else and until it is ready.
pub async fn voiceover_audio(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> AppResult<HttpResponse> {
    let row = audible(&state, &user, id.into_inner()).await?;
    let path = match (row.status(), &row.audio_path) {
        (voice::Status::Ready, Some(path)) => path.clone(),
        _ => return Err(AppError::NotFound),
    };
    videos::handlers::serve_file(&req, &state, &path, "audio/webm").await
}

/// Status of a voice-over, for the thread's script while it is processed.
pub async fn voiceover_status(
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> AppResult<HttpResponse> {
    let row = audible(&state, &user, id.into_inner()).await?;
    let status = row.status();
    Ok(no_store_json(serde_json::json!({
        "status": status.as_str(),
        "label": status.label(),
        "settled": !matches!(status, voice::Status::Pending | voice::Status::Processing),
    })))
}

fn no_store_json(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// Removes stored files whose rows are gone (off the async threads).
async fn remove_files(state: &AppState, paths: Vec<String>) {
    if paths.is_empty() {
        return;
    }
    let storage = videos::handlers::storage(state);
    if let Err(error) = actix_web::rt::task::spawn_blocking(move || export::remove_files(&storage, &paths)).await {
        tracing::warn!(%error, "could not remove an export's files");
    }
}

/// "Export as a video" on a reply (its author): the export and its job,
/// once however often it is asked for while it exists.
pub async fn request_export(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let comment = db::run(&state.pool, move |c| queries::find(c, id))
        .await?
        .ok_or(AppError::NotFound)?;
    if !permissions::can_export_comment(&user, comment.author_id) {
        return Err(AppError::Forbidden);
    }
    let owner = user.id;
    let outcome = db::run(&state.pool, move |c| match export::attempt_of(c, id)? {
        Ok(video) => export::request(c, id, owner, video).map(Ok),
        Err(reason) => Ok(Err(reason)),
    })
    .await?;
    match outcome {
        Ok((row, true)) => {
            tracing::info!(export = %row.id, comment = %id, "reply export asked for");
            flash(
                &req,
                Level::Success,
                "Preparing your video… It appears on the reply when it is ready.",
            );
        }
        Ok((row, false)) if row.status() == export::Status::Ready => {
            flash(&req, Level::Info, "The video is ready: download it from the reply.")
        }
        Ok(_) => flash(&req, Level::Info, "Your video is already being prepared."),
        Err(reason) => flash(&req, Level::Error, reason),
    }
    Ok(see_other(&comment_url(&comment)))
}

/// The export, its row, and whether this user may have it (404 if not).
async fn downloadable(state: &AppState, user: &CurrentUser, id: Id) -> AppResult<export::ExportRow> {
    let found = db::run(&state.pool, move |c| {
        let Some(row) = export::find(c, id)? else {
            return Ok(None);
        };
        let uploader = videos::queries::find_asset(c, row.video_id)?.and_then(|a| a.uploaded_by_id);
        Ok::<_, diesel::result::Error>(Some((row, uploader)))
    })
    .await?;
    match found {
        Some((row, uploader)) if permissions::can_download_export(user, row.owner_id, uploader) => Ok(row),
        _ => Err(AppError::NotFound),
    }
}

/// The export's MP4, as a download (with ranges).
pub async fn export_file(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> AppResult<HttpResponse> {
    let row = downloadable(&state, &user, id.into_inner()).await?;
    let path = match (row.status(), &row.path) {
        (export::Status::Ready, Some(path)) => path.clone(),
        _ => return Err(AppError::NotFound),
    };
    let mut response = videos::handlers::serve_file(&req, &state, &path, "video/mp4").await?;
    if let Ok(value) =
        actix_web::http::header::HeaderValue::from_str(&format!("attachment; filename=\"{}\"", row.download_name()))
    {
        response
            .headers_mut()
            .insert(actix_web::http::header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// What the thread's script polls while an export is made.
pub async fn export_status(
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> AppResult<HttpResponse> {
    let row = downloadable(&state, &user, id.into_inner()).await?;
    let status = row.status();
    Ok(no_store_json(serde_json::json!({
        "status": status.as_str(),
        "label": export::label(status),
        "settled": status.is_settled(),
        "url": (status == export::Status::Ready).then(|| row.file_url()),
        "size": row.size_bytes.map(crate::videos::pages::human_size),
    })))
}
