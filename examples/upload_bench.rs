//! Upload benchmark (not a test): streams one large upload through the real
//! upload path and reports throughput and the server's peak memory.
//!
//! ```text
//! cargo run --release --example upload_bench            # 1 GiB
//! cargo run --release --example upload_bench -- 256     # 256 MiB
//! cargo run --release --example upload_bench -- 1024 tus # resumable, cut twice
//! ```
//!
//! With `tus` the upload goes through the resumable endpoints instead: the
//! client drops the connection at one third and at two thirds, asks the
//! server where it stands (`HEAD`), and resumes from there; the throughput
//! counts the whole time, the cuts and resumes included.
//!
//! The server runs as a child process (this same program, started again
//! with `UPLOAD_BENCH_SERVER=1`) on SQLite in a temporary folder, so that its
//! peak RSS (`VmHWM` in `/proc/<pid>/status`) is the server's alone. The
//! upload is a real 2-second MP4 made by ffmpeg, followed by a `free` box of
//! padding: a valid MP4 of the requested size, so every stage runs — the
//! multipart stream, SHA-256 and the disk write, the type check from the
//! first bytes, ffprobe's verdict, the move into the media folder and the
//! row with its processing job (the job itself is not run).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use anyhow::{bail, Context};
use futures_util::stream;
use practika::accounts::{password, queries};
use practika::config::Settings;
use practika::db;
use practika::startup::Application;

const MIB: u64 = 1024 * 1024;
const USERNAME: &str = "bench";
const PASSWORD: &str = "violet-harbour-91";
const SECRET: &str = "upload-bench-secret-key-0123456789abcdef";

fn main() -> anyhow::Result<()> {
    if std::env::var_os("UPLOAD_BENCH_SERVER").is_some() {
        return server();
    }
    let mib: u64 = match std::env::args().nth(1) {
        Some(arg) => arg.parse().with_context(|| format!("the size in MiB, not {arg:?}"))?,
        None => 1024,
    };
    let tus = match std::env::args().nth(2).as_deref() {
        None => false,
        Some("tus") => true,
        Some(other) => bail!("the second argument is `tus` or nothing, not {other:?}"),
    };
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(client(mib, tus))
}

/// The server: migrations are done by the parent; this serves until killed.
fn server() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    actix_web::rt::System::new().block_on(async move {
        let pool = db::Pool::new(&settings.database_url);
        let app = Application::build(settings, pool)?;
        println!("PORT {}", app.port());
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("{field} in /proc/{pid}/status"))
}

fn small_mp4(dir: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let path = dir.join("head.mp4");
    let output = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error"])
        .args(["-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=15"])
        .args(["-f", "lavfi", "-i", "sine=duration=2"])
        .args(["-c:v", "libx264", "-c:a", "aac", "-shortest"])
        .args(["-movflags", "+faststart", "-y"])
        .arg(&path)
        .output()
        .context("running ffmpeg (install it: apt-get install ffmpeg)")?;
    if !output.status.success() {
        bail!("ffmpeg failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(std::fs::read(path)?)
}

async fn client(mib: u64, tus: bool) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("data");
    let database_url = format!("sqlite://{}", data_dir.join("practika.db").display());
    std::fs::create_dir_all(&data_dir)?;
    let head = small_mp4(dir.path())?;
    let total = (mib * MIB).max(head.len() as u64 + 8);
    let padding = total - head.len() as u64 - 8;
    let box_size = u32::try_from(padding + 8).context("at most 4 GiB of padding")?;

    // Database and user, made directly.
    let mut conn = db::establish(&database_url)?;
    db::migrations::run(&mut conn)?;
    queries::create_user(
        &mut conn,
        &queries::NewUser {
            username: USERNAME.into(),
            email: "bench@example.com".into(),
            first_name: String::new(),
            last_name: String::new(),
            password_hash: password::hash(PASSWORD)?,
            is_staff: false,
            is_superuser: false,
            role: "student".to_owned(),
            email_verified_at: None,
        },
    )?;
    drop(conn);

    let mut child = Command::new(std::env::current_exe()?)
        .env("UPLOAD_BENCH_SERVER", "1")
        .env("DATABASE_URL", &database_url)
        .env("PRACTIKA_DATA_DIR", &data_dir)
        .env("PRACTIKA_BIND", "127.0.0.1:0")
        .env("PRACTIKA_SECRET_KEY", SECRET)
        .env("PRACTIKA_MAX_UPLOAD_MB", (mib + 16).to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let pid = child.id();
    let result = run(&mut child, pid, mib, total, &head, padding, box_size, &data_dir, tus).await;
    let _ = child.kill();
    let _ = child.wait();
    result
}

#[allow(clippy::too_many_arguments)]
async fn run(
    child: &mut std::process::Child,
    pid: u32,
    mib: u64,
    total: u64,
    head: &[u8],
    padding: u64,
    box_size: u32,
    data_dir: &std::path::Path,
    tus: bool,
) -> anyhow::Result<()> {
    let stdout = child.stdout.take().context("server stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let port: u16 = line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .with_context(|| format!("server said {line:?}"))?;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;

    let token_in = |page: &str, marker: &str| {
        page.split(marker)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_owned)
    };
    let login_page = http.get(format!("{base}/login")).send().await?.text().await?;
    let token = token_in(&login_page, "name=\"csrf_token\" value=\"").context("login token")?;
    let response = http
        .post(format!("{base}/login"))
        .form(&[("username", USERNAME), ("password", PASSWORD), ("csrf_token", &token)])
        .send()
        .await?;
    if response.status().as_u16() != 303 {
        bail!("login failed: {}", response.status());
    }
    let form = http.get(format!("{base}/videos/new")).send().await?.text().await?;
    let token = token_in(&form, "/videos?csrf_token=").context("upload token")?;

    let idle_rss = status_kib(pid, "VmRSS:")?;
    let idle_hwm = status_kib(pid, "VmHWM:")?;

    // The body: the MP4, then one `free` box of zeros, in 1 MiB chunks of
    // one shared buffer (the client allocates nothing per chunk).
    let mut first = head.to_vec();
    first.extend_from_slice(&box_size.to_be_bytes());
    first.extend_from_slice(b"free");
    let first = Bytes::from(first);
    let _ = padding;
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    let how = if tus {
        "resumable (tus), cut twice,"
    } else {
        "multipart"
    };
    println!("Uploading {mib} MiB ({total} bytes) {how} to a {profile} server on SQLite, over loopback...");
    let started = Instant::now();
    let location = if tus {
        upload_tus(&http, &base, &token, first, total).await?
    } else {
        let part = reqwest::multipart::Part::stream_with_length(
            reqwest::Body::wrap_stream(body_from(first, total, 0, None)),
            total,
        )
        .file_name("bench.mp4");
        let form = reqwest::multipart::Form::new().part("file", part);
        let response = http
            .post(format!("{base}/videos?csrf_token={token}"))
            .multipart(form)
            .send()
            .await?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if status != 303 || !location.starts_with("/videos/") {
            bail!("upload failed: {status} {}", response.text().await.unwrap_or_default());
        }
        location
    };
    let elapsed = started.elapsed();
    let peak = status_kib(pid, "VmHWM:")?;
    let rss = status_kib(pid, "VmRSS:")?;
    let stored: u64 = std::fs::read_dir(data_dir.join("media/originals"))?
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    if stored != total {
        bail!("stored {stored} bytes, sent {total}");
    }
    let secs = elapsed.as_secs_f64().max(Duration::from_millis(1).as_secs_f64());
    println!("upload + SHA-256 + disk write + type check + ffprobe + store: {secs:.2} s");
    if tus {
        println!("(two connections cut, two HEADs and resumes included)");
    }
    println!("throughput            {:.0} MiB/s", total as f64 / MIB as f64 / secs);
    println!(
        "server RSS idle       {:.1} MiB (peak before upload {:.1} MiB)",
        idle_rss as f64 / 1024.0,
        idle_hwm as f64 / 1024.0
    );
    println!(
        "server peak RSS       {:.1} MiB (VmHWM), {:.1} MiB after",
        peak as f64 / 1024.0,
        rss as f64 / 1024.0
    );
    println!("stored                {stored} bytes at {location}");
    Ok(())
}

/// The bytes of the upload from `offset` to `total` (the MP4 head, then
/// zeros); with `cut_at`, the stream fails there, as a dropped connection.
fn body_from(
    first: Bytes,
    total: u64,
    offset: u64,
    cut_at: Option<u64>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    let zeros = Bytes::from(vec![0u8; MIB as usize]);
    let end = cut_at.unwrap_or(total).min(total);
    let mut at = offset;
    stream::iter(std::iter::from_fn(move || {
        if at >= end {
            if cut_at.is_some_and(|cut| cut < total) && at == end {
                at += 1;
                return Some(Err(std::io::Error::other("connection cut on purpose")));
            }
            return None;
        }
        let chunk = if at < first.len() as u64 {
            first.slice(at as usize..first.len().min((at + (end - at)) as usize))
        } else {
            zeros.slice(..(MIB.min(end - at)) as usize)
        };
        at += chunk.len() as u64;
        Some(Ok(chunk))
    }))
}

/// The resumable upload, cut at one and two thirds and resumed from the
/// offset the server reports each time; the video's location.
async fn upload_tus(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    first: Bytes,
    total: u64,
) -> anyhow::Result<String> {
    let created = http
        .post(format!("{base}/uploads"))
        .header("Tus-Resumable", "1.0.0")
        .header("X-CSRF-Token", token)
        .header("Upload-Length", total.to_string())
        .header("Upload-Metadata", "filename YmVuY2gubXA0")
        .send()
        .await?;
    if created.status().as_u16() != 201 {
        bail!(
            "creation failed: {} {}",
            created.status(),
            created.text().await.unwrap_or_default()
        );
    }
    let path = created
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .context("Location")?
        .to_owned();
    let url = format!("{base}{path}");
    let mut offset = 0;
    for cut in [Some(total / 3), Some(total / 3 * 2), None] {
        loop {
            let response = http
                .patch(&url)
                .header("Tus-Resumable", "1.0.0")
                .header("X-CSRF-Token", token)
                .header("Upload-Offset", offset.to_string())
                .header("Content-Type", "application/offset+octet-stream")
                .header("Content-Length", (total - offset).to_string())
                .body(reqwest::Body::wrap_stream(body_from(first.clone(), total, offset, cut)))
                .send()
                .await;
            let was_cut = match (cut, response) {
                (Some(at), Err(_)) => {
                    println!("cut after {} MiB sent", at / MIB);
                    true
                }
                (None, Ok(done)) if done.status().as_u16() == 204 => {
                    let video = done
                        .headers()
                        .get("practika-video")
                        .and_then(|v| v.to_str().ok())
                        .context("the video's id")?;
                    return Ok(format!("/videos/{video}"));
                }
                // The cut request is still being wound up on the server (as
                // tus-js-client does: wait, ask again, resume).
                (_, Ok(busy)) if busy.status().as_u16() == 423 => false,
                (_, Ok(other)) => bail!(
                    "PATCH answered {} {}",
                    other.status(),
                    other.text().await.unwrap_or_default()
                ),
                (None, Err(error)) => return Err(error.into()),
            };
            tokio::time::sleep(Duration::from_millis(200)).await;
            let head = http.head(&url).header("Tus-Resumable", "1.0.0").send().await?;
            let now: u64 = head
                .headers()
                .get("upload-offset")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .context("Upload-Offset")?;
            println!("the server has {} MiB; resuming from there", now / MIB);
            offset = now;
            if was_cut {
                break;
            }
        }
    }
    bail!("the upload did not finish")
}
