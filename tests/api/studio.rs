//! The review studio on the server: "Clip this" (a clip as JSON), replies
//! pinned to the attempt, drawings checked against their schema and
//! bounded, and everything that does not fit refused with 422 and no
//! change. Permissions follow the comment's.

use diesel::prelude::*;
use practika::db::schema::{comments_drawing, comments_videocomment, core_videoclip};
use practika::db::Id;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::media_fixtures::{sample_bytes, Sample};

pub(crate) struct Thread {
    pub coach: reqwest::Client,
    pub student: reqwest::Client,
    pub exercise: Id,
    pub attempt: Id,
    pub comment: Id,
}

/// A coach's exercise (on a YouTube demonstration) and a student's attempt,
/// processed, posted on its thread.
pub(crate) async fn thread(app: &TestApp) -> Thread {
    let (coach_id, coach) = app.user_client("cora", "coach").await;
    let (_, student) = app.user_client("stu", "student").await;
    let demo =
        practika::videos::upload::add_youtube(&mut app.conn(), "https://www.youtube.com/watch?v=aaaaaaaaaaa", coach_id)
            .expect("youtube")
            .0
            .id;
    let response = app
        .post_form_with(
            &coach,
            "/exercises",
            &[("name", "Scales"), ("description", ""), ("video_id", &demo.to_string())],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let exercise: Id = location_id(
        response.headers()["location"].to_str().expect("location"),
        "/exercises/",
    );
    let attempt = app.upload_ok(&student, sample_bytes(Sample::Small), "try.mp4").await;
    app.run_jobs().await;
    let response = app
        .post_form_with(
            &student,
            &format!("/exercises/{exercise}/comments"),
            &[("text", "My try"), ("video_id", &attempt.to_string())],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let comment = comments_videocomment::table
        .filter(comments_videocomment::video_asset_id.eq(attempt))
        .select(comments_videocomment::id)
        .first(&mut *app.conn())
        .expect("the attempt");
    Thread {
        coach,
        student,
        exercise,
        attempt,
        comment,
    }
}

fn location_id(location: &str, prefix: &str) -> Id {
    location
        .strip_prefix(prefix)
        .and_then(|rest| rest.split(['#', '?']).next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("{location}"))
}

/// What a coach typically leaves on one frame: a line along the spine, an
/// arrow, an angle at the elbow, a label, a freehand stroke of 60 points.
pub(crate) fn typical_drawing(start: f64) -> Value {
    let stroke: Vec<Value> = (0..60)
        .map(|i| json!([0.2 + f64::from(i) * 0.01, 0.5 + (f64::from(i) / 6.0).sin() * 0.1]))
        .collect();
    json!({
        "start": start,
        "end": start + 2.0,
        "shapes": [
            { "type": "line", "colour": "yellow", "from": [0.41, 0.12], "to": [0.45, 0.78] },
            { "type": "arrow", "colour": "red", "from": [0.7, 0.2], "to": [0.55, 0.35] },
            { "type": "angle", "colour": "white", "from": [0.3, 0.4], "vertex": [0.38, 0.52], "to": [0.52, 0.47] },
            { "type": "ellipse", "colour": "green", "from": [0.5, 0.6], "to": [0.6, 0.7] },
            { "type": "text", "colour": "white", "at": [0.4, 0.9], "text": "Elbow higher" },
            { "type": "freehand", "colour": "blue", "points": stroke },
        ],
    })
}

fn counts(app: &TestApp) -> (i64, i64) {
    (app.count("comments_videocomment"), app.count("comments_drawing"))
}

pub(crate) async fn reply(
    app: &TestApp,
    client: &reqwest::Client,
    t: &Thread,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("parent_id", t.comment.to_string())];
    form.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let borrowed: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post_form_with(client, &format!("/exercises/{}/comments", t.exercise), &borrowed)
        .await
}

#[actix_web::test]
async fn the_coach_clips_pins_and_draws_on_the_attempt() {
    let app = spawn_app().await;
    let t = thread(&app).await;
    let attempt = t.attempt.to_string();

    // The attempt plays in the full player, with the studio for the coach.
    let page = app.page_with(&t.coach, &format!("/exercises/{}", t.exercise)).await;
    let player = format!("[data-attempt-player][data-video-id='{attempt}']");
    assert!(
        page.has(&format!("{player} [data-controls] [data-step]")),
        "frame steps"
    );
    assert!(page.has(&format!("{player} [data-controls] [data-mark=a]")), "A–B");
    assert!(page.has(&format!("{player} [data-clip-this]")), "Clip this");
    assert!(
        page.has(&format!("{player} video[data-frame-rate='15']")),
        "its own frame rate"
    );
    // The reply form pins a part of this attempt (its fields come from the
    // page's one template, filled in by replies.js).
    assert!(page.has(&format!("details.reply form[data-attempt='{attempt}']")));
    assert!(page.has("template#reply-extras"));
    // The video page has the same player.
    let video_page = app.page_with(&t.coach, &format!("/videos/{attempt}")).await;
    assert!(video_page.has("[data-player] [data-controls] [data-step]"));

    // "Clip this": the clip as JSON, through the clip path and its job.
    let token = app.csrf_token_with(&t.coach).await;
    let clip = |start: &'static str, end: &'static str| {
        t.coach
            .post(app.url(&format!("/videos/{attempt}/clips")))
            .header("Accept", "application/json")
            .header("X-CSRF-Token", token.clone())
            .form(&[("start", start), ("end", end)])
            .send()
    };
    let response = clip("0.5", "1.5").await.expect("clip");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["ok"], true);
    let clip_id: Id = body["id"].as_str().expect("id").parse().expect("uuid");
    assert_eq!(body["label"], "Clip 0:00.5–0:01.5");
    let again: Value = clip("0.5", "1.5").await.expect("clip").json().await.expect("json");
    assert_eq!(again["id"], body["id"], "the same cut is one clip");
    let response = clip("1.5", "0.5").await.expect("clip");
    assert_eq!(response.status().as_u16(), 422);
    let refused: Value = response.json().await.expect("json");
    assert_eq!(refused["ok"], false);
    assert!(!refused["errors"].as_array().expect("errors").is_empty());
    assert_eq!(app.count("core_videoclip"), 1);

    // The reply: the clip, a range of the attempt and two drawings.
    let drawings = json!([typical_drawing(0.4), typical_drawing(1.2)]).to_string();
    let response = reply(
        &app,
        &t.coach,
        &t,
        &[
            ("text", "Look at the elbow"),
            ("clip_id", &clip_id.to_string()),
            ("attempt_video_id", &attempt),
            ("range_start", "0.5"),
            ("range_end", "1.5"),
            ("drawings", &drawings),
        ],
    )
    .await;
    assert_eq!(
        response.status().as_u16(),
        303,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let (reply_id, range_video): (Id, Option<Id>) = comments_videocomment::table
        .filter(comments_videocomment::parent_id.eq(t.comment))
        .select((comments_videocomment::id, comments_videocomment::range_video_id))
        .first(&mut *app.conn())
        .expect("the reply");
    assert_eq!(range_video, Some(t.attempt));
    let sizes: Vec<(i32, f64, f64)> = comments_drawing::table
        .filter(comments_drawing::comment_id.eq(reply_id))
        .order(comments_drawing::position.asc())
        .select((
            comments_drawing::size_bytes,
            comments_drawing::start_time,
            comments_drawing::end_time,
        ))
        .load(&mut *app.conn())
        .expect("drawings");
    assert_eq!(
        sizes.iter().map(|s| (s.1, s.2)).collect::<Vec<_>>(),
        vec![(0.4, 2.4), (1.2, 3.2)]
    );
    println!(
        "stored drawing data of a typical reply (2 drawings of 6 shapes, one a 60-point stroke): {} bytes ({:?} each; {} bytes as posted)",
        sizes.iter().map(|s| s.0).sum::<i32>(),
        sizes.iter().map(|s| s.0).collect::<Vec<_>>(),
        drawings.len()
    );

    // The thread replays them: the pinned chip on the attempt, the
    // drawings as data, and in words without JavaScript.
    app.run_jobs().await;
    let page = app.page_with(&t.student, &format!("/exercises/{}", t.exercise)).await;
    let reply_css = format!("article[data-comment-id='{reply_id}']");
    assert!(page.has(&format!(
        "{reply_css} .chip[data-range-video='{attempt}'][data-range-start='0.5']"
    )));
    let data: Value = serde_json::from_str(&page.attr(&reply_css, "data-drawings").expect("drawings")).expect("json");
    assert_eq!(data.as_array().map(Vec::len), Some(2));
    assert_eq!(data[0]["shapes"][4]["text"], "Elbow higher");
    let summary = page.select_text(&format!("{reply_css} .studio-summary"));
    assert!(
        summary
            .concat()
            .contains("Holds 2 drawings on the attempt, from 0:00.4"),
        "{summary:?}"
    );
    assert!(
        page.has(&format!("{reply_css} video source[src='/clips/{clip_id}/media']")),
        "the clip, once cut"
    );
    let status: String = core_videoclip::table
        .find(clip_id)
        .select(core_videoclip::processing_status)
        .first(&mut *app.conn())
        .expect("clip");
    assert_eq!(status, "ready");
}

#[actix_web::test]
async fn studio_data_that_does_not_fit_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let t = thread(&app).await;
    let attempt = t.attempt.to_string();
    let one = |shape: Value| json!([{ "start": 0.5, "end": 1.0, "shapes": [shape] }]).to_string();
    let line = json!({ "type": "line", "colour": "red", "from": [0.1, 0.1], "to": [0.2, 0.2] });
    let huge = one(json!({ "type": "freehand", "colour": "red",
        "points": vec![json!([0.123_456_789, 0.987_654_321]); 3000] }));
    let mut unknown = line.clone();
    unknown["style"] = json!("x");
    let cases: Vec<(&str, String, String)> = vec![
        ("not JSON", attempt.clone(), "{not json".to_owned()),
        ("an unknown field", attempt.clone(), one(unknown)),
        (
            "an unknown shape",
            attempt.clone(),
            one(json!({ "type": "image", "colour": "red", "href": "x" })),
        ),
        (
            "an unknown colour",
            attempt.clone(),
            one(json!({ "type": "line", "colour": "#f00", "from": [0, 0], "to": [1, 1] })),
        ),
        (
            "a point off the frame",
            attempt.clone(),
            one(json!({ "type": "line", "colour": "red", "from": [-0.1, 0], "to": [1, 1] })),
        ),
        (
            "markup in a label",
            attempt.clone(),
            one(json!({ "type": "text", "colour": "red", "at": [0.5, 0.5], "text": "<script>alert(1)</script>" })),
        ),
        (
            "a label too long",
            attempt.clone(),
            one(json!({ "type": "text", "colour": "red", "at": [0.5, 0.5], "text": "x".repeat(81) })),
        ),
        ("oversize data", attempt.clone(), huge),
        (
            "too many drawings",
            attempt.clone(),
            json!(vec![json!({ "start": 0.5, "end": 1.0, "shapes": [line.clone()] }); 13]).to_string(),
        ),
        (
            "a drawing after the end",
            attempt.clone(),
            json!([{ "start": 30.0, "end": 31.0, "shapes": [line.clone()] }]).to_string(),
        ),
        ("drawings on no attempt", String::new(), one(line.clone())),
        (
            "drawings on a video outside the thread",
            Id::new().to_string(),
            one(line.clone()),
        ),
    ];
    let before = counts(&app);
    for (what, on, drawings) in cases {
        let response = reply(
            &app,
            &t.coach,
            &t,
            &[("text", "See here"), ("attempt_video_id", &on), ("drawings", &drawings)],
        )
        .await;
        assert_eq!(response.status().as_u16(), 422, "{what}");
        assert_eq!(counts(&app), before, "{what} changed nothing");
    }
    // A range of the attempt past its end (2 s), and a range on a video
    // that is not this thread's attempt.
    for (what, on, end) in [
        ("past the end", attempt.as_str(), "9"),
        ("not the attempt", &*Id::new().to_string(), "1"),
    ] {
        let response = reply(
            &app,
            &t.coach,
            &t,
            &[
                ("text", "See here"),
                ("attempt_video_id", on),
                ("range_start", "0.5"),
                ("range_end", end),
            ],
        )
        .await;
        assert_eq!(response.status().as_u16(), 422, "{what}");
        assert_eq!(counts(&app), before, "{what} changed nothing");
    }
    // Drawings that were fine stay with a reply shown again for another error.
    let kept = one(line.clone());
    let long = "x".repeat(5_001);
    let response = reply(
        &app,
        &t.coach,
        &t,
        &[("text", &long), ("attempt_video_id", &attempt), ("drawings", &kept)],
    )
    .await;
    assert_eq!(response.status().as_u16(), 422);
    let text = response.text().await.expect("body");
    let page = crate::helpers::Page {
        status: 422,
        html: scraper::Html::parse_document(&text),
        text,
    };
    let again: Value =
        serde_json::from_str(&page.attr("form input[name=drawings]", "value").expect("kept")).expect("json");
    assert_eq!(again, serde_json::from_str::<Value>(&kept).expect("json"));
    assert_eq!(
        page.attr("form input[name=attempt_video_id]", "value"),
        Some(attempt.clone())
    );
    assert_eq!(counts(&app), before);
    // A label with quotes and ampersands is plain text, escaped on the page.
    let fine = one(json!({ "type": "text", "colour": "white", "at": [0.5, 0.5], "text": "Knees \"soft\" & low" }));
    let response = reply(
        &app,
        &t.coach,
        &t,
        &[("attempt_video_id", &attempt), ("drawings", &fine)],
    )
    .await;
    assert_eq!(response.status().as_u16(), 303, "drawings alone make a reply");
    let page = app.page_with(&t.student, &format!("/exercises/{}", t.exercise)).await;
    assert!(!page.text.contains("& low"), "escaped in the attribute");
    let data: Value =
        serde_json::from_str(&page.attr("article[data-drawings]", "data-drawings").expect("data")).expect("json");
    assert_eq!(data[0]["shapes"][0]["text"], "Knees \"soft\" & low");
}

#[actix_web::test]
async fn drawings_follow_the_comment_s_permissions() {
    let app = spawn_app().await;
    let t = thread(&app).await;
    let attempt = t.attempt.to_string();
    let drawings = json!([typical_drawing(0.5)]).to_string();
    let response = reply(
        &app,
        &t.coach,
        &t,
        &[
            ("text", "Elbow"),
            ("attempt_video_id", &attempt),
            ("drawings", &drawings),
        ],
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    let reply_id: Id = comments_videocomment::table
        .filter(comments_videocomment::parent_id.eq(t.comment))
        .select(comments_videocomment::id)
        .first(&mut *app.conn())
        .expect("reply");
    // Another user cannot change them.
    let empty = "[]".to_owned();
    let response = app
        .post_form_with(
            &t.student,
            &format!("/comments/{reply_id}/edit"),
            &[
                ("text", "mine now"),
                ("attempt_video_id", &attempt),
                ("drawings", &empty),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(app.count("comments_drawing"), 1);
    // The edit form shows the attempt in the studio and carries it (a new
    // drawing or voice-over goes on it); its drawings field is disabled
    // until they change, so that saving the text alone keeps them.
    let form = app.page_with(&t.coach, &format!("/comments/{reply_id}/edit")).await;
    assert!(form.has(&format!(
        "[data-attempt-player][data-video-id='{attempt}'] [data-studio]"
    )));
    assert_eq!(
        form.attr("input[name=attempt_video_id]", "value").as_deref(),
        Some(attempt.as_str()),
        "the attempt the reply answers"
    );
    assert!(form.has("form[data-studio-form] input[name=drawings][data-drawings-field][disabled]"));
    let response = app
        .post_form_with(
            &t.coach,
            &format!("/comments/{reply_id}/edit"),
            &[("text", "Elbow, higher")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(app.count("comments_drawing"), 1, "kept");
    // A student of another thread cannot draw on this attempt from theirs.
    let (_, other) = app.user_client("olga", "student").await;
    let theirs = app.upload_ok(&other, sample_bytes(Sample::Small), "other.mp4").await;
    app.run_jobs().await;
    let response = app
        .post_form_with(
            &other,
            &format!("/exercises/{}/comments", t.exercise),
            &[
                ("text", "x"),
                ("video_id", &theirs.to_string()),
                ("attempt_video_id", &attempt),
                ("drawings", &drawings),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    assert_eq!(app.count("comments_drawing"), 1);
    // Deleting the reply deletes its drawings; so does deleting the attempt's comment.
    let response = app
        .post_form_with(&t.coach, &format!("/comments/{reply_id}/delete"), &[])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(app.count("comments_drawing"), 0);
    let _ = &t.student;
}

#[actix_web::test]
async fn staff_list_and_delete_drawings_and_the_comment_s_delete_preview_shows_them() {
    let app = spawn_app().await;
    let t = thread(&app).await;
    let attempt = t.attempt.to_string();
    let drawings = json!([typical_drawing(0.2), typical_drawing(1.0)]).to_string();
    let response = reply(
        &app,
        &t.coach,
        &t,
        &[
            ("text", "Two moments"),
            ("attempt_video_id", &attempt),
            ("drawings", &drawings),
        ],
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    let reply_id: Id = comments_videocomment::table
        .filter(comments_videocomment::parent_id.eq(t.comment))
        .select(comments_videocomment::id)
        .first(&mut *app.conn())
        .expect("reply");
    let (boss, staff) = app.user_client("boss", "admin").await;
    app.make_staff(boss);
    assert_eq!(app.get_with(&t.coach, "/staff/drawings").await.status().as_u16(), 404);

    let list = app.page_with(&staff, "/staff/drawings").await;
    assert_eq!(list.status, 200);
    let rows = list.select_text("table tbody tr");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows[0].contains("1 line, 1 arrow, 1 angle, 1 ellipse, 1 text, 1 freehand"),
        "{rows:?}"
    );
    let comment_page = app.page_with(&staff, &format!("/staff/comments/{reply_id}")).await;
    assert!(comment_page.text.contains("Drawings"));
    let preview = app
        .page_with(&staff, &format!("/staff/comments/{reply_id}/delete"))
        .await;
    assert!(preview.text.contains("2 drawing(s) on it and its replies."));
    let parent_preview = app
        .page_with(&staff, &format!("/staff/comments/{}/delete", t.comment))
        .await;
    assert!(parent_preview.text.contains("2 drawing(s) on it and its replies."));

    let first: Id = comments_drawing::table
        .filter(comments_drawing::comment_id.eq(reply_id))
        .order(comments_drawing::position.asc())
        .select(comments_drawing::id)
        .first(&mut *app.conn())
        .expect("a drawing");
    let preview = app.page_with(&staff, &format!("/staff/drawings/{first}/delete")).await;
    assert!(
        preview.text.contains("The drawing 0:00.2–0:02.2, 6 shapes"),
        "{}",
        preview.text
    );
    let response = app
        .post_form_with(&staff, &format!("/staff/drawings/{first}/delete"), &[])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(app.count("comments_drawing"), 1);
    assert_eq!(app.count("comments_videocomment"), 2, "the comment stays");
    let page = app.page_with(&t.student, &format!("/exercises/{}", t.exercise)).await;
    assert!(page.text.contains("Holds a drawing on the attempt, from 0:01"));
}

#[actix_web::test]
async fn a_reply_from_the_comparison_keeps_its_mirroring_and_overlay() {
    let app = spawn_app().await;
    let t = thread(&app).await;
    let before = counts(&app);
    for (mirror, overlay) in [("sideways", ""), ("attempt", "2"), ("", "half")] {
        let response = reply(
            &app,
            &t.coach,
            &t,
            &[
                ("text", "Compare"),
                ("compare_offset", "0.4"),
                ("compare_mirror", mirror),
                ("compare_overlay", overlay),
            ],
        )
        .await;
        assert_eq!(response.status().as_u16(), 422, "{mirror} {overlay}");
        let body = response.text().await.unwrap_or_default();
        assert!(
            body.contains("mirroring or overlay could not be read"),
            "{mirror} {overlay}"
        );
        assert_eq!(counts(&app), before);
    }
    let response = reply(
        &app,
        &t.coach,
        &t,
        &[
            ("text", "Mirrored, yours over mine"),
            ("compare_offset", "0.4"),
            ("compare_mirror", "attempt"),
            ("compare_overlay", "0.35"),
        ],
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    let (reply_id, mirror, overlay): (Id, Option<String>, Option<f64>) = comments_videocomment::table
        .filter(comments_videocomment::parent_id.eq(t.comment))
        .select((
            comments_videocomment::id,
            comments_videocomment::compare_mirror,
            comments_videocomment::compare_overlay,
        ))
        .first(&mut *app.conn())
        .expect("reply");
    assert_eq!((mirror.as_deref(), overlay), (Some("attempt"), Some(0.35)));

    // The reply's link reopens the comparison as it was kept.
    let page = app.page_with(&t.student, &format!("/exercises/{}", t.exercise)).await;
    let reopen = format!("/comments/{}/compare?offset=0.4&mirror=attempt&overlay=0.35", t.comment);
    assert!(page.has(&format!("a[href='{reopen}']")), "{}", page.text);
    assert!(page
        .select_text(&format!("a[href='{reopen}']"))
        .iter()
        .any(|t| t == "Reopen the comparison (offset 0.4 s, the attempt mirrored, overlaid at 35 %)"));
    let reopened = app.page_with(&t.student, &reopen).await;
    assert!(reopened.has("video.mirrored[data-compare-attempt]"));
    assert!(!reopened.has("video.mirrored[data-compare-demo]"));
    assert_eq!(
        reopened.attr("[data-mirror=attempt]", "aria-pressed").as_deref(),
        Some("true")
    );
    assert_eq!(reopened.attr("[data-compare]", "data-overlay").as_deref(), Some("0.35"));
    assert_eq!(
        reopened.attr("[data-compare-opacity]", "value").as_deref(),
        Some("0.35")
    );
    assert_eq!(
        reopened.attr("[data-compare-mirror-field]", "value").as_deref(),
        Some("attempt")
    );
    assert_eq!(
        reopened.attr("[data-compare-overlay-field]", "value").as_deref(),
        Some("0.35")
    );
    // Opened afresh, the attempt's comparison is plain.
    let plain = app
        .page_with(&t.student, &format!("/comments/{}/compare", t.comment))
        .await;
    assert!(!plain.has("video.mirrored") && !plain.has("[data-overlay]"));
    // Editing the reply keeps them.
    let edit = app.page_with(&t.coach, &format!("/comments/{reply_id}/edit")).await;
    assert_eq!(
        edit.attr("input[name=compare_mirror]", "value").as_deref(),
        Some("attempt")
    );
    assert_eq!(
        edit.attr("input[name=compare_overlay]", "value").as_deref(),
        Some("0.35")
    );
}
