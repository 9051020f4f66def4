//! The review studio on a phone (390 × 844, touch): the coach draws a
//! freehand stroke with a finger on the paused attempt and posts it; the
//! student, also on a phone, shows it on the attempt and then full screen,
//! and the stroke sits on the same place of the frame at both sizes (the
//! SVG overlay scales with the video, letterboxing included). The coach
//! talks over it while drawing: the voice-over, recorded on the phone,
//! keeps the drawing in its timeline.

use diesel::prelude::*;
use practika::db::schema::{comments_drawing, comments_videocomment};
use serde_json::{json, Value};

use super::{BrowserApp, Tab};

const ATTEMPT: &str = "[data-attempt-player][data-video-id]";
/// The stroke, in frame coordinates (0..1 each way).
const STROKE: [(f64, f64); 5] = [(0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (0.6, 0.7)];

/// A phone: small, touch, two device pixels per CSS pixel.
async fn as_phone(tab: &Tab) {
    tab.cdp(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true }),
    )
    .await;
    tab.cdp(
        "Emulation.setTouchEmulationEnabled",
        json!({ "enabled": true, "maxTouchPoints": 5 }),
    )
    .await;
}

/// Finds where the frame is drawn on screen: the video's box with its
/// content letterboxed in it ("contain").
const FRAME_ON_SCREEN: &str = "const v = document.querySelector('[data-attempt-player][data-video-id] video');
  const r = v.getBoundingClientRect();
  const k = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
  const w = v.videoWidth * k, h = v.videoHeight * k;
  const frame = [r.left + (r.width - w) / 2, r.top + (r.height - h) / 2, w, h];";

/// The frame on screen now, as [left, top, width, height].
async fn frame_on_screen(tab: &Tab) -> [f64; 4] {
    let rect = tab.js(&format!("{FRAME_ON_SCREEN} return frame;"), vec![]).await;
    let n = |i: usize| rect[i].as_f64().expect("a number");
    [n(0), n(1), n(2), n(3)]
}

/// The shown stroke's centre and width, in coordinates of the frame as it
/// is on screen (both measured at once: the page may be scrolling).
async fn stroke_in_frame(tab: &Tab) -> (f64, f64, f64) {
    let found: Value = tab
        .js(
            &format!(
                "{FRAME_ON_SCREEN}
                 const s = document.querySelector('{ATTEMPT} .drawing-overlay g').firstElementChild;
                 if (!s) {{ return null; }}
                 const b = s.getBoundingClientRect();
                 return [(b.left + b.width / 2 - frame[0]) / frame[2], (b.top + b.height / 2 - frame[1]) / frame[3], b.width / frame[2]];"
            ),
            vec![],
        )
        .await;
    assert!(found.is_array(), "a stroke is shown");
    let n = |i: usize| found[i].as_f64().expect("a number");
    (n(0), n(1), n(2))
}

async fn attempt_ready(tab: &Tab) {
    tab.wait_until(
        "the attempt's player",
        20,
        &format!(
            "const r = document.querySelector('{ATTEMPT}'); return !r.querySelector('[data-controls]').hidden && r.querySelector('video').readyState >= 2;"
        ),
    )
    .await;
}

#[actix_web::test]
async fn on_a_phone_the_coach_draws_with_a_finger_and_the_drawing_scales_to_full_screen() {
    let Some(browser) = BrowserApp::start("phone").await else {
        return;
    };
    let review = browser.attempt_awaiting_review().await;
    let app = &browser.app;

    let coach = browser.tab("coach").await;
    coach.log_in("cora").await;
    as_phone(&coach).await;
    coach.goto(&format!("/exercises/{}", review.exercise)).await;
    attempt_ready(&coach).await;
    coach
        .js(
            &format!("const v = document.querySelector('{ATTEMPT} video'); v.pause(); v.currentTime = 1;"),
            vec![],
        )
        .await;
    coach
        .wait_until(
            "the attempt to seek",
            10,
            &format!("const v = document.querySelector('{ATTEMPT} video'); return !v.seeking && Math.abs(v.currentTime - 1) < 0.05;"),
        )
        .await;
    coach.press_button("Record voice-over").await;
    coach.wait_for_text("Recording 0:0", 10).await;
    coach.press_button("Draw").await;
    coach.press_button("Freehand").await;

    // A finger on the frame (scrolled into view: the tools are below it):
    // down, four moves, up.
    coach
        .wait_until(
            "the frame in view, still",
            10,
            &format!(
                "const v = document.querySelector('{ATTEMPT} video');
                 v.scrollIntoView({{ block: 'start', behavior: 'instant' }});
                 const top = v.getBoundingClientRect().top;
                 const still = window.practikaTestTop === top && Math.abs(top) < 1;
                 window.practikaTestTop = top; return still;"
            ),
        )
        .await;
    let [left, top, width, height] = frame_on_screen(&coach).await;
    assert!(width <= 390.0, "the attempt fits the phone's width: {width}");
    let at = |(x, y): (f64, f64)| json!([{ "x": left + x * width, "y": top + y * height }]);
    coach
        .cdp(
            "Input.dispatchTouchEvent",
            json!({ "type": "touchStart", "touchPoints": at(STROKE[0]) }),
        )
        .await;
    for point in &STROKE[1..] {
        coach
            .cdp(
                "Input.dispatchTouchEvent",
                json!({ "type": "touchMove", "touchPoints": at(*point) }),
            )
            .await;
    }
    coach
        .cdp(
            "Input.dispatchTouchEvent",
            json!({ "type": "touchEnd", "touchPoints": [] }),
        )
        .await;
    coach.press_button("Add to reply").await;
    coach.wait_for_text("1 drawing attached", 5).await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
    coach.press_button("Stop recording").await;
    coach.wait_for_text("is attached to your reply", 30).await;
    coach.fill("Your reply", "Follow this path with the racket.").await;
    coach.press_button("Post reply").await;
    coach.wait_for_text("Your reply is posted.", 10).await;

    // Stored as one freehand shape along the finger's path, in frame
    // coordinates whatever the screen's size.
    let reply: practika::db::Id = comments_videocomment::table
        .filter(comments_videocomment::parent_id.eq(review.comment))
        .select(comments_videocomment::id)
        .first(&mut *app.conn())
        .expect("the reply");
    let shapes: Vec<Value> = comments_drawing::table
        .filter(comments_drawing::comment_id.eq(reply))
        .select(comments_drawing::shapes)
        .load::<practika::db::types::Json>(&mut *app.conn())
        .expect("drawings")
        .into_iter()
        .map(|json| json.0)
        .collect();
    assert_eq!(shapes.len(), 1, "one drawing");
    let shape = &shapes[0][0];
    assert_eq!(shape["type"], "freehand", "{shape}");
    let points = shape["points"].as_array().expect("points");
    let point = |p: &Value| (p[0].as_f64().unwrap_or(-1.0), p[1].as_f64().unwrap_or(-1.0));
    let close = |(a, b): (f64, f64), (x, y): (f64, f64)| (a - x).abs() < 0.02 && (b - y).abs() < 0.02;
    assert!(
        close(point(&points[0]), STROKE[0]),
        "starts where the finger went down: {shape}"
    );
    assert!(
        close(point(&points[points.len() - 1]), STROKE[4]),
        "ends where it was lifted: {shape}"
    );
    assert!(points.len() >= 3, "the path, not just its ends: {shape}");
    // The voice-over recorded on the phone, with the drawing in its timeline.
    let voice = super::voice::processed_voiceover(app, reply).await;
    let draws: Vec<_> = voice
        .events()
        .into_iter()
        .filter(|e| e.action == practika::comments::voice::Action::Draw)
        .collect();
    assert_eq!(draws.len(), 1, "{:?}", voice.events());
    assert_eq!(draws[0].value, 0.0);
    assert!(voice.seconds().is_some_and(|s| s > 0.5), "{:?}", voice.seconds());

    // The student, on a phone: the stroke on the attempt, then full screen.
    let student = browser.tab("student").await;
    student.log_in("stu").await;
    as_phone(&student).await;
    student.goto(&format!("/exercises/{}", review.exercise)).await;
    attempt_ready(&student).await;
    assert!(student.sees("Holds a voice-over of 0:").await);
    assert!(student.sees("and a drawing on the attempt").await);
    student.press_button("Show on the attempt").await;
    student
        .wait_until(
            "the drawing",
            10,
            &format!("return document.querySelector('{ATTEMPT} .drawing-overlay g').childElementCount === 1;"),
        )
        .await;
    let (x, y, small) = stroke_in_frame(&student).await;
    assert!(
        (x - 0.4).abs() < 0.03 && (y - 0.5).abs() < 0.03,
        "inline, the stroke is centred on the frame's (0.4, 0.5): ({x:.3}, {y:.3})"
    );
    let inline_width = frame_on_screen(&student).await[2];

    // The attempt's own button (the demonstration has one too): a real
    // click, as full screen needs a user's gesture.
    let full = student
        .client
        .find(fantoccini::Locator::XPath(
            "//*[@data-attempt-player and @data-video-id]//button[normalize-space() = 'Full screen']",
        ))
        .await
        .expect("the attempt's Full screen button");
    student.click(&full, "Full screen on the attempt").await;
    student
        .wait_until(
            "full screen",
            10,
            "return !!document.fullscreenElement && document.fullscreenElement.matches('[data-stage]');",
        )
        .await;
    student
        .js_async(
            "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            vec![],
        )
        .await;
    let [_, _, full_width, full_height] = frame_on_screen(&student).await;
    assert!(
        full_height > 0.0 && full_width >= inline_width,
        "full screen is not smaller"
    );
    let (x, y, large) = stroke_in_frame(&student).await;
    assert!(
        (x - 0.4).abs() < 0.03 && (y - 0.5).abs() < 0.03,
        "full screen, the stroke is still at the frame's (0.4, 0.5): ({x:.3}, {y:.3})"
    );
    assert!(
        (large - small).abs() < 0.03,
        "and as wide a part of the frame ({small:.3} inline, {large:.3} full screen)"
    );
    student.js("document.exitFullscreen();", vec![]).await;
    student.check_page("the thread on a phone, a finger's drawing").await;
    browser.finish(vec![coach, student]).await;
}
