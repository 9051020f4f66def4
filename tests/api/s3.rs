//! Media in S3-compatible object storage (`PRACTIKA_MEDIA_URL=s3://...`),
//! against a real S3 server: moto's, started once per test run on
//! 127.0.0.1 (or the one `PRACTIKA_TEST_S3_ENDPOINT` names). Each test has a
//! bucket of its own. The video path end to end: upload (plain and
//! resumable, small and multipart) → process → play with ranges through a
//! presigned URL → clip → delete, and `practika media copy-to`.

use std::sync::OnceLock;

use practika::db::Id;
use practika::media::remote::Remote;

use crate::helpers::{spawn_app_with, TestApp};
use crate::media_fixtures::{header, sample, sample_bytes, sha256_hex, Sample};

const KEY: &str = "practika-test";
const SECRET: &str = "practika-test-secret";

/// The install command in the failure when no S3 server can be started.
const INSTALL: &str = "python3 -m venv ~/.cache/moto-venv && ~/.cache/moto-venv/bin/pip install 'moto[server]' \
     (or set PRACTIKA_TEST_S3_ENDPOINT to a running S3-compatible server that accepts any bucket)";

/// The endpoint of the test S3 server.
fn endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        if let Ok(url) = std::env::var("PRACTIKA_TEST_S3_ENDPOINT") {
            return url.trim_end_matches('/').to_owned();
        }
        start_moto()
    })
}

fn moto_program() -> Option<std::path::PathBuf> {
    let home = std::env::var("HOME").unwrap_or_default();
    let candidates = [
        std::env::var("PRACTIKA_MOTO_SERVER").ok().map(std::path::PathBuf::from),
        Some(std::path::PathBuf::from(format!(
            "{home}/.cache/moto-venv/bin/moto_server"
        ))),
    ];
    if let Some(found) = candidates.into_iter().flatten().find(|p| p.is_file()) {
        return Some(found);
    }
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|dir| std::path::Path::new(dir).join("moto_server"))
        .find(|p| p.is_file())
}

/// moto's server: where `PRACTIKA_MOTO_SERVER` or `PATH` has it, or
/// installed from PyPI into `~/.cache/moto-venv` on first use (as `.ci/run`
/// does), so that `cargo test` needs no step of its own.
fn moto_or_install() -> std::path::PathBuf {
    if let Some(found) = moto_program() {
        return found;
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| ".".to_owned());
    let venv = format!("{home}/.cache/moto-venv");
    eprintln!("installing moto[server] into {venv} for the S3 tests (once)");
    let installed = std::process::Command::new("sh")
        .args([
            "-c",
            &format!("python3 -m venv '{venv}' && '{venv}/bin/pip' install --quiet 'moto[server]'"),
        ])
        .status()
        .is_ok_and(|s| s.success());
    match moto_program() {
        Some(found) if installed => found,
        _ => panic!(
            "no S3 server for the S3 tests, and installing moto failed (python3 with venv is needed: \
             apt-get install python3-venv). Install it: {INSTALL}"
        ),
    }
}

/// Starts moto's server on a free port. It runs under a shell that waits
/// on the test process's pipe, so it goes when the test process ends, even
/// killed.
fn start_moto() -> String {
    let program = moto_or_install();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let script = format!(
        "'{}' -H 127.0.0.1 -p {port} >/dev/null 2>&1 & read _; kill $!",
        program.display()
    );
    let child = std::process::Command::new("sh")
        .args(["-c", &script])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("start moto_server");
    // Kept open (never dropped) so that the server lives as long as the tests.
    Box::leak(Box::new(child));
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return url;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!(
        "moto_server ({}) did not start on port {port}: {INSTALL}",
        program.display()
    );
}

/// A new, empty bucket.
async fn bucket() -> String {
    let name = format!("practika-{}", Id::new().0.simple());
    let response = reqwest::Client::new()
        .put(format!("{}/{name}", endpoint()))
        .send()
        .await
        .expect("create the bucket");
    assert!(response.status().is_success(), "create bucket: {}", response.status());
    name
}

fn s3_vars(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("PRACTIKA_MEDIA_URL", url.to_owned()),
        ("AWS_ENDPOINT", endpoint().to_owned()),
        ("AWS_ACCESS_KEY_ID", KEY.to_owned()),
        ("AWS_SECRET_ACCESS_KEY", SECRET.to_owned()),
        ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ("AWS_ALLOW_HTTP", "true".to_owned()),
    ]
}

/// An app whose media are in a new bucket, under a prefix.
async fn app_on_s3() -> (TestApp, Remote, String) {
    let bucket = bucket().await;
    let url = format!("s3://{bucket}/media");
    let vars = s3_vars(&url);
    let extra: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app_with(&extra).await;
    let remote = Remote::new(app.settings.media_s3.as_ref().expect("S3 settings")).expect("remote");
    (app, remote, bucket)
}

/// Every object in the bucket (all prefixes), by key.
async fn objects(bucket: &str) -> Vec<String> {
    let body = reqwest::get(format!("{}/{bucket}?list-type=2", endpoint()))
        .await
        .expect("list")
        .text()
        .await
        .expect("listing");
    let mut keys: Vec<String> = body
        .split("<Key>")
        .skip(1)
        .filter_map(|part| part.split_once("</Key>").map(|(key, _)| key.to_owned()))
        .collect();
    keys.sort();
    keys
}

/// Multipart uploads started and neither completed nor aborted.
async fn open_multipart_uploads(bucket: &str) -> usize {
    let body = reqwest::get(format!("{}/{bucket}?uploads", endpoint()))
        .await
        .expect("list uploads")
        .text()
        .await
        .expect("uploads");
    body.matches("<UploadId>").count()
}

/// Follows a media link: Practika's answer must be a redirect to the bucket.
async fn presigned(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let response = app.get_with(client, path).await;
    assert_eq!(response.status().as_u16(), 302, "{path}: redirected to the bucket");
    assert_eq!(header(&response, "cache-control"), "private, no-store");
    let to = header(&response, "location");
    assert!(to.starts_with(endpoint()), "{to}");
    assert!(to.contains("X-Amz-Signature="), "a presigned URL: {to}");
    assert!(
        response.bytes().await.expect("body").is_empty(),
        "no media bytes from Practika"
    );
    to
}

fn playbacks(app: &TestApp, id: Id) -> i32 {
    app.asset(id).access_count
}

#[actix_web::test]
async fn videos_go_to_the_bucket_and_play_from_it_with_ranges() {
    let (app, remote, bucket) = app_on_s3().await;
    let (_, client) = app.user_client("bucket_bea", "coach").await;
    let bytes = sample_bytes(Sample::Hd);
    let id = app.upload_ok(&client, bytes.clone(), "take.mp4").await;
    let original = format!("media/originals/{}.mp4", id.0.simple());
    assert_eq!(objects(&bucket).await, vec![original.clone()]);
    let asset = app.asset(id);
    assert_eq!(asset.checksum_sha256.as_deref(), Some(sha256_hex(&bytes).as_str()));
    assert_eq!(
        remote
            .checksum(asset.storage_path.as_deref().expect("path"))
            .expect("head"),
        Some((bytes.len() as u64, Some(sha256_hex(&bytes)))),
        "the bucket keeps the upload's SHA-256"
    );

    // The same bytes again: one object still.
    let again = app.upload_ok(&client, bytes.clone(), "again.mp4").await;
    assert_eq!(again, id, "a duplicate is the existing video");

    app.run_jobs().await;
    let asset = app.asset(id);
    assert_eq!(asset.processing_status, "ready", "{:?}", asset.processing_error);
    let renditions = asset.renditions();
    let mut expected = vec![
        original.clone(),
        format!("media/posters/{}.jpg", id.0.simple()),
        format!("media/renditions/{}/360p.mp4", id.0.simple()),
        format!("media/renditions/{}/720p.mp4", id.0.simple()),
    ];
    expected.sort();
    assert_eq!(objects(&bucket).await, expected, "outputs in the bucket");
    assert!(
        app.media_files().is_empty(),
        "nothing kept in the local folder: {:?}",
        app.media_files()
    );

    // Playback: Practika checks access, counts, and redirects; the bucket
    // answers the ranges with the right type.
    let before = playbacks(&app, id);
    let url = presigned(&app, &client, &format!("/videos/{id}/media/720p")).await;
    assert_eq!(playbacks(&app, id), before + 1, "a redirect counts as a playback");
    let size = renditions["720p"].size_bytes;
    let half = size / 2;
    let ranged = reqwest::Client::new()
        .get(&url)
        .header("Range", format!("bytes={half}-"))
        .send()
        .await
        .expect("ranged GET from the bucket");
    assert_eq!(ranged.status().as_u16(), 206);
    assert_eq!(header(&ranged, "content-type"), "video/mp4");
    assert_eq!(
        header(&ranged, "content-range"),
        format!("bytes {half}-{}/{size}", size - 1)
    );
    assert_eq!(ranged.bytes().await.expect("body").len() as u64, size - half);
    let poster = presigned(&app, &client, &format!("/videos/{id}/poster")).await;
    let poster = reqwest::get(&poster).await.expect("poster");
    assert_eq!(header(&poster, "content-type"), "image/jpeg");
    let original_url = presigned(&app, &client, &format!("/videos/{id}/media/original")).await;
    let whole = reqwest::get(&original_url)
        .await
        .expect("original")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(sha256_hex(&whole), sha256_hex(&bytes), "the original, byte for byte");

    // The page allows the bucket's origin for media and posters.
    let page = app.get_with(&client, &format!("/videos/{id}")).await;
    let policy = header(&page, "content-security-policy");
    assert!(
        policy.contains(&format!("media-src 'self' blob: {}", endpoint())),
        "{policy}"
    );
    // Someone else: no redirect, no URL.
    let (_, other) = app.user_client("bucket_bob", "student").await;
    let response = app.get_with(&other, &format!("/videos/{id}/media/720p")).await;
    assert_eq!(response.status().as_u16(), 404);
    assert!(header(&response, "location").is_empty());

    // A clip is cut from the bucket's original into the bucket.
    let response = app
        .post_form_with(
            &client,
            &format!("/videos/{id}/clips"),
            &[("start", "0.5"), ("end", "1.5")],
        )
        .await;
    assert_eq!(
        response.status().as_u16(),
        303,
        "{}",
        response.text().await.unwrap_or_default()
    );
    app.run_jobs().await;
    let clips = objects(&bucket)
        .await
        .into_iter()
        .filter(|k| k.starts_with("media/clips/"))
        .collect::<Vec<_>>();
    assert_eq!(clips.len(), 1, "{clips:?}");
    let clip_id = clips[0]
        .trim_start_matches("media/clips/")
        .trim_end_matches(".mp4")
        .to_owned();
    let clip_id: Id = clip_id.parse().expect("clip id");
    let clip_url = presigned(&app, &client, &format!("/clips/{clip_id}/media")).await;
    let clip = reqwest::get(&clip_url).await.expect("clip");
    assert_eq!(header(&clip, "content-type"), "video/mp4");
    assert!(!clip.bytes().await.expect("clip bytes").is_empty());
    assert!(app.media_files().is_empty(), "{:?}", app.media_files());

    // Deleting the video (staff) removes its objects.
    let (staff_id, staff) = app.user_client("bucket_staff", "coach").await;
    app.make_staff(staff_id);
    let response = app
        .post_form_with(&staff, &format!("/staff/videos/{id}/delete"), &[])
        .await;
    assert_eq!(
        response.status().as_u16(),
        303,
        "{}",
        response.text().await.unwrap_or_default()
    );
    app.run_jobs().await;
    assert_eq!(
        objects(&bucket).await,
        Vec::<String>::new(),
        "every object of the video is gone"
    );
    assert_eq!(open_multipart_uploads(&bucket).await, 0);
}

#[actix_web::test]
async fn a_big_upload_goes_up_in_parts_and_copy_to_moves_a_local_folder() {
    // A video over one part (8 MiB): lossless, so that it is big.
    let big = std::env::temp_dir().join(format!("practika-big-{}.mp4", Id::new().0.simple()));
    let made = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i"])
        .arg("testsrc2=size=1280x720:rate=30:duration=6")
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-qp",
            "0",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
        ])
        .args(["+faststart", "-f", "mp4", "-y"])
        .arg(&big)
        .status()
        .unwrap_or_else(|e| panic!("ffmpeg ({e}) is required: apt-get install ffmpeg"));
    assert!(made.success());
    let bytes = std::fs::read(&big).expect("big video");
    let _ = std::fs::remove_file(&big);
    assert!(bytes.len() > 9 * 1024 * 1024, "{} bytes", bytes.len());

    let (app, remote, bucket) = app_on_s3().await;
    let (_, client) = app.user_client("big_ben", "coach").await;
    let id = app.upload_ok(&client, bytes.clone(), "big.mp4").await;
    let relative = app.asset(id).storage_path.expect("path");
    assert_eq!(
        remote.sha256(&relative).expect("read back"),
        (sha256_hex(&bytes), bytes.len() as u64)
    );
    assert_eq!(
        open_multipart_uploads(&bucket).await,
        0,
        "the multipart upload completed"
    );
    assert!(app.upload_tmp_files().is_empty() && app.media_files().is_empty());

    // copy-to: a local folder with files (and a temporary one that stays).
    let local = tempfile::tempdir().expect("dir");
    let media = local.path().join("media");
    std::fs::create_dir_all(media.join("originals")).expect("dir");
    std::fs::create_dir_all(media.join("posters")).expect("dir");
    std::fs::copy(sample(Sample::Small), media.join("originals/a.mp4")).expect("copy");
    std::fs::write(media.join("posters/a.jpg"), b"\xFF\xD8\xFFjpeg").expect("write");
    std::fs::write(media.join("originals/.b.mp4.node~1.part"), b"half").expect("write");
    let target = Remote::new(&practika::config::S3Config {
        prefix: "copied".to_owned(),
        ..app.settings.media_s3.clone().expect("s3")
    })
    .expect("remote");
    let copy = {
        let (media, target) = (media.clone(), target.clone());
        move || practika::media::copy::copy_all(&media, &target, |_, _, _, _| {})
    };
    let first = tokio::task::spawn_blocking(copy.clone())
        .await
        .expect("task")
        .expect("copy");
    assert_eq!((first.uploaded, first.skipped), (2, 0));
    let copied: Vec<String> = objects(&bucket)
        .await
        .into_iter()
        .filter(|k| k.starts_with("copied/"))
        .collect();
    assert_eq!(copied, vec!["copied/originals/a.mp4", "copied/posters/a.jpg"]);
    assert_eq!(
        target.sha256("originals/a.mp4").expect("read back").0,
        sha256_hex(&std::fs::read(sample(Sample::Small)).expect("sample"))
    );
    // Run again: resumed, nothing sent twice; a changed file is sent again.
    std::fs::write(media.join("posters/a.jpg"), b"\xFF\xD8\xFFother").expect("write");
    let second = tokio::task::spawn_blocking(copy).await.expect("task").expect("copy");
    assert_eq!((second.uploaded, second.skipped), (1, 1));
    assert_eq!(
        target.sha256("posters/a.jpg").expect("poster").0,
        sha256_hex(b"\xFF\xD8\xFFother")
    );
}

#[actix_web::test]
async fn a_resumable_upload_ends_in_the_bucket_with_its_checksum() {
    let (app, remote, bucket) = app_on_s3().await;
    let (_, client) = app.user_client("tus_tia", "student").await;
    let token = app.csrf_token_with(&client).await;
    let bytes = sample_bytes(Sample::Hd);
    let created = client
        .post(app.url("/uploads"))
        .header("Tus-Resumable", "1.0.0")
        .header("X-CSRF-Token", &token)
        .header("Upload-Length", bytes.len().to_string())
        .header("Upload-Metadata", "filename YXR0ZW1wdC5tcDQ=,filetype dmlkZW8vbXA0")
        .send()
        .await
        .expect("create");
    assert_eq!(created.status().as_u16(), 201);
    let path = header(&created, "location");
    let half = bytes.len() / 2;
    for (offset, chunk) in [(0, &bytes[..half]), (half, &bytes[half..])] {
        let response = client
            .patch(app.url(&path))
            .header("Tus-Resumable", "1.0.0")
            .header("X-CSRF-Token", &token)
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .body(chunk.to_vec())
            .send()
            .await
            .expect("PATCH");
        assert_eq!(
            response.status().as_u16(),
            204,
            "{}",
            response.text().await.unwrap_or_default()
        );
    }
    let keys = objects(&bucket).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let relative = keys[0].trim_start_matches("media/");
    assert_eq!(
        remote.sha256(relative).expect("read back"),
        (sha256_hex(&bytes), bytes.len() as u64)
    );
    assert!(app.upload_tmp_files().is_empty(), "{:?}", app.upload_tmp_files());
    assert!(app.media_files().is_empty(), "{:?}", app.media_files());
    app.run_jobs().await;
    assert_eq!(objects(&bucket).await.len(), 4, "original, poster and two renditions");
}

/// A node killed between storing an upload and committing its row leaves a
/// file no video names: the sweep removes it (in a bucket and on disk),
/// and never a file a video names.
#[actix_web::test]
async fn stored_uploads_without_a_row_are_swept() {
    use practika::videos::upload::purge_orphans;
    let (app, remote, bucket) = app_on_s3().await;
    let (_, client) = app.user_client("sweep_sue", "student").await;
    let kept = app.upload_ok(&client, sample_bytes(Sample::Hd), "kept.mp4").await;
    let orphan = format!("originals/{}.mp4", Id::new().0.simple());
    let scratch = tempfile::NamedTempFile::new().expect("file");
    std::fs::write(scratch.path(), b"killed mid-way").expect("write");
    remote
        .upload(scratch.path(), &orphan, &Default::default())
        .expect("orphan object");
    let storage = practika::media::Storage::from_settings(&app.settings).expect("storage");
    let swept = |older: u64| purge_orphans(&mut app.conn(), &storage, std::time::Duration::from_secs(older));
    let swept_now = swept(3600).expect("sweep");
    assert_eq!(swept_now, 0, "a fresh file may be an upload about to commit");
    assert_eq!(swept(0).expect("sweep"), 1);
    let keys = objects(&bucket).await;
    assert_eq!(keys, vec![format!("media/originals/{}.mp4", kept.0.simple())]);

    // The same on a local media folder.
    let local = crate::helpers::spawn_app().await;
    let (_, client) = local.user_client("sweep_sam", "student").await;
    let kept = local.upload_ok(&client, sample_bytes(Sample::Hd), "kept.mp4").await;
    std::fs::write(local.media_dir().join(&orphan), b"killed mid-way").expect("write");
    let storage = practika::media::Storage::from_settings(&local.settings).expect("storage");
    assert_eq!(
        purge_orphans(&mut local.conn(), &storage, std::time::Duration::ZERO).expect("sweep"),
        1
    );
    assert_eq!(local.media_files(), vec![format!("originals/{}.mp4", kept.0.simple())]);
}
