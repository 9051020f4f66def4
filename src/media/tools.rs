//! ffmpeg and ffprobe as child processes: no shell, stdin closed, local
//! files only, a time limit after which the process is killed, and the tail
//! of stderr kept for the error message (with server paths taken out).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::config::Settings;

/// How much of stderr is kept for an error message.
const STDERR_TAIL: usize = 2000;
/// ffprobe's JSON for a video is a few KB; anything far larger is refused.
const STDOUT_LIMIT: usize = 4 * 1024 * 1024;
pub const INSTALL_HINT: &str = "apt-get install ffmpeg";

/// The programs to run, from the settings (`PRACTIKA_FFMPEG`, `PRACTIKA_FFPROBE`).
#[derive(Debug, Clone)]
pub struct Tools {
    pub ffmpeg: String,
    pub ffprobe: String,
}

impl Tools {
    pub fn from_settings(settings: &Settings) -> Tools {
        Tools {
            ffmpeg: settings.ffmpeg.clone(),
            ffprobe: settings.ffprobe.clone(),
        }
    }

    /// Whether both programs run, checked at most once a minute: the web
    /// pages tell staff when they are missing.
    pub async fn available(&self) -> bool {
        static CACHE: Mutex<Option<(String, Instant, bool)>> = Mutex::new(None);
        let key = format!("{}\0{}", self.ffmpeg, self.ffprobe);
        if let Ok(cache) = CACHE.lock() {
            if let Some((cached_key, at, ok)) = cache.as_ref() {
                if *cached_key == key && at.elapsed() < Duration::from_secs(60) {
                    return *ok;
                }
            }
        }
        // Both at once, briefly: a page waits for this at most once a minute.
        let (ffmpeg, ffprobe) = tokio::join!(
            version_within(&self.ffmpeg, Duration::from_secs(3)),
            version_within(&self.ffprobe, Duration::from_secs(3))
        );
        let ok = ffmpeg.is_some() && ffprobe.is_some();
        if let Ok(mut cache) = CACHE.lock() {
            *cache = Some((key, Instant::now(), ok));
        }
        ok
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("{program} is not installed on this server (install it: {INSTALL_HINT})")]
    Missing { program: String },
    #[error("{program} took longer than {seconds} s and was stopped")]
    TimedOut { program: String, seconds: u64 },
    #[error("{program} failed ({status}): {stderr}")]
    Failed {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("could not run {program}: {source}")]
    Io { program: String, source: std::io::Error },
}

impl ToolError {
    pub fn is_missing(&self) -> bool {
        matches!(self, ToolError::Missing { .. })
    }
}

/// What a finished run printed.
pub struct ToolOutput {
    pub stdout: Vec<u8>,
    pub stderr_tail: String,
}

/// The first line of `program -version`, or `None` when it does not run.
pub async fn version(program: &str) -> Option<String> {
    version_within(program, Duration::from_secs(10)).await
}

async fn version_within(program: &str, limit: Duration) -> Option<String> {
    let output = run(program, &[OsString::from("-version")], limit, &[]).await.ok()?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .next()
        .map(str::to_owned)
}

/// `file:` + the path: ffmpeg then reads it as a local file whatever it is
/// named (a name with a colon or a leading dash is not taken for a protocol
/// or an option).
pub fn file_url(path: &Path) -> OsString {
    let mut url = OsString::from("file:");
    url.push(path.as_os_str());
    url
}

/// `program` as a path: itself when it names a file (a path with a slash),
/// otherwise the first match on `PATH`; `None` when there is none.
fn resolve(program: &str) -> Option<PathBuf> {
    let executable = |path: &Path| {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = PathBuf::from(program);
        return executable(&path).then_some(path);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| executable(candidate))
    })
}

/// `setpriv` (util-linux), when this system has it: it sets the child's
/// parent-death signal (`PR_SET_PDEATHSIG`) and then becomes the program,
/// so an ffmpeg is killed when the process that started it dies, even by
/// `kill -9` (without it, the encode ran on to its end, re-parented to
/// init). Done by a helper because setting it between fork and exec needs
/// unsafe code, which this crate forbids. Checked once.
fn death_signal_helper() -> Option<&'static Path> {
    static HELPER: OnceLock<Option<PathBuf>> = OnceLock::new();
    HELPER
        .get_or_init(|| {
            let helper = resolve("setpriv").filter(|path| {
                std::process::Command::new(path)
                    .args(["--pdeathsig", "KILL", "--", "true"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            });
            if helper.is_none() {
                tracing::warn!(
                    "setpriv (util-linux) is not available: an ffmpeg started by a worker that is killed \
                     with kill -9 runs on until it finishes"
                );
            }
            helper
        })
        .as_deref()
}

/// The command that runs `program`: under `setpriv --pdeathsig KILL` where
/// available. Note that the signal is sent when the *thread* that started
/// the child ends: tools are started from the runtime's own threads (the
/// worker's, the HTTP workers'), which live as long as the process.
fn command(program: &Path) -> tokio::process::Command {
    match death_signal_helper() {
        Some(helper) => {
            let mut command = tokio::process::Command::new(helper);
            command.args(["--pdeathsig", "KILL", "--"]).arg(program);
            command
        }
        None => tokio::process::Command::new(program),
    }
}

/// Runs `program` with `args`. A run that takes longer than `limit` is
/// killed; so is a run whose parent process dies ([`command`]). `redact`
/// pairs (text, replacement) are applied to stderr so that server paths
/// never reach a message a user sees.
pub async fn run(
    program: &str,
    args: &[OsString],
    limit: Duration,
    redact: &[(&Path, &str)],
) -> Result<ToolOutput, ToolError> {
    let resolved = resolve(program).ok_or_else(|| ToolError::Missing {
        program: program.to_owned(),
    })?;
    let mut child = command(&resolved)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => ToolError::Missing {
                program: program.to_owned(),
            },
            _ => ToolError::Io {
                program: program.to_owned(),
                source,
            },
        })?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let work = async {
        let (out, err, status) = tokio::join!(
            read_capped(stdout, STDOUT_LIMIT),
            read_tail(stderr, STDERR_TAIL),
            child.wait()
        );
        (out, err, status)
    };
    // On timeout `work` is dropped, and with it the child: kill_on_drop.
    let (stdout, stderr, status) = tokio::time::timeout(limit, work)
        .await
        .map_err(|_| ToolError::TimedOut {
            program: program.to_owned(),
            seconds: limit.as_secs(),
        })?;
    let io_error = |source| ToolError::Io {
        program: program.to_owned(),
        source,
    };
    let status = status.map_err(io_error)?;
    let stdout = stdout.map_err(io_error)?;
    let mut stderr_tail = String::from_utf8_lossy(&stderr.map_err(io_error)?).into_owned();
    for (path, replacement) in redact {
        let text = path.to_string_lossy();
        if !text.is_empty() {
            stderr_tail = stderr_tail
                .replace(&format!("file:{text}"), replacement)
                .replace(text.as_ref(), replacement);
        }
    }
    let stderr_tail = stderr_tail.trim().to_owned();
    if !status.success() {
        return Err(ToolError::Failed {
            program: program.to_owned(),
            status: match status.code() {
                Some(code) => format!("exit code {code}"),
                None => "killed by a signal".to_owned(),
            },
            stderr: if stderr_tail.is_empty() {
                "no message".to_owned()
            } else {
                stderr_tail
            },
        });
    }
    Ok(ToolOutput { stdout, stderr_tail })
}

async fn read_capped(pipe: Option<impl AsyncRead + Unpin>, cap: usize) -> std::io::Result<Vec<u8>> {
    let mut kept = Vec::new();
    let Some(mut pipe) = pipe else {
        return Ok(kept);
    };
    let mut buffer = [0u8; 8192];
    loop {
        let n = pipe.read(&mut buffer).await?;
        if n == 0 {
            return Ok(kept);
        }
        // Past the cap, keep reading (so the child is not blocked) but drop it.
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(&buffer[..n.min(room)]);
    }
}

async fn read_tail(pipe: Option<impl AsyncRead + Unpin>, keep: usize) -> std::io::Result<Vec<u8>> {
    let mut tail = Vec::new();
    let Some(mut pipe) = pipe else {
        return Ok(tail);
    };
    let mut buffer = [0u8; 8192];
    loop {
        let n = pipe.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        tail.extend_from_slice(&buffer[..n]);
        if tail.len() > keep * 2 {
            tail.drain(..tail.len() - keep);
        }
    }
    if tail.len() > keep {
        tail.drain(..tail.len() - keep);
    }
    Ok(tail)
}
