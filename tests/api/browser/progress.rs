//! Progress over time and practice mode in Chromium.
//!
//! - One full loop: the student's attempt (a video) waits in the coach's
//!   inbox; the coach asks for another try; the student's retry (another
//!   video) resolves it; from the inbox row the coach opens the student's
//!   progress page, which shows both attempts, the note and the request
//!   resolved; one click compares the first and the latest attempt, both
//!   playing together.
//! - Practice mode: a short A–B loop of the demonstration with a ramp of
//!   0.5× → 0.75× → 1×, one step every two clean loops, a one-beat count-in
//!   and mirroring; the session is logged as it goes and shows on the
//!   progress page.

use diesel::prelude::*;
use practika::db::schema::exercises_practicesession as sessions;
use practika::exercises::queries::{self as exercises, Draft as ExerciseDraft};
use serde_json::json;

use super::BrowserApp;
use crate::media_fixtures::Sample;

/// Picks one of the student's videos in the comment form ("Your videos"
/// lists them by title, date and state).
async fn choose_video(tab: &super::Tab, video: practika::db::Id) {
    let select = tab.field("Your videos").await;
    let arg = serde_json::to_value(&select).expect("an element reference");
    tab.js(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change', { bubbles: true }));",
        vec![arg, json!(video.to_string())],
    )
    .await;
}

#[actix_web::test]
async fn attempt_inbox_retry_progress_and_first_vs_latest() {
    let Some(browser) = BrowserApp::start("progress").await else {
        return;
    };
    let app = &browser.app;
    let (coach_id, coach_client) = app.user_client("pia_coach", "coach").await;
    let (student_id, student_client) = app.user_client("pia_student", "student").await;
    let demo = app
        .upload_ok(
            &coach_client,
            crate::media_fixtures::sample_bytes(Sample::Player),
            "Demo.mp4",
        )
        .await;
    let first = app
        .upload_ok(
            &student_client,
            crate::media_fixtures::sample_bytes(Sample::Small),
            "Take one.mp4",
        )
        .await;
    let second = app
        .upload_ok(
            &student_client,
            crate::media_fixtures::sample_bytes(Sample::Hd),
            "Take two.mp4",
        )
        .await;
    let demo = browser.wait_for_processing(demo).await;
    browser.wait_for_processing(first).await;
    browser.wait_for_processing(second).await;
    let exercise = exercises::create(
        &mut app.conn(),
        coach_id,
        &ExerciseDraft {
            name: "The drop shot".into(),
            description: None,
            video_asset_id: demo.id,
        },
    )
    .map_err(|_| "the exercise could not be made")
    .expect("exercise");
    let thread = format!("/exercises/{}", exercise.id);

    // The student's first attempt, with their first video.
    let student = browser.tab("student").await;
    student.log_in("pia_student").await;
    student.goto(&thread).await;
    student.fill("Comment", "My first drop shot").await;
    choose_video(&student, first).await;
    student.press_button("Post").await;
    student.wait_for_text("Your comment is posted.", 10).await;

    // The coach: inbox, reply asking for another try.
    let coach = browser.tab("coach").await;
    coach.log_in("pia_coach").await;
    coach.goto("/inbox").await;
    coach.wait_for_text("pia_student on The drop shot", 10).await;
    coach.follow_link("Open and reply").await;
    coach.press_button("Reply").await;
    coach.fill("Your reply", "Softer hands, then again").await;
    let retry = coach.field("Ask for another try").await;
    coach.click(&retry, "the “Ask for another try” box").await;
    coach.press_button("Post reply").await;
    coach.wait_for_text("Your reply is posted.", 10).await;

    // The student tries again from the to-do list, with the second video.
    student.goto("/").await;
    student.wait_for_text("To do: try again", 10).await;
    student.follow_link("The drop shot").await;
    student.press_button("Post your attempt").await;
    student.fill("Comment", "Softer this time").await;
    choose_video(&student, second).await;
    student.press_button("Post").await;
    student.wait_for_text("Your comment is posted.", 10).await;
    student.wait_for_text("answers the note of", 5).await;

    // The retry waits in the inbox; its row leads to the progress page.
    coach.goto("/inbox").await;
    coach.wait_for_text("answers your note of", 10).await;
    coach.follow_link("Progress of pia_student on The drop shot").await;
    coach.wait_for_text("pia_student's progress", 10).await;
    assert!(coach.sees("Softer hands, then again").await, "the coach's note");
    assert!(coach.sees("resolved by").await, "the request, resolved");
    let posters = coach
        .js(
            "return document.querySelectorAll('.timeline-poster img').length;",
            vec![],
        )
        .await;
    assert_eq!(posters, json!(2), "a poster frame for each attempt");
    coach.check_page("progress page").await;

    // One click: the first and the latest attempt, side by side.
    coach.follow_link("Compare the first and the latest attempt").await;
    coach.wait_for_text("Compare two attempts", 10).await;
    coach.press_button("Play both").await;
    coach
        .wait_until(
            "both attempts to play",
            20,
            "const a = document.querySelector('[data-compare-demo]'), b = document.querySelector('[data-compare-attempt]');
             return a.currentTime > 0.3 && b.currentTime > 0.3;",
        )
        .await;
    coach.check_page("first and latest compared").await;

    // The student sees their own progress page too.
    student
        .goto(&format!("/exercises/{}/progress/{student_id}", exercise.id))
        .await;
    student.wait_for_text("Your progress", 10).await;
    assert!(student.sees("Compare the first and the latest attempt").await);
    browser.finish(vec![student, coach]).await;
}

#[actix_web::test]
async fn practice_mode_ramps_the_speed_and_logs_the_session() {
    let Some(browser) = BrowserApp::start("practice").await else {
        return;
    };
    let app = &browser.app;
    let (coach_id, coach_client) = app.user_client("pm_coach", "coach").await;
    let (student_id, _) = app.user_client("pm_student", "student").await;
    let demo = browser.processed_video(&coach_client, Sample::Player, "Demo.mp4").await;
    let exercise = exercises::create(
        &mut app.conn(),
        coach_id,
        &ExerciseDraft {
            name: "Footwork".into(),
            description: None,
            video_asset_id: demo.id,
        },
    )
    .map_err(|_| "the exercise could not be made")
    .expect("exercise");

    let tab = browser.tab("student").await;
    tab.log_in("pm_student").await;
    tab.goto(&format!("/exercises/{}", exercise.id)).await;
    tab.follow_link("Practice mode").await;
    tab.wait_for_text("Your practice loop", 10).await;
    tab.check_page("practice mode").await;

    // A short loop: 0.4 s of the demonstration.
    for (at, mark) in [(0.5, "Set A"), (0.9, "Set B")] {
        tab.js(
            "const v = document.querySelector('[data-demo]'); v.pause(); v.currentTime = arguments[0];",
            vec![json!(at)],
        )
        .await;
        tab.wait_until(
            "the seek",
            10,
            &format!("const v = document.querySelector('[data-demo]'); return !v.seeking && Math.abs(v.currentTime - {at}) < 0.05;"),
        )
        .await;
        tab.press_button(mark).await;
    }
    tab.choose("Start at", "0.5×").await;
    tab.choose("Up to", "1×").await;
    tab.choose("Step", "+0.25×").await;
    tab.fill("Clean loops per step", "2").await;
    tab.choose("Count-in before each loop", "1 beat").await;
    let mirror = tab.field("Mirror the demonstration").await;
    tab.click(&mirror, "the mirror box").await;
    assert_eq!(
        tab.js(
            "return document.querySelector('[data-demo]').classList.contains('mirrored');",
            vec![]
        )
        .await,
        json!(true)
    );
    tab.press_button("Start").await;
    // 0.5× for two clean loops, 0.75× for two more, then 1×.
    tab.wait_until(
        "the ramp to reach 0.75×",
        30,
        "return document.querySelector('[data-practice-speed]').textContent === '0.75×';",
    )
    .await;
    assert_eq!(
        tab.js("return document.querySelector('[data-demo]').playbackRate;", vec![])
            .await,
        json!(0.75)
    );
    tab.wait_until(
        "the ramp to reach 1×",
        30,
        "return document.querySelector('[data-practice-speed]').textContent === '1×';",
    )
    .await;
    // A loop that went wrong does not count towards the next step.
    tab.press_button("Not clean").await;
    tab.wait_for_text("This loop does not count.", 5).await;
    tab.press_button("Stop").await;
    tab.wait_for_text("Saved:", 10).await;
    let loops: i64 = tab
        .js(
            "return parseInt(document.querySelector('[data-practice-loops]').textContent, 10);",
            vec![],
        )
        .await
        .as_i64()
        .expect("loops");
    assert!(loops >= 4, "{loops} loops");

    let (seconds, speed, logged): (i32, f64, i32) = sessions::table
        .filter(sessions::user_id.eq(student_id))
        .select((sessions::seconds, sessions::max_speed, sessions::loops))
        .first(&mut *app.conn())
        .expect("the session is logged");
    println!("logged: {seconds} s, top speed {speed}, {logged} loops");
    assert_eq!(speed, 1.0, "the top speed reached");
    assert_eq!(i64::from(logged), loops, "every loop");
    assert!(seconds >= 3, "{seconds} s");
    let count: i64 = sessions::table
        .filter(sessions::user_id.eq(student_id))
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(count, 1, "one session, however many reports");

    tab.follow_link("Your progress").await;
    tab.wait_for_text("Practice you logged here", 10).await;
    assert!(tab.sees("1 day in a row").await);
    assert!(tab.sees("1×").await);
    tab.check_page("progress with practice").await;
    browser.finish(vec![tab]).await;
}
