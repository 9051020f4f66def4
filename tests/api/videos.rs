//! Videos end to end, with the real ffmpeg on tiny generated videos:
//! upload, refusal, dedupe, processing, playback with ranges, permissions,
//! clips, YouTube links, life without ffmpeg, re-validation.

use std::time::Duration;

use diesel::prelude::*;
use practika::db::Id;
use practika::jobs::worker::Outcome;
use practika::startup::worker as new_worker;
use practika::videos::jobs as kinds;
use practika::videos::{processing, queries};

use crate::helpers::{location, spawn_app, spawn_app_with, test_settings, Page};
use crate::media_fixtures::{corrupt_mp4, eventually, ffprobe, header, sample_bytes, sha256_hex, Sample};

fn id_part(id: Id) -> String {
    id.0.simple().to_string()
}

/// A web node on which ffmpeg and ffprobe are not installed.
async fn app_without_ffmpeg() -> crate::helpers::TestApp {
    spawn_app_with(&[
        ("PRACTIKA_FFMPEG", "/nonexistent/ffmpeg"),
        ("PRACTIKA_FFPROBE", "/nonexistent/ffprobe"),
    ])
    .await
}

async fn page_of(app: &crate::helpers::TestApp, client: &reqwest::Client, path: &str) -> Page {
    app.page_with(client, path).await
}

#[actix_web::test]
async fn a_good_upload_becomes_ready_with_a_poster_and_both_renditions() {
    let app = spawn_app().await;
    let (user_id, client) = app.user_client("uploader_ann", "student").await;

    // The form works without JavaScript: multipart, token in the action.
    let form = page_of(&app, &client, "/videos/new").await;
    assert_eq!(form.status, 200);
    assert_eq!(
        form.attr("#upload-form", "enctype").as_deref(),
        Some("multipart/form-data")
    );
    assert!(form
        .attr("#upload-form", "action")
        .is_some_and(|a| a.starts_with("/videos?csrf_token=")));
    assert!(form.has("label[for=file]") && form.has("input#file[type=file][required]"));
    assert!(form.has("progress#upload-bar") && form.has("button#upload-cancel[hidden]"));
    let script = form.attr("script[type=module][src]", "src").expect("the upload script");
    assert!(script.starts_with("/static/js/videos.js?v="), "{script}");
    let tus = form
        .attr("script[src^='/static/vendor/']", "src")
        .expect("tus-js-client");
    assert!(tus.starts_with("/static/vendor/tus-js-client/tus.min.js?v="), "{tus}");
    let js = app.get_with(&client, &script).await;
    assert!(header(&js, "content-type").starts_with("text/javascript"));
    assert!(form
        .select_text("nav a[aria-current=page]")
        .contains(&"Videos".to_owned()));

    let bytes = sample_bytes(Sample::Hd);
    let id = app.upload_ok(&client, bytes.clone(), "My <first> take.mp4").await;
    assert!(app.upload_tmp_files().is_empty(), "temporary file moved away");

    // Before processing: the page shows the state and polls for it.
    let page = page_of(&app, &client, &format!("/videos/{id}")).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.select_text("h1"),
        vec!["My <first> take"],
        "titled after the file, without its extension, shown escaped"
    );
    assert!(!page.text.contains("My <first>"), "never raw");
    assert_eq!(
        page.attr("#video-status", "data-status-url"),
        Some(format!("/videos/{id}/status"))
    );
    assert!(page.has("video[preload=metadata] source[src$='/media/original'][type='video/mp4']"));
    assert!(page.select_text(".flash").iter().any(|f| f.contains("uploaded")));
    let status: serde_json::Value = app
        .get_with(&client, &format!("/videos/{id}/status"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(status["status"], "pending");
    assert_eq!(status["settled"], false);

    let asset = app.asset(id);
    assert_eq!(asset.orig_filename, "My <first> take.mp4");
    assert_eq!(asset.title.as_deref(), Some("My <first> take"));
    assert_eq!(asset.frame_rate, None, "known once processed");
    assert_eq!(asset.mime_type, "video/mp4");
    assert_eq!(asset.size_bytes, Some(bytes.len() as i64));
    assert_eq!(asset.checksum_sha256.as_deref(), Some(sha256_hex(&bytes).as_str()));
    assert_eq!(asset.uploaded_by_id, Some(user_id));
    assert_eq!(asset.processing_status, "pending");
    assert_eq!(
        asset.storage_path.as_deref(),
        Some(format!("originals/{}.mp4", id_part(id)).as_str()),
        "a server-chosen name, not the client's"
    );
    assert_eq!(app.jobs_of(kinds::PROCESS_VIDEO).len(), 1);

    let report = app.worker().run_once().await.expect("worker").expect("a job");
    assert_eq!(report.outcome, Outcome::Done);
    assert!(app.worker().run_once().await.expect("worker").is_none());

    let asset = app.asset(id);
    assert_eq!(asset.processing_status, "ready", "{:?}", asset.processing_error);
    assert!(asset.is_valid && asset.processed_at.is_some() && asset.last_validated.is_some());
    assert_eq!(
        (asset.duration_sec, asset.width, asset.height),
        (Some(2), Some(1280), Some(720))
    );
    assert_eq!(asset.frame_rate, Some(15.0), "as ffprobe reports it");
    let renditions = asset.renditions();
    assert_eq!(renditions.keys().collect::<Vec<_>>(), vec!["360p", "720p"]);
    for (label, (w, h)) in [("360p", (640, 360)), ("720p", (1280, 720))] {
        let rendition = &renditions[label];
        assert_eq!((rendition.width, rendition.height), (w, h));
        let file = app.media_dir().join(&rendition.path);
        let bytes = std::fs::read(&file).expect("rendition file");
        assert_eq!(rendition.size_bytes, bytes.len() as u64);
        let (codec, fw, fh, audio, duration) = ffprobe(&file);
        assert_eq!((codec.as_str(), fw, fh, audio.as_deref()), ("h264", w, h, Some("aac")));
        assert!((duration - 2.0).abs() < 0.2, "{duration}");
        let at = |tag: &[u8]| bytes.windows(4).position(|w| w == tag).expect("box");
        assert!(at(b"moov") < at(b"mdat"), "faststart: the index comes first");
    }
    let poster =
        std::fs::read(app.media_dir().join(asset.poster_path.as_deref().expect("poster"))).expect("poster file");
    assert_eq!(&poster[..3], &[0xFF, 0xD8, 0xFF], "a JPEG");
    let mut expected = vec![
        format!("originals/{}.mp4", id_part(id)),
        format!("posters/{}.jpg", id_part(id)),
        format!("renditions/{}/360p.mp4", id_part(id)),
        format!("renditions/{}/720p.mp4", id_part(id)),
    ];
    expected.sort();
    assert_eq!(app.media_files(), expected, "one set of outputs, no leftovers");

    // Ready: the page plays the renditions, largest first, with the poster.
    let page = page_of(&app, &client, &format!("/videos/{id}")).await;
    assert!(!page.has("#video-status"));
    assert_eq!(page.attr("video", "poster"), Some(format!("/videos/{id}/poster")));
    let sources: Vec<String> = {
        let selector = scraper::Selector::parse("video source").expect("selector");
        page.html
            .select(&selector)
            .filter_map(|s| s.value().attr("src").map(str::to_owned))
            .collect()
    };
    assert_eq!(
        sources,
        vec![
            format!("/videos/{id}/media/720p"),
            format!("/videos/{id}/media/360p"),
            format!("/videos/{id}/media/original")
        ]
    );
    let response = app.get_with(&client, &format!("/videos/{id}/poster")).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(header(&response, "content-type"), "image/jpeg");
    let response = app.get_with(&client, &format!("/videos/{id}/media/720p")).await;
    assert_eq!(header(&response, "content-type"), "video/mp4");
    assert_eq!(
        response.bytes().await.expect("body").len() as u64,
        renditions["720p"].size_bytes
    );
    let status: serde_json::Value = app
        .get_with(&client, &format!("/videos/{id}/status"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        (status["status"].as_str(), status["settled"].as_bool()),
        (Some("ready"), Some(true))
    );

    let list = page_of(&app, &client, "/videos").await;
    assert_eq!(list.select_text(".video-card-title"), vec!["My <first> take"]);
    assert_eq!(
        list.attr(".video-thumb img", "src"),
        Some(format!("/videos/{id}/poster"))
    );
}

#[actix_web::test]
async fn a_small_video_is_never_upscaled() {
    let app = spawn_app().await;
    let (_, client) = app.user_client("small_sam", "student").await;
    let id = app.upload_ok(&client, sample_bytes(Sample::Small), "small.mp4").await;
    app.run_jobs().await;
    let asset = app.asset(id);
    assert_eq!(asset.processing_status, "ready");
    let renditions = asset.renditions();
    assert_eq!(
        renditions.keys().collect::<Vec<_>>(),
        vec!["360p"],
        "no 720p from 240 lines"
    );
    assert_eq!((renditions["360p"].width, renditions["360p"].height), (320, 240));
    let (_, w, h, _, _) = ffprobe(&app.media_dir().join(&renditions["360p"].path));
    assert_eq!((w, h), (320, 240));
}

/// Nothing of a refused upload stays behind: no row, no job, no file.
fn assert_nothing_kept(app: &crate::helpers::TestApp) {
    assert_eq!(app.count("core_videoasset"), 0);
    assert_eq!(app.count("jobs_job"), 0);
    assert!(app.upload_tmp_files().is_empty(), "{:?}", app.upload_tmp_files());
    assert!(app.media_files().is_empty(), "{:?}", app.media_files());
}

#[actix_web::test]
async fn an_html_file_named_mp4_is_refused() {
    let app = spawn_app().await;
    let (_, client) = app.user_client("sneaky_sue", "student").await;
    let html = b"<!doctype html><html><body><script>alert(1)</script></body></html>".repeat(200);
    let response = app.upload_with(&client, html.clone(), "holiday.mp4").await;
    assert_eq!(response.status().as_u16(), 422);
    let page = scraper::Html::parse_document(&response.text().await.expect("body"));
    let errors: String = page
        .select(&scraper::Selector::parse("#upload-errors").expect("selector"))
        .map(|e| e.text().collect::<String>())
        .collect();
    assert!(errors.contains("not a video"), "{errors}");
    assert!(errors.contains("nothing was kept"), "{errors}");
    assert_nothing_kept(&app);

    // The script's JSON answer says the same.
    let token = app.csrf_token_with(&client).await;
    let response = client
        .post(app.url(&format!("/videos?csrf_token={token}")))
        .header("accept", "application/json")
        .multipart(
            reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(html).file_name("x.mp4")),
        )
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 422);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["ok"], false);
    assert!(body["errors"][0].as_str().is_some_and(|e| e.contains("not a video")));
    assert_nothing_kept(&app);
}

#[actix_web::test]
async fn a_corrupt_video_is_refused_with_a_readable_reason() {
    let app = spawn_app().await;
    let (_, client) = app.user_client("broken_bo", "student").await;
    let response = app.upload_with(&client, corrupt_mp4(), "broken.mp4").await;
    assert_eq!(response.status().as_u16(), 422);
    let body = response.text().await.expect("body");
    assert!(body.contains("could not be read as a video"), "{body}");
    let data_dir = app.settings.data_dir.display().to_string();
    assert!(!body.contains(&data_dir) && !body.contains(".part"), "no server paths");
    assert_nothing_kept(&app);

    // No file at all is a form error too.
    let token = app.csrf_token_with(&client).await;
    let response = client
        .post(app.url(&format!("/videos?csrf_token={token}")))
        .multipart(reqwest::multipart::Form::new().text("note", "no file"))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 422);
    assert!(response.text().await.expect("body").contains("Choose a video file"));
    assert_nothing_kept(&app);

    // A good file with a large extra field is refused as a whole.
    let response = client
        .post(app.url(&format!("/videos?csrf_token={token}")))
        .multipart(
            reqwest::multipart::Form::new()
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(sample_bytes(Sample::Small)).file_name("fine.mp4"),
                )
                .text("padding", "x".repeat(100 * 1024)),
        )
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.text().await.expect("body").contains("one video file"));
    assert_nothing_kept(&app);
}

#[actix_web::test]
async fn an_upload_over_the_limit_gets_413_and_leaves_nothing() {
    let app = spawn_app_with(&[("PRACTIKA_MAX_UPLOAD_MB", "1")]).await;
    let (_, client) = app.user_client("big_ben", "student").await;
    // A real video's first bytes (it would pass the type check), 3 MiB long.
    let mut bytes = sample_bytes(Sample::Hd);
    bytes.resize(3 * 1024 * 1024, 0);
    // Announced with its length: refused before it is read.
    let response = app.upload_with(&client, bytes.clone(), "huge.mp4").await;
    assert_eq!(response.status().as_u16(), 413);
    let body = response.text().await.expect("body");
    assert!(body.contains("larger than the upload limit of 1 MiB"), "{body}");
    assert_nothing_kept(&app);

    // Streamed without a length: stopped once the limit is passed.
    let token = app.csrf_token_with(&client).await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = bytes.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let part = reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)))
        .file_name("huge.mp4");
    let response = client
        .post(app.url(&format!("/videos?csrf_token={token}")))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 413);
    assert!(response
        .text()
        .await
        .expect("body")
        .contains("larger than the upload limit of 1 MiB"));
    assert_nothing_kept(&app);
    let form = app.page_with(&client, "/videos/new").await;
    assert_eq!(form.attr("#upload-form", "data-max-bytes").as_deref(), Some("1048576"));

    // Just under the limit is fine.
    let id = app.upload_ok(&client, sample_bytes(Sample::Small), "fits.mp4").await;
    assert!(app.asset(id).size_bytes.is_some_and(|s| s < 1024 * 1024));
}

#[actix_web::test]
async fn an_upload_cut_off_midway_leaves_nothing() {
    let app = spawn_app().await;
    let (_, client) = app.user_client("flaky_flo", "student").await;
    let token = app.csrf_token_with(&client).await;
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel::<Result<Vec<u8>, std::io::Error>>();
    sender.send(Ok(sample_bytes(Sample::Hd))).expect("first chunk");
    sender.send(Ok(vec![0u8; 512 * 1024])).expect("second chunk");
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let part = reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(body)).file_name("cut.mp4");
    let request = client
        .post(app.url(&format!("/videos?csrf_token={token}")))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send();
    let sending = actix_web::rt::spawn(request);
    // The server has started writing the upload...
    eventually(10, "the upload file to appear", || !app.upload_tmp_files().is_empty()).await;
    // ...when the client goes away mid-file.
    sender
        .send(Err(std::io::Error::other("client crashed")))
        .expect("error");
    let result = sending.await.expect("task");
    assert!(result.is_err(), "the request never completed");
    eventually(10, "the partial upload to be removed", || {
        app.upload_tmp_files().is_empty()
    })
    .await;
    assert_nothing_kept(&app);
}

#[actix_web::test]
async fn a_duplicate_upload_keeps_one_file() {
    let app = spawn_app().await;
    let (_, ann) = app.user_client("dup_ann", "student").await;
    let bytes = sample_bytes(Sample::Small);
    let first = app.upload_ok(&ann, bytes.clone(), "take.mp4").await;
    let again = app.upload_ok(&ann, bytes.clone(), "take (copy).mp4").await;
    assert_eq!(first, again, "the same video");
    let page = app.page_with(&ann, &format!("/videos/{first}")).await;
    assert!(page
        .select_text(".flash")
        .iter()
        .any(|f| f.contains("already uploaded")));
    assert_eq!(app.count("core_videoasset"), 1);
    assert_eq!(app.jobs_of(kinds::PROCESS_VIDEO).len(), 1);
    app.run_jobs().await;

    // Someone else with the same bytes gets a video of their own (they may
    // not see Ann's), sharing the stored file and its processing.
    let (_, bo) = app.user_client("dup_bo", "student").await;
    let theirs = app.upload_ok(&bo, bytes, "mine.mp4").await;
    assert_ne!(theirs, first);
    let (a, b) = (app.asset(first), app.asset(theirs));
    assert_eq!(a.storage_path, b.storage_path);
    assert_eq!(b.processing_status, "ready");
    assert_eq!(a.renditions, b.renditions);
    assert_eq!(b.orig_filename, "mine.mp4");
    assert_eq!(app.jobs_of(kinds::PROCESS_VIDEO).len(), 1, "nothing to process again");
    let originals: Vec<String> = app
        .media_files()
        .into_iter()
        .filter(|f| f.starts_with("originals/"))
        .collect();
    assert_eq!(originals.len(), 1, "{originals:?}");
    assert!(app.upload_tmp_files().is_empty());
    assert_eq!(
        app.get_with(&bo, &format!("/videos/{first}")).await.status().as_u16(),
        404
    );
    assert_eq!(
        app.get_with(&bo, &format!("/videos/{theirs}/media/360p"))
            .await
            .status()
            .as_u16(),
        200
    );
}

#[actix_web::test]
async fn range_requests_are_answered_from_the_stored_file() {
    let app = spawn_app().await;
    let (_, client) = app.user_client("ranger_rae", "student").await;
    let bytes = sample_bytes(Sample::Hd);
    let total = bytes.len();
    let id = app.upload_ok(&client, bytes.clone(), "range.mp4").await;
    let url = app.url(&format!("/videos/{id}/media/original"));
    let get = |range: Option<&str>, if_range: Option<&str>| {
        let mut request = client.get(&url);
        if let Some(range) = range {
            request = request.header("range", range);
        }
        if let Some(tag) = if_range {
            request = request.header("if-range", tag);
        }
        request.send()
    };

    let full = get(None, None).await.expect("GET");
    assert_eq!(full.status().as_u16(), 200);
    assert_eq!(header(&full, "content-type"), "video/mp4", "the type from the database");
    assert_eq!(header(&full, "x-content-type-options"), "nosniff");
    assert_eq!(header(&full, "accept-ranges"), "bytes");
    assert_eq!(header(&full, "content-length"), total.to_string());
    assert!(header(&full, "content-disposition").is_empty());
    let etag = header(&full, "etag");
    assert!(!etag.is_empty());
    assert_eq!(full.bytes().await.expect("body").as_ref(), &bytes[..]);

    for (range, from, to) in [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=-500", total - 500, total - 1),
        (&format!("bytes={}-", total - 10) as &str, total - 10, total - 1),
    ] {
        let response = get(Some(range), None).await.expect("GET");
        assert_eq!(response.status().as_u16(), 206, "{range}");
        assert_eq!(header(&response, "content-range"), format!("bytes {from}-{to}/{total}"));
        assert_eq!(header(&response, "content-type"), "video/mp4");
        assert_eq!(
            response.bytes().await.expect("body").as_ref(),
            &bytes[from..=to],
            "{range}"
        );
    }

    let response = get(Some(&format!("bytes={total}-")), None).await.expect("GET");
    assert_eq!(response.status().as_u16(), 416);
    assert_eq!(header(&response, "content-range"), format!("bytes */{total}"));

    // If-Range: the range only while the file is unchanged.
    let response = get(Some("bytes=0-9"), Some(&etag)).await.expect("GET");
    assert_eq!(response.status().as_u16(), 206);
    let response = get(Some("bytes=0-9"), Some("\"some-older-version\""))
        .await
        .expect("GET");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.bytes().await.expect("body").len(), total);

    let head = client.head(&url).send().await.expect("HEAD");
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(header(&head, "content-length"), total.to_string());

    // Unknown variants and videos are 404s, not errors.
    assert_eq!(
        app.get_with(&client, &format!("/videos/{id}/media/1080p"))
            .await
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        app.get_with(&client, &format!("/videos/{id}/media/..%2Fsecret_key"))
            .await
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        app.get_with(&client, &format!("/videos/{}/media/original", Id::new()))
            .await
            .status()
            .as_u16(),
        404
    );
    assert_eq!(app.get_with(&client, "/videos/not-a-uuid").await.status().as_u16(), 404);
}

/// Behind nginx: after the access check (and the playback count) the answer
/// names the file in the internal location, and nginx sends the bytes.
#[actix_web::test]
async fn with_a_media_accel_prefix_nginx_is_told_which_file_to_send() {
    let app = spawn_app_with(&[("PRACTIKA_MEDIA_ACCEL_PREFIX", "/media-internal/")]).await;
    let (_, client) = app.user_client("accel_ada", "student").await;
    let (_, other) = app.user_client("accel_otto", "student").await;
    let id = app.upload_ok(&client, sample_bytes(Sample::Small), "accel.mp4").await;
    let stored = app.asset(id).storage_path.expect("a stored file");
    let url = app.url(&format!("/videos/{id}/media/original"));

    let response = client.get(&url).header("range", "bytes=0-").send().await.expect("GET");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        header(&response, "x-accel-redirect"),
        format!("/media-internal/{stored}")
    );
    assert_eq!(header(&response, "content-type"), "video/mp4");
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert_eq!(header(&response, "cache-control"), "private, no-cache");
    assert!(
        response.bytes().await.expect("body").is_empty(),
        "nginx sends the bytes"
    );
    assert_eq!(app.asset(id).access_count, 1, "the playback is counted");
    let seek = client
        .get(&url)
        .header("range", "bytes=5000-")
        .send()
        .await
        .expect("GET");
    assert!(!header(&seek, "x-accel-redirect").is_empty());
    assert_eq!(app.asset(id).access_count, 1, "a seek is the same playback");

    // No access, no redirect: nginx's location is internal, so this is the
    // only way to its files.
    let refused = other.get(&url).send().await.expect("GET");
    assert_eq!(refused.status().as_u16(), 404);
    assert!(header(&refused, "x-accel-redirect").is_empty());
    // A file gone from the disk is a 404 here, not nginx's, and no playback.
    std::fs::remove_file(app.settings.media_dir().join(&stored)).expect("remove");
    let missing = client.get(&url).send().await.expect("GET");
    assert_eq!(missing.status().as_u16(), 404);
    assert!(header(&missing, "x-accel-redirect").is_empty());
    assert_eq!(app.asset(id).access_count, 1);
}

#[actix_web::test]
async fn a_playback_is_counted_once_not_per_range_request() {
    let app = spawn_app().await;
    let (_, client) = app.user_client("counter_cy", "student").await;
    let id = app.upload_ok(&client, sample_bytes(Sample::Small), "count.mp4").await;
    app.run_jobs().await;
    let url = app.url(&format!("/videos/{id}/media/360p"));
    let count = || app.asset(id).access_count;
    assert_eq!(count(), 0);
    assert!(app.asset(id).last_accessed.is_none());

    // A browser starts a playback with "bytes=0-", then seeks.
    let send = |range: Option<&'static str>| {
        let mut request = client.get(&url);
        if let Some(range) = range {
            request = request.header("range", range);
        }
        request.send()
    };
    assert_eq!(send(Some("bytes=0-")).await.expect("GET").status().as_u16(), 206);
    assert_eq!(count(), 1);
    assert!(app.asset(id).last_accessed.is_some());
    for seek in ["bytes=5000-", "bytes=100-199", "bytes=-100"] {
        send(Some(seek)).await.expect("GET");
    }
    assert_eq!(count(), 1, "seeking is the same playback");
    // Safari's two-byte probe before it plays is not a playback either.
    send(Some("bytes=0-1")).await.expect("GET");
    assert_eq!(count(), 1);
    client.head(&url).send().await.expect("HEAD");
    app.get_with(&client, &format!("/videos/{id}/poster")).await;
    app.get_with(&client, &format!("/videos/{id}/status")).await;
    assert_eq!(count(), 1, "HEAD, poster and status are not playbacks");
    // Playing again from the start (or a download without a range) is.
    send(None).await.expect("GET");
    assert_eq!(count(), 2);
    let page = app.page_with(&client, &format!("/videos/{id}")).await;
    assert!(page.text.contains("2 times"));
}

#[actix_web::test]
async fn only_the_uploader_staff_and_viewers_of_an_exercise_see_a_video() {
    let app = spawn_app().await;
    let (_, owner) = app.user_client("owner_olga", "student").await;
    let (_, other) = app.user_client("other_otto", "student").await;
    let id = app.upload_ok(&owner, sample_bytes(Sample::Small), "private.mp4").await;
    app.run_jobs().await;
    let paths = [
        format!("/videos/{id}"),
        format!("/videos/{id}/status"),
        format!("/videos/{id}/media/original"),
        format!("/videos/{id}/media/360p"),
        format!("/videos/{id}/poster"),
    ];
    for path in &paths {
        assert_eq!(app.get_with(&owner, path).await.status().as_u16(), 200, "{path}");
        assert_eq!(app.get_with(&other, path).await.status().as_u16(), 404, "{path}");
        let anonymous = app.get_with(&crate::helpers::new_client(), path).await;
        assert_eq!(anonymous.status().as_u16(), 303, "{path}");
        assert!(location(&anonymous).starts_with("/login?next="));
    }
    let response = app
        .post_form_with(&other, &format!("/videos/{id}/clips"), &[("start", "0"), ("end", "1")])
        .await;
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(app.count("core_videoclip"), 0);
    let list = app.page_with(&other, "/videos").await;
    assert!(list.select_text(".video-card-title").is_empty());
    assert!(list.has(".empty-state"));

    // Staff see every video, with who uploaded it.
    let (staff_id, staff) = app.user_client("staff_stan", "coach").await;
    app.make_staff(staff_id);
    for path in &paths {
        assert_eq!(app.get_with(&staff, path).await.status().as_u16(), 200, "{path}");
    }
    let list = app.page_with(&staff, "/videos").await;
    assert!(list.text.contains("by owner_olga"));

    // Part of an exercise: everyone logged in may watch it.
    let coach = app.create_user("coach_cleo", crate::helpers::GOOD_PASSWORD, "coach");
    {
        use practika::db::schema::exercises_exercise as e;
        let now = practika::db::Ts::now();
        diesel::insert_into(e::table)
            .values((
                e::id.eq(Id::new()),
                e::name.eq("Scales"),
                e::description.eq(None::<String>),
                e::created_at.eq(now),
                e::updated_at.eq(now),
                e::created_by_id.eq(coach),
                e::video_asset_id.eq(id),
            ))
            .execute(&mut *app.conn())
            .expect("exercise");
    }
    for path in &paths {
        assert_eq!(app.get_with(&other, path).await.status().as_u16(), 200, "{path}");
    }
}

#[actix_web::test]
async fn a_clip_asked_for_twice_at_once_is_one_clip() {
    let app = spawn_app().await;
    let (_, client) = app.user_client("clipper_cat", "coach").await;
    let id = app.upload_ok(&client, sample_bytes(Sample::Hd), "clip me.mp4").await;

    // Not before the video is processed.
    let response = app
        .post_form_with(
            &client,
            &format!("/videos/{id}/clips"),
            &[("start", "0.5"), ("end", "1.5")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    app.run_jobs().await;

    let token = app.csrf_token_with(&client).await;
    let ask = || {
        client
            .post(app.url(&format!("/videos/{id}/clips")))
            .form(&[("start", "0.5"), ("end", "1.5"), ("csrf_token", token.as_str())])
            .send()
    };
    let (a, b) = futures_util::future::join(ask(), ask()).await;
    let (a, b) = (a.expect("POST"), b.expect("POST"));
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (303, 303));
    assert_eq!(location(&a), location(&b), "the same clip");
    assert_eq!(app.count("core_videoclip"), 1);
    assert_eq!(app.jobs_of(kinds::CUT_CLIP).len(), 1, "cut once");
    let clip_path = location(&a);
    let clip_id: Id = clip_path.trim_start_matches("/clips/").parse().expect("clip id");
    let clip = queries::find_clip(&mut app.conn(), clip_id)
        .expect("query")
        .expect("clip");
    assert_eq!(clip.clip_hash, sha256_hex(format!("{id}:500:1500").as_bytes()));
    assert_eq!((clip.start_time, clip.end_time, clip.duration), (0.5, 1.5, 1.0));
    assert_eq!(clip.processing_status, "pending");
    // The same cut written differently is the same clip.
    let response = app
        .post_form_with(
            &client,
            &format!("/videos/{id}/clips"),
            &[("start", "0:00.5"), ("end", "1.500")],
        )
        .await;
    assert_eq!(location(&response), clip_path);

    let page = app.page_with(&client, &clip_path).await;
    assert!(page.has("#video-status[data-status-url]"));
    assert_eq!(app.run_jobs().await, 1);
    let clip = queries::find_clip(&mut app.conn(), clip_id)
        .expect("query")
        .expect("clip");
    assert_eq!(clip.processing_status, "ready", "{:?}", clip.processing_error);
    let file = app.media_dir().join(&clip.storage_path);
    assert_eq!(
        clip.size_bytes,
        Some(std::fs::metadata(&file).expect("clip file").len() as i64)
    );
    let (codec, w, h, audio, duration) = ffprobe(&file);
    assert_eq!(
        (codec.as_str(), w, h, audio.as_deref()),
        ("h264", 1280, 720, Some("aac"))
    );
    assert!((duration - 1.0).abs() < 0.15, "{duration}");

    // A clip plays like a video.
    let page = app.page_with(&client, &clip_path).await;
    assert!(page.has(&format!("video[preload=metadata] source[src='{clip_path}/media']")));
    let response = client
        .get(app.url(&format!("{clip_path}/media")))
        .header("range", "bytes=0-99")
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status().as_u16(), 206);
    assert_eq!(header(&response, "content-type"), "video/mp4");
    let video_page = app.page_with(&client, &format!("/videos/{id}")).await;
    assert!(video_page.has(&format!(".clip-list a[href='{clip_path}']")));

    // Impossible cuts are refused with a message each.
    for (start, end, message) in [
        ("1.5", "1.0", "after the start"),
        ("1.0", "1.3", "at least half a second"),
        ("0", "2.5", "only 2.0 s long"),
        ("soon", "1", "Enter the start"),
    ] {
        let response = app
            .post_form_with(
                &client,
                &format!("/videos/{id}/clips"),
                &[("start", start), ("end", end)],
            )
            .await;
        assert_eq!(response.status().as_u16(), 422, "{start}–{end}");
        let body = response.text().await.expect("body");
        assert!(body.contains(message), "{start}–{end}: {message}");
    }
    assert_eq!(app.count("core_videoclip"), 1);
}

#[actix_web::test]
async fn youtube_links_are_stored_canonically_and_embedded() {
    let app = spawn_app().await;
    let (_, client) = app.user_client("tuber_tim", "coach").await;
    let response = app
        .post_form_with(
            &client,
            "/videos/youtube",
            &[("youtube_url", "https://youtu.be/dQw4w9WgXcQ?si=x")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let id: Id = location(&response).trim_start_matches("/videos/").parse().expect("id");
    let asset = app.asset(id);
    assert_eq!(asset.video_type, "youtube");
    assert_eq!(
        asset.youtube_url.as_deref(),
        Some("https://www.youtube.com/watch?v=dQw4w9WgXcQ")
    );
    assert_eq!(asset.processing_status, "ready");
    assert_eq!(app.count("jobs_job"), 0);
    let page = app.page_with(&client, &format!("/videos/{id}")).await;
    assert_eq!(
        page.attr(".video-embed iframe", "src").as_deref(),
        Some("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ")
    );
    assert!(page.attr(".video-embed iframe", "title").is_some());
    assert!(!page.has("video"));
    assert_eq!(
        app.get_with(&client, &format!("/videos/{id}/media/original"))
            .await
            .status()
            .as_u16(),
        404
    );

    // The shorts form of the same video is the same video.
    let response = app
        .post_form_with(
            &client,
            "/videos/youtube",
            &[("youtube_url", "youtube.com/shorts/dQw4w9WgXcQ")],
        )
        .await;
    assert_eq!(location(&response), format!("/videos/{id}"));
    assert_eq!(app.count("core_videoasset"), 1);

    for bad in ["https://vimeo.com/1234", "https://www.youtube.com/watch?v=nope", ""] {
        let response = app
            .post_form_with(&client, "/videos/youtube", &[("youtube_url", bad)])
            .await;
        assert_eq!(response.status().as_u16(), 422, "{bad}");
        let page = scraper::Html::parse_document(&response.text().await.expect("body"));
        let errors: String = page
            .select(&scraper::Selector::parse("#youtube_url-error").expect("selector"))
            .map(|e| e.text().collect::<String>())
            .collect();
        assert!(errors.contains("YouTube link"), "{bad}: {errors}");
    }
    assert_eq!(app.count("core_videoasset"), 1);
}

#[actix_web::test]
async fn without_ffmpeg_uploads_still_play_and_staff_are_told() {
    let app = app_without_ffmpeg().await;
    let (_, client) = app.user_client("plain_pat", "student").await;
    // Accepted on its first bytes alone.
    let id = app.upload_ok(&client, sample_bytes(Sample::Small), "plain.mp4").await;
    let report = app.worker().run_once().await.expect("worker").expect("job");
    let Outcome::Failed(message) = report.outcome else {
        panic!("the job fails for good: {:?}", report.outcome);
    };
    assert!(message.contains("apt-get install ffmpeg"), "{message}");
    assert_eq!(app.jobs_of(kinds::PROCESS_VIDEO)[0].attempts, 1, "no pointless retries");
    let asset = app.asset(id);
    assert_eq!(asset.processing_status, "failed");
    assert!(asset.is_valid, "the upload itself is fine");
    assert!(asset.processing_error.is_some_and(|e| e.contains("not installed")));

    let response = app.get_with(&client, &format!("/videos/{id}/media/original")).await;
    assert_eq!(response.status().as_u16(), 200, "the original still plays");
    let page = app.page_with(&client, &format!("/videos/{id}")).await;
    assert!(page.has("video source[src$='/media/original']"));
    assert!(page.text.contains("plays as it was uploaded"));
    assert!(
        !page.text.contains("apt-get"),
        "students are not told to install things"
    );

    let (staff_id, staff) = app.user_client("staff_sia", "coach").await;
    app.make_staff(staff_id);
    for path in ["/videos".to_owned(), format!("/videos/{id}")] {
        let page = app.page_with(&staff, &path).await;
        let notice = page.select_text(".notice-warning").join(" ");
        assert!(notice.contains("apt-get install ffmpeg"), "{path}: {notice}");
    }
}

#[actix_web::test]
async fn the_worker_marks_a_file_ffprobe_cannot_read_as_invalid() {
    // A web node without ffprobe takes the file on its first bytes; the
    // worker, which has it, finds the file is no video.
    let app = spawn_app_with(&[("PRACTIKA_FFPROBE", "/nonexistent/ffprobe")]).await;
    let (_, client) = app.user_client("corrupt_cora", "student").await;
    let id = app.upload_ok(&client, corrupt_mp4(), "corrupt.mp4").await;
    let settings = test_settings(&app.db.url, app.dir.path(), &app.mail.url());
    let worker = new_worker(app.pool.clone(), &settings, "full-worker");
    let report = worker.run_once().await.expect("worker").expect("job");
    assert_eq!(report.outcome, Outcome::Done, "the job did its work: the verdict is in");
    let asset = app.asset(id);
    assert!(!asset.is_valid);
    assert_eq!(asset.processing_status, "failed");
    let problems = asset.validation_errors();
    assert!(
        problems.iter().any(|p| p.contains("could not be read as a video")),
        "{problems:?}"
    );
    assert!(asset.processing_error.is_some());
    let page = app.page_with(&client, &format!("/videos/{id}")).await;
    assert!(page
        .select_text(".notice-error li")
        .iter()
        .any(|p| p.contains("could not be read")));
    assert!(!page.has("video"));
    assert_eq!(
        app.get_with(&client, &format!("/videos/{id}/media/original"))
            .await
            .status()
            .as_u16(),
        404
    );
}

#[actix_web::test]
async fn revalidation_notices_a_changed_or_missing_file() {
    let app = spawn_app().await;
    let (_, client) = app.user_client("keeper_kim", "student").await;
    let id = app.upload_ok(&client, sample_bytes(Sample::Small), "kept.mp4").await;
    app.run_jobs().await;
    let worker = app.worker();
    let file = app.media_dir().join(app.asset(id).storage_path.expect("path"));
    let original = std::fs::read(&file).expect("file");

    let validation = processing::revalidate(worker.context(), id).await.expect("revalidate");
    assert!(validation.is_valid, "{validation:?}");
    let checked_at = app.asset(id).last_validated;

    let mut changed = original.clone();
    changed.extend_from_slice(b"tampered");
    std::fs::write(&file, &changed).expect("tamper");
    actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    let validation = processing::revalidate(worker.context(), id).await.expect("revalidate");
    assert!(!validation.is_valid);
    let asset = app.asset(id);
    assert!(!asset.is_valid && asset.last_validated > checked_at);
    assert!(asset.validation_errors().iter().any(|e| e.contains("checksum differs")));
    assert_eq!(
        app.get_with(&client, &format!("/videos/{id}/media/original"))
            .await
            .status()
            .as_u16(),
        404
    );

    // Restored: valid again, here through the job staff pages will queue.
    std::fs::write(&file, &original).expect("restore");
    queries::request_revalidation(&mut app.conn(), id).expect("queue");
    let report = worker.run_once().await.expect("worker").expect("job");
    assert_eq!(
        (report.kind.as_str(), report.outcome),
        (kinds::REVALIDATE_VIDEO, Outcome::Done)
    );
    assert!(app.asset(id).is_valid);

    std::fs::remove_file(&file).expect("remove");
    let validation = processing::revalidate(worker.context(), id).await.expect("revalidate");
    assert_eq!(validation.problems, vec!["The stored file is missing.".to_owned()]);
    assert!(!app.asset(id).is_valid);
}

#[actix_web::test]
async fn a_video_is_renamed_by_whoever_may_edit_it_and_by_nobody_else() {
    let app = spawn_app().await;
    let (_, owner) = app.user_client("owner_olga", "coach").await;
    let (_, other) = app.user_client("other_otto", "student").await;
    let (staff_id, staff) = app.user_client("staff_sam", "admin").await;
    app.make_staff(staff_id);
    let id = app
        .upload_ok(&owner, sample_bytes(Sample::Small), "Scales, take 3.MOV")
        .await;
    let page = page_of(&app, &owner, &format!("/videos/{id}")).await;
    assert_eq!(page.select_text("h1"), ["Scales, take 3"]);
    assert_eq!(page.attr("input#title", "value").as_deref(), Some("Scales, take 3"));
    assert!(page.text.contains("Scales, take 3.MOV"), "the file name is a detail");

    // Bad input: a clear message, the typed value again, nothing changed.
    for (typed, message) in [("   ", "Give the video a title."), (&*"x".repeat(256), "at most 255")] {
        let response = app
            .post_form_with(&owner, &format!("/videos/{id}/title"), &[("title", typed)])
            .await;
        assert_eq!(response.status().as_u16(), 422);
        let body = response.text().await.expect("body");
        assert!(body.contains(message), "{typed:?}");
    }
    assert_eq!(app.asset(id).title.as_deref(), Some("Scales, take 3"));

    let response = app
        .post_form_with(&owner, &format!("/videos/{id}/title"), &[("title", "  Scales in G  ")])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(app.asset(id).title.as_deref(), Some("Scales in G"));

    // Someone who cannot see it: as if it did not exist.
    let response = app
        .post_form_with(&other, &format!("/videos/{id}/title"), &[("title", "Mine now")])
        .await;
    assert_eq!(response.status().as_u16(), 404);
    // Staff may.
    let response = app
        .post_form_with(&staff, &format!("/videos/{id}/title"), &[("title", "Scales (staff)")])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(app.asset(id).title.as_deref(), Some("Scales (staff)"));

    // Once attached to an exercise everyone sees it, but only its owner and staff rename it.
    practika::exercises::queries::create(
        &mut app.conn(),
        app.asset(id).uploaded_by_id.expect("uploader"),
        &practika::exercises::queries::Draft {
            name: "Scales".into(),
            description: None,
            video_asset_id: id,
        },
    )
    .map_err(|_| "could not create the exercise")
    .expect("exercise");
    let seen = page_of(&app, &other, &format!("/videos/{id}")).await;
    assert_eq!(seen.status, 200);
    assert!(!seen.has("input#title"), "no form for someone who may not rename it");
    let response = app
        .post_form_with(&other, &format!("/videos/{id}/title"), &[("title", "Mine now")])
        .await;
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(app.asset(id).title.as_deref(), Some("Scales (staff)"));
}

/// The first 4 KiB of a faststart MP4, and its first half: both pass
/// ffprobe (the index is at the front), neither can be decoded to the end.
fn truncated(kind: Sample) -> [(&'static str, Vec<u8>); 2] {
    let whole = sample_bytes(kind);
    [
        ("the first 4 KiB", whole[..4096].to_vec()),
        ("the first half", whole[..whole.len() / 2].to_vec()),
    ]
}

#[actix_web::test]
async fn a_truncated_upload_is_refused_at_once_and_nothing_is_kept() {
    let app = spawn_app().await;
    let (_, client) = app.user_client("cut_short", "student").await;
    for (what, bytes) in truncated(Sample::Hd) {
        let response = app.upload_with(&client, bytes, "cut.mp4").await;
        assert_eq!(response.status().as_u16(), 422, "{what}");
        let body = response.text().await.expect("body");
        assert!(body.contains("damaged or incomplete"), "{what}: {body}");
        assert_nothing_kept(&app);
    }
}

/// A truncated file that reached storage anyway (a web node without
/// ffmpeg took it on its first bytes, or the Django app stored it): the
/// worker decodes it before "ready", marks it invalid with the reason in
/// one attempt (no retries: it would fail again), and removes the original.
#[actix_web::test]
async fn the_worker_decode_checks_before_ready_and_does_not_retry_a_damaged_file() {
    let app = app_without_ffmpeg().await;
    let (_, client) = app.user_client("half_hal", "student").await;
    let settings = test_settings(&app.db.url, app.dir.path(), &app.mail.url());
    let worker = new_worker(app.pool.clone(), &settings, "full-worker");
    for (what, bytes) in truncated(Sample::Hd) {
        let id = app.upload_ok(&client, bytes, "cut.mp4").await;
        assert_eq!(app.media_files().len(), 1, "{what}: taken on its first bytes");
        let report = worker.run_once().await.expect("worker").expect("job");
        assert_eq!(report.outcome, Outcome::Done, "{what}: one attempt, the verdict is in");
        let job = app.jobs_of(kinds::PROCESS_VIDEO).pop().expect("job");
        assert_eq!((job.status.as_str(), job.attempts), ("done", 1), "{what}");
        let asset = app.asset(id);
        assert!(!asset.is_valid, "{what}");
        assert_eq!(asset.processing_status, "failed", "{what}");
        assert!(
            asset
                .validation_errors()
                .iter()
                .any(|p| p.contains("damaged or incomplete")),
            "{what}: {:?}",
            asset.validation_errors()
        );
        assert_eq!(asset.storage_path, None, "{what}: the original is forgotten");
        assert!(
            app.media_files().is_empty(),
            "{what}: and removed: {:?}",
            app.media_files()
        );
        let page = app.page_with(&client, &format!("/videos/{id}")).await;
        assert!(page
            .select_text(".notice-error li")
            .iter()
            .any(|p| p.contains("upload the whole file again")));
        assert!(!page.has("video"), "{what}: no player for it");
    }
    assert_eq!(
        worker.run_once().await.expect("worker").map(|r| r.job_id),
        None,
        "nothing left to retry"
    );
}

/// While a job is being retried (a failure that may pass: here the encoder
/// crashes), the page and its status poll say so instead of "Waiting".
#[actix_web::test]
async fn a_video_whose_processing_is_retried_says_so() {
    let app = spawn_app().await;
    let (_, client) = app.user_client("retry_rita", "student").await;
    let id = app.upload_ok(&client, sample_bytes(Sample::Small), "fine.mp4").await;
    // An ffmpeg that decodes (the check passes) but crashes when encoding.
    let script = app.dir.path().join("crashing-ffmpeg");
    std::fs::write(
        &script,
        "#!/bin/sh\ncase \"$*\" in *\"-f null\"*) exec ffmpeg \"$@\";; esac\necho 'simulated encoder crash' >&2\nexit 1\n",
    )
    .expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut settings = app.settings.clone();
    settings.ffmpeg = script.display().to_string();
    let report = new_worker(app.pool.clone(), &settings, "crashing-worker")
        .run_once()
        .await
        .expect("worker")
        .expect("job");
    assert!(matches!(report.outcome, Outcome::Retrying(_)), "{:?}", report.outcome);
    let asset = app.asset(id);
    assert!(asset.is_valid, "an encoder crash says nothing about the file");
    assert_eq!(asset.processing_status, "pending");
    let page = app.page_with(&client, &format!("/videos/{id}")).await;
    assert_eq!(
        page.select_text("#video-status-label"),
        ["Processing failed; trying again shortly"]
    );
    let status: serde_json::Value = app
        .get_with(&client, &format!("/videos/{id}/status"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(status["label"], "Processing failed; trying again shortly");
    assert_eq!(status["settled"], false);
    // The retry (with a working ffmpeg) makes it ready.
    app.make_jobs_due();
    app.run_jobs().await;
    assert_eq!(app.asset(id).processing_status, "ready");
}

/// A recording whose frames share timestamps (MediaRecorder on a busy
/// machine) decodes to the end: the check once refused it, "non
/// monotonically increasing dts", though nothing in it is damaged.
#[actix_web::test]
async fn a_recording_with_frames_that_share_a_timestamp_passes_the_decode_check() {
    let path = crate::media_fixtures::shared_timestamps_video();
    let tools = practika::media::tools::Tools {
        ffmpeg: "ffmpeg".to_owned(),
        ffprobe: "ffprobe".to_owned(),
    };
    practika::media::probe::decode_check(&tools, &path, "recording.webm", Some(1.0))
        .await
        .expect("a good recording");
}
