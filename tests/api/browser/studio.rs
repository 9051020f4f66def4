//! The review studio in Chromium: the coach sets A and B on the student's
//! attempt, presses "Clip this" (the reply form opens with the clip), draws
//! two shapes on the paused frame with the keyboard alone, and posts the
//! reply; the student sees the clip once cut and the drawings over the
//! attempt at their moment, and not after it.

use fantoccini::key::Key;
use practika::db::schema::{comments_drawing, comments_videocomment};
use serde_json::json;

use diesel::prelude::*;

use super::{BrowserApp, Tab};

const ATTEMPT: &str = "[data-attempt-player][data-video-id]";

async fn attempt_seek(tab: &Tab, seconds: f64) {
    tab.js(
        &format!("const v = document.querySelector('{ATTEMPT} video'); v.pause(); v.currentTime = arguments[0];"),
        vec![json!(seconds)],
    )
    .await;
    tab.wait_until(
        "the attempt to seek",
        10,
        &format!(
            "const v = document.querySelector('{ATTEMPT} video'); return !v.seeking && Math.abs(v.currentTime - {seconds}) < 0.05;"
        ),
    )
    .await;
}

async fn shapes_shown(tab: &Tab) -> u64 {
    tab.js(
        &format!("return document.querySelector('{ATTEMPT} .drawing-overlay g').childElementCount;"),
        vec![],
    )
    .await
    .as_u64()
    .expect("a count")
}

#[actix_web::test]
async fn the_coach_clips_and_draws_and_the_student_sees_it() {
    let Some(browser) = BrowserApp::start("studio").await else {
        return;
    };
    let review = browser.attempt_awaiting_review().await;
    let app = &browser.app;
    let (attempt, exercise, comment, demo) = (&review.attempt, review.exercise, review.comment, &review.demo);

    let coach = browser.tab("coach").await;
    coach.log_in("cora").await;
    coach.goto(&format!("/exercises/{}", exercise)).await;
    coach
        .wait_until(
            "the attempt's player",
            20,
            &format!(
                "const r = document.querySelector('{ATTEMPT}'); return !r.querySelector('[data-controls]').hidden && r.querySelector('video').readyState >= 2;"
            ),
        )
        .await;

    // A and B on the attempt, then "Clip this": one press.
    attempt_seek(&coach, 1.0).await;
    coach
        .js(
            &format!("document.querySelector('{ATTEMPT} [data-mark=a]').click();"),
            vec![],
        )
        .await;
    attempt_seek(&coach, 2.0).await;
    coach
        .js(
            &format!("document.querySelector('{ATTEMPT} [data-mark=b]').click();"),
            vec![],
        )
        .await;
    coach.press_button("Clip this").await;
    coach.wait_for_text("is attached to your reply", 10).await;
    let chosen = coach
        .js(
            "const s = document.querySelector('details.reply select[name=clip_id]'); return [s.closest('details').open, s.value];",
            vec![],
        )
        .await;
    assert_eq!(chosen[0], json!(true), "the reply form opened");
    let clip_id = chosen[1].as_str().expect("a clip").to_owned();
    assert!(!clip_id.is_empty());
    // Opening the reply fetched the forms' choices: the clip just cut stays
    // chosen, listed once; the coach's own videos fill the comment form's list.
    coach
        .wait_until(
            "the forms' choices",
            10,
            "return document.querySelector('[data-choices-ready]') !== null;",
        )
        .await;
    let lists = coach
        .js(
            "const s = document.querySelector('details.reply select[name=clip_id]');              return [s.value, Array.from(s.options).filter((o) => o.value === s.value).length,              Array.from(document.querySelectorAll('#video_id option'), (o) => o.value)];",
            vec![],
        )
        .await;
    assert_eq!(lists[0], json!(clip_id), "still chosen");
    assert_eq!(lists[1], json!(1), "listed once");
    assert!(
        lists[2]
            .as_array()
            .is_some_and(|v| v.contains(&json!(demo.id.to_string()))),
        "{lists}"
    );
    assert_eq!(
        coach
            .js(
                "return document.querySelector('details.reply [data-reply-range=a]').value;",
                vec![]
            )
            .await,
        json!("1.00"),
        "A and B pin the reply to the attempt"
    );

    // Drawing on the paused frame at 1.5 s, with the keyboard alone: a
    // line, then a circle.
    attempt_seek(&coach, 1.5).await;
    coach.press_button("Draw").await;
    coach.check_page("the studio, drawing").await;
    // The tools start at "Line", focused; choosing a tool moves the focus
    // to the frame, where the arrows move a cross and Enter places points.
    coach.press(Key::Enter).await;
    let (name, _, visible) = coach.focused().await;
    assert_eq!(name, "Drawing surface on the frame at 0:01.50");
    assert!(visible, "the drawing surface shows its focus");
    coach.press(Key::Enter).await;
    for _ in 0..10 {
        coach.press(Key::Right).await;
    }
    coach.press(Key::Enter).await;
    coach.keyboard_activate("Circle").await;
    coach.press(Key::Enter).await;
    for _ in 0..3 {
        coach.press(Key::Down).await;
        coach.press(Key::Right).await;
    }
    coach.press(Key::Enter).await;
    assert_eq!(
        coach
            .js(
                &format!("return document.querySelectorAll('{ATTEMPT} .drawing-overlay g')[1].childElementCount;"),
                vec![]
            )
            .await,
        json!(2),
        "two shapes drawn"
    );
    coach.press_button("Add to reply").await;
    coach.wait_for_text("1 drawing attached, at 0:01.00", 5).await;
    coach.fill("Your reply", "Toss higher: see the line.").await;
    coach.check_page("the studio, a reply with a clip and a drawing").await;
    coach.press_button("Post reply").await;
    coach.wait_for_text("Your reply is posted.", 10).await;

    let (reply_id, range_video): (practika::db::Id, Option<practika::db::Id>) = comments_videocomment::table
        .filter(comments_videocomment::parent_id.eq(comment))
        .select((comments_videocomment::id, comments_videocomment::range_video_id))
        .first(&mut *app.conn())
        .expect("the reply");
    assert_eq!(range_video, Some(attempt.id));
    let stored: Vec<(f64, f64, i32)> = comments_drawing::table
        .filter(comments_drawing::comment_id.eq(reply_id))
        .select((
            comments_drawing::start_time,
            comments_drawing::end_time,
            comments_drawing::size_bytes,
        ))
        .load(&mut *app.conn())
        .expect("drawings");
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].0, stored[0].1), (1.0, 2.0), "shown over A–B");
    println!("stored drawing data (a line and a circle): {} bytes", stored[0].2);

    // The student: the clip once cut, the drawing at its moment only.
    let student = browser.tab("student").await;
    student.log_in("stu").await;
    student.goto(&format!("/exercises/{}", exercise)).await;
    student
        .wait_until(
            "the clip in the reply",
            60,
            &format!(
                "return !!document.querySelector('video source[src=\"/clips/{clip_id}/media\"], video[src$=\"/clips/{clip_id}/media\"]');"
            ),
        )
        .await;
    student
        .wait_until(
            "the attempt",
            20,
            &format!("return document.querySelector('{ATTEMPT} video').readyState >= 2;"),
        )
        .await;
    student.press_button("Show on the attempt").await;
    student
        .wait_until(
            "the drawing's frame",
            10,
            &format!("const v = document.querySelector('{ATTEMPT} video'); return v.paused && !v.seeking && Math.abs(v.currentTime - 1) < 0.05;"),
        )
        .await;
    student
        .wait_until(
            "the drawing",
            5,
            &format!("return document.querySelector('{ATTEMPT} .drawing-overlay g').childElementCount === 2;"),
        )
        .await;
    assert!(student.sees("▶ 0:01–0:02 of the attempt").await);
    student.check_page("the thread, a drawing replayed").await;
    attempt_seek(&student, 3.0).await;
    student
        .wait_until(
            "no drawing after its time",
            5,
            &format!("return document.querySelector('{ATTEMPT} .drawing-overlay g').childElementCount === 0;"),
        )
        .await;
    assert_eq!(shapes_shown(&student).await, 0);
    // The pin's marker on the attempt's timeline loops the range.
    student
        .js(
            &format!("document.querySelector('{ATTEMPT} .pin-marker').click();"),
            vec![],
        )
        .await;
    student.wait_for_text("A 0:01.00, B 0:02.00 · looping", 5).await;

    // On the video's own page, A and B fill the clip form.
    coach.goto(&format!("/videos/{}", attempt.id)).await;
    coach
        .wait_until(
            "the video page's player",
            20,
            "const r = document.querySelector('[data-player]'); return !r.querySelector('[data-controls]').hidden && r.querySelector('video').readyState >= 2;",
        )
        .await;
    for (at, mark) in [(0.5, "a"), (1.5, "b")] {
        coach
            .js(
                &format!(
                    "const r = document.querySelector('[data-player]'); r.querySelector('video').currentTime = {at}; r.querySelector('[data-mark={mark}]').click();"
                ),
                vec![],
            )
            .await;
    }
    assert_eq!(
        coach.field("Start").await.prop("value").await.expect("value"),
        Some("0.50".into())
    );
    assert_eq!(
        coach.field("End").await.prop("value").await.expect("value"),
        Some("1.50".into())
    );
    coach.check_page("the video page with the player").await;

    // The comparison: one speed for both, a frame step on both, sync from
    // the frames shown, mirroring, and the attempt laid over the demonstration.
    coach.goto(&format!("/comments/{}/compare", comment)).await;
    coach
        .wait_until(
            "both videos",
            20,
            "return [...document.querySelectorAll('[data-compare] video')].every((v) => v.readyState >= 2);",
        )
        .await;
    coach
        .js(
            "const s = document.querySelector('[data-compare-pane=demo] [data-speed]'); s.value = '0.5'; s.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await;
    assert_eq!(
        coach
            .js(
                "return document.querySelector('[data-compare-attempt]').playbackRate;",
                vec![]
            )
            .await,
        json!(0.5),
        "linked speed"
    );
    coach
        .js(
            "document.querySelector('[data-compare-demo]').currentTime = 1.02; document.querySelector('[data-compare-attempt]').currentTime = 1.42;",
            vec![],
        )
        .await;
    coach.press_button("Sync these frames").await;
    assert_eq!(
        coach
            .field("Offset (seconds)")
            .await
            .prop("value")
            .await
            .expect("value"),
        Some("0.4".into())
    );
    let before = coach
        .js(
            "return document.querySelector('[data-compare-attempt]').currentTime;",
            vec![],
        )
        .await
        .as_f64()
        .expect("time");
    coach.press_button("Frame ▶ forward, both").await;
    coach
        .wait_until(
            "one frame on, both",
            5,
            &format!(
                "const a = document.querySelector('[data-compare-attempt]'); return !a.seeking && Math.abs(a.currentTime - ({before} + 0.04)) < 0.03;"
            ),
        )
        .await;
    coach.press_button("Mirror the attempt").await;
    coach.press_button("Overlay").await;
    let overlay = coach
        .js(
            "const a = document.querySelector('[data-compare-attempt]'); return [a.classList.contains('mirrored'), !!a.closest('[data-compare-pane=demo]'), a.style.opacity];",
            vec![],
        )
        .await;
    assert_eq!(overlay, json!([true, true, "0.5"]));
    coach.check_page("the comparison, overlaid and mirrored").await;

    // A reply from here keeps the mirroring and the overlay, and its link
    // reopens the comparison as it was.
    coach
        .js(
            "const o = document.querySelector('[data-compare-opacity]'); o.value = '0.3'; o.dispatchEvent(new Event('input'));",
            vec![],
        )
        .await;
    coach.fill("Your reply", "Mirrored, yours over mine.").await;
    coach.press_button("Post reply").await;
    coach.wait_for_text("Your reply is posted.", 10).await;
    coach
        .follow_link("Reopen the comparison (offset 0.4 s, the attempt mirrored, overlaid at 30 %)")
        .await;
    coach
        .wait_until(
            "the comparison, reopened overlaid",
            20,
            "const a = document.querySelector('[data-compare-attempt]'); return !!a.closest('[data-compare-pane=demo]') && a.classList.contains('mirrored') && a.style.opacity === '0.3';",
        )
        .await;

    browser.finish(vec![coach, student]).await;
}
