//! Media in S3-compatible object storage (`PRACTIKA_MEDIA_URL=s3://bucket/prefix`),
//! through the `object_store` crate: the objects are named by the same
//! relative paths the database stores, under the prefix.
//!
//! Every call runs on one small runtime of its own ([`runtime`]), whatever
//! thread asks: the HTTP client's connections live there, and the callers
//! (blocking threads of the HTTP workers, the job runner) need not be in a
//! runtime at all. The blocking calls wait on a channel, so they are safe
//! from any thread that may block.

use std::future::Future;
use std::io;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::signer::Signer;
use object_store::{Attribute, Attributes, GetOptions, ObjectStore, PutOptions, PutPayload, WriteMultipart};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::storage::Extra;
use crate::config::S3Config;

/// Parts of a multipart upload: S3's smallest. One is sent while the next
/// is read (into a buffer of its own, handed over without a copy), so an
/// upload holds about 2 × 5 MiB whatever the file's size: a node's peak
/// memory stays under 64 MiB with a 1 GiB upload (measured, release build
/// against moto: 47 MB idle, 49 MB peak; with 6 MiB parts, two in flight,
/// the peak was 70 MB).
const PART_SIZE: usize = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 1;
/// The object's user metadata that records its SHA-256 (`x-amz-meta-sha256`).
const SHA256_METADATA: &str = "sha256";

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("practika-s3")
            .enable_all()
            .build()
            .expect("the object storage runtime starts")
    })
}

fn io_error(error: object_store::Error) -> io::Error {
    match error {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, error.to_string()),
        other => io::Error::other(other.to_string()),
    }
}

/// One object in a listing.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The path relative to the prefix (what the database stores).
    pub relative: String,
    pub size: u64,
    pub last_modified: chrono::DateTime<chrono::Utc>,
}

#[derive(Clone)]
pub struct Remote {
    store: Arc<AmazonS3>,
    bucket: String,
    prefix: String,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No credentials: they stay out of logs.
        write!(f, "Remote(s3://{}/{})", self.bucket, self.prefix)
    }
}

impl Remote {
    pub fn new(config: &S3Config) -> anyhow::Result<Remote> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_allow_http(config.allow_http);
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let (Some(id), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
            builder = builder.with_access_key_id(id).with_secret_access_key(secret);
        }
        if let Some(token) = &config.session_token {
            builder = builder.with_token(token);
        }
        let store = builder
            .build()
            .map_err(|e| anyhow::anyhow!("PRACTIKA_MEDIA_URL: the S3 settings are not usable: {e}"))?;
        Ok(Remote {
            store: Arc::new(store),
            bucket: config.bucket.clone(),
            prefix: config.prefix.clone(),
        })
    }

    pub fn describe(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    fn key(&self, relative: &str) -> Key {
        if self.prefix.is_empty() {
            Key::from(relative)
        } else {
            Key::from(format!("{}/{relative}", self.prefix))
        }
    }

    fn relative(&self, key: &Key) -> Option<String> {
        let key = key.as_ref();
        if self.prefix.is_empty() {
            return Some(key.to_owned());
        }
        key.strip_prefix(self.prefix.as_str())?
            .strip_prefix('/')
            .map(str::to_owned)
    }

    /// Runs `work` on the storage runtime and waits for it (blocking).
    fn block_on<T: Send + 'static>(&self, work: impl Future<Output = io::Result<T>> + Send + 'static) -> io::Result<T> {
        let (done, result) = std::sync::mpsc::sync_channel(1);
        runtime().spawn(async move {
            let _ = done.send(work.await);
        });
        result
            .recv()
            .unwrap_or_else(|_| Err(io::Error::other("the object storage call was dropped")))
    }

    /// Runs `work` on the storage runtime, from async code on any runtime.
    async fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = io::Result<T>> + Send + 'static,
    ) -> io::Result<T> {
        runtime()
            .spawn(work)
            .await
            .unwrap_or_else(|e| Err(io::Error::other(format!("object storage call: {e}"))))
    }

    /// Uploads the local file `from` as `relative` (blocking): one PUT for a
    /// small file, a multipart upload otherwise, read and sent a part at a
    /// time. A failed multipart upload is aborted, so that no parts stay
    /// behind. Returns the size.
    pub fn upload(&self, from: &Path, relative: &str, extra: &Extra<'_>) -> io::Result<u64> {
        let (store, key, from) = (self.store.clone(), self.key(relative), from.to_owned());
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, super::storage::content_type(relative).into());
        if let Some(sha256) = extra.sha256 {
            attributes.insert(Attribute::Metadata(SHA256_METADATA.into()), sha256.to_owned().into());
        }
        if let Some(name) = extra.download {
            attributes.insert(Attribute::ContentDisposition, super::storage::attachment(name).into());
        }
        self.block_on(async move {
            let mut file = tokio::fs::File::open(&from).await?;
            let size = file.metadata().await?.len();
            if size <= PART_SIZE as u64 {
                let mut bytes = Vec::with_capacity(size as usize);
                file.read_to_end(&mut bytes).await?;
                let options = PutOptions {
                    attributes,
                    ..PutOptions::default()
                };
                store
                    .put_opts(&key, PutPayload::from(bytes), options)
                    .await
                    .map_err(io_error)?;
                return Ok(size);
            }
            let options = object_store::PutMultipartOptions {
                attributes,
                ..Default::default()
            };
            let upload = store.put_multipart_opts(&key, options).await.map_err(io_error)?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
            let sent = async {
                loop {
                    writer.wait_for_capacity(PARTS_IN_FLIGHT).await.map_err(io_error)?;
                    let mut part = Vec::with_capacity(PART_SIZE);
                    (&mut file).take(PART_SIZE as u64).read_to_end(&mut part).await?;
                    if part.is_empty() {
                        return Ok::<_, io::Error>(());
                    }
                    writer.put(part.into());
                }
            }
            .await;
            match sent {
                Ok(()) => {
                    writer.finish().await.map_err(io_error)?;
                    Ok(size)
                }
                Err(error) => {
                    if let Err(abort) = writer.abort().await {
                        tracing::warn!(error = %abort, "could not abort a failed multipart upload");
                    }
                    Err(error)
                }
            }
        })
    }

    /// Downloads `relative` into the local file `to` (blocking), streamed.
    pub fn download(&self, relative: &str, to: &Path) -> io::Result<u64> {
        let (store, key, to) = (self.store.clone(), self.key(relative), to.to_owned());
        self.block_on(async move {
            let got = store.get(&key).await.map_err(io_error)?;
            let mut stream = got.into_stream();
            let mut file = tokio::fs::File::create(&to).await?;
            let mut size = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(io_error)?;
                size += chunk.len() as u64;
                file.write_all(&chunk).await?;
            }
            file.flush().await?;
            Ok(size)
        })
    }

    /// The SHA-256 (hex) and size of `relative` as the bucket sends it
    /// back, read as a stream (blocking).
    pub fn sha256(&self, relative: &str) -> io::Result<(String, u64)> {
        use sha2::{Digest, Sha256};
        let (store, key) = (self.store.clone(), self.key(relative));
        self.block_on(async move {
            let mut stream = store.get(&key).await.map_err(io_error)?.into_stream();
            let (mut hasher, mut size) = (Sha256::new(), 0u64);
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(io_error)?;
                size += chunk.len() as u64;
                hasher.update(&chunk);
            }
            Ok((hex::encode(hasher.finalize()), size))
        })
    }

    /// The size of `relative`, or `None` when there is no such object (blocking).
    pub fn size(&self, relative: &str) -> io::Result<Option<u64>> {
        let (store, key) = (self.store.clone(), self.key(relative));
        self.block_on(async move {
            match store.head(&key).await {
                Ok(meta) => Ok(Some(meta.size)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(error) => Err(io_error(error)),
            }
        })
    }

    /// The size and recorded SHA-256 of `relative`, if it exists (blocking).
    pub fn checksum(&self, relative: &str) -> io::Result<Option<(u64, Option<String>)>> {
        let (store, key) = (self.store.clone(), self.key(relative));
        self.block_on(async move {
            let options = GetOptions {
                head: true,
                ..GetOptions::default()
            };
            match store.get_opts(&key, options).await {
                Ok(got) => {
                    let sha = got
                        .attributes
                        .get(&Attribute::Metadata(SHA256_METADATA.into()))
                        .map(|v| v.to_string());
                    Ok(Some((got.meta.size, sha)))
                }
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(error) => Err(io_error(error)),
            }
        })
    }

    /// Deletes `relative`; one already gone is no error (blocking).
    pub fn delete(&self, relative: &str) -> io::Result<()> {
        let (store, key) = (self.store.clone(), self.key(relative));
        self.block_on(async move {
            match store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(error) => Err(io_error(error)),
            }
        })
    }

    /// Deletes `relative` without waiting (for a guard being dropped).
    pub fn delete_later(&self, relative: &str) {
        let (store, key) = (self.store.clone(), self.key(relative));
        runtime().spawn(async move {
            match store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(error) => tracing::warn!(%error, key = %key, "could not remove an object"),
            }
        });
    }

    /// The objects under the folder `dir` (blocking).
    pub fn list(&self, dir: &str) -> io::Result<Vec<Listed>> {
        let (store, key, this) = (self.store.clone(), self.key(dir), self.clone());
        self.block_on(async move {
            let mut listed = Vec::new();
            let mut stream = store.list(Some(&key));
            while let Some(meta) = stream.next().await {
                let meta = meta.map_err(io_error)?;
                if let Some(relative) = this.relative(&meta.location) {
                    listed.push(Listed {
                        relative,
                        size: meta.size,
                        last_modified: meta.last_modified,
                    });
                }
            }
            Ok(listed)
        })
    }

    /// A URL that lets whoever holds it GET `relative` (ranges included)
    /// for `ttl`, signed here without asking the storage.
    pub async fn presigned(&self, relative: &str, ttl: Duration) -> io::Result<String> {
        let (store, key) = (self.store.clone(), self.key(relative));
        self.run(async move {
            store
                .signed_url(http::Method::GET, &key, ttl)
                .await
                .map(|url| url.to_string())
                .map_err(io_error)
        })
        .await
    }
}
