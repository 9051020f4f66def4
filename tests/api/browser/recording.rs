//! Recording an attempt in Chromium with its fake camera: the A–B range
//! of the demonstration, the count-in, a take, a retake, keep, the
//! resumable upload and the post; the attempt is processed, plays and is
//! pinned to the range that was playing. And the videos page's batch of
//! dropped files, one of them cancelled.

use diesel::prelude::*;
use practika::db::schema::comments_videocomment;
use practika::db::Id;
use practika::exercises::queries::{self as exercises, Draft as ExerciseDraft};
use serde_json::json;

use super::{BrowserApp, Tab};
use crate::media_fixtures::{sample, Sample};

/// Seeks the demonstration to `at` and presses the player's Set A or B.
async fn mark(tab: &Tab, at: f64, button: &str) {
    tab.js_async(
        "const [at, done] = arguments; const v = document.querySelector('[data-demo]');
         v.addEventListener('seeked', () => done(true), { once: true }); v.currentTime = at;",
        vec![json!(at)],
    )
    .await;
    tab.press_button(button).await;
}

/// One take: the count-in, about three seconds of recording, Stop.
async fn take(tab: &Tab) {
    tab.wait_until(
        "the count-in to start recording",
        10,
        "return document.querySelector('[data-record-count]').textContent === 'Recording…';",
    )
    .await;
    actix_web::rt::time::sleep(std::time::Duration::from_secs(3)).await;
    tab.press_button("Stop").await;
    tab.wait_until(
        "the take to be shown for review",
        10,
        "const r = document.querySelector('[data-record-review]'); return !r.hidden && !!r.src;",
    )
    .await;
}

#[actix_web::test]
async fn a_student_records_retakes_and_posts_an_attempt_pinned_to_the_range() {
    let Some(browser) = BrowserApp::start("recording").await else {
        return;
    };
    let app = &browser.app;
    let (coach_id, coach_client) = app.user_client("rhea", "coach").await;
    app.create_user("sam", crate::helpers::GOOD_PASSWORD, "student");
    let video = browser
        .processed_video(&coach_client, Sample::Player, "Arpeggios.mp4")
        .await;
    let exercise = exercises::create(
        &mut app.conn(),
        coach_id,
        &ExerciseDraft {
            name: "Arpeggios".into(),
            description: None,
            video_asset_id: video.id,
        },
    )
    .map_err(|_| "the exercise could not be made")
    .expect("exercise");

    let student = browser.tab("student").await;
    student.log_in("sam").await;
    student.goto(&format!("/exercises/{}", exercise.id)).await;
    mark(&student, 1.0, "Set A").await;
    mark(&student, 3.0, "Set B").await;
    // Open while the thread is empty.
    assert_eq!(
        student
            .js("return document.querySelector('details.compose').open;", vec![])
            .await,
        json!(true)
    );
    student.press_button("Record my attempt").await;
    student
        .wait_for_text("The demonstration loops 1.00 s – 3.00 s", 10)
        .await;
    student.check_page("recorder").await;
    student.press_button("Start recording").await;
    take(&student).await;
    student.press_button("Retake").await;
    take(&student).await;
    let looping = student
        .js("return document.querySelector('[data-demo]').currentTime;", vec![])
        .await
        .as_f64()
        .unwrap_or_default();
    assert!(
        (0.9..=3.1).contains(&looping),
        "the demonstration played inside A–B: {looping}"
    );
    student.press_button("Keep this take").await;
    student.wait_for_text("It is chosen below.", 60).await;
    let range = student
        .js(
            "return [document.getElementById('range_start').value, document.getElementById('range_end').value];",
            vec![],
        )
        .await;
    assert_eq!(range, json!(["1.00", "3.00"]), "pinned to the range that was playing");
    student.press_button("Post").await;
    student
        .wait_until(
            "the attempt on the thread",
            15,
            "return !!document.querySelector('.thread-entry video');",
        )
        .await;
    student.check_page("posted-attempt").await;

    let (attempt, start, end): (Id, Option<f64>, Option<f64>) = comments_videocomment::table
        .filter(comments_videocomment::exercise_id.eq(exercise.id))
        .select((
            comments_videocomment::video_asset_id,
            comments_videocomment::range_start,
            comments_videocomment::range_end,
        ))
        .first(&mut *app.conn())
        .expect("the posted attempt");
    assert_eq!((start, end), (Some(1.0), Some(3.0)));
    let processed = browser.wait_for_processing(attempt).await;
    let seconds = processed.duration_sec.unwrap_or_default();
    assert!(
        (2..=5).contains(&seconds),
        "one take of about 3 s was kept: {seconds} s"
    );
    assert_eq!(app.count("videos_upload"), 1, "its upload row stays until it expires");

    // It plays on the thread.
    student.goto(&format!("/exercises/{}", exercise.id)).await;
    let played = student
        .js_async(
            "const [id, done] = arguments;
             const v = [...document.querySelectorAll('video')].find((v) => v.currentSrc.includes(id) || [...v.querySelectorAll('source')].some((s) => s.src.includes(id)));
             if (!v) { done('no video of the attempt'); return; }
             v.muted = true;
             v.play().then(() => setTimeout(() => done(v.currentTime > 0.2 ? 'played' : 'stuck at ' + v.currentTime), 1500), (e) => done(String(e)));",
            vec![json!(attempt.to_string())],
        )
        .await;
    assert_eq!(played, json!("played"));
    browser.finish(vec![student]).await;
}

/// A coach drops three files on the videos page and cancels one: two
/// videos are made, the cancelled upload leaves nothing.
#[actix_web::test]
async fn a_dropped_batch_uploads_each_file_and_one_is_cancelled() {
    let Some(browser) = BrowserApp::start("dropzone").await else {
        return;
    };
    let app = &browser.app;
    app.create_user("dora", crate::helpers::GOOD_PASSWORD, "coach");
    let coach = browser.tab("coach").await;
    coach.log_in("dora").await;
    coach.goto("/videos").await;
    coach.throttle_upload(40 * 1024).await;
    let files: Vec<String> = [Sample::Small, Sample::Hd, Sample::Player]
        .iter()
        .map(|s| sample(*s).display().to_string())
        .collect();
    // A drop as the browser delivers it: files read into a DataTransfer.
    coach
        .js(
            "const input = document.createElement('input');
             input.type = 'file'; input.multiple = true; input.id = 'test-drop-source';
             document.body.append(input);",
            vec![],
        )
        .await;
    let source = coach
        .client
        .find(fantoccini::Locator::Id("test-drop-source"))
        .await
        .expect("the drop source");
    source.send_keys(&files.join("\n")).await.expect("choose the files");
    coach
        .js(
            "const input = document.getElementById('test-drop-source');
             const data = new DataTransfer();
             for (const file of input.files) { data.items.add(file); }
             document.querySelector('[data-dropzone]').dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
             input.remove();",
            vec![],
        )
        .await;
    // Two at a time: the third waits its turn.
    coach.wait_for_text("Waiting…", 5).await;
    coach
        .wait_until(
            "the second upload to be under way",
            20,
            "const bars = document.querySelectorAll('.upload-item progress'); return bars.length === 3 && bars[1].value > 0;",
        )
        .await;
    let cancel = coach
        .button(&format!("Cancel the upload of {}", file_name(&files[1])))
        .await;
    coach.click(&cancel, "Cancel").await;
    coach.wait_for_text("Cancelled. Nothing was kept.", 5).await;
    coach.throttle_upload(0).await;
    coach
        .wait_until(
            "two uploads to finish",
            90,
            "return document.querySelectorAll('.upload-done').length === 2;",
        )
        .await;
    coach.check_page("videos-batch").await;
    assert_eq!(app.count("core_videoasset"), 2);
    assert_eq!(app.count("videos_upload"), 2, "the cancelled upload was terminated");
    assert!(app.upload_tmp_files().is_empty(), "{:?}", app.upload_tmp_files());
    browser.finish(vec![coach]).await;
}

fn file_name(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
