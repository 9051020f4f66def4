//! The bytes of a stored file as a response body: a few big reads on the
//! blocking pool instead of one hop there per 64 KiB (actix-files' own
//! body), each started while the previous one is still being sent.
//!
//! The HTTP/1 writer copies every chunk into its buffer and polls the body
//! again once that buffer is below 32 KiB, and it drops a buffer that grew
//! past 128 KiB after each write: so the body hands it slices of
//! [`SLICE`] cut from a [`BLOCK`] read (cutting a `Bytes` copies nothing).

use std::fs::File;
use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use actix_web::rt::task::{spawn_blocking, JoinHandle};
use actix_web::web::Bytes;
use futures_util::Stream;

/// One read from the file: one hop to the blocking pool.
pub const BLOCK: usize = 512 * 1024;
/// What the body yields at a time.
pub const SLICE: usize = 64 * 1024;

type Pending = JoinHandle<(File, io::Result<Bytes>)>;

/// `length` bytes of `file` from `offset`.
pub struct FileBody {
    file: Option<File>,
    /// Where the next read starts, and how much is still to read.
    next: u64,
    left: u64,
    /// The file is at `next` (after the first read).
    positioned: bool,
    /// Read, not yet yielded.
    ready: Bytes,
    reading: Option<Pending>,
}

impl FileBody {
    pub fn new(file: File, offset: u64, length: u64) -> FileBody {
        FileBody {
            file: Some(file),
            next: offset,
            left: length,
            positioned: false,
            ready: Bytes::new(),
            reading: None,
        }
    }

    /// Starts the next read, if there is more to read and none is running.
    fn read_ahead(&mut self) {
        if self.reading.is_some() || self.left == 0 {
            return;
        }
        let Some(mut file) = self.file.take() else {
            return;
        };
        let (at, want, seek) = (self.next, self.left.min(BLOCK as u64), !self.positioned);
        self.reading = Some(spawn_blocking(move || {
            let read = read_block(&mut file, at, want, seek);
            (file, read)
        }));
    }
}

fn read_block(file: &mut File, at: u64, want: u64, seek: bool) -> io::Result<Bytes> {
    if seek {
        file.seek(SeekFrom::Start(at))?;
    }
    let mut buf = Vec::with_capacity(want as usize);
    file.by_ref().take(want).read_to_end(&mut buf)?;
    if buf.is_empty() {
        // Shorter than it was when the response's length was set.
        return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
    }
    Ok(Bytes::from(buf))
}

impl Stream for FileBody {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if !this.ready.is_empty() {
                let slice = this.ready.split_to(this.ready.len().min(SLICE));
                this.read_ahead();
                return Poll::Ready(Some(Ok(slice)));
            }
            let Some(reading) = this.reading.as_mut() else {
                if this.left == 0 {
                    return Poll::Ready(None);
                }
                this.read_ahead();
                if this.reading.is_none() {
                    // The file went with a failed read.
                    return Poll::Ready(None);
                }
                continue;
            };
            let joined = ready!(Pin::new(reading).poll(cx));
            this.reading = None;
            let (file, read) = joined.map_err(|e| io::Error::other(format!("reading a media file: {e}")))?;
            this.file = Some(file);
            this.positioned = true;
            let bytes = read?;
            let n = bytes.len() as u64;
            this.next += n;
            this.left = this.left.saturating_sub(n);
            this.ready = bytes;
            this.read_ahead();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::io::Write;

    async fn collect(file: File, offset: u64, length: u64) -> io::Result<(Vec<u8>, usize)> {
        let mut body = FileBody::new(file, offset, length);
        let (mut all, mut largest) = (Vec::new(), 0);
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            largest = largest.max(chunk.len());
            all.extend_from_slice(&chunk);
        }
        Ok((all, largest))
    }

    #[actix_web::test]
    async fn sends_exactly_the_range_in_slices() {
        let mut tmp = tempfile::tempfile().expect("temp file");
        let data: Vec<u8> = (0..(BLOCK * 2 + 12_345)).map(|i| (i % 251) as u8).collect();
        tmp.write_all(&data).expect("write");
        for (offset, length) in [(0, data.len()), (7, BLOCK + 1), (BLOCK + 3, BLOCK + 12_342), (100, 1)] {
            let file = tmp.try_clone().expect("clone");
            let (sent, largest) = collect(file, offset as u64, length as u64).await.expect("read");
            assert_eq!(sent.len(), length, "{offset}+{length}");
            assert!(sent == data[offset..offset + length], "{offset}+{length}: other bytes");
            assert!(largest <= SLICE);
        }
        // A file shorter than promised ends in an error, not in silence.
        let file = tmp.try_clone().expect("clone");
        let short = collect(file, data.len() as u64 - 10, 20).await;
        assert_eq!(short.expect_err("too short").kind(), io::ErrorKind::UnexpectedEof);
    }
}
