//! Settings, read once from the environment at start.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `DATABASE_URL` | `sqlite://<data dir>/practika.db` | `postgres://...` selects PostgreSQL |
//! | `PRACTIKA_BIND` | `127.0.0.1:8000` | listen address |
//! | `PRACTIKA_DATA_DIR` | `data` | media, outbox, generated secret key |
//! | `PRACTIKA_SECRET_KEY` | generated once into `<data dir>/secret_key` | signs and encrypts cookies and tokens (at least 32 characters) |
//! | `PRACTIKA_PUBLIC_URL` | `http://<bind>` | base of links in emails; `https://` makes cookies Secure |
//! | `PRACTIKA_SMTP_URL` | unset: emails go to `<data dir>/outbox/` | `smtps://user:pass@host:465` (TLS), `smtp://host:587?tls=required` (STARTTLS), `smtp://127.0.0.1:25` (plain, local relay) |
//! | `PRACTIKA_EMAIL_FROM` | `Practika <noreply@<public host>>` | sender of every email |
//! | `PRACTIKA_MAX_UPLOAD_MB` | `4096` | per-file upload limit |
//! | `PRACTIKA_FFMPEG` | `ffmpeg` | the ffmpeg program (a name on `PATH` or a path) |
//! | `PRACTIKA_FFPROBE` | `ffprobe` | the ffprobe program (a name on `PATH` or a path) |
//! | `PRACTIKA_UPLOADS_PER_USER` | `3` | uploads one user may have in progress at once (more: 503) |
//! | `PRACTIKA_UPLOADS_PER_NODE` | `32` | uploads this node receives at once (more: 503) |
//! | `PRACTIKA_UPLOAD_MIN_RATE_KB` | `8` | KiB/s an upload must keep up, averaged over the window (slower: 408) |
//! | `PRACTIKA_UPLOAD_RATE_WINDOW_SECS` | `30` | the window the minimum rate is measured over |
//! | `PRACTIKA_DISK_RESERVE_MB` | `512` | free space an upload must leave on the data disk (less: 507) |
//! | `PRACTIKA_DISK_WARN_MB` | `5120` | the staff dashboard warns when less is free |
//! | `PRACTIKA_UPLOAD_EXPIRE_HOURS` | `24` | a resumable upload not continued this long is removed (its bytes and row) |
//! | `PRACTIKA_STORAGE_QUOTA_MB` | `0` (none) | the storage quota of a user without one of their own, until an admin sets it on `/staff/settings` |
//! | `PRACTIKA_NODE_ID` | `<host name>-<port>` | names this node's temporary upload files (letters, digits, `-`) |
//! | `PRACTIKA_BLOCKING_THREADS` | `512` ÷ HTTP workers | threads per HTTP worker for blocking work other than queries (password hashing, files); queries have their own threads, one per pooled connection |
//! | `PRACTIKA_SESSION_IDLE_MINUTES` | `20160` (2 weeks) | a session unused this long ends |
//! | `PRACTIKA_SERVER_TIMING` | unset | `1`: each response says in `Server-Timing` how many statements it took |
//! | `PRACTIKA_MEDIA_ACCEL_PREFIX` | unset | behind nginx: media answers `X-Accel-Redirect: <prefix>/<path>` after the access check, and nginx sends the bytes |
//! | `PRACTIKA_TRUSTED_PROXIES` | unset | addresses of reverse proxies (nginx) whose `X-Forwarded-For` names the client, for login throttling and the sessions list |
//! | `PRACTIKA_MEDIA_URL` | unset: `<data dir>/media` | `s3://bucket/prefix`: media in S3-compatible object storage (with the `AWS_*` variables below); players get presigned URLs |
//! | `AWS_ENDPOINT` | AWS itself | the S3 endpoint (`http://127.0.0.1:9000`, `https://s3.example.net`); `AWS_ENDPOINT_URL` is read too |
//! | `AWS_DEFAULT_REGION` | `us-east-1` | the bucket's region (`AWS_REGION` is read too) |
//! | `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` | unset | credentials (never logged) |
//! | `AWS_ALLOW_HTTP` | `false` | `true` allows an `http://` endpoint |
//! | `PRACTIKA_ENV` | `development` | `production` refuses to start without `PRACTIKA_SECRET_KEY` |
//! | `RUST_LOG` | `info` | log filter |

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use rand::RngCore;

use crate::db::Backend;

pub const DEFAULT_BIND: &str = "127.0.0.1:8000";
pub const DEFAULT_MAX_UPLOAD_MB: u64 = 4096;
pub const DEFAULT_SESSION_IDLE_MINUTES: u64 = 14 * 24 * 60;
const MIN_SECRET_LEN: usize = 32;

#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub bind: String,
    pub data_dir: PathBuf,
    pub secret_key: SecretKey,
    pub public_url: String,
    pub smtp_url: Option<String>,
    pub email_from: String,
    pub max_upload_bytes: u64,
    /// The media tools, run as child processes (`crate::media::tools`).
    pub ffmpeg: String,
    pub ffprobe: String,
    pub session_idle: Duration,
    /// Upload limits: in progress at once, per user and per node.
    pub uploads_per_user: usize,
    pub uploads_per_node: usize,
    /// The slowest an upload may arrive: `upload_min_bytes` per window.
    pub upload_rate_window: Duration,
    pub upload_min_bytes: u64,
    /// Free space (bytes) an upload must leave; below the warning level
    /// the dashboard says so.
    pub disk_reserve_bytes: u64,
    pub disk_warn_bytes: u64,
    /// A resumable upload not continued this long expires (`videos::tus`).
    pub upload_expiry: Duration,
    /// The default storage quota in bytes before an admin sets one (0: none).
    pub default_quota_bytes: u64,
    /// `None`: derived from the host name and the port once bound.
    pub node_id: Option<String>,
    /// `None`: actix-web's own default.
    pub blocking_threads: Option<usize>,
    pub production: bool,
    /// Whether responses carry `Server-Timing: db;desc="N statements";dur=ms`.
    pub server_timing: bool,
    /// An nginx `internal` location serving the media folder (`/media-internal`,
    /// no trailing `/`): stored files are answered with `X-Accel-Redirect`
    /// to it instead of their bytes (`videos::handlers::serve_file`).
    pub media_accel_prefix: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed
    /// (`web::client_ip`): behind nginx every connection comes from nginx.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Media in S3-compatible object storage (`PRACTIKA_MEDIA_URL`).
    pub media_s3: Option<S3Config>,
    /// Where the secret key came from, for `practika check`.
    pub secret_source: SecretSource,
}

/// `PRACTIKA_MEDIA_URL=s3://bucket/prefix` and the `AWS_*` variables.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    /// Without leading or trailing `/`; may be empty.
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Credentials are never printed.
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl S3Config {
    /// The scheme and host of presigned URLs, for the pages'
    /// Content-Security-Policy (`None`: AWS's own hosts).
    pub fn origin(&self) -> String {
        match self.endpoint.as_deref().and_then(|e| url::Url::parse(e).ok()) {
            Some(url) => url.origin().ascii_serialization(),
            None => "https://*.amazonaws.com".to_owned(),
        }
    }
}

/// Reads `s3://bucket[/prefix]` and the `AWS_*` variables.
fn media_url(url: &str, var: &impl Fn(&str) -> Option<String>) -> anyhow::Result<S3Config> {
    let rest = url.trim().strip_prefix("s3://").with_context(|| {
        format!("PRACTIKA_MEDIA_URL must look like s3://bucket/prefix (the local folder is the default), not {url:?}")
    })?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = prefix.trim_matches('/');
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    if !bucket_ok {
        bail!(
            "PRACTIKA_MEDIA_URL: {bucket:?} is not an S3 bucket name (3 to 63 lower-case letters, digits, '-' and '.')"
        );
    }
    if !prefix.is_empty()
        && prefix
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        bail!("PRACTIKA_MEDIA_URL: the prefix {prefix:?} has an empty, '.' or '..' segment");
    }
    let endpoint = var("AWS_ENDPOINT").or_else(|| var("AWS_ENDPOINT_URL"));
    if let Some(endpoint) = &endpoint {
        let parsed = url::Url::parse(endpoint).with_context(|| format!("AWS_ENDPOINT {endpoint:?} is not a URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            bail!("AWS_ENDPOINT must be an http:// or https:// URL, not {endpoint:?}");
        }
    }
    Ok(S3Config {
        bucket: bucket.to_owned(),
        prefix: prefix.to_owned(),
        endpoint,
        region: var("AWS_DEFAULT_REGION")
            .or_else(|| var("AWS_REGION"))
            .unwrap_or_else(|| "us-east-1".to_owned()),
        access_key_id: var("AWS_ACCESS_KEY_ID"),
        secret_access_key: var("AWS_SECRET_ACCESS_KEY"),
        session_token: var("AWS_SESSION_TOKEN"),
        allow_http: matches!(
            var("AWS_ALLOW_HTTP").as_deref().map(str::trim),
            Some("1" | "true" | "yes" | "on")
        ),
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretSource {
    Environment,
    File,
    Generated,
}

/// The secret key. Never printed: `Debug` shows only its length.
#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    pub fn new(bytes: Vec<u8>) -> anyhow::Result<Self> {
        if bytes.len() < MIN_SECRET_LEN {
            bail!("the secret key must be at least {MIN_SECRET_LEN} characters long");
        }
        Ok(SecretKey(bytes))
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({} bytes)", self.0.len())
    }
}

impl Settings {
    /// Reads every variable in the table above; only a bad value is an error.
    pub fn from_env() -> anyhow::Result<Settings> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Settings> {
        let bind = var("PRACTIKA_BIND").unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let data_dir = PathBuf::from(var("PRACTIKA_DATA_DIR").unwrap_or_else(|| "data".to_owned()));
        // The default database lives in the data folder, wherever that is.
        let database_url =
            var("DATABASE_URL").unwrap_or_else(|| format!("sqlite://{}", data_dir.join("practika.db").display()));
        let production = match var("PRACTIKA_ENV").as_deref() {
            None | Some("development") | Some("dev") | Some("test") => false,
            Some("production") | Some("prod") => true,
            Some(other) => bail!("PRACTIKA_ENV must be development or production, not {other:?}"),
        };
        let public_url = var("PRACTIKA_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_owned();
        let parsed_public =
            url::Url::parse(&public_url).with_context(|| format!("PRACTIKA_PUBLIC_URL is not a URL: {public_url}"))?;
        let mail_domain = match parsed_public.host() {
            Some(url::Host::Domain(domain)) => domain.to_owned(),
            _ => "localhost".to_owned(),
        };
        let email_from = var("PRACTIKA_EMAIL_FROM").unwrap_or_else(|| format!("Practika <noreply@{mail_domain}>"));
        let max_upload_mb = match var("PRACTIKA_MAX_UPLOAD_MB") {
            None => DEFAULT_MAX_UPLOAD_MB,
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|mb| *mb > 0)
                .with_context(|| format!("PRACTIKA_MAX_UPLOAD_MB must be a positive whole number, not {v:?}"))?,
        };
        let idle_minutes =
            match var("PRACTIKA_SESSION_IDLE_MINUTES") {
                None => DEFAULT_SESSION_IDLE_MINUTES,
                Some(v) => v.trim().parse::<u64>().ok().filter(|m| *m > 0).with_context(|| {
                    format!("PRACTIKA_SESSION_IDLE_MINUTES must be a positive whole number, not {v:?}")
                })?,
            };
        let number = |name: &str, default: u64, min: u64| -> anyhow::Result<u64> {
            match var(name) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n >= min)
                    .with_context(|| format!("{name} must be a whole number of at least {min}, not {v:?}")),
            }
        };
        let uploads_per_user = number("PRACTIKA_UPLOADS_PER_USER", 3, 1)? as usize;
        let uploads_per_node = number("PRACTIKA_UPLOADS_PER_NODE", 32, 1)? as usize;
        let upload_min_bytes_per_sec = number("PRACTIKA_UPLOAD_MIN_RATE_KB", 8, 1)? * 1024;
        let upload_rate_window = Duration::from_secs(number("PRACTIKA_UPLOAD_RATE_WINDOW_SECS", 30, 1)?);
        let disk_reserve_bytes = number("PRACTIKA_DISK_RESERVE_MB", 512, 0)? * 1024 * 1024;
        let disk_warn_bytes = number("PRACTIKA_DISK_WARN_MB", 5120, 0)? * 1024 * 1024;
        let upload_expiry = Duration::from_secs(number("PRACTIKA_UPLOAD_EXPIRE_HOURS", 24, 1)? * 3600);
        let default_quota_bytes = number("PRACTIKA_STORAGE_QUOTA_MB", 0, 0)?.saturating_mul(1024 * 1024);
        let blocking_threads = match var("PRACTIKA_BLOCKING_THREADS") {
            None => None,
            Some(_) => Some(number("PRACTIKA_BLOCKING_THREADS", 0, 1)? as usize),
        };
        let media_accel_prefix = match var("PRACTIKA_MEDIA_ACCEL_PREFIX") {
            None => None,
            Some(prefix) => Some(accel_prefix(&prefix)?),
        };
        let trusted_proxies = match var("PRACTIKA_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(list) => list
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|a| !a.is_empty())
                .map(|a| {
                    a.parse::<std::net::IpAddr>().with_context(|| {
                        format!("PRACTIKA_TRUSTED_PROXIES must list IP addresses (such as 127.0.0.1), not {a:?}")
                    })
                })
                .collect::<anyhow::Result<_>>()?,
        };
        let media_s3 = match var("PRACTIKA_MEDIA_URL") {
            None => None,
            Some(url) => {
                let s3 = media_url(&url, &var)?;
                // Whatever the client would refuse, refused now.
                crate::media::remote::Remote::new(&s3)?;
                Some(s3)
            }
        };
        if media_s3.is_some() && media_accel_prefix.is_some() {
            bail!("PRACTIKA_MEDIA_ACCEL_PREFIX serves a local media folder; with PRACTIKA_MEDIA_URL players get presigned URLs instead: set one of the two");
        }
        let node_id = match var("PRACTIKA_NODE_ID") {
            None => None,
            Some(id) => {
                let id = id.trim().to_owned();
                if id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                    bail!("PRACTIKA_NODE_ID may hold only letters, digits and '-' (at most 64), not {id:?}");
                }
                Some(id)
            }
        };
        let (secret_key, secret_source) = match var("PRACTIKA_SECRET_KEY") {
            Some(key) => (
                SecretKey::new(key.into_bytes()).context("PRACTIKA_SECRET_KEY")?,
                SecretSource::Environment,
            ),
            None if production => bail!(
                "PRACTIKA_SECRET_KEY is not set. In production the key must come from the environment \
                 (at least {MIN_SECRET_LEN} random characters), so that every node shares it."
            ),
            None => load_or_generate_secret(&data_dir)?,
        };
        Ok(Settings {
            database_url,
            bind,
            data_dir,
            secret_key,
            public_url,
            smtp_url: var("PRACTIKA_SMTP_URL"),
            email_from,
            max_upload_bytes: max_upload_mb * 1024 * 1024,
            ffmpeg: var("PRACTIKA_FFMPEG").unwrap_or_else(|| "ffmpeg".to_owned()),
            ffprobe: var("PRACTIKA_FFPROBE").unwrap_or_else(|| "ffprobe".to_owned()),
            session_idle: Duration::from_secs(idle_minutes * 60),
            uploads_per_user,
            uploads_per_node,
            upload_min_bytes: upload_min_bytes_per_sec.saturating_mul(upload_rate_window.as_secs()),
            upload_rate_window,
            disk_reserve_bytes,
            disk_warn_bytes,
            upload_expiry,
            default_quota_bytes,
            node_id,
            blocking_threads,
            production,
            server_timing: matches!(
                var("PRACTIKA_SERVER_TIMING").as_deref().map(str::trim),
                Some("1" | "true" | "yes" | "on")
            ),
            media_accel_prefix,
            trusted_proxies,
            media_s3,
            secret_source,
        })
    }

    pub fn backend(&self) -> Backend {
        Backend::from_url(&self.database_url)
    }

    /// The database URL with any password replaced, for logs and `check`.
    pub fn database_url_redacted(&self) -> String {
        match url::Url::parse(&self.database_url) {
            Ok(mut parsed) if parsed.password().is_some() => {
                let _ = parsed.set_password(Some("********"));
                parsed.to_string()
            }
            _ => self.database_url.clone(),
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The scheme and host that same-origin requests carry in `Origin`.
    pub fn public_origin(&self) -> String {
        url::Url::parse(&self.public_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }

    pub fn media_dir(&self) -> PathBuf {
        self.data_dir.join("media")
    }

    /// Uploads in progress; a file here is renamed into the media folder
    /// once it has been checked, or deleted.
    pub fn upload_tmp_dir(&self) -> PathBuf {
        self.data_dir.join("tmp")
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    /// Creates the data folder (and, for the default SQLite URL, the folder
    /// of the database file).
    pub fn ensure_dirs(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating the data folder {}", self.data_dir.display()))?;
        if self.backend() == Backend::Sqlite {
            let path = Path::new(crate::db::sqlite_path(&self.database_url));
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating the database folder {}", parent.display()))?;
            }
        }
        Ok(())
    }
}

/// `PRACTIKA_MEDIA_ACCEL_PREFIX`: an absolute path of plain segments
/// (letters, digits, `-`, `_`, `.`; no `..`), kept without its trailing `/`.
fn accel_prefix(raw: &str) -> anyhow::Result<String> {
    let prefix = raw.trim().trim_end_matches('/');
    let segments_ok = prefix.strip_prefix('/').is_some_and(|rest| {
        rest.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
    });
    if !segments_ok {
        bail!(
            "PRACTIKA_MEDIA_ACCEL_PREFIX must be the path of an nginx internal location, such as \
             /media-internal (letters, digits, '-', '_', '.' between slashes), not {raw:?}"
        );
    }
    Ok(prefix.to_owned())
}

/// This machine's name (for worker names and node ids).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// The node id when `PRACTIKA_NODE_ID` is not set: the host name and the
/// port, which two live nodes on one machine cannot share, and which a
/// node restarted in the same place keeps. Letters, digits and `-` only.
pub fn default_node_id(port: u16) -> String {
    let host: String = host_name()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(48)
        .collect();
    format!("{host}-{port}")
}

/// Development convenience: a key made once and kept in the data folder, so
/// sessions survive restarts. Production sets `PRACTIKA_SECRET_KEY`.
fn load_or_generate_secret(data_dir: &Path) -> anyhow::Result<(SecretKey, SecretSource)> {
    let path = data_dir.join("secret_key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let key = SecretKey::new(existing.trim().as_bytes().to_vec())
            .with_context(|| format!("the secret key in {}", path.display()))?;
        return Ok((key, SecretSource::File));
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let mut raw = [0u8; 48];
    rand::thread_rng().fill_bytes(&mut raw);
    let encoded = hex::encode(raw);
    write_private_file(&path, encoded.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "PRACTIKA_SECRET_KEY is not set: generated a secret key into the data folder. \
         Set PRACTIKA_SECRET_KEY in production."
    );
    Ok((SecretKey::new(encoded.into_bytes())?, SecretSource::Generated))
}

fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let dir = std::env::temp_dir().join(format!("practika-config-{}", uuid::Uuid::new_v4()));
        let mut owned: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        owned.push(("PRACTIKA_DATA_DIR".into(), dir.display().to_string()));
        Settings::from_lookup(move |name| owned.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_need_no_configuration() -> anyhow::Result<()> {
        let s = settings(&[])?;
        assert_eq!(
            s.database_url,
            format!("sqlite://{}", s.data_dir.join("practika.db").display())
        );
        assert_eq!(s.public_url, "http://127.0.0.1:8000");
        assert_eq!(s.max_upload_bytes, 4096 * 1024 * 1024);
        assert_eq!(s.secret_source, SecretSource::Generated);
        Ok(())
    }

    #[test]
    fn production_requires_a_secret_key() {
        let err = settings(&[("PRACTIKA_ENV", "production")]).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("PRACTIKA_SECRET_KEY")));
    }

    #[test]
    fn bad_values_are_refused_with_the_variable_name() {
        let err = settings(&[("PRACTIKA_MAX_UPLOAD_MB", "lots")])
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("PRACTIKA_MAX_UPLOAD_MB")));
        assert!(settings(&[("PRACTIKA_SECRET_KEY", "short")]).is_err());
    }

    #[test]
    fn upload_limits_have_defaults_and_refuse_nonsense() -> anyhow::Result<()> {
        let s = settings(&[])?;
        assert_eq!((s.uploads_per_user, s.uploads_per_node), (3, 32));
        assert_eq!(s.upload_min_bytes, 8 * 1024 * 30);
        assert_eq!(s.node_id, None);
        let s = settings(&[("PRACTIKA_NODE_ID", "web-2"), ("PRACTIKA_DISK_RESERVE_MB", "0")])?;
        assert_eq!((s.node_id.as_deref(), s.disk_reserve_bytes), (Some("web-2"), 0));
        assert!(settings(&[("PRACTIKA_NODE_ID", "../x")]).is_err());
        assert!(settings(&[("PRACTIKA_UPLOADS_PER_USER", "0")]).is_err());
        Ok(())
    }

    #[test]
    fn the_media_url_names_a_bucket_and_prefix() -> anyhow::Result<()> {
        assert_eq!(settings(&[])?.media_s3, None);
        let s = settings(&[
            ("PRACTIKA_MEDIA_URL", "s3://practika-media/prod/"),
            ("AWS_ENDPOINT", "http://127.0.0.1:9000"),
            ("AWS_ACCESS_KEY_ID", "key"),
            ("AWS_SECRET_ACCESS_KEY", "very-secret"),
            ("AWS_ALLOW_HTTP", "true"),
        ])?;
        let s3 = s.media_s3.expect("S3 media");
        assert_eq!((s3.bucket.as_str(), s3.prefix.as_str()), ("practika-media", "prod"));
        assert_eq!((s3.region.as_str(), s3.allow_http), ("us-east-1", true));
        assert_eq!(s3.origin(), "http://127.0.0.1:9000");
        assert!(
            !format!("{s3:?}").contains("very-secret"),
            "credentials stay out of Debug"
        );
        assert_eq!(
            settings(&[("PRACTIKA_MEDIA_URL", "s3://bucket")])?
                .media_s3
                .map(|s| s.prefix),
            Some(String::new())
        );
        for bad in [
            "/srv/media",
            "s3://",
            "s3://Bad_Bucket/x",
            "s3://bucket/a/../b",
            "s3://bucket/a//b",
        ] {
            let err = settings(&[("PRACTIKA_MEDIA_URL", bad)]).err().map(|e| e.to_string());
            assert!(err.is_some_and(|e| e.contains("PRACTIKA_MEDIA_URL")), "{bad}");
        }
        let both = settings(&[
            ("PRACTIKA_MEDIA_URL", "s3://bucket"),
            ("PRACTIKA_MEDIA_ACCEL_PREFIX", "/m"),
        ]);
        assert!(both.is_err(), "local X-Accel and S3 media exclude each other");
        Ok(())
    }

    #[test]
    fn trusted_proxies_are_ip_addresses() -> anyhow::Result<()> {
        assert!(settings(&[])?.trusted_proxies.is_empty());
        let s = settings(&[("PRACTIKA_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.5 ::1")])?;
        assert_eq!(s.trusted_proxies.len(), 3);
        let err = settings(&[("PRACTIKA_TRUSTED_PROXIES", "nginx")])
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("PRACTIKA_TRUSTED_PROXIES")));
        Ok(())
    }

    #[test]
    fn the_media_accel_prefix_is_a_plain_absolute_path() -> anyhow::Result<()> {
        assert_eq!(settings(&[])?.media_accel_prefix, None);
        let s = settings(&[("PRACTIKA_MEDIA_ACCEL_PREFIX", "/media-internal/")])?;
        assert_eq!(s.media_accel_prefix.as_deref(), Some("/media-internal"));
        for bad in ["media", "/", "/a/../b", "/a b", "/x?y", "//x"] {
            let err = settings(&[("PRACTIKA_MEDIA_ACCEL_PREFIX", bad)])
                .err()
                .map(|e| e.to_string());
            assert!(
                err.is_some_and(|e| e.contains("PRACTIKA_MEDIA_ACCEL_PREFIX")),
                "{bad:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn redacts_database_password() -> anyhow::Result<()> {
        let s = settings(&[("DATABASE_URL", "postgres://app:hunter2@db/practika")])?;
        assert!(!s.database_url_redacted().contains("hunter2"));
        Ok(())
    }
}
