//! Receiving an upload: bytes stream into a temporary file, written and
//! hashed (SHA-256) in batches on the upload I/O pool ([`super::io_pool`]),
//! never on the threads the database work needs. Memory stays flat whatever
//! the size: one batch fills while the one before it is written. The size
//! limit is enforced as the bytes arrive, and the type is decided from the
//! first bytes ([`super::sniff`]). A full disk is its own error.

use std::io::{self, Write};
use std::path::Path;

use actix_web::web::{Bytes, BytesMut};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use super::io_pool;
use super::sniff::{self, Container, Kind, SNIFF_LEN};
use super::storage::PartFile;
use crate::db::Id;

/// Bytes gathered before a write: large enough that a fast upload costs
/// few thread hops, small enough that many uploads at once stay cheap.
const BATCH: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("the upload is larger than the limit")]
    TooLarge,
    /// Not of the kind expected: not a video (or, for a voice-over, not audio).
    #[error("the file is not of the accepted type")]
    NotAVideo,
    #[error("the file is empty")]
    Empty,
    /// The file system has no room left (or the user's quota is used up).
    #[error("the disk is full")]
    StorageFull,
    #[error("writing the upload: {0}")]
    Io(io::Error),
}

impl From<io::Error> for IntakeError {
    fn from(error: io::Error) -> Self {
        if is_storage_full(&error) {
            IntakeError::StorageFull
        } else {
            IntakeError::Io(error)
        }
    }
}

/// ENOSPC or EDQUOT: no room for the bytes.
pub fn is_storage_full(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded)
}

/// The open file and the hash so far; it travels to the pool and back.
/// A resumed upload whose earlier bytes were hashed by another process has
/// no hash: it is computed from the file once complete ([`hash_file`]).
struct Writer {
    file: std::fs::File,
    hasher: Option<Sha256>,
    size: u64,
}

impl Writer {
    fn write(&mut self, batch: &[u8]) -> io::Result<()> {
        if let Some(hasher) = &mut self.hasher {
            hasher.update(batch);
        }
        self.file.write_all(batch)?;
        self.size += batch.len() as u64;
        Ok(())
    }
}

/// Where the writer is: here, or away on the pool writing a batch.
enum Slot {
    Idle(Box<Writer>),
    Writing(oneshot::Receiver<io::Result<Box<Writer>>>),
    /// A write failed; its error was returned.
    Broken,
}

/// An upload being received.
pub struct Intake {
    /// A new upload's temporary file, removed unless finished; `None` when
    /// appending to a resumable upload's file, which outlives the request.
    part: Option<PartFile>,
    slot: Slot,
    pending: BytesMut,
    head: Vec<u8>,
    container: Option<Container>,
    /// What the first bytes must be.
    kind: Kind,
    received: u64,
    limit: u64,
}

/// A complete upload in its temporary file.
#[derive(Debug)]
pub struct Received {
    pub part: PartFile,
    pub sha256: String,
    pub size: u64,
    pub container: Container,
}

/// The temporary file name of an upload received by node `node`: the node
/// id lets a restarting node remove its own leftovers at once
/// ([`super::storage::sweep_uploads`]).
pub fn part_name(node: &str) -> String {
    format!("upload-{node}.{}.part", Id::new().0.simple())
}

impl Intake {
    /// Starts a temporary file in `tmp_dir` for node `node`, to hold at most
    /// `limit` bytes.
    pub async fn start(tmp_dir: &Path, node: &str, limit: u64) -> Result<Intake, IntakeError> {
        let path = tmp_dir.join(part_name(node));
        let dir = tmp_dir.to_owned();
        let opened = path.clone();
        let file = io_pool::uploads()?
            .run(move || {
                std::fs::create_dir_all(&dir)?;
                std::fs::OpenOptions::new().write(true).create_new(true).open(&opened)
            })
            .await??;
        Ok(Intake {
            part: Some(PartFile::new(path)),
            slot: Slot::Idle(Box::new(Writer {
                file,
                hasher: Some(Sha256::new()),
                size: 0,
            })),
            pending: BytesMut::with_capacity(BATCH),
            head: Vec::with_capacity(SNIFF_LEN),
            container: None,
            kind: Kind::Video,
            received: 0,
            limit,
        })
    }

    /// Appends to a resumable upload's `file`, already opened, locked and
    /// cut back to `offset` by the caller, taking at most `limit` more
    /// bytes. `head` is the file's first bytes (up to [`SNIFF_LEN`]) for the
    /// type check; `hasher` the hash of the bytes before `offset`, if this
    /// process still has it. `kind`: a video, or a voice-over's audio.
    pub fn append(
        file: std::fs::File,
        offset: u64,
        limit: u64,
        head: Vec<u8>,
        hasher: Option<Sha256>,
        kind: Kind,
    ) -> Intake {
        let container = (head.len() >= SNIFF_LEN)
            .then(|| sniff::sniff_as(&head, kind))
            .flatten();
        Intake {
            part: None,
            slot: Slot::Idle(Box::new(Writer {
                file,
                hasher,
                size: offset,
            })),
            pending: BytesMut::with_capacity(BATCH),
            head,
            container,
            kind,
            received: 0,
            limit,
        }
    }

    pub fn received(&self) -> u64 {
        self.received
    }

    /// The container, once the first bytes are in.
    pub fn container(&self) -> Option<Container> {
        self.container
    }

    /// Writes what is gathered and syncs the file: everything received so
    /// far is on disk. Returns the file's length and the hash so far (a
    /// copy: the intake goes on). Used by resumable uploads to record their
    /// offset, which must never be ahead of the disk.
    pub async fn sync(&mut self) -> Result<(u64, Option<Sha256>), IntakeError> {
        let mut writer = self.writer().await?;
        let rest = self.pending.split().freeze();
        let (writer, size, hasher) = io_pool::uploads()?
            .run(move || {
                writer.write(&rest)?;
                writer.file.sync_data()?;
                let (size, hasher) = (writer.size, writer.hasher.clone());
                Ok::<_, io::Error>((writer, size, hasher))
            })
            .await??;
        self.slot = Slot::Idle(writer);
        Ok((size, hasher))
    }

    /// Adds the next chunk. Fails (and the caller should stop reading) when
    /// the limit is passed, the first bytes are not a video's, or the disk
    /// is full.
    pub async fn push(&mut self, chunk: Bytes) -> Result<(), IntakeError> {
        self.received += chunk.len() as u64;
        if self.received > self.limit {
            return Err(IntakeError::TooLarge);
        }
        if self.container.is_none() {
            let take = (SNIFF_LEN - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
            if self.head.len() >= SNIFF_LEN {
                self.container = Some(sniff::sniff_as(&self.head, self.kind).ok_or(IntakeError::NotAVideo)?);
            }
        }
        self.pending.extend_from_slice(&chunk);
        if self.pending.len() >= BATCH {
            self.send_batch().await?;
        }
        Ok(())
    }

    /// Waits for the writer to be back from the pool.
    async fn writer(&mut self) -> Result<Box<Writer>, IntakeError> {
        match std::mem::replace(&mut self.slot, Slot::Broken) {
            Slot::Idle(writer) => Ok(writer),
            Slot::Writing(returning) => match returning.await {
                Ok(Ok(writer)) => Ok(writer),
                Ok(Err(error)) => Err(error.into()),
                Err(_) => Err(IntakeError::Io(io::Error::other("the upload writer stopped"))),
            },
            Slot::Broken => Err(IntakeError::Io(io::Error::other("the upload file failed earlier"))),
        }
    }

    /// Hands the gathered bytes to the pool (after the batch before them is
    /// written: one write in flight per upload, in order).
    async fn send_batch(&mut self) -> Result<(), IntakeError> {
        let mut writer = self.writer().await?;
        let batch = self.pending.split().freeze();
        let (done, returning) = oneshot::channel();
        // Queued at once; the writer comes back through `done` while the
        // next chunks arrive.
        io_pool::uploads()?.submit(move || {
            let _ = done.send(writer.write(&batch).map(|()| writer));
        })?;
        self.slot = Slot::Writing(returning);
        Ok(())
    }

    /// All bytes arrived: writes the rest and syncs the file to disk.
    pub async fn finish(mut self) -> Result<Received, IntakeError> {
        let part = self
            .part
            .take()
            .ok_or_else(|| IntakeError::Io(io::Error::other("a resumable upload is finished with sync")))?;
        if self.received == 0 {
            return Err(IntakeError::Empty);
        }
        let container = match self.container {
            Some(container) => container,
            None => sniff::sniff_as(&self.head, self.kind).ok_or(IntakeError::NotAVideo)?,
        };
        let mut writer = self.writer().await?;
        let rest = self.pending.split().freeze();
        let (sha256, size) = io_pool::uploads()?
            .run(move || {
                writer.write(&rest)?;
                // On disk before a row points at it.
                writer.file.sync_all()?;
                let hasher = writer.hasher.unwrap_or_default();
                Ok::<_, io::Error>((hex::encode(hasher.finalize()), writer.size))
            })
            .await??;
        Ok(Received {
            part,
            sha256,
            size,
            container,
        })
    }
}

/// The SHA-256 (hex) of a file, read in large blocks (blocking: run it on
/// the upload pool). For a resumed upload whose hash was not kept.
pub fn hash_file(path: &Path) -> io::Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1024 * 1024];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The first [`SNIFF_LEN`] bytes of a file (fewer if it is shorter).
pub fn read_head(file: &mut std::fs::File) -> io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut head = Vec::with_capacity(SNIFF_LEN);
    file.seek(SeekFrom::Start(0))?;
    Read::by_ref(file).take(SNIFF_LEN as u64).read_to_end(&mut head)?;
    file.seek(SeekFrom::End(0))?;
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn bytes_arrive_whole_hashed_and_in_order() -> Result<(), IntakeError> {
        let dir = std::env::temp_dir().join(format!("practika-intake-{}", Id::new().0.simple()));
        let mut head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom".to_vec();
        head.resize(SNIFF_LEN, 0);
        let mut all = head.clone();
        let mut intake = Intake::start(&dir, "unit", 10 * 1024 * 1024).await?;
        intake.push(Bytes::from(head)).await?;
        for n in 0..40u8 {
            let chunk = vec![n; 100_000];
            all.extend_from_slice(&chunk);
            intake.push(Bytes::from(chunk)).await?;
        }
        let received = intake.finish().await?;
        assert_eq!(received.size, all.len() as u64);
        assert_eq!(received.sha256, hex::encode(Sha256::digest(&all)));
        assert_eq!(std::fs::read(received.part.path())?, all);
        let name = received
            .part
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        assert!(name.is_some_and(|n| n.starts_with("upload-unit.") && n.ends_with(".part")));
        drop(received);
        assert!(
            std::fs::read_dir(&dir)?.next().is_none(),
            "a dropped upload leaves nothing"
        );
        std::fs::remove_dir_all(dir)?;
        Ok(())
    }

    #[test]
    fn a_full_disk_is_told_apart() {
        assert!(is_storage_full(&io::Error::from(io::ErrorKind::StorageFull)));
        assert!(!is_storage_full(&io::Error::from(io::ErrorKind::PermissionDenied)));
    }
}
