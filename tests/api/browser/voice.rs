//! A voice-over in Chromium (fake microphone): the coach records while
//! playing the attempt, pausing it, drawing on two paused frames and
//! seeking between them, then playing on at half speed; the recording is
//! uploaded and processed; the student presses "Play voice-over" and the
//! attempt pauses, each drawing appears and the speed changes at the
//! moments of the recording.

use std::time::Duration;

use diesel::prelude::*;
use fantoccini::key::Key;
use practika::comments::voice::{self, Action, Status};
use practika::db::schema::comments_voiceover;
use serde_json::{json, Value};

use super::{BrowserApp, Tab};

const ATTEMPT: &str = "[data-attempt-player][data-video-id]";
/// How far (ms of the recording) the replay may be from the recorded moment.
const TOLERANCE_MS: f64 = 450.0;

async fn video(tab: &Tab, script: &str) -> Value {
    tab.js(
        &format!("const v = document.querySelector('{ATTEMPT} video'); {script}"),
        vec![],
    )
    .await
}

async fn seek(tab: &Tab, seconds: f64) {
    video(tab, &format!("v.currentTime = {seconds};")).await;
    tab.wait_until(
        "the attempt to seek",
        10,
        &format!(
            "const v = document.querySelector('{ATTEMPT} video'); return !v.seeking && Math.abs(v.currentTime - {seconds}) < 0.05;"
        ),
    )
    .await;
}

async fn pause_a_moment(ms: u64) {
    actix_web::rt::time::sleep(Duration::from_millis(ms)).await;
}

/// Draws one shape with the keyboard on the paused frame: `tool` (the
/// first tool, Line, is chosen by pressing Enter on it), then "Add to reply".
async fn draw(tab: &Tab, tool: Option<&str>) {
    tab.press_button("Draw").await;
    match tool {
        Some(tool) => tab.keyboard_activate(tool).await,
        None => tab.press(Key::Enter).await,
    }
    tab.press(Key::Enter).await;
    for _ in 0..8 {
        tab.press(Key::Right).await;
        tab.press(Key::Down).await;
    }
    tab.press(Key::Enter).await;
    tab.press_button("Add to reply").await;
}

#[actix_web::test]
async fn the_coach_talks_over_the_attempt_and_the_student_replays_it_in_step() {
    let Some(browser) = BrowserApp::start("voice").await else {
        return;
    };
    let app = &browser.app;
    let review = browser.attempt_awaiting_review().await;

    let coach = browser.tab("coach").await;
    coach.log_in("cora").await;
    coach.goto(&format!("/exercises/{}", review.exercise)).await;
    attempt_ready(&coach).await;

    // Recording: play, pause, draw a line, seek on, draw a circle, play on.
    coach.press_button("Record voice-over").await;
    coach.wait_for_text("Recording 0:0", 10).await;
    pause_a_moment(400).await;
    video(&coach, "v.play();").await;
    pause_a_moment(1200).await;
    video(&coach, "v.pause();").await;
    pause_a_moment(500).await;
    draw(&coach, None).await;
    pause_a_moment(300).await;
    seek(&coach, 3.0).await;
    draw(&coach, Some("Circle")).await;
    pause_a_moment(300).await;
    coach
        .js(
            &format!("const s = document.querySelector('{ATTEMPT} [data-speed]'); s.value = '0.5'; s.dispatchEvent(new Event('change'));"),
            vec![],
        )
        .await;
    video(&coach, "v.play();").await;
    pause_a_moment(800).await;
    coach.check_page("the studio, recording a voice-over").await;
    coach.press_button("Stop recording").await;
    coach.wait_for_text("is attached to your reply", 30).await;
    coach
        .fill(
            "Transcript of the voice-over (optional, for those who cannot listen)",
            "Watch the toss, then the racket.",
        )
        .await;
    coach.check_page("the studio, a reply with a voice-over").await;
    coach.press_button("Post reply").await;
    coach.wait_for_text("Your reply is posted.", 10).await;

    // Stored: on the reply, with the pause and both drawings in its
    // timeline; processed by the worker.
    let reply: Option<practika::db::Id> = comments_voiceover::table
        .filter(comments_voiceover::comment_id.is_not_null())
        .select(comments_voiceover::comment_id)
        .first(&mut *app.conn())
        .expect("the voice-over");
    let row = processed_voiceover(app, reply.expect("on the reply")).await;
    assert_eq!(row.transcript.as_deref(), Some("Watch the toss, then the racket."));
    let events = row.events();
    let pause = *events
        .iter()
        .find(|e| e.action == Action::Pause)
        .unwrap_or_else(|| panic!("a pause in {events:?}"));
    let draws: Vec<_> = events.iter().filter(|e| e.action == Action::Draw).copied().collect();
    assert_eq!(draws.len(), 2, "{events:?}");
    assert_eq!((draws[0].value, draws[1].value), (0.0, 1.0));
    assert!(events
        .iter()
        .any(|e| e.action == Action::Seek && (e.value - 3.0).abs() < 0.05));
    let slower = *events
        .iter()
        .find(|e| e.action == Action::Rate && (e.value - 0.5).abs() < 1e-9)
        .unwrap_or_else(|| panic!("the speed change in {events:?}"));
    let seconds = row.seconds().expect("a length");
    assert!(seconds > 3.0, "{seconds} s recorded");
    println!(
        "voice-over recorded in Chromium: {seconds:.1} s, {} timeline events",
        events.len()
    );

    // The student replays it: the test notes, in ms of the sound, when the
    // attempt pauses and when each drawing (the line, the circle) appears.
    let student = browser.tab("student").await;
    student.log_in("stu").await;
    student.goto(&format!("/exercises/{}", review.exercise)).await;
    student
        .wait_until(
            "the attempt and the voice-over",
            20,
            &format!(
                "return document.querySelector('{ATTEMPT} video').readyState >= 2 && document.querySelector('[data-voiceover-audio]').readyState >= 1;"
            ),
        )
        .await;
    // Its length, whatever a loaded machine made it (under a minute).
    assert!(student.sees("Holds a voice-over of 0:").await);
    assert!(student.sees("and 2 drawings on the attempt").await);
    student
        .js(
            &format!(
                "const v = document.querySelector('{ATTEMPT} video');
                 const a = document.querySelector('[data-voiceover-audio]');
                 const layer = document.querySelector('{ATTEMPT} .drawing-overlay g');
                 const seen = window.voiceSeen = {{ pauses: [], line: null, ellipse: null, rates: [] }};
                 v.addEventListener('ratechange', () => {{ if (!a.paused) seen.rates.push([a.currentTime * 1000, v.playbackRate]); }});
                 v.addEventListener('pause', () => {{ if (!a.paused) seen.pauses.push([a.currentTime * 1000, v.currentTime]); }});
                 new MutationObserver(() => {{
                   for (const kind of ['line', 'ellipse']) {{
                     if (seen[kind] === null && layer.querySelector(kind)) {{ seen[kind] = a.currentTime * 1000; }}
                   }}
                 }}).observe(layer, {{ childList: true }});"
            ),
            vec![],
        )
        .await;
    student.press_button("▶ Play voice-over").await;
    student
        .wait_until(
            "the voice-over to end",
            30,
            "return document.querySelector('[data-voiceover-audio]').ended;",
        )
        .await;
    let seen = student.js("return window.voiceSeen;", vec![]).await;
    println!("recorded: {}", serde_json::to_string(&events).unwrap_or_default());
    println!("replayed: {seen}");
    let first_pause = &seen["pauses"][0];
    let at = first_pause[0].as_f64().expect("the attempt paused during the replay");
    assert!(
        (at - f64::from(pause.t_ms)).abs() < TOLERANCE_MS,
        "paused at {at} ms of the sound, recorded at {} ms",
        pause.t_ms
    );
    let frame = first_pause[1].as_f64().expect("time");
    assert!(
        (frame - pause.value).abs() < 0.15,
        "paused at {frame} s of the attempt, recorded at {}",
        pause.value
    );
    for (kind, event) in [("line", draws[0]), ("ellipse", draws[1])] {
        let shown = seen[kind]
            .as_f64()
            .unwrap_or_else(|| panic!("the {kind} never appeared: {seen}"));
        assert!(
            (shown - f64::from(event.t_ms)).abs() < TOLERANCE_MS,
            "the {kind} appeared at {shown} ms, drawn at {} ms",
            event.t_ms
        );
    }
    let rate = seen["rates"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r[1] == json!(0.5)))
        .unwrap_or_else(|| panic!("the replay never slowed down: {seen}"));
    let at = rate[0].as_f64().expect("time");
    assert!(
        (at - f64::from(slower.t_ms)).abs() < TOLERANCE_MS,
        "slowed at {at} ms, recorded at {} ms",
        slower.t_ms
    );
    assert!(student.sees("Watch the toss, then the racket.").await);
    student.check_page("the thread, a voice-over replayed").await;
    assert_eq!(
        json!(student.sees("The voice-over ended.").await),
        json!(true),
        "the replay says it ended"
    );

    browser.finish(vec![coach, student]).await;
}

/// Waits for the attempt's full player (and its studio) on the page.
async fn attempt_ready(tab: &Tab) {
    tab.wait_until(
        "the attempt's player",
        20,
        &format!(
            "const r = document.querySelector('{ATTEMPT}'); return !!r && !r.querySelector('[data-controls]').hidden && r.querySelector('video').readyState >= 2;"
        ),
    )
    .await;
}

/// Records `ms` of the fake microphone while the attempt plays.
async fn record(tab: &Tab, ms: u64) {
    tab.press_button("Record voice-over").await;
    tab.wait_for_text("Recording 0:0", 10).await;
    video(tab, "v.play();").await;
    pause_a_moment(ms).await;
    video(tab, "v.pause();").await;
    tab.press_button("Stop recording").await;
    tab.wait_for_text("is attached to your reply", 30).await;
}

/// The voice-over on reply `comment` once the worker settled it.
pub(super) async fn processed_voiceover(
    app: &crate::helpers::TestApp,
    comment: practika::db::Id,
) -> voice::VoiceoverRow {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let row: Option<voice::VoiceoverRow> = comments_voiceover::table
            .filter(comments_voiceover::comment_id.eq(comment))
            .select(voice::VoiceoverRow::as_select())
            .first(&mut *app.conn())
            .optional()
            .expect("query");
        if let Some(row) = row.filter(|r| matches!(r.status(), Status::Ready | Status::Failed | Status::Invalid)) {
            assert_eq!(row.status(), Status::Ready, "{:?}", row.processing_error);
            return row;
        }
        assert!(std::time::Instant::now() < deadline, "the voice-over was not processed");
        pause_a_moment(200).await;
    }
}

/// The coach (tab `coach`) replies to the attempt with a voice-over of
/// about `ms`, processed by the worker: the reply and its voice-over.
async fn reply_with_voiceover(
    browser: &BrowserApp,
    coach: &Tab,
    t: &super::AwaitingReview,
    ms: u64,
) -> (practika::db::Id, voice::VoiceoverRow) {
    use practika::db::schema::comments_videocomment;
    coach.log_in("cora").await;
    coach.goto(&format!("/exercises/{}", t.exercise)).await;
    attempt_ready(coach).await;
    record(coach, ms).await;
    coach.press_button("Post reply").await;
    coach.wait_for_text("Your reply is posted.", 10).await;
    let reply: practika::db::Id = comments_videocomment::table
        .filter(comments_videocomment::parent_id.eq(t.comment))
        .select(comments_videocomment::id)
        .first(&mut *browser.app.conn())
        .expect("the reply");
    (reply, processed_voiceover(&browser.app, reply).await)
}

#[actix_web::test]
async fn a_coach_records_a_new_voice_over_from_the_edit_page() {
    use practika::comments::export::{self, ExportRow};
    use practika::db::schema::comments_export;
    let Some(browser) = BrowserApp::start("voice-edit").await else {
        return;
    };
    let app = &browser.app;
    let t = browser.attempt_awaiting_review().await;
    let coach = browser.tab("coach").await;
    let (reply, old) = reply_with_voiceover(&browser, &coach, &t, 1000).await;

    // Its video, made by the worker.
    coach.goto(&format!("/exercises/{}", t.exercise)).await;
    coach.press_button("Export as a video").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let made = loop {
        let row: Option<ExportRow> = comments_export::table
            .select(ExportRow::as_select())
            .first(&mut *app.conn())
            .optional()
            .expect("query");
        if let Some(row) =
            row.filter(|r| r.status() != export::Status::Pending && r.status() != export::Status::Processing)
        {
            assert_eq!(row.status(), export::Status::Ready, "{:?}", row.processing_error);
            break row;
        }
        assert!(std::time::Instant::now() < deadline, "the export was not made");
        pause_a_moment(300).await;
    };
    let exported = app.media_dir().join(made.path.as_deref().expect("the export's file"));
    assert!(exported.exists());

    // The edit page: the same player and recorder as the reply form.
    coach.goto(&format!("/comments/{reply}/edit")).await;
    attempt_ready(&coach).await;
    record(&coach, 2000).await;
    coach
        .fill(
            "Transcript of the voice-over (optional, for those who cannot listen)",
            "Again, slower.",
        )
        .await;
    coach.check_page("the edit page, a new voice-over").await;
    coach.press_button("Save").await;
    coach.wait_for_text("The comment is saved.", 10).await;

    let new = processed_voiceover(app, reply).await;
    assert_ne!(new.id, old.id);
    assert!(
        voice::find(&mut app.conn(), old.id).expect("query").is_none(),
        "the old voice-over is gone"
    );
    assert_eq!(new.transcript.as_deref(), Some("Again, slower."));
    assert!(new.seconds().expect("a length") > 1.5, "{:?}", new.seconds());
    assert_eq!(app.count("comments_export"), 0, "the export showed the old voice-over");
    assert!(!exported.exists(), "the old export's file is removed");

    // The student replays the new one.
    let student = browser.tab("student").await;
    student.log_in("stu").await;
    student.goto(&format!("/exercises/{}", t.exercise)).await;
    student
        .wait_until(
            "the new voice-over",
            20,
            &format!(
                "const a = document.querySelector('[data-voiceover-id=\"{}\"] [data-voiceover-audio]'); return !!a && a.readyState >= 1 && document.querySelectorAll('[data-voiceover]').length === 1;",
                new.id
            ),
        )
        .await;
    assert!(student.sees("Again, slower.").await);
    student.press_button("▶ Play voice-over").await;
    student
        .wait_until(
            "the new voice-over to play",
            30,
            "const a = document.querySelector('[data-voiceover-audio]'); return a.ended || a.currentTime > 1;",
        )
        .await;
    browser.finish(vec![coach, student]).await;
}

#[actix_web::test]
async fn the_author_exports_a_reply_as_a_video_that_the_student_downloads() {
    let Some(browser) = BrowserApp::start("export").await else {
        return;
    };
    let app = &browser.app;
    let t = browser.attempt_awaiting_review().await;
    let coach = browser.tab("coach").await;
    reply_with_voiceover(&browser, &coach, &t, 1500).await;

    // The author presses it: "Preparing…", then the link, without a reload.
    coach.goto(&format!("/exercises/{}", t.exercise)).await;
    coach.press_button("Export as a video").await;
    coach.wait_for_text("Preparing your video…", 10).await;
    coach
        .wait_until(
            "the export's download link",
            90,
            "return !!document.querySelector('[data-export-link]') && !document.querySelector('[data-export-pending]');",
        )
        .await;
    assert!(coach.sees("Download the video (MP4").await);
    coach.check_page("the thread, an exported reply").await;
    let link = coach
        .js(
            "return document.querySelector('[data-export-link]').getAttribute('href');",
            vec![],
        )
        .await;
    let link = link.as_str().expect("a link").to_owned();

    // The student (in the conversation) downloads an MP4.
    let student = crate::helpers::new_client();
    app.login_with(&student, "stu", crate::helpers::GOOD_PASSWORD).await;
    let response = student
        .get(format!("{}{link}", app.address))
        .send()
        .await
        .expect("the download");
    assert_eq!(response.status().as_u16(), 200);
    let bytes = response.bytes().await.expect("the MP4");
    let dir = tempfile::tempdir().expect("a folder");
    let file = dir.path().join("export.mp4");
    std::fs::write(&file, &bytes).expect("written");
    let probe = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=format_name:stream=codec_type",
            "-of",
            "json",
        ])
        .arg(&file)
        .output()
        .expect("ffprobe");
    let probe: Value = serde_json::from_slice(&probe.stdout).expect("ffprobe's JSON");
    let format = probe["format"]["format_name"].as_str().unwrap_or_default();
    assert!(format.contains("mp4"), "{probe}");
    let kinds: Vec<&str> = probe["streams"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["codec_type"].as_str()).collect())
        .unwrap_or_default();
    assert!(kinds.contains(&"video") && kinds.contains(&"audio"), "{probe}");

    // Someone outside the conversation gets a 404.
    let (_, stranger) = app.user_client("olga", "student").await;
    let response = stranger
        .get(format!("{}{link}", app.address))
        .send()
        .await
        .expect("the request");
    assert_eq!(response.status().as_u16(), 404);
    browser.finish(vec![coach]).await;
}
