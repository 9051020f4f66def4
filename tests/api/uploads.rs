//! Uploads under load and faults: slow bodies cannot stall the site and
//! are cut below the minimum rate; caps per user and per node; a full
//! disk; each node's partial files.

use std::sync::Arc;
use std::time::Duration;

use crate::helpers::{new_client, spawn_app_on_with, spawn_app_with, TestDb};
use crate::media_fixtures::{eventually, sample_bytes, Sample};
use crate::slow_upload::{log_in, SlowUpload};

/// A client that gives up after `seconds`: "answers promptly", with a
/// timeout generous enough for a busy machine, not a benchmark.
fn patient_client(seconds: u64) -> reqwest::Client {
    crate::helpers::client_builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(seconds))
        .build()
        .expect("client")
}

/// Many uploads trickling in at once (more than there are threads for
/// blocking work) while someone browses the library: the library still
/// answers. Before, each upload held a blocking thread and the database
/// queries waited behind them.
#[actix_web::test]
async fn many_slow_uploads_do_not_stall_the_library() {
    let app = spawn_app_with(&[
        // Few blocking threads, so that a handful of uploads would use them up.
        ("PRACTIKA_BLOCKING_THREADS", "2"),
        ("PRACTIKA_UPLOADS_PER_USER", "40"),
        ("PRACTIKA_UPLOADS_PER_NODE", "40"),
        // Slow but not cut off while the test runs.
        ("PRACTIKA_UPLOAD_MIN_RATE_KB", "1"),
        ("PRACTIKA_UPLOAD_RATE_WINDOW_SECS", "600"),
    ])
    .await;
    let uploader = log_in(&app, "trickler").await;
    let mut uploads = Vec::new();
    for _ in 0..24 {
        uploads.push(SlowUpload::start(&app, &uploader, 16, Duration::from_millis(200)).await);
    }
    eventually(20, "24 uploads in progress", || app.upload_tmp_files().len() == 24).await;

    let reader = patient_client(15);
    app.create_user("reader", crate::helpers::GOOD_PASSWORD, "student");
    let response = app.login_with(&reader, "reader", crate::helpers::GOOD_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303, "logging in works meanwhile");
    for path in ["/exercises", "/exercises?q=scales", "/videos", "/account"] {
        let response = reader.get(app.url(path)).send().await.unwrap_or_else(|e| {
            panic!("{path} did not answer while uploads trickled in: {e}");
        });
        assert_eq!(response.status().as_u16(), 200, "{path}");
    }
    assert_eq!(app.upload_tmp_files().len(), 24, "the uploads were still in flight");
    for upload in uploads {
        upload.abandon();
    }
    eventually(20, "abandoned uploads leave nothing", || {
        app.upload_tmp_files().is_empty()
    })
    .await;
}

/// A body slower than the minimum rate is cut with a 408 (JSON for the
/// upload script), and its partial file is removed.
#[actix_web::test]
async fn an_upload_slower_than_the_minimum_rate_is_cut_with_a_408() {
    let app = spawn_app_with(&[
        ("PRACTIKA_UPLOAD_MIN_RATE_KB", "8"),
        ("PRACTIKA_UPLOAD_RATE_WINDOW_SECS", "1"),
    ])
    .await;
    let who = log_in(&app, "dripping").await;
    // About 1 KB/s.
    let upload = SlowUpload::start(&app, &who, 100, Duration::from_millis(100)).await;
    let (status, body) = upload.response(Duration::from_secs(20)).await;
    assert_eq!(status, 408, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["ok"], false);
    assert!(
        body["errors"][0].as_str().is_some_and(|e| e.contains("too slowly")),
        "{body}"
    );
    eventually(10, "the partial upload is removed", || {
        app.upload_tmp_files().is_empty()
    })
    .await;
    assert!(app.media_files().is_empty());
    assert_eq!(app.count("core_videoasset"), 0);
}

/// Uploads in progress are capped per user and per node: past a cap, a
/// 503 with Retry-After before the body is read; nothing is kept.
#[actix_web::test]
async fn uploads_are_capped_per_user_and_per_node_with_a_503() {
    let app = spawn_app_with(&[
        ("PRACTIKA_UPLOADS_PER_USER", "2"),
        ("PRACTIKA_UPLOADS_PER_NODE", "3"),
        ("PRACTIKA_UPLOAD_MIN_RATE_KB", "1"),
        ("PRACTIKA_UPLOAD_RATE_WINDOW_SECS", "600"),
    ])
    .await;
    let ann = log_in(&app, "ann_uploads").await;
    let first = SlowUpload::start(&app, &ann, 16, Duration::from_millis(200)).await;
    let second = SlowUpload::start(&app, &ann, 16, Duration::from_millis(200)).await;
    eventually(20, "two uploads in progress", || app.upload_tmp_files().len() == 2).await;

    // A third of Ann's: refused, told to come back.
    let ann_client = new_client();
    app.login_with(&ann_client, "ann_uploads", crate::helpers::GOOD_PASSWORD)
        .await;
    let token = app.csrf_token_with(&ann_client).await;
    let post = |client: &reqwest::Client, token: &str| {
        client
            .post(app.url(&format!("/videos?csrf_token={token}")))
            .header("accept", "application/json")
            .multipart(reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::bytes(sample_bytes(Sample::Small)).file_name("third.mp4"),
            ))
            .send()
    };
    let response = post(&ann_client, &token).await.expect("POST");
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(crate::media_fixtures::header(&response, "retry-after"), "30");
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert!(
        body["errors"][0]
            .as_str()
            .is_some_and(|e| e.contains("2 uploads in progress")),
        "{body}"
    );

    // Bob's first goes through (the node has room for one more)...
    let (_, bob_client) = app.user_client("bob_uploads", "student").await;
    let token = app.csrf_token_with(&bob_client).await;
    let response = post(&bob_client, &token).await.expect("POST");
    assert_eq!(
        response.status().as_u16(),
        200,
        "{}",
        response.text().await.unwrap_or_default()
    );
    // ...and with the node full (Dan's upload takes the last slot), Cleo
    // is turned away.
    let third = SlowUpload::start(&app, &log_in(&app, "dan_uploads").await, 16, Duration::from_millis(200)).await;
    eventually(20, "three uploads in progress", || app.upload_tmp_files().len() == 3).await;
    let (_, cleo_client) = app.user_client("cleo_uploads", "student").await;
    let token = app.csrf_token_with(&cleo_client).await;
    let response = post(&cleo_client, &token).await.expect("POST");
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(crate::media_fixtures::header(&response, "retry-after"), "30");
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert!(
        body["errors"][0].as_str().is_some_and(|e| e.contains("many uploads")),
        "{body}"
    );
    assert_eq!(app.count("core_videoasset"), 1, "only Bob's was kept");

    // Slots are given back when uploads end.
    for upload in [first, second, third] {
        upload.abandon();
    }
    eventually(20, "the slots are free again", || app.upload_tmp_files().is_empty()).await;
    let token = app.csrf_token_with(&cleo_client).await;
    let response = post(&cleo_client, &token).await.expect("POST");
    assert_eq!(response.status().as_u16(), 200);
}

/// With less free space than the upload and the reserve need, the upload
/// is refused before it is read: 507, JSON for the script, a page for the
/// form, nothing kept; the dashboard shows the free space and warns.
#[actix_web::test]
async fn a_full_disk_answers_507_and_the_dashboard_warns() {
    // A reserve larger than any disk: every upload finds the disk "full".
    let app = spawn_app_with(&[("PRACTIKA_DISK_RESERVE_MB", "1000000000")]).await;
    let (id, client) = app.user_client("full_disk", "student").await;
    let token = app.csrf_token_with(&client).await;
    let response = client
        .post(app.url(&format!("/videos?csrf_token={token}")))
        .header("accept", "application/json")
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(sample_bytes(Sample::Small)).file_name("big.mp4"),
        ))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 507);
    assert!(crate::media_fixtures::header(&response, "content-type").starts_with("application/json"));
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["ok"], false);
    assert!(
        body["errors"][0]
            .as_str()
            .is_some_and(|e| e.contains("storage is full")),
        "{body}"
    );
    let response = app.upload_with(&client, sample_bytes(Sample::Small), "big.mp4").await;
    assert_eq!(response.status().as_u16(), 507);
    let page = response.text().await.expect("body");
    assert!(page.contains("storage is full"), "the form says it too");
    assert!(app.upload_tmp_files().is_empty() && app.media_files().is_empty());
    assert_eq!(app.count("core_videoasset"), 0);

    app.make_staff(id);
    let dashboard = app.page_with(&client, "/staff").await;
    assert!(dashboard.has("#disk dd"), "the free space is shown");
    assert!(dashboard
        .select_text("#disk-warning")
        .iter()
        .any(|t| t.contains("uploads are refused")));

    // A disk with room: the free space, and no warning.
    let roomy = spawn_app_with(&[("PRACTIKA_DISK_WARN_MB", "0")]).await;
    roomy.create_staff("roomy_boss", crate::helpers::GOOD_PASSWORD);
    let client = new_client();
    roomy
        .login_with(&client, "roomy_boss", crate::helpers::GOOD_PASSWORD)
        .await;
    let dashboard = roomy.page_with(&client, "/staff").await;
    assert!(dashboard
        .select_text("#disk dd")
        .first()
        .is_some_and(|free| free.ends_with('B')));
    assert!(!dashboard.has("#disk-warning"));
}

/// A node that starts removes its own partial uploads at once (a crash
/// left them; none can be in use), and other nodes' only once stale.
#[actix_web::test]
async fn a_starting_node_removes_its_own_partial_uploads_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tmp = dir.path().join("tmp");
    let originals = dir.path().join("media/originals");
    std::fs::create_dir_all(&tmp).expect("tmp");
    std::fs::create_dir_all(&originals).expect("originals");
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    let write = |path: std::path::PathBuf, old: bool| {
        std::fs::write(&path, b"partial").expect("write");
        if old {
            std::fs::File::options()
                .write(true)
                .open(&path)
                .expect("open")
                .set_modified(hour_ago)
                .expect("age");
        }
        path
    };
    let mine = write(tmp.join("upload-web-a.0123.part"), false);
    let mine_staged = write(originals.join(".x.mp4.web-a~0456.part"), false);
    let busy_neighbour = write(tmp.join("upload-web-b.0789.part"), false);
    let gone_neighbour = write(tmp.join("upload-web-c.0abc.part"), true);

    let db = TestDb::create(dir.path());
    let mut conn = practika::db::establish(&db.url).expect("connect");
    practika::db::migrations::run(&mut conn).expect("migrate");
    drop(conn);
    let app = spawn_app_on_with(Arc::new(db), Arc::new(dir), &[("PRACTIKA_NODE_ID", "web-a")]).await;
    assert!(
        !mine.exists() && !mine_staged.exists(),
        "this node's leftovers go at once"
    );
    assert!(!gone_neighbour.exists(), "a stale one of a node that is gone goes");
    assert!(busy_neighbour.exists(), "another live node's upload stays");

    // And this node's uploads carry its id.
    let who = log_in(&app, "named").await;
    let upload = SlowUpload::start(&app, &who, 16, Duration::from_millis(200)).await;
    eventually(20, "an upload in progress", || app.upload_tmp_files().len() == 2).await;
    assert!(
        app.upload_tmp_files().iter().any(|f| f.starts_with("upload-web-a.")),
        "{:?}",
        app.upload_tmp_files()
    );
    upload.abandon();
}
