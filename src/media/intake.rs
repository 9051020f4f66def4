//! Receiving an upload: bytes stream into a temporary file, written and
//! hashed (SHA-256) in batches on the upload I/O pool ([`super::io_pool`]),
//! never on the threads the database work needs. Memory stays flat whatever
//! the size: one batch fills while the one before it is written. The size
//! limit is enforced as the bytes arrive, and the type is decided from the
//! first bytes ([`super::sniff`]). A full disk is its own error.

use std::io;
use std::path::Path;

use actix_web::web::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use super::io_pool;
use super::sniff::{self, Container, Kind, SNIFF_LEN};
use super::storage::PartFile;
use crate::db::Id;

/// Bytes gathered before a write: large enough that a fast upload costs
/// few thread hops, small enough that many uploads at once stay cheap.
const BATCH: usize = 256 * 1024;
/// At most this many chunks in a batch (the `writev` limit): a client that
/// sends its body in tiny chunks must not make a batch's list of chunks
/// grow to megabytes.
const BATCH_CHUNKS: usize = 1024;
/// Every this many bytes written, the file is synced on the pool while the
/// next bytes go on arriving (a [`Intake::flush_soon`] of its own): the
/// disk writes along with the upload instead of all at its end, and a
/// resumable upload records its progress without waiting for the disk.
const FLUSH_EVERY: u64 = 64 * 1024 * 1024;

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

/// The digest a client announced for one request's bytes (tus `checksum`
/// extension: `Upload-Checksum`), and the digest of the bytes as they came.
pub struct BodyCheck {
    digest: BodyDigest,
    expected: Vec<u8>,
}

enum BodyDigest {
    Sha1(sha1::Sha1),
    Sha256(Sha256),
}

impl BodyCheck {
    /// The algorithms a client may name, as the server lists them.
    pub const ALGORITHMS: &'static str = "sha1,sha256";

    /// A check of `expected` (the raw digest) with `algorithm`; `None` for
    /// an algorithm this server does not compute.
    pub fn new(algorithm: &str, expected: Vec<u8>) -> Option<BodyCheck> {
        let digest = match algorithm {
            "sha1" => BodyDigest::Sha1(sha1::Sha1::new()),
            "sha256" => BodyDigest::Sha256(Sha256::new()),
            _ => return None,
        };
        Some(BodyCheck { digest, expected })
    }

    fn update(&mut self, bytes: &[u8]) {
        match &mut self.digest {
            BodyDigest::Sha1(digest) => digest.update(bytes),
            BodyDigest::Sha256(digest) => digest.update(bytes),
        }
    }

    fn matches(self) -> bool {
        let actual = match self.digest {
            BodyDigest::Sha1(digest) => digest.finalize().to_vec(),
            BodyDigest::Sha256(digest) => digest.finalize().to_vec(),
        };
        actual == self.expected
    }
}

/// The open file and the hash so far; it travels to the pool and back.
/// A resumed upload whose earlier bytes were hashed by another process has
/// no hash: it is computed from the file once complete ([`hash_file`]).
struct Writer {
    file: std::fs::File,
    hasher: Option<Sha256>,
    /// This request's own digest, when the client sent one to compare.
    check: Option<BodyCheck>,
    size: u64,
}

/// The digests of the bytes: they travel to the pool apart from the file,
/// so that one batch is hashed on one thread while it is written on another.
struct Digests {
    hasher: Option<Sha256>,
    check: Option<BodyCheck>,
}

impl Digests {
    fn update(&mut self, batch: &[Bytes]) {
        for chunk in batch {
            if let Some(hasher) = &mut self.hasher {
                hasher.update(chunk);
            }
            if let Some(check) = &mut self.check {
                check.update(chunk);
            }
        }
    }
}

/// Writes the chunks as they came off the network, with vectored writes:
/// gathering them into one buffer first was a second copy of every byte.
fn write_chunks(file: &mut std::fs::File, batch: &[Bytes]) -> io::Result<()> {
    use std::io::{IoSlice, Write};
    let mut slices: Vec<IoSlice<'_>> = batch
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| IoSlice::new(c))
        .collect();
    let mut slices = &mut slices[..];
    while !slices.is_empty() {
        match file.write_vectored(slices) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn batch_len(batch: &[Bytes]) -> u64 {
    batch.iter().map(|c| c.len() as u64).sum()
}

impl Writer {
    fn write(&mut self, batch: &[Bytes]) -> io::Result<()> {
        let mut digests = self.take_digests();
        digests.update(batch);
        self.put_digests(digests);
        write_chunks(&mut self.file, batch)?;
        self.size += batch_len(batch);
        Ok(())
    }

    fn take_digests(&mut self) -> Digests {
        Digests {
            hasher: self.hasher.take(),
            check: self.check.take(),
        }
    }

    fn put_digests(&mut self, digests: Digests) {
        self.hasher = digests.hasher;
        self.check = digests.check;
    }
}

/// The file part of a [`Writer`] on its way back from a batch's write.
type Written = io::Result<(std::fs::File, u64)>;

/// Where the writer is: here, or away on the pool with a batch (its file
/// writing it, its digests hashing it, at the same time).
enum Slot {
    Idle(Box<Writer>),
    Writing(oneshot::Receiver<Written>, oneshot::Receiver<Digests>),
    /// A write failed; its error was returned.
    Broken,
}

/// A sync of the file on the pool, beside the writes.
struct Flusher {
    /// A second handle on the file (the same open file, so the same lock).
    file: std::sync::Arc<std::fs::File>,
    /// The sync under way: its answer is how many bytes it made durable.
    running: Option<oneshot::Receiver<io::Result<u64>>>,
    /// The answer of the last sync that finished, until it is asked for.
    finished: Option<io::Result<u64>>,
    /// A sync to start once the batch being written is written.
    wanted: bool,
    /// The file's length when the last sync started.
    started_at: u64,
}

impl Flusher {
    fn new(file: &std::fs::File, size: u64) -> io::Result<Flusher> {
        Ok(Flusher {
            file: std::sync::Arc::new(file.try_clone()?),
            running: None,
            finished: None,
            wanted: false,
            started_at: size,
        })
    }

    /// Takes the answer of the sync under way, if it has come.
    fn poll(&mut self) {
        let Some(running) = &mut self.running else {
            return;
        };
        let answer = match running.try_recv() {
            Err(oneshot::error::TryRecvError::Empty) => return,
            Err(oneshot::error::TryRecvError::Closed) => Err(io::Error::other("the upload sync stopped")),
            Ok(answer) => answer,
        };
        self.running = None;
        // An error is kept until it is seen; a later success replaces an
        // earlier one.
        if !matches!(self.finished, Some(Err(_))) {
            self.finished = Some(answer);
        }
    }

    /// Starts a sync of the first `size` bytes, all written already; while
    /// one runs, it is started once that one is done.
    fn start(&mut self, size: u64) -> io::Result<()> {
        self.poll();
        if self.running.is_some() {
            self.wanted = true;
            return Ok(());
        }
        self.wanted = false;
        self.started_at = size;
        let (done, running) = oneshot::channel();
        let file = self.file.clone();
        io_pool::uploads()?.submit(move || {
            let _ = done.send(file.sync_data().map(|()| size));
        })?;
        self.running = Some(running);
        Ok(())
    }
}

/// An upload being received.
pub struct Intake {
    /// A new upload's temporary file, removed unless finished; `None` when
    /// appending to a resumable upload's file, which outlives the request.
    part: Option<PartFile>,
    slot: Slot,
    /// Received, not yet handed to the pool: the network's own chunks.
    pending: Vec<Bytes>,
    pending_len: usize,
    head: Vec<u8>,
    container: Option<Container>,
    /// What the first bytes must be.
    kind: Kind,
    /// The file's length when this intake began (a resumable upload's offset).
    start: u64,
    flusher: Flusher,
    received: u64,
    limit: u64,
    /// The bytes come with a digest ([`Intake::verify`]): a first chunk
    /// that is not of `kind` is judged only once the bytes are known to be
    /// the ones the client sent ([`Intake::wrong_kind`]), so a corrupted
    /// head is answered "send again", not "not a video".
    checked: bool,
    wrong_kind: bool,
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
        let flusher = Flusher::new(&file, 0)?;
        Ok(Intake {
            part: Some(PartFile::new(path)),
            slot: Slot::Idle(Box::new(Writer {
                file,
                hasher: Some(Sha256::new()),
                check: None,
                size: 0,
            })),
            pending: Vec::new(),
            pending_len: 0,
            head: Vec::with_capacity(SNIFF_LEN),
            container: None,
            kind: Kind::Video,
            start: 0,
            flusher,
            received: 0,
            limit,
            checked: false,
            wrong_kind: false,
        })
    }

    /// Appends to a resumable upload's `file`, already opened, locked and
    /// cut back to `offset` by the caller, taking at most `limit` more
    /// bytes. `head` is the file's first bytes (up to [`SNIFF_LEN`]) for the
    /// type check; `hasher` the hash of the bytes before `offset`, if this
    /// process still has it; `check` the digest the client announced for
    /// the bytes it sends now ([`Intake::verify`]). `kind`: a video, or a
    /// voice-over's audio.
    pub fn append(
        file: std::fs::File,
        offset: u64,
        limit: u64,
        head: Vec<u8>,
        hasher: Option<Sha256>,
        kind: Kind,
        check: Option<BodyCheck>,
    ) -> Result<Intake, IntakeError> {
        let container = (head.len() >= SNIFF_LEN)
            .then(|| sniff::sniff_as(&head, kind))
            .flatten();
        let flusher = Flusher::new(&file, offset)?;
        let checked = check.is_some();
        Ok(Intake {
            part: None,
            slot: Slot::Idle(Box::new(Writer {
                file,
                hasher,
                check,
                size: offset,
            })),
            pending: Vec::new(),
            pending_len: 0,
            head,
            container,
            kind,
            start: offset,
            flusher,
            received: 0,
            limit,
            checked,
            wrong_kind: false,
        })
    }

    pub fn received(&self) -> u64 {
        self.received
    }

    /// The first bytes are not of the upload's kind, in a body sent with a
    /// digest: once [`Intake::verify`] says the bytes are the client's, the
    /// upload is refused as not a video (or not audio).
    pub fn wrong_kind(&self) -> bool {
        self.wrong_kind
    }

    /// The container, once the first bytes are in.
    pub fn container(&self) -> Option<Container> {
        self.container
    }

    /// Starts a sync of what is written so far (after the batch being
    /// written, if any), beside the writes that follow: [`Intake::flushed`]
    /// tells when it is done.
    pub async fn flush_soon(&mut self) -> Result<(), IntakeError> {
        let writer = self.writer().await?;
        let size = writer.size;
        self.slot = Slot::Idle(writer);
        self.flusher.start(size)?;
        Ok(())
    }

    /// The bytes on disk, if a sync started by [`Intake::flush_soon`] (or
    /// every [`FLUSH_EVERY`] bytes) has finished since last asked; never
    /// waits.
    pub fn flushed(&mut self) -> Result<Option<u64>, IntakeError> {
        self.flusher.poll();
        match self.flusher.finished.take() {
            None => Ok(None),
            Some(answer) => Ok(Some(answer?)),
        }
    }

    /// Waits for a sync under way (it holds the file, and so its lock).
    async fn flush_done(&mut self) {
        if let Some(running) = self.flusher.running.take() {
            let _ = running.await;
        }
    }

    /// Writes what is gathered and syncs the file: everything received so
    /// far is on disk. Returns the file's length and the hash so far (a
    /// copy: the intake goes on). Used by resumable uploads to record their
    /// offset, which must never be ahead of the disk.
    pub async fn sync(&mut self) -> Result<(u64, Option<Sha256>), IntakeError> {
        self.flush_done().await;
        let mut writer = self.writer().await?;
        let rest = self.take_pending();
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

    /// Writes what is gathered and tells whether the bytes received match
    /// the digest given to [`Intake::append`] (true when none was given).
    /// Nothing is synced: a mismatch is [`Intake::rewind`]ed, a match
    /// synced and recorded as usual.
    pub async fn verify(&mut self) -> Result<bool, IntakeError> {
        let mut writer = self.writer().await?;
        let rest = self.take_pending();
        let (writer, matches) = io_pool::uploads()?
            .run(move || {
                writer.write(&rest)?;
                let matches = writer.check.take().is_none_or(BodyCheck::matches);
                Ok::<_, io::Error>((writer, matches))
            })
            .await??;
        self.slot = Slot::Idle(writer);
        Ok(matches)
    }

    /// Takes back every byte this intake received: the file is cut to its
    /// length at the start, and `hasher` (the hash of the bytes before,
    /// as it was then) replaces the one that took them in.
    pub async fn rewind(&mut self, hasher: Option<Sha256>) -> Result<(), IntakeError> {
        self.take_pending();
        let start = self.start;
        let writer = self.writer().await?;
        let writer = io_pool::uploads()?
            .run(move || {
                let mut writer = writer;
                writer.file.set_len(start)?;
                std::io::Seek::seek(&mut writer.file, std::io::SeekFrom::Start(start))?;
                writer.size = start;
                writer.hasher = hasher;
                writer.check = None;
                Ok::<_, io::Error>(writer)
            })
            .await??;
        self.slot = Slot::Idle(writer);
        let kept = SNIFF_LEN.min(usize::try_from(start).unwrap_or(SNIFF_LEN));
        self.head.truncate(kept);
        if self.head.len() < SNIFF_LEN {
            self.container = None;
        }
        self.wrong_kind = false;
        self.received = 0;
        Ok(())
    }

    /// Adds the next chunk. Fails (and the caller should stop reading) when
    /// the limit is passed, the first bytes are not a video's, or the disk
    /// is full.
    pub async fn push(&mut self, chunk: Bytes) -> Result<(), IntakeError> {
        self.received += chunk.len() as u64;
        if self.received > self.limit {
            return Err(IntakeError::TooLarge);
        }
        if self.container.is_none() && !self.wrong_kind {
            let take = (SNIFF_LEN - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
            if self.head.len() >= SNIFF_LEN {
                match sniff::sniff_as(&self.head, self.kind) {
                    Some(container) => self.container = Some(container),
                    None if self.checked => self.wrong_kind = true,
                    None => return Err(IntakeError::NotAVideo),
                }
            }
        }
        self.pending_len += chunk.len();
        self.pending.push(chunk);
        if self.pending_len >= BATCH || self.pending.len() >= BATCH_CHUNKS {
            self.send_batch().await?;
        }
        Ok(())
    }

    fn take_pending(&mut self) -> Vec<Bytes> {
        self.pending_len = 0;
        std::mem::replace(&mut self.pending, Vec::with_capacity(64))
    }

    /// Waits for the writer to be back from the pool.
    async fn writer(&mut self) -> Result<Box<Writer>, IntakeError> {
        match std::mem::replace(&mut self.slot, Slot::Broken) {
            Slot::Idle(writer) => Ok(writer),
            Slot::Writing(writing, hashing) => {
                let digests = hashing
                    .await
                    .map_err(|_| IntakeError::Io(io::Error::other("the upload hasher stopped")))?;
                match writing.await {
                    Ok(Ok((file, size))) => {
                        let mut writer = Box::new(Writer {
                            file,
                            hasher: None,
                            check: None,
                            size,
                        });
                        writer.put_digests(digests);
                        Ok(writer)
                    }
                    Ok(Err(error)) => Err(error.into()),
                    Err(_) => Err(IntakeError::Io(io::Error::other("the upload writer stopped"))),
                }
            }
            Slot::Broken => Err(IntakeError::Io(io::Error::other("the upload file failed earlier"))),
        }
    }

    /// Hands the gathered bytes to the pool (after the batch before them is
    /// written: one write in flight per upload, in order).
    async fn send_batch(&mut self) -> Result<(), IntakeError> {
        let mut writer = self.writer().await?;
        // Everything before this batch is written: a sync started now
        // covers it, and runs while this batch is written.
        if self.flusher.wanted || writer.size >= self.flusher.started_at + FLUSH_EVERY {
            self.flusher.start(writer.size)?;
        }
        let batch = self.take_pending();
        let pool = io_pool::uploads()?;
        // Both queued at once, on two threads (hashing and the copy into the
        // page cache cost about the same); the writer comes back through
        // `written` and `hashed` while the next chunks arrive.
        let mut digests = writer.take_digests();
        let (hashed, hashing) = oneshot::channel();
        let to_hash = batch.clone();
        pool.submit(move || {
            digests.update(&to_hash);
            let _ = hashed.send(digests);
        })?;
        let Writer { mut file, size, .. } = *writer;
        let (written, writing) = oneshot::channel();
        pool.submit(move || {
            let _ = written.send(write_chunks(&mut file, &batch).map(|()| (file, size + batch_len(&batch))));
        })?;
        self.slot = Slot::Writing(writing, hashing);
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
        self.flush_done().await;
        let mut writer = self.writer().await?;
        let rest = self.take_pending();
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

    /// A body in tiny chunks, empty ones among them (a slow or hostile
    /// client's), arrives whole: batches are cut at `BATCH_CHUNKS`
    /// chunks, so its list of chunks stays small.
    #[actix_web::test]
    async fn tiny_and_empty_chunks_arrive_whole() -> Result<(), IntakeError> {
        let dir = std::env::temp_dir().join(format!("practika-tiny-{}", Id::new().0.simple()));
        let mut head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom".to_vec();
        head.resize(SNIFF_LEN, 0);
        let mut all = Vec::new();
        let mut intake = Intake::start(&dir, "tiny", 10 * 1024 * 1024).await?;
        for byte in head.iter().copied().chain((0..5000u32).map(|n| (n % 251) as u8)) {
            all.push(byte);
            intake.push(Bytes::from(vec![byte])).await?;
            if all.len() % 7 == 0 {
                intake.push(Bytes::new()).await?;
            }
            assert!(
                intake.pending.len() < BATCH_CHUNKS,
                "a batch holds at most {BATCH_CHUNKS} chunks"
            );
        }
        let received = intake.finish().await?;
        assert_eq!(received.size, all.len() as u64);
        assert_eq!(received.sha256, hex::encode(Sha256::digest(&all)));
        assert_eq!(std::fs::read(received.part.path())?, all);
        drop(received);
        std::fs::remove_dir_all(dir)?;
        Ok(())
    }

    /// A sync asked for runs beside the writes and reports how many bytes
    /// it made durable: all written before it started, never more than
    /// the file holds; a checksum that does not match takes the bytes back.
    #[actix_web::test]
    async fn syncs_run_beside_the_writes_and_a_mismatch_is_taken_back() -> Result<(), IntakeError> {
        let dir = std::env::temp_dir().join(format!("practika-flush-{}", Id::new().0.simple()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("resumable.part");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        let mut head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom".to_vec();
        head.resize(SNIFF_LEN, 0);
        let mut intake = Intake::append(
            file,
            0,
            10 * 1024 * 1024,
            Vec::new(),
            Some(Sha256::new()),
            Kind::Video,
            None,
        )?;
        intake.push(Bytes::from(head.clone())).await?;
        for n in 0..3u8 {
            intake.push(Bytes::from(vec![n; BATCH])).await?;
        }
        intake.flush_soon().await?;
        let durable = loop {
            if let Some(durable) = intake.flushed()? {
                break durable;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
        };
        let received = intake.received();
        assert!(
            durable >= (3 * BATCH) as u64,
            "the batches written before it: {durable}"
        );
        assert!(durable <= received, "never past what arrived: {durable} of {received}");
        assert_eq!(intake.flushed()?, None, "told once");
        let (size, _) = intake.sync().await?;
        assert_eq!(size, received);
        assert_eq!(std::fs::metadata(&path)?.len(), received);
        drop(intake);

        // The next request's bytes, announced with the digest of others.
        let file = std::fs::OpenOptions::new().read(true).write(true).open(&path)?;
        let check = BodyCheck::new("sha1", sha1::Sha1::digest(b"other bytes").to_vec());
        let mut intake = Intake::append(file, received, 1024 * 1024, head, None, Kind::Video, check)?;
        intake.push(Bytes::from(vec![7u8; 5000])).await?;
        assert!(!intake.verify().await?, "the digests differ");
        intake.rewind(None).await?;
        assert_eq!(std::fs::metadata(&path)?.len(), received, "the bytes were taken back");
        assert!(BodyCheck::new("md5", Vec::new()).is_none(), "only sha1 and sha256");
        drop(intake);
        std::fs::remove_dir_all(dir)?;
        Ok(())
    }

    #[test]
    fn a_full_disk_is_told_apart() {
        assert!(is_storage_full(&io::Error::from(io::ErrorKind::StorageFull)));
        assert!(!is_storage_full(&io::Error::from(io::ErrorKind::PermissionDenied)));
    }
}
