//! HTTP handlers of the videos area: thin; the work is in `upload`,
//! `queries` and `processing`.

use actix_files::NamedFile;
use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::forms::{parse_youtube, ClipForm, FieldErrors, TitleForm, YoutubeForm};
use super::pages::{clippable, ClipPage, ClipView, NewVideoPage, VideoForms, VideoListPage, VideoPage, VideoView};
use super::queries::{self, Asset, Clip, NewClip};
use super::upload::{self, Stored, UploadError};
use super::{clip_hash, Access, Status};
use crate::accounts::permissions::{self, is_staff};
use crate::db::{self, Id, Ts};
use crate::error::{AppError, AppResult};
use crate::media::{io_pool, Storage, Tools};
use crate::startup::AppState;
use crate::web::auth::CurrentUser;
use crate::web::page::{flash, render, render_status, Level, PageCtx};
use crate::web::see_other;

const PER_PAGE: i64 = 24;
/// Room for the multipart framing and small fields around the file.
const FORM_OVERHEAD: u64 = 1024 * 1024;

pub(crate) fn storage(state: &AppState) -> Storage {
    state.storage.clone()
}

/// Staff are told when ffmpeg is missing (nobody else can do anything about it).
async fn tools_missing(state: &AppState, user: &CurrentUser) -> bool {
    is_staff(user) && !Tools::from_settings(&state.settings).available().await
}

/// The video, if this user may see it; otherwise 404 (whether it exists is
/// nobody else's business).
async fn viewable(state: &AppState, user: &CurrentUser, id: Id) -> AppResult<(Asset, Access)> {
    let found = db::run(&state.pool, move |c| queries::find_with_access(c, id)).await?;
    match found {
        Some((asset, access)) if permissions::can_view_video(user, access.uploaded_by_id, access.attached) => {
            Ok((asset, access))
        }
        _ => Err(AppError::NotFound),
    }
}

async fn viewable_clip(state: &AppState, user: &CurrentUser, id: Id) -> AppResult<(Clip, Asset)> {
    let clip = db::run(&state.pool, move |c| queries::find_clip(c, id))
        .await?
        .ok_or(AppError::NotFound)?;
    let (asset, _) = viewable(state, user, clip.original_video_id).await?;
    Ok((clip, asset))
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(flatten)]
    position: crate::web::paging::Position,
}

pub async fn list(
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let start = query.position.start();
    let everyone = is_staff(&user);
    let user_id = user.id;
    let env_quota = state.settings.default_quota_bytes;
    let (rows, usage) = db::run(&state.pool, move |c| -> diesel::QueryResult<_> {
        let rows = queries::list_page(c, user_id, everyone, start, PER_PAGE)?;
        Ok((rows, super::quota::usage(c, user_id, env_quota)?))
    })
    .await?;
    let page = crate::web::paging::seek(rows, start, PER_PAGE, queries::list_cursor);
    render(&VideoListPage {
        videos: page
            .rows
            .iter()
            .map(|(asset, uploader)| VideoView::new(asset, uploader.clone()))
            .collect(),
        everyone,
        deep: start != crate::web::paging::Start::first(),
        number: match start {
            crate::web::paging::Start::Page(n) if n > 1 => Some(n),
            _ => None,
        },
        newer: page.newer.map(|c| format!("/videos?before={}", c.to_param())),
        older: page.older.map(|c| format!("/videos?after={}", c.to_param())),
        tools_missing: tools_missing(&state, &user).await,
        storage: super::pages::StorageView::new(&usage),
        max_upload_bytes: state.settings.max_upload_bytes,
        ctx,
    })
}

fn new_page(ctx: PageCtx, state: &AppState) -> NewVideoPage {
    NewVideoPage {
        ctx,
        max_upload_mb: state.settings.max_upload_bytes / 1024 / 1024,
        max_upload_bytes: state.settings.max_upload_bytes,
        upload_errors: Vec::new(),
        youtube: YoutubeForm::default(),
        errors: FieldErrors::default(),
    }
}

pub async fn new_form(ctx: PageCtx, _user: CurrentUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    render(&new_page(ctx, &state))
}

/// The upload script asks for JSON; the plain form gets pages.
fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.starts_with("application/json"))
}

pub async fn upload(
    req: HttpRequest,
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    form: Multipart,
) -> AppResult<HttpResponse> {
    let json = wants_json(&req);
    let settings = &state.settings;
    let limit = settings.max_upload_bytes;
    // A body announced as too large is refused before a byte of it is read
    // (the form's own fields and boundaries take far less than the margin).
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit.saturating_add(FORM_OVERHEAD)) {
        drop(form);
        return upload_refused(ctx, &state, &user, UploadError::TooLarge, json);
    }
    // Then a slot, and room on the disk for what is announced; only then
    // is the body read.
    let _slot = match state.uploads.take(user.id) {
        Ok(slot) => slot,
        Err(busy) => return upload_refused(ctx, &state, &user, UploadError::Busy(busy), json),
    };
    let (tmp_dir, media_dir) = (settings.upload_tmp_dir(), settings.media_dir());
    let incoming = announced.unwrap_or(0);
    let reserve = settings.disk_reserve_bytes;
    let measured = {
        let (tmp_dir, media_dir) = (tmp_dir.clone(), media_dir.clone());
        io_pool::uploads()
            .map_err(|e| AppError::Unexpected(e.into()))?
            .run(move || upload::room_for(&tmp_dir, &media_dir, incoming, reserve))
            .await
            .map_err(|e| AppError::Unexpected(e.into()))?
    };
    if let Err(error) = measured {
        return upload_refused(ctx, &state, &user, error, json);
    }
    // The storage quota: refused before the body when the announced size
    // does not fit, and cut as the bytes arrive past what is left.
    let (env_quota, owner) = (settings.default_quota_bytes, user.id);
    let usage = db::run(&state.pool, move |c| super::quota::usage(c, owner, env_quota)).await?;
    let room_left = usage.quota.map(|quota| quota.saturating_sub(usage.used()));
    let over_quota = |needed: u64| UploadError::OverQuota {
        needed,
        used: usage.used(),
        quota: usage.quota.unwrap_or(0),
    };
    if let Some(left) = room_left {
        if incoming > left.saturating_add(FORM_OVERHEAD) {
            return upload_refused(ctx, &state, &user, over_quota(incoming), json);
        }
    }
    let quota_limited = room_left.is_some_and(|left| left < limit);
    let tools = Tools::from_settings(settings);
    let receiving = upload::Receiving {
        tmp_dir: &tmp_dir,
        node: &state.node_id,
        limit: room_left.map_or(limit, |left| left.min(limit)),
        pace: upload::Pace {
            window: settings.upload_rate_window,
            min_bytes: settings.upload_min_bytes,
        },
    };
    let received = async {
        let (received, filename) = upload::receive(form, &receiving).await?;
        upload::check(&tools, &received).await?;
        Ok::<_, UploadError>((received, filename))
    }
    .await;
    let (received, filename) = match received {
        Ok(done) => done,
        Err(UploadError::TooLarge) if quota_limited => {
            return upload_refused(ctx, &state, &user, over_quota(incoming), json)
        }
        Err(error) => return upload_refused(ctx, &state, &user, error, json),
    };
    let (size, store_user) = (received.size, user.clone());
    let storage = storage(&state);
    let (staging, node) = (storage.clone(), state.node_id.clone());
    let staged = io_pool::uploads()
        .map_err(|e| AppError::Unexpected(e.into()))?
        .run(move || upload::stage(&staging, &node, received))
        .await
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("staging the upload")))?;
    let staged = match staged {
        Ok(staged) => staged,
        Err(error) if crate::media::intake::is_storage_full(&error) => {
            return upload_refused(ctx, &state, &user, UploadError::StorageFull, json)
        }
        Err(error) => {
            return Err(AppError::Unexpected(
                anyhow::Error::new(error).context("staging the upload"),
            ))
        }
    };
    let stored = db::run(&state.pool, move |c| {
        upload::store(c, &storage, staged, &filename, &store_user, None)
    })
    .await?;
    let (asset, message) = match stored {
        Stored::New(asset) => {
            tracing::info!(user_id = user.id, video = %asset.id, size, "video uploaded");
            let message = if asset.status() == Status::Ready {
                "Your video is uploaded and ready."
            } else {
                "Your video is uploaded. It is being processed; this page updates when it is ready."
            };
            (asset, message)
        }
        Stored::Existing(asset) => {
            tracing::info!(user_id = user.id, video = %asset.id, "duplicate upload: existing video reused");
            (
                asset,
                "You had already uploaded this video, so no second copy was kept: here it is.",
            )
        }
    };
    flash(&req, Level::Success, message);
    let location = format!("/videos/{}", asset.id);
    if json {
        Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({ "ok": true, "id": asset.id.to_string(), "location": location })))
    } else {
        Ok(see_other(&location))
    }
}

/// How long a refused upload is told to wait before trying again.
const BUSY_RETRY_AFTER_SECS: u64 = 30;

/// Why an upload was refused, for its owner: the status, the messages, and
/// how long to wait before trying again (when that helps). Shared by the
/// form and the resumable (tus) endpoints.
pub(super) fn refusal(
    settings: &crate::config::Settings,
    error: UploadError,
) -> AppResult<(StatusCode, Vec<String>, Option<u64>)> {
    let limit_mb = settings.max_upload_bytes / 1024 / 1024;
    let mut retry_after = None;
    let (status, messages) = match error {
        UploadError::TooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            vec![format!("The file is larger than the upload limit of {limit_mb} MiB.")],
        ),
        UploadError::OverQuota { needed, used, quota } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            vec![format!(
                "This video ({}) does not fit in your storage quota: {} of {} used. \
                 Delete videos you no longer need, or ask staff for more room.",
                mib(needed),
                mib(used),
                mib(quota)
            )],
        ),
        UploadError::NotAVideo => (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["This file is not a video: Practika accepts MP4, MOV, WebM and MKV files.".to_owned()],
        ),
        UploadError::Unusable(problems) => (StatusCode::UNPROCESSABLE_ENTITY, problems),
        UploadError::NoFile => (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["Choose a video file to upload.".to_owned()],
        ),
        UploadError::Empty => (StatusCode::UNPROCESSABLE_ENTITY, vec!["The file is empty.".to_owned()]),
        UploadError::Interrupted(reason) => {
            tracing::info!(%reason, "upload interrupted");
            (
                StatusCode::BAD_REQUEST,
                vec!["The upload was interrupted before the whole file arrived. Please try again.".to_owned()],
            )
        }
        UploadError::ExtraContent => (
            StatusCode::BAD_REQUEST,
            vec!["Send one video file at a time, with the form on this page.".to_owned()],
        ),
        UploadError::TooSlow => (
            StatusCode::REQUEST_TIMEOUT,
            vec![format!(
                "The upload arrived too slowly (less than {} KiB in {} seconds) and was stopped. \
                 Please try again on a faster connection.",
                settings.upload_min_bytes / 1024,
                settings.upload_rate_window.as_secs()
            )],
        ),
        UploadError::StorageFull => (
            StatusCode::INSUFFICIENT_STORAGE,
            vec!["The server's storage is full, so your video cannot be kept right now. \
                  Please try again later; the staff dashboard shows the problem."
                .to_owned()],
        ),
        UploadError::Busy(busy) => {
            retry_after = Some(BUSY_RETRY_AFTER_SECS);
            let message = match busy {
                upload::Busy::User => format!(
                    "You already have {} uploads in progress. Wait for one of them to finish, then try again.",
                    settings.uploads_per_user
                ),
                upload::Busy::Node => {
                    "Practika is receiving many uploads right now. Please try again in a minute.".to_owned()
                }
            };
            (StatusCode::SERVICE_UNAVAILABLE, vec![message])
        }
        UploadError::Unexpected(error) => return Err(AppError::Unexpected(error)),
    };
    Ok((status, messages, retry_after))
}

/// Bytes in MiB (GiB from 10 GiB), as the settings give them.
pub fn mib(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= 10 * 1024 * MIB {
        format!("{:.1} GiB", bytes as f64 / (1024 * MIB) as f64)
    } else {
        format!("{} MiB", bytes.div_ceil(MIB))
    }
}

/// An upload that was not accepted: nothing was kept (the temporary file
/// is gone by now), and the form (or the script's JSON) says why.
fn upload_refused(
    ctx: PageCtx,
    state: &AppState,
    user: &CurrentUser,
    error: UploadError,
    json: bool,
) -> AppResult<HttpResponse> {
    let (status, messages, retry_after) = refusal(&state.settings, error)?;
    tracing::info!(user_id = user.id, status = status.as_u16(), reason = %messages.join(" "), "upload refused");
    let mut response = if json {
        let mut response = HttpResponse::build(status);
        response
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({ "ok": false, "errors": messages }))
    } else {
        let mut page = new_page(ctx, state);
        page.upload_errors = messages;
        render_status(status, &page)?
    };
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    }
    Ok(response)
}

pub async fn add_youtube(
    req: HttpRequest,
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<YoutubeForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let id = match parse_youtube(&form.youtube_url) {
        Ok(id) => id,
        Err(message) => {
            let mut page = new_page(ctx, &state);
            page.errors.add("youtube_url", message);
            page.youtube = form;
            return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let url = id.canonical_url();
    let user_id = user.id;
    let (asset, created) = db::run(&state.pool, move |c| upload::add_youtube(c, &url, user_id)).await?;
    flash(
        &req,
        Level::Success,
        if created {
            "The YouTube video is added."
        } else {
            "You had already added this YouTube video: here it is."
        },
    );
    Ok(see_other(&format!("/videos/{}", asset.id)))
}

async fn video_page(
    ctx: PageCtx,
    state: &AppState,
    user: &CurrentUser,
    id: Id,
    forms: VideoForms,
) -> AppResult<VideoPage> {
    let tools_missing = tools_missing(state, user).await;
    let user = user.clone();
    db::run(&state.pool, move |c| {
        VideoPage::load(c, ctx, &user, id, forms, tools_missing)
    })
    .await
}

pub async fn show(
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<Id>,
) -> AppResult<HttpResponse> {
    let page = video_page(ctx, &state, &user, path.into_inner(), VideoForms::default()).await?;
    render(&page)
}

/// A new title, from whoever may edit the video; others get a 404 as if
/// the video were not there (or a 403 when they can see it).
pub async fn rename(
    req: HttpRequest,
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<Id>,
    form: web::Form<TitleForm>,
) -> AppResult<HttpResponse> {
    let (asset, access) = viewable(&state, &user, path.into_inner()).await?;
    if !permissions::can_edit_video(&user, access.uploaded_by_id) {
        return Err(AppError::Forbidden);
    }
    let title = match form.parse() {
        Ok(title) => title,
        Err(errors) => {
            let forms = VideoForms {
                title: Some(form.title.clone()),
                errors,
                ..VideoForms::default()
            };
            let page = video_page(ctx, &state, &user, asset.id, forms).await?;
            return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let (id, saved) = (asset.id, title.clone());
    db::run(&state.pool, move |c| queries::set_title(c, id, &saved)).await?;
    flash(&req, Level::Success, format!("The video is now called “{title}”."));
    Ok(see_other(&format!("/videos/{}", asset.id)))
}

fn json_no_store(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// What the page's script polls while a video is processed.
pub async fn status(user: CurrentUser, state: web::Data<AppState>, path: web::Path<Id>) -> AppResult<HttpResponse> {
    let (asset, _) = viewable(&state, &user, path.into_inner()).await?;
    let status = asset.status();
    Ok(json_no_store(serde_json::json!({
        "status": status.as_str(),
        "label": status.label_after(asset.processing_error.as_deref()),
        "settled": status.is_settled(),
        "is_valid": asset.is_valid,
        "renditions": asset.renditions().keys().collect::<Vec<_>>(),
        "poster": asset.poster_path.is_some(),
    })))
}

/// Whether a request starts a playback, as opposed to continuing one: no
/// `Range`, or a range from byte 0. Safari first asks for `bytes=0-1` to
/// learn the size and then for the whole file; the two-byte probe is not a
/// playback of its own. Seeking asks for ranges further in.
fn starts_playback(req: &HttpRequest) -> bool {
    if req.method() != actix_web::http::Method::GET {
        return false;
    }
    let Some(range) = req.headers().get(header::RANGE) else {
        return true;
    };
    let Some(spec) = range.to_str().ok().and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return true; // an unknown unit is ignored: the whole file is sent
    };
    let first = spec.split(',').next().unwrap_or_default();
    match first.split_once('-') {
        Some((start, end)) if start.trim() == "0" => {
            let end = end.trim();
            end.is_empty() || end.parse::<u64>().is_ok_and(|e| e >= 1023)
        }
        _ => false,
    }
}

/// Sends a stored file with range support (206, 416, `If-Range`, ETag),
/// the type from the database, and no guessing by the browser.
pub(crate) async fn serve_file(
    req: &HttpRequest,
    state: &AppState,
    relative: &str,
    mime: &str,
) -> AppResult<HttpResponse> {
    let path = state.storage.resolve(relative).ok_or(AppError::NotFound)?;
    if let Some(remote) = state.storage.remote() {
        return presigned_redirect(remote, relative).await;
    }
    if let Some(prefix) = &state.settings.media_accel_prefix {
        return accel_redirect(prefix, path, relative, mime).await;
    }
    // Opening is a blocking call (open + stat): off the async thread. The
    // second handle is for the body (see `media::send`); NamedFile decides
    // the status and headers (ranges, `If-Range`, ETag).
    let opened = actix_web::rt::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path)?;
        let body = file.try_clone()?;
        Ok::<_, std::io::Error>((NamedFile::from_file(file, path)?, body))
    })
    .await
    .map_err(|e| AppError::Unexpected(anyhow::anyhow!("opening a media file: {e}")))?
    .map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            tracing::warn!(path = %relative, "a stored media file is missing");
            AppError::NotFound
        } else {
            AppError::Unexpected(anyhow::Error::new(error).context("opening a media file"))
        }
    })?;
    let (file, body) = opened;
    let size = file.metadata().len();
    let content_type: actix_web::mime::Mime = mime.parse().unwrap_or(actix_web::mime::APPLICATION_OCTET_STREAM);
    let mut response = file
        .set_content_type(content_type)
        .disable_content_disposition()
        .use_etag(true)
        .use_last_modified(true)
        .prefer_utf8(false)
        .into_response(req);
    let headers = response.headers_mut();
    headers.insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        header::HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-cache"),
    );
    // The bytes NamedFile chose to send (all, or the range), sent by bigger reads.
    let sent = match response.status() {
        StatusCode::OK => Some((0, size)),
        StatusCode::PARTIAL_CONTENT => response
            .headers()
            .get(header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(content_range),
        _ => None,
    };
    Ok(match sent {
        Some((offset, length)) => response
            .map_body(|_, _| {
                actix_web::body::SizedStream::new(length, crate::media::send::FileBody::new(body, offset, length))
            })
            .map_into_boxed_body(),
        None => response,
    })
}

/// How long a presigned URL works: long enough to watch (and seek in) a
/// long video on one page load; every page load asks again.
const PRESIGNED_FOR: std::time::Duration = std::time::Duration::from_secs(3 * 3600);

/// Media in a bucket (`PRACTIKA_MEDIA_URL`): the access check is done, and
/// the player is sent to a presigned URL, so that the storage answers the
/// `Range` requests and no video byte passes through this node. The bucket
/// keeps each object's type (and download name) from when it was stored.
async fn presigned_redirect(remote: &crate::media::remote::Remote, relative: &str) -> AppResult<HttpResponse> {
    let url = remote
        .presigned(relative, PRESIGNED_FOR)
        .await
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("signing a media URL")))?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, url))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .finish())
}

/// Behind nginx (`PRACTIKA_MEDIA_ACCEL_PREFIX`): the access check is done,
/// and nginx's `internal` location at `prefix` sends the file with its own
/// `sendfile`, ranges included. The file is looked at first so that a
/// missing one stays a 404 here (and is not counted as a playback).
async fn accel_redirect(prefix: &str, path: std::path::PathBuf, relative: &str, mime: &str) -> AppResult<HttpResponse> {
    let found = actix_web::rt::task::spawn_blocking(move || std::fs::metadata(&path).map(|m| m.is_file()))
        .await
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("looking at a media file: {e}")))?;
    match found {
        Ok(true) => {}
        Ok(false) => return Err(AppError::NotFound),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(path = %relative, "a stored media file is missing");
            return Err(AppError::NotFound);
        }
        Err(error) => {
            return Err(AppError::Unexpected(
                anyhow::Error::new(error).context("looking at a media file"),
            ))
        }
    }
    Ok(HttpResponse::Ok()
        .insert_header(("X-Accel-Redirect", accel_location(prefix, relative)))
        .insert_header((header::CONTENT_TYPE, mime))
        .insert_header(("Cross-Origin-Resource-Policy", "same-origin"))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .finish())
}

/// `<prefix>/<relative>`, every byte outside the URL's unreserved set and
/// `/` percent-encoded (nginx decodes it). `relative` has already passed
/// [`crate::media::Storage::resolve`]: no `..`, no absolute path.
fn accel_location(prefix: &str, relative: &str) -> String {
    let mut location = String::with_capacity(prefix.len() + relative.len() + 1);
    location.push_str(prefix);
    location.push('/');
    for byte in relative.trim_start_matches('/').bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            location.push(char::from(byte));
        } else {
            location.push_str(&format!("%{byte:02X}"));
        }
    }
    location
}

/// `bytes <first>-<last>/<size>` as (offset, length).
fn content_range(value: &str) -> Option<(u64, u64)> {
    let (first, last) = value.strip_prefix("bytes ")?.split_once('/')?.0.split_once('-')?;
    let (first, last): (u64, u64) = (first.parse().ok()?, last.parse().ok()?);
    (last >= first).then(|| (first, last - first + 1))
}

/// The original upload or one of its renditions.
pub async fn media(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(Id, String)>,
) -> AppResult<HttpResponse> {
    let (id, variant) = path.into_inner();
    let (asset, _) = viewable(&state, &user, id).await?;
    if asset.is_youtube() || !asset.is_valid {
        return Err(AppError::NotFound);
    }
    let (relative, mime) = if variant == "original" {
        let relative = asset.storage_path.clone().ok_or(AppError::NotFound)?;
        // Practika's own types; anything else stored by the Django app is
        // sent as bytes, never as something a browser would run.
        let mime = crate::media::Container::from_mime_type(&asset.mime_type)
            .map(|c| c.mime_type())
            .unwrap_or("application/octet-stream");
        (relative, mime)
    } else {
        let rendition = asset.renditions().remove(&variant).ok_or(AppError::NotFound)?;
        (rendition.path, "video/mp4")
    };
    let response = serve_file(&req, &state, &relative, mime).await?;
    // A redirect to the bucket is a playback too (its ranges go there).
    if starts_playback(&req) && (response.status().is_success() || response.status() == StatusCode::FOUND) {
        db::run(&state.pool, move |c| queries::record_playback(c, id)).await?;
    }
    Ok(response)
}

pub async fn poster(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<Id>,
) -> AppResult<HttpResponse> {
    let (asset, _) = viewable(&state, &user, path.into_inner()).await?;
    let relative = asset
        .poster_path
        .clone()
        .filter(|_| asset.is_valid)
        .ok_or(AppError::NotFound)?;
    serve_file(&req, &state, &relative, "image/jpeg").await
}

pub async fn create_clip(
    req: HttpRequest,
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<Id>,
    form: web::Form<ClipForm>,
) -> AppResult<HttpResponse> {
    let (asset, _) = viewable(&state, &user, path.into_inner()).await?;
    // The player's "Clip this" asks for JSON: it attaches the clip to a reply.
    let json = wants_json(&req);
    let form = form.into_inner();
    let range = clippable(&asset)
        .map_err(|message| {
            let mut errors = FieldErrors::default();
            errors.add("start", message);
            errors
        })
        .and_then(|duration| form.parse(duration));
    let range = match range {
        Ok(range) => range,
        Err(errors) if json => {
            let messages: Vec<&str> = errors.0.iter().map(|(_, m)| m.as_str()).collect();
            return Ok(HttpResponse::UnprocessableEntity()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(serde_json::json!({ "ok": false, "errors": messages })));
        }
        Err(errors) => {
            let forms = VideoForms {
                clip: form,
                errors,
                ..VideoForms::default()
            };
            let page = video_page(ctx, &state, &user, asset.id, forms).await?;
            return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let clip_id = Id::new();
    let now = Ts::now();
    let new = NewClip {
        id: clip_id,
        clip_hash: clip_hash(asset.id, range.start_ms, range.end_ms),
        start_time: range.start_seconds(),
        end_time: range.end_seconds(),
        duration: range.end_seconds() - range.start_seconds(),
        storage_path: Storage::clip_path(clip_id),
        size_bytes: None,
        processing_status: Status::Pending.as_str().to_owned(),
        processing_error: None,
        processed_at: None,
        created_at: now,
        updated_at: now,
        original_video_id: asset.id,
    };
    let (clip, created) = db::run(&state.pool, move |c| queries::insert_or_get_clip(c, &new)).await?;
    if json {
        let view = ClipView::new(&clip);
        return Ok(json_no_store(serde_json::json!({
            "ok": true,
            "id": view.id,
            "created": created,
            "label": format!("Clip {}–{}", view.start, view.end),
            "status": view.status.as_str(),
            "status_label": view.status_label,
            "status_url": view.status_url,
            "media_url": view.media_url,
        })));
    }
    flash(
        &req,
        Level::Success,
        if created {
            "Clip requested."
        } else {
            "This clip already exists: here it is."
        },
    );
    Ok(see_other(&format!("/clips/{}", clip.id)))
}

pub async fn show_clip(
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<Id>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let page = db::run(&state.pool, move |c| ClipPage::load(c, ctx, &user, id)).await?;
    render(&page)
}

pub async fn clip_status(
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<Id>,
) -> AppResult<HttpResponse> {
    let (clip, _) = viewable_clip(&state, &user, path.into_inner()).await?;
    let status = clip.status();
    Ok(json_no_store(serde_json::json!({
        "status": status.as_str(),
        "label": status.label_after(clip.processing_error.as_deref()),
        "settled": status.is_settled(),
    })))
}

pub async fn clip_media(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<Id>,
) -> AppResult<HttpResponse> {
    let (clip, _) = viewable_clip(&state, &user, path.into_inner()).await?;
    if clip.status() != Status::Ready {
        return Err(AppError::NotFound);
    }
    serve_file(&req, &state, &clip.storage_path, "video/mp4").await
}
