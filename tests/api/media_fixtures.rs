//! Tiny videos made with the real ffmpeg (cached per build in cargo's
//! temporary folder) and the helpers the video and job tests share.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use diesel::prelude::*;
use practika::db::{Id, Ts};
use practika::jobs::Worker;
use practika::videos::queries::{self, Asset};

use crate::helpers::{location, TestApp, GOOD_PASSWORD};

/// The test videos.
#[derive(Debug, Clone, Copy)]
pub enum Sample {
    /// 1280×720, 2 s, with sound: gets both renditions.
    Hd,
    /// 320×240, 2 s, with sound: smaller than 360p.
    Small,
    /// 1280×720, 12 s: takes a while to process (shutdown tests).
    Long,
    /// 320×240, 6 s at 25 frames a second (not the player's old fixed 30):
    /// room for a 2–4 s loop, quick to process (the browser tests).
    Player,
}

impl Sample {
    /// Name, size, seconds, frames a second.
    fn spec(self) -> (&'static str, &'static str, u32, u32) {
        match self {
            Sample::Hd => ("hd", "1280x720", 2, 15),
            Sample::Small => ("small", "320x240", 2, 15),
            Sample::Long => ("long", "1280x720", 12, 15),
            Sample::Player => ("player", "320x240", 6, 25),
        }
    }
}

/// Fails the test, loudly, when ffmpeg is not installed: these tests are
/// never skipped.
pub fn require_ffmpeg() {
    for tool in ["ffmpeg", "ffprobe"] {
        let found = std::process::Command::new(tool)
            .arg("-version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "{tool} is required by the video tests and was not found. \
             Install it: apt-get install ffmpeg (macOS: brew install ffmpeg)"
        );
    }
}

/// The file of a sample video, made on first use.
pub fn sample(kind: Sample) -> PathBuf {
    let (name, size, seconds, rate) = kind.spec();
    generated(
        &format!("{name}-{size}-{seconds}s-{rate}fps-v1.mp4"),
        &[
            "-f".to_owned(),
            "lavfi".to_owned(),
            "-i".to_owned(),
            format!("testsrc=duration={seconds}:size={size}:rate={rate}"),
            "-f".to_owned(),
            "lavfi".to_owned(),
            "-i".to_owned(),
            format!("sine=frequency=440:duration={seconds}"),
            "-c:v".to_owned(),
            "libx264".to_owned(),
            "-preset".to_owned(),
            "ultrafast".to_owned(),
            "-pix_fmt".to_owned(),
            "yuv420p".to_owned(),
            "-c:a".to_owned(),
            "aac".to_owned(),
            "-shortest".to_owned(),
            "-movflags".to_owned(),
            "+faststart".to_owned(),
            "-f".to_owned(),
            "mp4".to_owned(),
        ],
    )
}

/// A voice-over as Chromium's MediaRecorder writes one: `seconds` of a
/// tone over soft noise, Opus in WebM.
pub fn voice_sample(seconds: u32) -> PathBuf {
    generated(
        &format!("voice-{seconds}s-v1.webm"),
        &[
            "-f".to_owned(),
            "lavfi".to_owned(),
            "-i".to_owned(),
            format!("sine=frequency=220:duration={seconds}"),
            "-f".to_owned(),
            "lavfi".to_owned(),
            "-i".to_owned(),
            format!("anoisesrc=color=pink:amplitude=0.05:duration={seconds}"),
            "-filter_complex".to_owned(),
            "amix=inputs=2:duration=shortest".to_owned(),
            "-c:a".to_owned(),
            "libopus".to_owned(),
            "-b:a".to_owned(),
            "48k".to_owned(),
            "-f".to_owned(),
            "webm".to_owned(),
        ],
    )
}

/// A video without sound (2 s, WebM): a file a voice-over must not be.
pub fn silent_video() -> PathBuf {
    generated(
        "silent-2s-v1.webm",
        &[
            "-f".to_owned(),
            "lavfi".to_owned(),
            "-i".to_owned(),
            "testsrc=duration=2:size=160x120:rate=10".to_owned(),
            "-c:v".to_owned(),
            "libvpx".to_owned(),
            "-an".to_owned(),
            "-f".to_owned(),
            "webm".to_owned(),
        ],
    )
}

/// A WebM whose frames come in pairs that share a timestamp, every frame a
/// keyframe: what Chromium's MediaRecorder writes on a busy machine (WebM
/// allows it). A good file, which must not be refused.
pub fn shared_timestamps_video() -> PathBuf {
    generated(
        "shared-timestamps-1s-v1.webm",
        &[
            "-f".to_owned(),
            "lavfi".to_owned(),
            "-i".to_owned(),
            "testsrc=duration=1:size=64x48:rate=25".to_owned(),
            "-vf".to_owned(),
            "setpts=floor(N/2)*2/25/TB".to_owned(),
            "-fps_mode".to_owned(),
            "passthrough".to_owned(),
            "-c:v".to_owned(),
            "libvpx".to_owned(),
            "-g".to_owned(),
            "1".to_owned(),
            "-f".to_owned(),
            "webm".to_owned(),
        ],
    )
}

/// A file ffmpeg makes from `args` (inputs and output options), cached
/// under `name` in cargo's temporary folder.
fn generated(name: &str, args: &[String]) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    require_ffmpeg();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("practika-test-videos");
    let path = dir.join(name);
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if path.is_file() {
        return path;
    }
    std::fs::create_dir_all(&dir).expect("fixture folder");
    let partial = dir.join(format!(".{name}.{}", std::process::id()));
    let output = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error"])
        .args(args)
        .arg("-y")
        .arg(&partial)
        .output()
        .expect("run ffmpeg");
    assert!(
        output.status.success(),
        "ffmpeg could not make {name}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::rename(&partial, &path).expect("keep the test file");
    path
}

pub fn sample_bytes(kind: Sample) -> Vec<u8> {
    std::fs::read(sample(kind)).expect("read the test video")
}

/// The first bytes of a real MP4 followed by noise: looks like an MP4,
/// is not one.
pub fn corrupt_mp4() -> Vec<u8> {
    // The ftyp box (32 bytes in these files), then noise: no movie inside.
    let mut bytes = sample_bytes(Sample::Small)[..32].to_vec();
    let mut state: u32 = 0x1234_5678;
    for _ in 0..20_000 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        bytes.push((state & 0xff) as u8);
    }
    bytes
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// What ffprobe says about a file: (video codec, width, height, audio
/// codec, duration).
pub fn ffprobe(path: &Path) -> (String, u32, u32, Option<String>, f64) {
    let output = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json", "-show_format", "-show_streams"])
        .arg(path)
        .output()
        .expect("run ffprobe");
    assert!(output.status.success(), "ffprobe {}", path.display());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("ffprobe json");
    let streams = json["streams"].as_array().cloned().unwrap_or_default();
    let video = streams
        .iter()
        .find(|s| s["codec_type"] == "video")
        .expect("a video stream");
    let audio = streams
        .iter()
        .find(|s| s["codec_type"] == "audio")
        .and_then(|s| s["codec_name"].as_str().map(str::to_owned));
    (
        video["codec_name"].as_str().unwrap_or_default().to_owned(),
        video["width"].as_u64().unwrap_or(0) as u32,
        video["height"].as_u64().unwrap_or(0) as u32,
        audio,
        json["format"]["duration"]
            .as_str()
            .and_then(|d| d.parse().ok())
            .unwrap_or(0.0),
    )
}

/// Every file under `dir`, as sorted relative paths.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, found: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(base, &path, found);
            } else if let Ok(relative) = path.strip_prefix(base) {
                found.push(relative.display().to_string());
            }
        }
    }
    let mut found = Vec::new();
    walk(dir, dir, &mut found);
    found.sort();
    found
}

impl TestApp {
    pub fn media_dir(&self) -> PathBuf {
        self.settings.media_dir()
    }

    pub fn media_files(&self) -> Vec<String> {
        files_under(&self.media_dir())
    }

    pub fn upload_tmp_files(&self) -> Vec<String> {
        files_under(&self.settings.upload_tmp_dir())
    }

    /// A worker on this app's database and media, with its settings.
    pub fn worker(&self) -> Worker {
        practika::startup::worker(self.pool.clone(), &self.settings, "test-worker")
    }

    /// Runs due jobs until none is left; returns how many ran.
    pub async fn run_jobs(&self) -> usize {
        let worker = self.worker();
        let mut ran = 0;
        while worker.run_once().await.expect("worker").is_some() {
            ran += 1;
            assert!(ran < 100, "jobs keep coming");
        }
        ran
    }

    /// A new user with this role, logged in on a client of their own.
    pub async fn user_client(&self, username: &str, role: &'static str) -> (i32, reqwest::Client) {
        let id = self.create_user(username, GOOD_PASSWORD, role);
        let client = crate::helpers::new_client();
        let response = self.login_with(&client, username, GOOD_PASSWORD).await;
        assert_eq!(response.status().as_u16(), 303, "login {username}");
        (id, client)
    }

    /// Makes an existing user staff.
    pub fn make_staff(&self, user_id: i32) {
        use practika::db::schema::auth_user;
        diesel::update(auth_user::table.find(user_id))
            .set(auth_user::is_staff.eq(true))
            .execute(&mut *self.conn())
            .expect("make staff");
    }

    /// Posts the upload form as a browser without JavaScript does.
    pub async fn upload_with(&self, client: &reqwest::Client, bytes: Vec<u8>, filename: &str) -> reqwest::Response {
        let token = self.csrf_token_with(client).await;
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(filename.to_owned())
            .mime_str("video/mp4")
            .expect("mime");
        client
            .post(self.url(&format!("/videos?csrf_token={token}")))
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .expect("POST /videos")
    }

    /// Uploads and expects a redirect to the video's page: its id.
    pub async fn upload_ok(&self, client: &reqwest::Client, bytes: Vec<u8>, filename: &str) -> Id {
        let response = self.upload_with(client, bytes, filename).await;
        let status = response.status().as_u16();
        let to = location(&response);
        assert_eq!(status, 303, "upload: {}", response.text().await.unwrap_or_default());
        to.strip_prefix("/videos/")
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("redirected to {to}"))
    }

    pub fn asset(&self, id: Id) -> Asset {
        queries::find_asset(&mut self.conn(), id)
            .expect("query")
            .expect("the video exists")
    }

    /// Asserts that video `id`, its row and its file on disk, is `bytes`.
    pub fn assert_stored_as(&self, id: Id, bytes: &[u8]) {
        let asset = self.asset(id);
        assert_eq!(asset.checksum_sha256.as_deref(), Some(sha256_hex(bytes).as_str()));
        let stored = self
            .settings
            .media_dir()
            .join(asset.storage_path.as_deref().unwrap_or_default());
        assert_eq!(
            sha256_hex(&std::fs::read(stored).expect("the stored file")),
            sha256_hex(bytes),
            "the file on disk is the upload, byte for byte"
        );
    }

    pub fn count(&self, table: &str) -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .get_result::<N>(&mut *self.conn())
            .expect("count")
            .n
    }

    /// Jobs of a kind, with their statuses.
    pub fn jobs_of(&self, kind: &str) -> Vec<practika::jobs::Job> {
        use practika::db::schema::jobs_job;
        jobs_job::table
            .filter(jobs_job::kind.eq(kind))
            .order(jobs_job::id.asc())
            .load(&mut *self.conn())
            .expect("jobs")
    }

    /// Makes every queued job due now (instead of waiting out a backoff).
    pub fn make_jobs_due(&self) {
        use practika::db::schema::jobs_job;
        diesel::update(jobs_job::table)
            .set(jobs_job::run_after.eq(Ts(Ts::now().0 - chrono::Duration::seconds(1))))
            .execute(&mut *self.conn())
            .expect("make jobs due");
    }
}

pub fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Waits (up to `seconds`) for a condition that another task makes true.
pub async fn eventually(seconds: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while !check() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting: {what}");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
