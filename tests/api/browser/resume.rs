//! Resumable uploads in Chromium: a throttled upload on the upload form is
//! cut by a page reload half-way; the same file chosen again resumes where
//! the server stopped, the form says "Resuming at NN %", and the video ends
//! with the SHA-256 of the file. And the comment edit page's uploader: an
//! attempt's video added on edit, then replaced.

use diesel::prelude::*;
use practika::comments::queries::{self as comments, Draft};
use practika::db::schema::{comments_videocomment, videos_upload};
use practika::db::Id;
use practika::exercises::queries::{self as exercises, Draft as ExerciseDraft};
use serde_json::json;

use super::{BrowserApp, Tab};
use crate::media_fixtures::{sample, sample_bytes, sha256_hex, Sample};

/// A real MP4 followed by a `free` box of zeros: a valid video of `size`
/// bytes, big enough to be cut half-way.
fn padded_mp4(size: usize) -> Vec<u8> {
    let mut bytes = sample_bytes(Sample::Small);
    let padding = size - bytes.len();
    bytes.extend_from_slice(&u32::try_from(padding).expect("a small box").to_be_bytes());
    bytes.extend_from_slice(b"free");
    bytes.resize(size, 0);
    bytes
}

/// The offsets the server has recorded, one per upload row.
fn recorded_offsets(browser: &BrowserApp) -> Vec<i64> {
    videos_upload::table
        .select(videos_upload::upload_offset)
        .load(&mut *browser.app.conn())
        .expect("the upload rows")
}

#[actix_web::test]
async fn a_reloaded_upload_resumes_where_it_stopped_and_says_so() {
    let Some(browser) = BrowserApp::start("resume").await else {
        return;
    };
    let app = &browser.app;
    app.create_user("rosa", crate::helpers::GOOD_PASSWORD, "student");
    let size = 6 * 1024 * 1024;
    let bytes = padded_mp4(size);
    let dir = tempfile::tempdir().expect("a folder for the file");
    let file = dir.path().join("long take.mp4");
    std::fs::write(&file, &bytes).expect("the file");

    let tab = browser.tab("student").await;
    tab.log_in("rosa").await;
    tab.goto("/videos/new").await;
    tab.throttle_upload(512 * 1024).await;
    tab.upload("Video file", &file).await;
    tab.press_button("Upload").await;
    // The server records its progress as the bytes arrive (every 2 s).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while recorded_offsets(&browser).first().copied().unwrap_or_default() < 1024 * 1024 {
        assert!(std::time::Instant::now() < deadline, "the server recorded no progress");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // A reload in the middle: the request is cut, and the server keeps what
    // arrived (its offset settles).
    tab.goto("/videos/new").await;
    let mut kept = recorded_offsets(&browser);
    loop {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(700)).await;
        let now = recorded_offsets(&browser);
        if now == kept {
            break;
        }
        kept = now;
    }
    assert_eq!(kept.len(), 1, "one upload");
    let offset = kept[0];
    assert!(offset > 0 && offset < size as i64, "cut half-way: {offset} of {size}");
    let expected = offset * 100 / size as i64;

    tab.throttle_upload(512 * 1024).await;
    tab.upload("Video file", &file).await;
    tab.press_button("Upload").await;
    tab.wait_for_text("Resuming at ", 20).await;
    let detail = tab
        .js("return document.getElementById('upload-detail').textContent;", vec![])
        .await;
    let said = detail.as_str().unwrap_or_default().to_owned();
    assert!(
        said.starts_with(&format!("Resuming at {expected} %")),
        "the form says where it resumes ({expected} %): {said:?}"
    );
    tab.check_page("upload-resuming").await;
    // The speed shown counts only what this page sent: the first progress
    // event of a resume already reports the bytes kept on the server. On a
    // clock the test drives: 40 MB "sent" at once, then 1 MiB in a second.
    let speeds = tab
        .js_async(
            "const done = arguments[arguments.length - 1];
             import('/static/js/uploader.js').then((m) => {
               let t = 0;
               const meter = m.rateMeter(() => t);
               meter.sample(40e6); t = 1000; meter.sample(40e6 + 1048576);
               const resumed = Math.round(meter.perSecond());
               meter.sample(2e6); t = 2000; meter.sample(2e6 + 524288);
               done([resumed, Math.round(meter.perSecond()), m.formatBytes(1048576)]);
             }, (e) => done(String(e)));",
            vec![],
        )
        .await;
    assert_eq!(
        speeds,
        // After the step back: 0.7 × 1 MiB/s + 0.3 × 0.5 MiB/s.
        serde_json::json!([1048576, 891290, "1.0 MiB"]),
        "a resume's kept bytes and a retry's step back are not counted as speed"
    );
    tab.throttle_upload(0).await;
    tab.wait_until(
        "the new video's page",
        60,
        "return /^\\/videos\\/[0-9a-f-]{36}$/.test(location.pathname);",
    )
    .await;
    let video: Id = tab
        .path()
        .await
        .trim_start_matches("/videos/")
        .parse()
        .expect("the video's id");
    let asset = app.asset(video);
    assert_eq!(
        asset.checksum_sha256.as_deref(),
        Some(sha256_hex(&bytes).as_str()),
        "the stored video is the file, byte for byte"
    );
    assert_eq!(asset.size_bytes, Some(size as i64));
    assert_eq!(app.count("videos_upload"), 1, "the same upload went on, no second one");
    app.assert_stored_as(video, &bytes);
    browser.wait_for_processing(video).await;
    browser.finish(vec![tab]).await;
}

/// Chooses `file` in the edit page's "Upload a new video" and saves once
/// it is uploaded and chosen.
async fn upload_on_edit(tab: &Tab, comment: Id, file: &std::path::Path) {
    tab.goto(&format!("/comments/{comment}/edit")).await;
    tab.upload("Upload a new video", file).await;
    tab.wait_for_text("It is chosen below.", 60).await;
    tab.press_button("Save").await;
    tab.wait_for_text("The comment is saved.", 15).await;
}

fn video_of(browser: &BrowserApp, comment: Id) -> Id {
    comments_videocomment::table
        .find(comment)
        .select(comments_videocomment::video_asset_id)
        .first(&mut *browser.app.conn())
        .expect("the comment")
}

#[actix_web::test]
async fn the_edit_page_adds_and_replaces_an_attempts_video() {
    let Some(browser) = BrowserApp::start("edit-upload").await else {
        return;
    };
    let app = &browser.app;
    let (coach_id, coach_client) = app.user_client("cleo", "coach").await;
    let (student_id, _) = app.user_client("ed", "student").await;
    let demo = app
        .upload_ok(&coach_client, sample_bytes(Sample::Player), "Scales.mp4")
        .await;
    let exercise = exercises::create(
        &mut app.conn(),
        coach_id,
        &ExerciseDraft {
            name: "Scales".into(),
            description: None,
            video_asset_id: demo,
        },
    )
    .map_err(|_| "the exercise could not be made")
    .expect("exercise");
    let comment = comments::create(
        &mut app.conn(),
        student_id,
        &exercise,
        &Draft {
            text: Some("I will add my attempt".into()),
            ..Draft::default()
        },
    )
    .expect("a comment without a video")
    .id;
    assert_eq!(video_of(&browser, comment), demo, "no attempt of its own yet");

    let tab = browser.tab("student").await;
    tab.log_in("ed").await;
    upload_on_edit(&tab, comment, &sample(Sample::Small)).await;
    let added = video_of(&browser, comment);
    assert_ne!(added, demo, "the attempt was added on edit");
    let asset = app.asset(added);
    assert_eq!(asset.uploaded_by_id, Some(student_id));
    assert_eq!(
        asset.checksum_sha256.as_deref(),
        Some(sha256_hex(&sample_bytes(Sample::Small)).as_str())
    );

    tab.goto(&format!("/comments/{comment}/edit")).await;
    let chosen = tab
        .js("return document.getElementById('video_id').value;", vec![])
        .await;
    assert_eq!(
        chosen,
        json!(added.to_string()),
        "the edit page shows the attempt chosen"
    );
    tab.check_page("comment-edit").await;
    upload_on_edit(&tab, comment, &sample(Sample::Hd)).await;
    let replaced = video_of(&browser, comment);
    assert_ne!(replaced, added, "the attempt's video was replaced");
    assert_eq!(
        app.asset(replaced).checksum_sha256.as_deref(),
        Some(sha256_hex(&sample_bytes(Sample::Hd)).as_str())
    );
    assert_eq!(app.count("videos_upload"), 2, "both went through the resumable path");
    browser.finish(vec![tab]).await;
}
