//! Receiving an upload: bytes stream into a temporary file while a blocking
//! thread hashes (SHA-256) and writes them. Memory stays flat whatever the
//! size: at most a few chunks wait in the channel between the two. The size
//! limit is enforced as the bytes arrive, and the type is decided from the
//! first bytes ([`super::sniff`]).

use std::io::{self, Write};
use std::path::Path;

use actix_web::web::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::sniff::{self, Container, SNIFF_LEN};
use super::storage::PartFile;
use crate::db::Id;

/// Chunks in flight between the network and the disk.
const CHANNEL_CHUNKS: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("the upload is larger than the limit")]
    TooLarge,
    #[error("the file is not a video")]
    NotAVideo,
    #[error("the file is empty")]
    Empty,
    #[error("writing the upload: {0}")]
    Io(#[from] io::Error),
}

enum Message {
    Data(Bytes),
    /// Everything arrived: flush and sync. Without it (the upload was given
    /// up), the writer stops at once.
    Finish,
}

/// An upload being received.
pub struct Intake {
    part: PartFile,
    sender: mpsc::Sender<Message>,
    writer: JoinHandle<io::Result<(String, u64)>>,
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

impl Intake {
    /// Starts a temporary file in `tmp_dir`, to hold at most `limit` bytes.
    pub fn start(tmp_dir: &Path, limit: u64) -> io::Result<Intake> {
        std::fs::create_dir_all(tmp_dir)?;
        let path = tmp_dir.join(format!("upload-{}.part", Id::new().0.simple()));
        let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
        let part = PartFile::new(path);
        let (sender, receiver) = mpsc::channel(CHANNEL_CHUNKS);
        let writer = tokio::task::spawn_blocking(move || write_all(file, receiver));
        Ok(Intake {
            part,
            sender,
            writer,
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
    /// the limit is passed or the first bytes are not a video's.
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
        if self.sender.send(Message::Data(chunk)).await.is_err() {
            // The writer stopped: its error says why.
            return Err(self.writer_error().await);
        }
        Ok(())
    }

    /// All bytes arrived: waits for the writer to sync the file.
    pub async fn finish(self) -> Result<Received, IntakeError> {
        if self.received == 0 {
            return Err(IntakeError::Empty);
        }
        let container = match self.container {
            Some(container) => container,
            None => sniff::sniff(&self.head).ok_or(IntakeError::NotAVideo)?,
        };
        let Intake {
            part, sender, writer, ..
        } = self;
        if sender.send(Message::Finish).await.is_err() {
            // Fall through: the writer's result carries its error.
        }
        drop(sender);
        let (sha256, size) = writer
            .await
            .map_err(|e| io::Error::other(format!("upload writer stopped: {e}")))??;
        Ok(Received {
            part,
            sha256,
            size,
            container,
        })
    }

    async fn writer_error(&mut self) -> IntakeError {
        match (&mut self.writer).await {
            Ok(Err(error)) => IntakeError::Io(error),
            Ok(Ok(_)) => IntakeError::Io(io::Error::other("the upload writer stopped early")),
            Err(error) => IntakeError::Io(io::Error::other(format!("upload writer: {error}"))),
        }
    }
}

fn write_all(file: std::fs::File, mut receiver: mpsc::Receiver<Message>) -> io::Result<(String, u64)> {
    let mut out = io::BufWriter::with_capacity(1024 * 1024, file);
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(message) = receiver.blocking_recv() {
        match message {
            Message::Data(chunk) => {
                hasher.update(&chunk);
                out.write_all(&chunk)?;
                size += chunk.len() as u64;
            }
            Message::Finish => {
                let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
                // On disk before a row points at it.
                file.sync_all()?;
                return Ok((hex::encode(hasher.finalize()), size));
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::Interrupted,
        "the upload ended before it was complete",
    ))
}
