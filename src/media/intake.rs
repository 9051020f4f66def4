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
use super::sniff::{self, Container, SNIFF_LEN};
use super::storage::PartFile;
use crate::db::Id;

/// Bytes gathered before a write: large enough that a fast upload costs
/// few thread hops, small enough that many uploads at once stay cheap.
const BATCH: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("the upload is larger than the limit")]
    TooLarge,
    #[error("the file is not a video")]
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
struct Writer {
    file: std::fs::File,
    hasher: Sha256,
    size: u64,
}

impl Writer {
    fn write(&mut self, batch: &[u8]) -> io::Result<()> {
        self.hasher.update(batch);
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
    part: PartFile,
    slot: Slot,
    pending: BytesMut,
    head: Vec<u8>,
    container: Option<Container>,
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
            part: PartFile::new(path),
            slot: Slot::Idle(Box::new(Writer {
                file,
                hasher: Sha256::new(),
                size: 0,
            })),
            pending: BytesMut::with_capacity(BATCH),
            head: Vec::with_capacity(SNIFF_LEN),
            container: None,
            received: 0,
            limit,
        })
    }

    pub fn received(&self) -> u64 {
        self.received
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
                self.container = Some(sniff::sniff(&self.head).ok_or(IntakeError::NotAVideo)?);
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
        if self.received == 0 {
            return Err(IntakeError::Empty);
        }
        let container = match self.container {
            Some(container) => container,
            None => sniff::sniff(&self.head).ok_or(IntakeError::NotAVideo)?,
        };
        let mut writer = self.writer().await?;
        let rest = self.pending.split().freeze();
        let (sha256, size) = io_pool::uploads()?
            .run(move || {
                writer.write(&rest)?;
                // On disk before a row points at it.
                writer.file.sync_all()?;
                Ok::<_, io::Error>((hex::encode(writer.hasher.finalize()), writer.size))
            })
            .await??;
        Ok(Received {
            part: self.part,
            sha256,
            size,
            container,
        })
    }
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
