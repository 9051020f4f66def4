//! Resumable uploads: the tus 1.0 protocol (core, creation, termination,
//! expiration and checksum extensions) at `/uploads`, for tus-js-client in
//! the browser and any other tus client.
//!
//! - `POST /uploads` with `Upload-Length` creates an upload (a row in
//!   `videos_upload`): refused at once when it is over the size limit, the
//!   user's storage quota or the free disk space, before any byte is sent.
//! - `HEAD /uploads/{id}` gives `Upload-Offset`, the bytes safely stored.
//! - `PATCH /uploads/{id}` (`application/offset+octet-stream`) appends from
//!   that offset; a wrong `Upload-Offset` is a 409. The bytes stream through
//!   the same [`Intake`] as the multipart form: written on the upload I/O
//!   pool, the size limit as they arrive, the type sniffed from the first
//!   bytes, the minimum rate and the per-user and per-node caps.
//!   With `Upload-Checksum: <sha1|sha256> <base64 digest>` the request's
//!   bytes are kept only if they match (460 otherwise, the offset as before).
//! - `DELETE /uploads/{id}` ends an upload and removes its bytes.
//! - `GET /uploads/{id}` (Practika's own) says which video a finished upload
//!   became, finishing it first if a crash came between its last byte and
//!   its video.
//!
//! The offset in the row is recorded only after the file is synced, and the
//! file is cut back to the recorded offset when the upload resumes: after a
//! `kill -9` (or a power cut) anywhere, the two agree. The syncs run on the
//! upload pool beside the writes (every 64 MiB, and every 2 s for a slow
//! upload), so that a fast upload never waits for the disk in the middle of
//! a PATCH: only its end does. The SHA-256 continues across PATCHes
//! in this process's memory; an upload resumed on another node (or after a
//! restart) is hashed from its file once complete, at disk speed.
//!
//! The endpoints need the session, and the unsafe methods the CSRF token in
//! the `X-CSRF-Token` header (tus-js-client sends it). Only the owner sees an
//! upload: anyone else gets a 404. The client's file name is metadata (the
//! title), never a path: the file is `<data dir>/tmp/tus/<upload id>.part`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use base64::Engine;
use diesel::RunQueryDsl;
use sha2::{Digest, Sha256};

use super::handlers::refusal;
use super::queries::{self, Resumable};
use super::quota;
use super::upload::{self, Stored, UploadError};
use crate::db::{self, DbConn, Id, Json, Ts};
use crate::error::{AppError, AppResult};
use crate::media::intake::{self, BodyCheck, Intake, IntakeError, Received};
use crate::media::sniff::{self, Kind, SNIFF_LEN};
use crate::media::{io_pool, PartFile, Tools};
use crate::startup::AppState;
use crate::web::auth::CurrentUser;

pub const VERSION: &str = "1.0.0";
pub const EXTENSIONS: &str = "creation,termination,expiration,checksum";
/// The checksum extension's answer to bytes that do not match their
/// `Upload-Checksum`.
const CHECKSUM_MISMATCH: u16 = 460;
const OFFSET_TYPE: &str = "application/offset+octet-stream";
/// A long PATCH records its progress as the intake's syncs finish (every
/// 64 MiB, on the pool, while the bytes go on arriving), and asks for one
/// every [`CHECKPOINT_EVERY`] once a MiB is unrecorded, so that a crash in
/// the middle of it loses little and a slow upload's progress is seen.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(2);
const CHECKPOINT_MIN: u64 = 1024 * 1024;
/// The video a finished upload became, on the last PATCH's answer.
pub const VIDEO_HEADER: &str = "practika-video";
/// The voice-over a finished upload became (`purpose: voiceover`).
pub const VOICEOVER_HEADER: &str = "practika-voiceover";
/// At most this many metadata pairs, each at most this long once decoded.
const METADATA_PAIRS: usize = 16;
const METADATA_VALUE_LEN: usize = 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/uploads", web::method(actix_web::http::Method::OPTIONS).to(options))
        .route("/uploads", web::post().to(create))
        .route(
            "/uploads/{id}",
            web::method(actix_web::http::Method::OPTIONS).to(options),
        )
        .route("/uploads/{id}", web::head().to(head))
        .route("/uploads/{id}", web::patch().to(patch))
        .route("/uploads/{id}", web::delete().to(terminate))
        .route("/uploads/{id}", web::get().to(result));
}

/// The SHA-256 of the bytes so far of uploads this process received, so
/// that the next PATCH continues it instead of reading the file again. At
/// most [`Hashes::LIMIT`] are kept (a few hundred bytes each); one missing
/// only costs a re-read at the end.
#[derive(Default)]
pub struct Hashes(Mutex<HashMap<Id, (u64, Sha256)>>);

impl Hashes {
    const LIMIT: usize = 4096;

    /// The hash of the first `offset` bytes, if kept (it is handed over:
    /// the PATCH that continues it puts it back).
    fn take(&self, id: Id, offset: u64) -> Option<Sha256> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match map.remove(&id) {
            Some((at, hasher)) if at == offset => Some(hasher),
            _ => None,
        }
    }

    fn put(&self, id: Id, offset: u64, hasher: Sha256) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() < Self::LIMIT || map.contains_key(&id) {
            map.insert(id, (offset, hasher));
        }
    }

    fn forget(&self, id: Id) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    }
}

/// Where an upload's bytes are, from its id alone.
pub fn part_path(tus_dir: &Path, id: Id) -> PathBuf {
    tus_dir.join(format!("{}.part", id.0.simple()))
}

pub fn tus_dir(settings: &crate::config::Settings) -> PathBuf {
    settings.upload_tmp_dir().join("tus")
}

/// A protocol answer: every one but OPTIONS carries `Tus-Resumable`, and
/// none is cached.
fn answer(status: StatusCode) -> HttpResponseBuilder {
    let mut response = HttpResponse::build(status);
    response
        .insert_header(("Tus-Resumable", VERSION))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    response
}

/// A refusal with its reason, in plain words, as JSON (tus-js-client hands
/// the body to the page).
fn refused(status: StatusCode, messages: Vec<String>) -> HttpResponse {
    tracing::info!(status = status.as_u16(), reason = %messages.join(" "), "resumable upload refused");
    answer(status).json(serde_json::json!({ "ok": false, "errors": messages }))
}

fn refused_one(status: StatusCode, message: &str) -> HttpResponse {
    refused(status, vec![message.to_owned()])
}

fn upload_refused(state: &AppState, error: UploadError) -> AppResult<HttpResponse> {
    let (status, messages, retry_after) = refusal(&state.settings, error)?;
    let mut response = refused(status, messages);
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    }
    Ok(response)
}

fn http_date(at: Ts) -> String {
    at.0.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn header_str<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// `Tus-Resumable` must name the version this server speaks (412 otherwise).
fn version_refused(req: &HttpRequest) -> Option<HttpResponse> {
    (header_str(req, "tus-resumable") != Some(VERSION)).then(|| {
        let mut response = refused_one(
            StatusCode::PRECONDITION_FAILED,
            "This server speaks version 1.0.0 of the tus protocol.",
        );
        response.headers_mut().insert(
            header::HeaderName::from_static("tus-version"),
            header::HeaderValue::from_static(VERSION),
        );
        response
    })
}

/// A header holding a number of bytes; a malformed one is refused (400).
fn number_header(req: &HttpRequest, name: &str) -> Result<Option<u64>, Box<HttpResponse>> {
    match header_str(req, name) {
        None => Ok(None),
        Some(value) => value.parse::<u64>().map(Some).map_err(|_| {
            Box::new(refused_one(
                StatusCode::BAD_REQUEST,
                &format!("{name} must be a whole number of bytes."),
            ))
        }),
    }
}

/// `Upload-Checksum: <algorithm> <base64 digest>`, the digest of this
/// request's body as the client computed it; an algorithm this server does
/// not compute, or a malformed value, is refused (400).
fn body_check(req: &HttpRequest) -> Result<Option<BodyCheck>, Box<HttpResponse>> {
    let Some(value) = header_str(req, "upload-checksum") else {
        return Ok(None);
    };
    let bad = |message: String| Box::new(refused_one(StatusCode::BAD_REQUEST, &message));
    let (algorithm, digest) = value
        .split_once(' ')
        .ok_or_else(|| bad("Upload-Checksum is an algorithm and a base64 digest.".to_owned()))?;
    let digest = base64::engine::general_purpose::STANDARD
        .decode(digest.trim())
        .map_err(|_| bad("Upload-Checksum: the digest is not base64.".to_owned()))?;
    BodyCheck::new(algorithm, digest).map(Some).ok_or_else(|| {
        bad(format!(
            "Upload-Checksum: {algorithm} is not supported; use one of {}.",
            BodyCheck::ALGORITHMS
        ))
    })
}

/// `Upload-Metadata`: comma-separated `key base64(value)` pairs.
pub fn parse_metadata(raw: &str) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let mut pairs = serde_json::Map::new();
    for (index, pair) in raw.split(',').map(str::trim).filter(|p| !p.is_empty()).enumerate() {
        if index >= METADATA_PAIRS {
            return Err(format!("Upload-Metadata has more than {METADATA_PAIRS} pairs."));
        }
        let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
        if key.is_empty() || key.len() > 64 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err("Upload-Metadata has a malformed key.".to_owned());
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .map_err(|_| format!("Upload-Metadata: the value of {key} is not base64."))?;
        if bytes.len() > METADATA_VALUE_LEN {
            return Err(format!("Upload-Metadata: the value of {key} is too long."));
        }
        let text: String = String::from_utf8_lossy(&bytes)
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        if pairs.insert(key.to_owned(), serde_json::Value::String(text)).is_some() {
            return Err(format!("Upload-Metadata names {key} twice."));
        }
    }
    Ok(pairs)
}

/// The upload, if it is this user's and still alive: someone else's is a
/// 404 (whether it exists is nobody else's business), an expired one 410.
async fn owned(state: &AppState, user: &CurrentUser, id: &str) -> Result<Resumable, HttpResponse> {
    let not_found = || refused_one(StatusCode::NOT_FOUND, "There is no such upload.");
    let id: Id = id.parse().map_err(|_| not_found())?;
    let found = db::run(&state.pool, move |c| queries::find_resumable(c, id))
        .await
        .map_err(HttpResponse::from_error)?;
    match found {
        Some(row) if row.owner_id == user.id => {
            if row.expires_at < Ts::now() {
                Err(refused_one(
                    StatusCode::GONE,
                    "This upload expired: it was not continued for too long. Please upload the file again.",
                ))
            } else {
                Ok(row)
            }
        }
        _ => Err(not_found()),
    }
}

fn expiry(state: &AppState) -> Ts {
    Ts(Ts::now().0 + chrono::Duration::from_std(state.settings.upload_expiry).unwrap_or(chrono::Duration::days(1)))
}

/// `OPTIONS`: what this server speaks.
pub async fn options(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header(("Tus-Resumable", VERSION))
        .insert_header(("Tus-Version", VERSION))
        .insert_header(("Tus-Extension", EXTENSIONS))
        .insert_header(("Tus-Checksum-Algorithm", BodyCheck::ALGORITHMS))
        .insert_header(("Tus-Max-Size", state.settings.max_upload_bytes.to_string()))
        .finish()
}

/// `POST /uploads`: a new upload of `Upload-Length` bytes.
pub async fn create(req: HttpRequest, user: CurrentUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    if let Some(refusal) = version_refused(&req) {
        return Ok(refusal);
    }
    if header_str(&req, "upload-defer-length").is_some() {
        return Ok(refused_one(
            StatusCode::BAD_REQUEST,
            "Upload-Defer-Length is not supported: send Upload-Length.",
        ));
    }
    let length = match number_header(&req, "upload-length") {
        Ok(Some(length)) => length,
        Ok(None) => return Ok(refused_one(StatusCode::BAD_REQUEST, "Upload-Length is missing.")),
        Err(refusal) => return Ok(*refusal),
    };
    if number_header(&req, "content-length").ok().flatten().unwrap_or(0) > 0 {
        return Ok(refused_one(
            StatusCode::BAD_REQUEST,
            "Send the bytes with PATCH after creating the upload.",
        ));
    }
    let settings = &state.settings;
    if length == 0 {
        return upload_refused(&state, UploadError::Empty);
    }
    if length > settings.max_upload_bytes {
        return upload_refused(&state, UploadError::TooLarge);
    }
    let metadata = match parse_metadata(header_str(&req, "upload-metadata").unwrap_or_default()) {
        Ok(metadata) => metadata,
        Err(message) => return Ok(refused_one(StatusCode::BAD_REQUEST, &message)),
    };
    let voiceover = match metadata.get("purpose").and_then(|p| p.as_str()) {
        None | Some("") | Some("video") => false,
        Some(crate::comments::voice::PURPOSE) => true,
        Some(_) => {
            return Ok(refused_one(
                StatusCode::BAD_REQUEST,
                "Upload-Metadata: purpose is video or voiceover.",
            ))
        }
    };
    if voiceover && length > crate::comments::voice::MAX_AUDIO_BYTES {
        return Ok(refused_one(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "A voice-over recording is at most {} MiB.",
                crate::comments::voice::MAX_AUDIO_BYTES / 1024 / 1024
            ),
        ));
    }
    let name = ["filename", "name"]
        .iter()
        .find_map(|key| metadata.get(*key).and_then(|v| v.as_str()))
        .unwrap_or_default();
    let filename = upload::clean_filename(name);
    let (tmp_dir, media_dir, reserve) = (
        settings.upload_tmp_dir(),
        settings.media_dir(),
        settings.disk_reserve_bytes,
    );
    let room = io_pool::uploads()
        .map_err(|e| AppError::Unexpected(e.into()))?
        .run(move || upload::room_for(&tmp_dir, &media_dir, length, reserve))
        .await
        .map_err(|e| AppError::Unexpected(e.into()))?;
    if let Err(error) = room {
        return upload_refused(&state, error);
    }
    let id = Id::new();
    let now = Ts::now();
    let new = Resumable {
        id,
        owner_id: user.id,
        node_id: state.node_id.clone(),
        upload_length: length as i64,
        upload_offset: 0,
        filename,
        metadata: Json(serde_json::Value::Object(metadata)),
        video_id: None,
        created_at: now,
        updated_at: now,
        expires_at: expiry(&state),
        voiceover_id: None,
    };
    let expires_at = new.expires_at;
    let env_quota = settings.default_quota_bytes;
    let owner = user.id;
    let created = db::run(&state.pool, move |c| {
        db::write_transaction(c, |c| -> diesel::QueryResult<Result<(), quota::Usage>> {
            if let DbConn::Pg(_) = c {
                // One user's creations one after the other: two at once
                // cannot both take the last of the quota.
                diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended('quota:' || $1, 0))")
                    .bind::<diesel::sql_types::Text, _>(owner.to_string())
                    .execute(c)?;
            }
            let usage = quota::usage(c, owner, env_quota)?;
            if !usage.fits(length) {
                return Ok(Err(usage));
            }
            queries::insert_resumable(c, &new)?;
            Ok(Ok(()))
        })
    })
    .await?;
    if let Err(usage) = created {
        return upload_refused(
            &state,
            UploadError::OverQuota {
                needed: length,
                used: usage.used(),
                quota: usage.quota.unwrap_or(0),
            },
        );
    }
    tracing::info!(user_id = user.id, upload = %id, length, "resumable upload created");
    Ok(answer(StatusCode::CREATED)
        .insert_header((header::LOCATION, format!("/uploads/{id}")))
        .insert_header(("Upload-Expires", http_date(expires_at)))
        .finish())
}

/// `HEAD /uploads/{id}`: how far it got.
pub async fn head(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    if let Some(refusal) = version_refused(&req) {
        return refusal;
    }
    match owned(&state, &user, &path).await {
        Ok(row) => answer(StatusCode::OK)
            .insert_header(("Upload-Offset", row.upload_offset.to_string()))
            .insert_header(("Upload-Length", row.upload_length.to_string()))
            .insert_header(("Upload-Expires", http_date(row.expires_at)))
            .finish(),
        Err(refusal) => refusal,
    }
}

/// Opens an upload's file for appending at `offset`, locked against any
/// other request (on any process) writing it; cuts off whatever a crash
/// left past the recorded offset. Blocking.
fn open_at(path: &Path, offset: u64) -> Result<(std::fs::File, Vec<u8>), Opened> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(Opened::Io)?;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(offset == 0)
        .truncate(false)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Opened::Lost,
            _ => Opened::Io(e),
        })?;
    // flock: released when the file is closed, so also when its process dies.
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {}
        Err(rustix::io::Errno::WOULDBLOCK) => return Err(Opened::Locked),
        Err(e) => return Err(Opened::Io(e.into())),
    }
    let length = file.metadata().map_err(Opened::Io)?.len();
    if length < offset {
        return Err(Opened::Lost);
    }
    if length > offset {
        file.set_len(offset).map_err(Opened::Io)?;
    }
    let mut file = file;
    let head = intake::read_head(&mut file).map_err(Opened::Io)?;
    Ok((file, head))
}

enum Opened {
    /// Another request is writing this upload right now.
    Locked,
    /// The bytes are gone (the file was removed): start again.
    Lost,
    Io(std::io::Error),
}

fn open_refused(opened: Opened) -> AppResult<HttpResponse> {
    match opened {
        Opened::Locked => Ok(refused_one(
            StatusCode::LOCKED,
            "This upload is still receiving bytes from an earlier request; try again in a moment.",
        )),
        Opened::Lost => Ok(refused_one(
            StatusCode::NOT_FOUND,
            "The bytes of this upload are gone. Please upload the file again.",
        )),
        Opened::Io(error) if intake::is_storage_full(&error) => Ok(refused_one(
            StatusCode::INSUFFICIENT_STORAGE,
            "The server's storage is full, so your video cannot be kept right now.",
        )),
        Opened::Io(error) => Err(AppError::Unexpected(
            anyhow::Error::new(error).context("opening a resumable upload"),
        )),
    }
}

/// The upload's file opened at its recorded offset and locked ([`open_at`]),
/// or the answer that says why not (an upload whose bytes are gone is
/// removed: the client starts again).
async fn open_part(
    state: &AppState,
    row: &Resumable,
) -> AppResult<Result<(PathBuf, std::fs::File, Vec<u8>), HttpResponse>> {
    let file_path = part_path(&tus_dir(&state.settings), row.id);
    let (opening, offset) = (file_path.clone(), row.upload_offset as u64);
    let opened = io_pool::uploads()
        .map_err(|e| AppError::Unexpected(e.into()))?
        .run(move || open_at(&opening, offset))
        .await
        .map_err(|e| AppError::Unexpected(e.into()))?;
    match opened {
        Ok((file, head)) => Ok(Ok((file_path, file, head))),
        Err(Opened::Lost) => {
            discard(state, row.id).await?;
            open_refused(Opened::Lost).map(Err)
        }
        Err(other) => open_refused(other).map(Err),
    }
}

/// Removes an upload: its row, its bytes and its hash.
async fn discard(state: &AppState, id: Id) -> AppResult<()> {
    state.tus_hashes.forget(id);
    db::run(&state.pool, move |c| queries::delete_resumable(c, id)).await?;
    let path = part_path(&tus_dir(&state.settings), id);
    io_pool::uploads()
        .map_err(|e| AppError::Unexpected(e.into()))?
        .run(move || match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        })
        .await
        .map_err(|e| AppError::Unexpected(e.into()))?
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("removing a resumable upload")))
}

/// `PATCH /uploads/{id}`: the next bytes, from `Upload-Offset`.
pub async fn patch(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    mut body: web::Payload,
) -> AppResult<HttpResponse> {
    if let Some(refusal) = version_refused(&req) {
        return Ok(refusal);
    }
    if header_str(&req, "content-type") != Some(OFFSET_TYPE) {
        return Ok(refused_one(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "PATCH bodies are application/offset+octet-stream.",
        ));
    }
    let claimed = match number_header(&req, "upload-offset") {
        Ok(Some(offset)) => offset,
        Ok(None) => return Ok(refused_one(StatusCode::BAD_REQUEST, "Upload-Offset is missing.")),
        Err(refusal) => return Ok(*refusal),
    };
    let check = match body_check(&req) {
        Ok(check) => check,
        Err(refusal) => return Ok(*refusal),
    };
    let row = match owned(&state, &user, &path).await {
        Ok(row) => row,
        Err(refusal) => return Ok(refusal),
    };
    let (offset, length) = (row.upload_offset as u64, row.upload_length as u64);
    if claimed != offset {
        return Ok(answer(StatusCode::CONFLICT)
            .insert_header(("Upload-Offset", offset.to_string()))
            .json(serde_json::json!({ "ok": false, "errors": [format!(
                "Upload-Offset is {claimed}, but this upload has {offset} bytes: resume from {offset}."
            )] })));
    }
    let announced = number_header(&req, "content-length").ok().flatten();
    if announced.is_some_and(|n| offset.saturating_add(n) > length) {
        return Ok(refused_one(
            StatusCode::PAYLOAD_TOO_LARGE,
            "These bytes go past the upload's declared length.",
        ));
    }
    if row.video_id.is_some() || row.voiceover_id.is_some() {
        return Ok(finished(&row, row.video_id, row.voiceover_id));
    }
    let kind = upload_kind(&row);
    let _slot = match state.uploads.take(user.id) {
        Ok(slot) => slot,
        Err(busy) => return upload_refused(&state, UploadError::Busy(busy)),
    };
    let (file_path, file, head) = match open_part(&state, &row).await? {
        Ok(opened) => opened,
        Err(refusal) => return Ok(refusal),
    };
    let hasher = if offset == 0 {
        Some(Sha256::new())
    } else {
        state.tus_hashes.take(row.id, offset)
    };
    // Bytes with a checksum are kept only once they match: none of them is
    // recorded before, and a mismatch puts the hash back as it was.
    let checked = check.is_some();
    let hash_before = if checked { hasher.clone() } else { None };
    let mut intake = Intake::append(file, offset, length - offset, head, hasher, kind, check)
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("opening a resumable upload")))?;
    let settings = &state.settings;
    let mut pace = upload::PaceGuard::new(upload::Pace {
        window: settings.upload_rate_window,
        min_bytes: settings.upload_min_bytes,
    });
    let mut recorded = offset;
    let mut last_checkpoint = std::time::Instant::now();
    let mut stopped: Option<UploadError> = None;
    loop {
        let chunk = match pace.next(&mut body).await {
            Ok(Some(Ok(chunk))) => chunk,
            Ok(None) => break,
            Ok(Some(Err(error))) => {
                // The client went away: keep what arrived, for the resume.
                tracing::info!(upload = %row.id, %error, "resumable upload interrupted");
                stopped = Some(UploadError::Interrupted(error.to_string()));
                break;
            }
            Err(error) => {
                stopped = Some(error);
                break;
            }
        };
        pace.count(chunk.len());
        if let Err(error) = intake.push(chunk).await {
            match error {
                IntakeError::NotAVideo => {
                    drop(intake);
                    discard(&state, row.id).await?;
                    return upload_refused(&state, not_of_kind(kind));
                }
                other => {
                    stopped = Some(other.into());
                    break;
                }
            }
        }
        if checked {
            continue;
        }
        match intake.flushed() {
            // On disk: recorded without waiting for the next sync.
            Ok(Some(durable)) if durable > recorded => {
                if !record(&state, row.id, recorded, durable).await? {
                    return Ok(refused_one(StatusCode::NOT_FOUND, "This upload was cancelled."));
                }
                recorded = durable;
                last_checkpoint = std::time::Instant::now();
            }
            Ok(_) => {}
            Err(error) => {
                stopped = Some(error.into());
                break;
            }
        }
        let unrecorded = offset + intake.received() - recorded;
        if unrecorded >= CHECKPOINT_MIN && last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
            if let Err(error) = intake.flush_soon().await {
                stopped = Some(error.into());
                break;
            }
            last_checkpoint = std::time::Instant::now();
        }
    }
    if checked {
        let kept = match stopped {
            // An interrupted body cannot be checked: none of it is kept.
            Some(_) => false,
            None => intake.verify().await.map_err(|e| AppError::Unexpected(e.into()))?,
        };
        if !kept {
            intake
                .rewind(hash_before.clone())
                .await
                .map_err(|e| AppError::Unexpected(e.into()))?;
            if let Some(hasher) = hash_before {
                state.tus_hashes.put(row.id, offset, hasher);
            }
            if let Some(error) = stopped {
                return upload_refused(&state, error);
            }
            let status = StatusCode::from_u16(CHECKSUM_MISMATCH).unwrap_or(StatusCode::BAD_REQUEST);
            let mut response = refused_one(
                status,
                "These bytes do not match their Upload-Checksum: none of them was kept. Send them again.",
            );
            response.headers_mut().insert(
                header::HeaderName::from_static("upload-offset"),
                header::HeaderValue::from(offset),
            );
            return Ok(response);
        }
        if intake.wrong_kind() {
            drop(intake);
            discard(&state, row.id).await?;
            return upload_refused(&state, not_of_kind(kind));
        }
    }
    let Some(now_at) = checkpoint(&state, &mut intake, row.id, recorded).await? else {
        return Ok(refused_one(StatusCode::NOT_FOUND, "This upload was cancelled."));
    };
    if let Some(error) = stopped {
        return upload_refused(&state, error);
    }
    if now_at < length {
        return Ok(answer(StatusCode::NO_CONTENT)
            .insert_header(("Upload-Offset", now_at.to_string()))
            .insert_header(("Upload-Expires", http_date(expiry(&state))))
            .finish());
    }
    // The last byte is in: the file is still locked by `intake` while it
    // becomes a video.
    let container = intake.container();
    let hasher = state.tus_hashes.take(row.id, now_at);
    let done = complete(&state, &user, &row, file_path, container, hasher).await;
    drop(intake);
    done
}

/// Syncs what arrived and records it as the upload's offset. `None`: the
/// upload is gone (terminated meanwhile).
async fn checkpoint(state: &AppState, intake: &mut Intake, id: Id, recorded: u64) -> AppResult<Option<u64>> {
    let (size, hasher) = match intake.sync().await {
        Ok(synced) => synced,
        Err(IntakeError::StorageFull) => {
            return Err(AppError::Unexpected(anyhow::anyhow!(
                "the disk filled while saving an upload"
            )))
        }
        Err(error) => {
            return Err(AppError::Unexpected(
                anyhow::Error::new(error).context("saving an upload"),
            ))
        }
    };
    if size == recorded {
        if let Some(hasher) = hasher {
            state.tus_hashes.put(id, size, hasher);
        }
        return Ok(Some(size));
    }
    if !record(state, id, recorded, size).await? {
        return Ok(None);
    }
    if let Some(hasher) = hasher {
        state.tus_hashes.put(id, size, hasher);
    }
    Ok(Some(size))
}

/// Records that the upload's first `to` bytes (on disk) are in, where it
/// had `from`; false: the upload is gone (terminated meanwhile).
async fn record(state: &AppState, id: Id, from: u64, to: u64) -> AppResult<bool> {
    let expires_at = expiry(state);
    let advanced = db::run(&state.pool, move |c| {
        queries::advance_resumable(c, id, from as i64, to as i64, expires_at)
    })
    .await?;
    if !advanced {
        state.tus_hashes.forget(id);
    }
    Ok(advanced)
}

/// The answer for an upload that became a video or a voice-over (or was
/// already one).
fn finished(row: &Resumable, video: Option<Id>, voiceover: Option<Id>) -> HttpResponse {
    let mut response = answer(StatusCode::NO_CONTENT);
    response.insert_header(("Upload-Offset", row.upload_length.to_string()));
    if let Some(video) = video {
        response.insert_header((VIDEO_HEADER, video.to_string()));
    }
    if let Some(voiceover) = voiceover {
        response.insert_header((VOICEOVER_HEADER, voiceover.to_string()));
    }
    response.finish()
}

/// What an upload must be: a voice-over's sound, or a video.
fn upload_kind(row: &Resumable) -> Kind {
    if crate::comments::voice::is_voiceover_upload(&row.metadata.0) {
        Kind::Audio
    } else {
        Kind::Video
    }
}

/// The refusal of a file whose first bytes are not of its kind.
fn not_of_kind(kind: Kind) -> UploadError {
    match kind {
        Kind::Video => UploadError::NotAVideo,
        Kind::Audio => UploadError::Unusable(vec![
            "This file is not a sound recording: a voice-over is WebM, Ogg or M4A audio.".to_owned(),
        ]),
    }
}

/// A voice-over's last byte is in: its type from the first bytes, then
/// ffprobe and a decode check (sound only, a length within the limit);
/// kept under `voiceovers/originals/` with its row and processing job
/// (`comments::voice`). Anything else is refused (422) and removed.
async fn complete_voiceover(
    state: &AppState,
    user: &CurrentUser,
    row: &Resumable,
    file_path: PathBuf,
    container: Option<crate::media::Container>,
) -> AppResult<HttpResponse> {
    use crate::comments::voice;
    let pool = io_pool::uploads().map_err(|e| AppError::Unexpected(e.into()))?;
    let reading = file_path.clone();
    let container = match container {
        Some(container) => Some(container),
        None => pool
            .run(move || -> std::io::Result<Option<crate::media::Container>> {
                let mut file = std::fs::File::open(&reading)?;
                let head = intake::read_head(&mut file)?;
                Ok(sniff::sniff_as(&head[..head.len().min(SNIFF_LEN)], Kind::Audio))
            })
            .await
            .map_err(|e| AppError::Unexpected(e.into()))?
            .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("reading a voice-over")))?,
    };
    let Some(container) = container else {
        discard(state, row.id).await?;
        return upload_refused(state, not_of_kind(Kind::Audio));
    };
    // From here the file is removed unless it is kept.
    let received = PartFile::new(file_path);
    let tools = Tools::from_settings(&state.settings);
    let problems = voice::check_recording(&tools, received.path(), container)
        .await
        .map_err(AppError::Unexpected)?;
    if !problems.is_empty() {
        drop(received);
        discard(state, row.id).await?;
        return upload_refused(state, UploadError::Unusable(problems));
    }
    let id = Id::new();
    let relative = voice::original_path(id, container);
    let (storage, node, moving) = (state.storage.clone(), state.node_id.clone(), relative.clone());
    let staged = pool
        .run(move || storage.stage(received, &moving, &node, None))
        .await
        .map_err(|e| AppError::Unexpected(e.into()))?;
    let staged = match staged {
        Ok(staged) => staged,
        Err(error) if intake::is_storage_full(&error) => return upload_refused(state, UploadError::StorageFull),
        Err(error) => {
            return Err(AppError::Unexpected(
                anyhow::Error::new(error).context("staging a voice-over"),
            ))
        }
    };
    let (owner, upload, size) = (user.id, row.id, row.upload_length as u64);
    db::run(&state.pool, move |c| {
        voice::store_recording(c, id, owner, staged, &relative, container, size, upload)
    })
    .await?;
    state.tus_hashes.forget(row.id);
    tracing::info!(user_id = user.id, voiceover = %id, size = row.upload_length, "voice-over uploaded");
    Ok(finished(row, None, Some(id)))
}

/// All bytes are in: the same checks and the same intake as the form's
/// upload (type, ffprobe and decode check, dedupe by SHA-256, processing
/// job), then the row points at its video. A file that is not a usable
/// video is refused (422) and removed with its row.
async fn complete(
    state: &AppState,
    user: &CurrentUser,
    row: &Resumable,
    file_path: PathBuf,
    container: Option<crate::media::Container>,
    hasher: Option<Sha256>,
) -> AppResult<HttpResponse> {
    if upload_kind(row) == Kind::Audio {
        return complete_voiceover(state, user, row, file_path, container).await;
    }
    let pool = io_pool::uploads().map_err(|e| AppError::Unexpected(e.into()))?;
    let reading = file_path.clone();
    let checked = pool
        .run(move || -> std::io::Result<(Option<crate::media::Container>, String)> {
            let container = match container {
                Some(container) => Some(container),
                None => {
                    let mut file = std::fs::File::open(&reading)?;
                    let head = intake::read_head(&mut file)?;
                    sniff::sniff(&head[..head.len().min(SNIFF_LEN)])
                }
            };
            let sha256 = match hasher {
                Some(hasher) => hex::encode(hasher.finalize()),
                // Resumed in another process: read it once, at disk speed.
                None => intake::hash_file(&reading)?,
            };
            Ok((container, sha256))
        })
        .await
        .map_err(|e| AppError::Unexpected(e.into()))?
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("hashing a resumable upload")))?;
    let (container, sha256) = checked;
    let Some(container) = container else {
        discard(state, row.id).await?;
        return upload_refused(state, UploadError::NotAVideo);
    };
    // From here the file is the intake's: removed unless it is stored.
    let received = Received {
        part: PartFile::new(file_path),
        sha256,
        size: row.upload_length as u64,
        container,
    };
    let tools = Tools::from_settings(&state.settings);
    if let Err(error) = upload::check(&tools, &received).await {
        drop(received);
        discard(state, row.id).await?;
        return upload_refused(state, error);
    }
    let storage = state.storage.clone();
    let (staging, node) = (storage.clone(), state.node_id.clone());
    let staged = pool
        .run(move || upload::stage(&staging, &node, received))
        .await
        .map_err(|e| AppError::Unexpected(e.into()))?;
    let staged = match staged {
        Ok(staged) => staged,
        Err(error) if intake::is_storage_full(&error) => return upload_refused(state, UploadError::StorageFull),
        Err(error) => {
            return Err(AppError::Unexpected(
                anyhow::Error::new(error).context("staging a resumable upload"),
            ))
        }
    };
    let (store_user, filename, upload_id) = (user.clone(), row.filename.clone(), row.id);
    let stored = db::run(&state.pool, move |c| {
        upload::store(c, &storage, staged, &filename, &store_user, Some(upload_id))
    })
    .await?;
    state.tus_hashes.forget(row.id);
    let asset = match stored {
        Stored::New(asset) => {
            tracing::info!(user_id = user.id, video = %asset.id, size = row.upload_length, "video uploaded (resumable)");
            asset
        }
        Stored::Existing(asset) => {
            tracing::info!(user_id = user.id, video = %asset.id, "duplicate resumable upload: existing video reused");
            asset
        }
    };
    Ok(finished(row, Some(asset.id), None))
}

/// `DELETE /uploads/{id}`: the upload ends and its bytes go (a video it
/// already became stays).
pub async fn terminate(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    if let Some(refusal) = version_refused(&req) {
        return Ok(refusal);
    }
    let row = match owned(&state, &user, &path).await {
        Ok(row) => row,
        Err(refusal) => return Ok(refusal),
    };
    discard(&state, row.id).await?;
    tracing::info!(user_id = user.id, upload = %row.id, "resumable upload cancelled");
    Ok(answer(StatusCode::NO_CONTENT).finish())
}

/// `GET /uploads/{id}`: how far it got and, once finished, its video. An
/// upload whose bytes are all in but that has no video yet (the server
/// stopped in between) is finished now.
pub async fn result(user: CurrentUser, state: web::Data<AppState>, path: web::Path<String>) -> AppResult<HttpResponse> {
    let row = match owned(&state, &user, &path).await {
        Ok(row) => row,
        Err(refusal) => return Ok(refusal),
    };
    let mut video = row.video_id;
    let mut voiceover = row.voiceover_id;
    if video.is_none() && voiceover.is_none() && row.is_complete() {
        let (file_path, file, _) = match open_part(&state, &row).await? {
            Ok(opened) => opened,
            Err(refusal) => return Ok(refusal),
        };
        let response = complete(&state, &user, &row, file_path, None, None).await?;
        drop(file);
        if !response.status().is_success() {
            return Ok(response);
        }
        let named = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<Id>().ok())
        };
        video = named(VIDEO_HEADER);
        voiceover = named(VOICEOVER_HEADER);
    }
    Ok(answer(StatusCode::OK).json(serde_json::json!({
        "offset": row.upload_offset,
        "length": row.upload_length,
        "video": video.map(|id| id.to_string()),
        "location": video.map(|id| format!("/videos/{id}")),
        "voiceover": voiceover.map(|id| id.to_string()),
    })))
}

/// Removes expired uploads (rows and files), and files in the upload
/// folder that no row owns any more (a user deleted with their uploads)
/// once unwritten for the expiry. Run by the worker's housekeeping.
pub fn purge_expired(conn: &mut DbConn, tus_dir: &Path, expiry: std::time::Duration) -> anyhow::Result<usize> {
    let mut removed = 0;
    loop {
        let batch = queries::expired_resumables(conn, Ts::now(), 200)?;
        if batch.is_empty() {
            break;
        }
        for id in batch {
            // Row first: a file without a row is swept below next time.
            queries::delete_resumable(conn, id)?;
            match std::fs::remove_file(part_path(tus_dir, id)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    tracing::warn!(upload = %id, error = %e, "could not remove an expired upload's file");
                }
                _ => {}
            }
            removed += 1;
        }
    }
    let Ok(entries) = std::fs::read_dir(tus_dir) else {
        return Ok(removed);
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(id) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".part"))
            .and_then(|n| n.parse::<Id>().ok())
        else {
            continue;
        };
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|at| at.elapsed().ok())
            .is_some_and(|unwritten| unwritten > expiry);
        if stale && !queries::resumable_exists(conn, id)? && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::parse_metadata;

    #[test]
    fn metadata_is_base64_pairs_and_names_stay_names() {
        let parsed = parse_metadata("filename bXkgY2xpcC5tcDQ=,filetype dmlkZW8vbXA0,empty");
        let parsed = parsed.unwrap_or_default();
        assert_eq!(parsed.get("filename").and_then(|v| v.as_str()), Some("my clip.mp4"));
        assert_eq!(parsed.get("filetype").and_then(|v| v.as_str()), Some("video/mp4"));
        assert_eq!(parsed.get("empty").and_then(|v| v.as_str()), Some(""));
        assert!(parse_metadata("filename !!!").is_err());
        let many: Vec<String> = (0..17).map(|n| format!("k{n} dg==")).collect();
        assert!(parse_metadata(&many.join(",")).is_err(), "too many pairs");
        assert!(parse_metadata(&many[..16].join(",")).is_ok());
        assert!(parse_metadata("k dg==,k dg==").is_err(), "a key twice");
    }
}
