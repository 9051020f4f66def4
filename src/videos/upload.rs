//! An upload from the multipart form to a stored, queued video: the file
//! streams into a temporary file ([`crate::media::intake`]), is checked
//! (its first bytes, then ffprobe's verdict), and is then either matched to
//! an existing copy of the same bytes or moved into the media folder.

use std::path::Path;
use std::time::{Duration, Instant};

use actix_multipart::Multipart;
use diesel::prelude::*;
use diesel::sql_types::Text;
use futures_util::{Stream, StreamExt};

use super::queries::{self, Asset, NewAsset};
use super::Status;
use crate::accounts::permissions;
use crate::db::{self, DbConn, Id, Ts};
use crate::media::intake::{Intake, IntakeError, Received};
use crate::media::probe::{self, ProbeError};
use crate::media::storage::Staging;
use crate::media::{Container, Placed, Storage, Tools};
use crate::web::auth::CurrentUser;

/// The form field that carries the file.
pub const FILE_FIELD: &str = "file";
/// Other fields of the form are small; they are read and ignored, up to
/// this much in all.
const OTHER_FIELDS_LIMIT: u64 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the file is larger than the limit")]
    TooLarge,
    #[error("not a video")]
    NotAVideo,
    #[error("not a usable video: {0:?}")]
    Unusable(Vec<String>),
    #[error("no file")]
    NoFile,
    #[error("empty file")]
    Empty,
    /// The form could not be read (a client that went away, a broken body).
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    /// More than the one file (and a few small fields) the form sends.
    #[error("unexpected form content")]
    ExtraContent,
    /// The body arrived slower than the minimum rate ([`Pace`]): cut off.
    #[error("the upload was too slow")]
    TooSlow,
    /// No room on the disk for it (or for it and the reserve).
    #[error("the storage is full")]
    StorageFull,
    /// It would take the user past their storage quota (bytes).
    #[error("over the storage quota")]
    OverQuota { needed: u64, used: u64, quota: u64 },
    /// Too many uploads in progress (the user's, or this node's).
    #[error("too many uploads at once")]
    Busy(Busy),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<IntakeError> for UploadError {
    fn from(error: IntakeError) -> Self {
        match error {
            IntakeError::TooLarge => UploadError::TooLarge,
            IntakeError::NotAVideo => UploadError::NotAVideo,
            IntakeError::Empty => UploadError::Empty,
            IntakeError::StorageFull => UploadError::StorageFull,
            IntakeError::Io(e) => UploadError::Unexpected(anyhow::Error::new(e).context("storing the upload")),
        }
    }
}

/// How many uploads are in progress on this node, in all and per user.
/// Each upload holds a slot while its body arrives and is stored; past a
/// limit the upload is refused at once (503 with `Retry-After`), before a
/// byte of it is read, so that neither one user nor everyone together can
/// tie up the node with uploads.
pub struct UploadSlots {
    per_user: usize,
    per_node: usize,
    taken: std::sync::Mutex<(usize, std::collections::HashMap<i32, usize>)>,
}

/// Which limit refused an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    User,
    Node,
}

/// A slot, given back when dropped.
pub struct UploadSlot {
    slots: std::sync::Arc<UploadSlots>,
    user: i32,
}

impl UploadSlots {
    pub fn new(per_user: usize, per_node: usize) -> UploadSlots {
        UploadSlots {
            per_user,
            per_node,
            taken: std::sync::Mutex::new((0, std::collections::HashMap::new())),
        }
    }

    pub fn take(self: &std::sync::Arc<Self>, user: i32) -> Result<UploadSlot, Busy> {
        let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        let (total, per_user) = &mut *taken;
        let mine = per_user.entry(user).or_insert(0);
        if *mine >= self.per_user {
            return Err(Busy::User);
        }
        if *total >= self.per_node {
            return Err(Busy::Node);
        }
        *mine += 1;
        *total += 1;
        Ok(UploadSlot {
            slots: self.clone(),
            user,
        })
    }

    /// Uploads in progress now (for tests and the log).
    pub fn in_progress(&self) -> usize {
        self.taken.lock().unwrap_or_else(|e| e.into_inner()).0
    }
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut taken = self.slots.taken.lock().unwrap_or_else(|e| e.into_inner());
        let (total, per_user) = &mut *taken;
        *total = total.saturating_sub(1);
        if let Some(mine) = per_user.get_mut(&self.user) {
            *mine = mine.saturating_sub(1);
            if *mine == 0 {
                per_user.remove(&self.user);
            }
        }
    }
}

/// Whether the data disk has room for `incoming` more bytes and the
/// reserve, where the upload is received and where it will be kept.
pub fn room_for(tmp_dir: &Path, media_dir: &Path, incoming: u64, reserve: u64) -> Result<(), UploadError> {
    for dir in [tmp_dir, media_dir] {
        let free = crate::media::disk::free_bytes(dir)
            .map_err(|e| UploadError::Unexpected(anyhow::Error::new(e).context("measuring free space")))?;
        if free < incoming.saturating_add(reserve) {
            tracing::warn!(free, incoming, reserve, folder = %dir.display(), "upload refused: the disk is (nearly) full");
            return Err(UploadError::StorageFull);
        }
    }
    Ok(())
}

/// The file of an upload form, received and checked.
pub struct Checked {
    pub received: Received,
    pub orig_filename: String,
}

/// The client's file name, kept only to show it (escaped): no folders,
/// no control characters, at most 255 characters.
pub fn clean_filename(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    let cleaned = cleaned.trim().to_owned();
    if cleaned.is_empty() {
        "video".to_owned()
    } else {
        cleaned
    }
}

/// The slowest an upload may arrive: at least `min_bytes` in every
/// `window`. A body trickling in slower (a client on a dead connection, or
/// one holding uploads open on purpose) is cut off with a 408.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub window: Duration,
    pub min_bytes: u64,
}

/// Holds a stream of the body to its [`Pace`].
pub(crate) struct PaceGuard {
    pace: Pace,
    window_end: Instant,
    in_window: u64,
}

impl PaceGuard {
    pub(crate) fn new(pace: Pace) -> PaceGuard {
        PaceGuard {
            pace,
            window_end: Instant::now() + pace.window,
            in_window: 0,
        }
    }

    /// The next item of `stream`, waited for no longer than the pace allows.
    pub(crate) async fn next<S: Stream + Unpin>(&mut self, stream: &mut S) -> Result<Option<S::Item>, UploadError> {
        loop {
            let now = Instant::now();
            if now >= self.window_end {
                if self.in_window < self.pace.min_bytes {
                    return Err(UploadError::TooSlow);
                }
                self.window_end = now + self.pace.window;
                self.in_window = 0;
            }
            // At the window's end the loop judges it (and waits on, or cuts).
            if let Ok(item) = tokio::time::timeout_at(self.window_end.into(), stream.next()).await {
                return Ok(item);
            }
        }
    }

    pub(crate) fn count(&mut self, bytes: usize) {
        self.in_window += bytes as u64;
    }
}

/// Where and how an upload is received.
pub struct Receiving<'a> {
    pub tmp_dir: &'a Path,
    /// This node's id, in the temporary file's name.
    pub node: &'a str,
    pub limit: u64,
    pub pace: Pace,
}

/// Reads the form: the `file` field into a temporary file (at most
/// `limit` bytes, at least at the pace), every other field read and
/// dropped. Stops at the first problem; the temporary file is then removed.
pub async fn receive(mut form: Multipart, how: &Receiving<'_>) -> Result<(Received, String), UploadError> {
    let mut file: Option<(Received, String)> = None;
    let mut other_bytes = 0u64;
    let mut pace = PaceGuard::new(how.pace);
    while let Some(field) = pace.next(&mut form).await? {
        let mut field = field.map_err(|e| UploadError::Interrupted(e.to_string()))?;
        let is_file = field.name() == Some(FILE_FIELD)
            && field.content_disposition().and_then(|cd| cd.get_filename()).is_some()
            && file.is_none();
        if !is_file {
            while let Some(chunk) = pace.next(&mut field).await? {
                let chunk = chunk.map_err(|e| UploadError::Interrupted(e.to_string()))?;
                pace.count(chunk.len());
                other_bytes += chunk.len() as u64;
                if other_bytes > OTHER_FIELDS_LIMIT {
                    return Err(UploadError::ExtraContent);
                }
            }
            continue;
        }
        let filename = clean_filename(
            field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .unwrap_or_default(),
        );
        let mut intake = Intake::start(how.tmp_dir, how.node, how.limit).await?;
        while let Some(chunk) = pace.next(&mut field).await? {
            let chunk = chunk.map_err(|e| UploadError::Interrupted(e.to_string()))?;
            pace.count(chunk.len());
            intake.push(chunk).await?;
        }
        if intake.received() == 0 {
            // A file input left empty sends a part with no bytes.
            return Err(UploadError::NoFile);
        }
        file = Some((intake.finish().await?, filename));
    }
    file.ok_or(UploadError::NoFile)
}

/// ffprobe's verdict on the received file, then a decode check (a file cut
/// short passes ffprobe, which reads headers only). Without ffmpeg on this
/// server the file is taken on its first bytes alone (the worker checks it
/// again).
pub async fn check(tools: &Tools, received: &Received) -> Result<(), UploadError> {
    match probe::run(tools, received.part.path(), "the file").await {
        Ok(probe) => {
            let problems = probe::problems(&probe, Some(received.container));
            if !problems.is_empty() {
                return Err(UploadError::Unusable(problems));
            }
            match probe::decode_check(tools, received.part.path(), "the file", probe.duration).await {
                Ok(()) => Ok(()),
                Err(ProbeError::Unreadable(message)) => Err(UploadError::Unusable(vec![message])),
                Err(ProbeError::Tool(error)) => {
                    // The worker decodes it again before the video is ready.
                    tracing::warn!(%error, "could not decode-check an upload; the worker will");
                    Ok(())
                }
            }
        }
        Err(ProbeError::Unreadable(message)) => Err(UploadError::Unusable(vec![message])),
        Err(ProbeError::Tool(error)) if error.is_missing() => {
            tracing::warn!("ffprobe is not installed: accepting an upload on its first bytes alone");
            Ok(())
        }
        Err(ProbeError::Tool(error)) => Err(UploadError::Unexpected(
            anyhow::Error::new(error).context("checking the upload"),
        )),
    }
}

/// Where an upload ended up.
#[derive(Debug)]
pub enum Stored {
    /// A new video (its processing job is queued, or it shares a processed
    /// copy of the same bytes).
    New(Asset),
    /// The user can already see a video with these bytes: that one.
    Existing(Asset),
}

/// A checked upload on its way to its final place.
#[derive(Debug)]
pub struct Staged {
    id: Id,
    file: Staging,
    relative: String,
    sha256: String,
    size: u64,
    container: Container,
}

/// Moves the upload next to its final place (blocking; see
/// [`Storage::stage`]). A duplicate found in the transaction makes the
/// staged copy go again.
pub fn stage(storage: &Storage, node: &str, upload: Received) -> std::io::Result<Staged> {
    let id = Id::new();
    let relative = Storage::original_path(id, upload.container.extension());
    let file = storage.stage(upload.part, &relative, node, Some(&upload.sha256))?;
    Ok(Staged {
        id,
        file,
        relative,
        sha256: upload.sha256,
        size: upload.size,
        container: upload.container,
    })
}

/// Stores a staged upload, in one transaction with its row and job.
///
/// The same bytes are kept once. If the uploader can already see a video
/// with this checksum, that video is the answer. Otherwise, if a copy
/// exists that they may not see (someone else's), they get their own row
/// that shares its files — and its processing results, when done — so
/// neither user sees the other's video. Only new bytes are renamed into
/// place, under a uuid name; otherwise the staged file is deleted.
pub fn store(
    conn: &mut DbConn,
    storage: &Storage,
    upload: Staged,
    orig_filename: &str,
    user: &CurrentUser,
    resumable: Option<Id>,
) -> anyhow::Result<Stored> {
    let Staged {
        id,
        file,
        relative,
        sha256,
        size,
        container,
    } = upload;
    let (stored, placed) = db::write_transaction(conn, |c| -> anyhow::Result<_> {
        let place = || -> anyhow::Result<(Stored, Option<Placed>)> {
            if let DbConn::Pg(_) = c {
                // Two uploads of the same bytes at once: one after the other.
                diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                    .bind::<Text, _>(&sha256)
                    .execute(c)?;
            }
            let copies = queries::find_by_checksum(c, &sha256)?;
            for copy in &copies {
                let access = queries::access_of(c, copy)?;
                if permissions::can_view_video(user, access.uploaded_by_id, access.attached)
                    && file_exists(storage, copy)
                {
                    return Ok((Stored::Existing(copy.clone()), None));
                }
            }
            if let Some(copy) = copies.iter().find(|copy| file_exists(storage, copy)) {
                let mut new = NewAsset::upload(
                    id,
                    orig_filename,
                    copy.storage_path.clone().unwrap_or_default(),
                    &copy.mime_type,
                    size,
                    &sha256,
                    user.id,
                );
                if copy.status() == Status::Ready {
                    new.processing_status = Status::Ready.as_str().to_owned();
                    new.duration_sec = copy.duration_sec;
                    new.width = copy.width;
                    new.height = copy.height;
                    new.frame_rate = copy.frame_rate;
                    new.poster_path = copy.poster_path.clone();
                    new.renditions = copy.renditions.clone();
                    new.processed_at = Some(Ts::now());
                    new.last_validated = copy.last_validated;
                }
                return Ok((Stored::New(queries::insert_asset(c, &new)?), None));
            }
            // Until the transaction commits, the file is temporary again:
            // removed if anything below (or the commit) fails.
            let placed = file.commit()?;
            let new = NewAsset::upload(
                id,
                orig_filename,
                relative,
                container.mime_type(),
                size,
                &sha256,
                user.id,
            );
            Ok((Stored::New(queries::insert_asset(c, &new)?), Some(placed)))
        };
        let (stored, placed) = place()?;
        if let (Some(upload), Stored::New(asset) | Stored::Existing(asset)) = (resumable, &stored) {
            // The upload's row points at its video in the same transaction.
            queries::link_resumable(c, upload, asset.id)?;
        }
        Ok((stored, placed))
    })?;
    if let Some(placed) = placed {
        placed.keep();
    }
    Ok(stored)
}

/// How old a stored upload without a row must be before it is removed: an
/// upload's row commits seconds after its file is stored.
pub const ORPHAN_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Removes the files under `originals/` that no video names (blocking):
/// the upload of a node killed between storing the file and committing its
/// row. Looked up by the id in the name first (one query per 500), then,
/// for the few whose row is gone, by path: a duplicate's row may name the
/// file of a deleted one. Returns how many went.
pub fn purge_orphans(conn: &mut DbConn, storage: &Storage, older_than: Duration) -> anyhow::Result<usize> {
    use crate::db::schema::core_videoasset;
    let settled = storage.settled_files("originals", "*", older_than);
    let mut removed = 0;
    for batch in settled.chunks(500) {
        let ids: Vec<Id> = batch.iter().map(|(id, _)| *id).collect();
        let known: std::collections::HashSet<Id> = core_videoasset::table
            .filter(core_videoasset::id.eq_any(&ids))
            .select(core_videoasset::id)
            .load::<Id>(conn)?
            .into_iter()
            .collect();
        for (id, relative) in batch {
            if known.contains(id) {
                continue;
            }
            let named: bool = diesel::select(diesel::dsl::exists(
                core_videoasset::table.filter(core_videoasset::storage_path.eq(relative)),
            ))
            .get_result(conn)?;
            if named {
                continue;
            }
            match storage.remove(relative) {
                Ok(()) => {
                    tracing::info!(path = %relative, "removed a stored upload no video names");
                    removed += 1;
                }
                Err(error) => tracing::warn!(path = %relative, %error, "could not remove an orphaned upload"),
            }
        }
    }
    Ok(removed)
}

fn file_exists(storage: &Storage, asset: &Asset) -> bool {
    asset.storage_path.as_deref().is_some_and(|p| storage.exists(p))
}

/// Adds a YouTube video for the user (the same link twice is one video).
pub fn add_youtube(conn: &mut DbConn, canonical_url: &str, user_id: i32) -> QueryResult<(Asset, bool)> {
    db::write_transaction(conn, |c| {
        if let Some(existing) = queries::find_youtube(c, user_id, canonical_url)? {
            return Ok((existing, false));
        }
        let new = NewAsset::youtube(canonical_url, user_id);
        Ok((queries::insert_asset(c, &new)?, true))
    })
}

#[cfg(test)]
mod tests {
    use super::clean_filename;

    #[test]
    fn client_file_names_are_only_names() {
        assert_eq!(clean_filename("C:\\Users\\ann\\My clip.mp4"), "My clip.mp4");
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("a\u{0}b\nc.mp4"), "abc.mp4");
        assert_eq!(clean_filename(""), "video");
        assert_eq!(clean_filename(&"x".repeat(300)).chars().count(), 255);
    }
}
