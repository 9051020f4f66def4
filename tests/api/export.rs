//! A reply exported as a video, with the real ffmpeg on tiny generated
//! videos: the MP4 follows the voice-over's timeline (a 1 s pause makes a
//! 2 s attempt a 3 s video, its frames held), has the voice as sound, and
//! shows a drawing's pixels while it is on; asking twice makes one export;
//! only the conversation (and staff) may download it; it goes with the
//! reply. Voice-overs count towards their owner's storage quota.

use std::path::Path;
use std::time::Instant;

use diesel::prelude::*;
use practika::comments::export::{self, Status};
use practika::db::Id;
use serde_json::json;

use crate::helpers::{location, spawn_app, spawn_app_with, TestApp};
use crate::media_fixtures::{header, voice_sample};
use crate::studio::{reply, thread};
use crate::voice::{recorded, reply_id};

/// A blue line down the middle of the frame, at 1 s of the attempt.
fn line_drawing() -> serde_json::Value {
    json!({
        "start": 1.0,
        "end": 1.0,
        "shapes": [{ "type": "line", "colour": "blue", "from": [0.5, 0.1], "to": [0.5, 0.9] }],
    })
}

/// 3 s of voice over the 2 s attempt: it plays, pauses at 1 s for a
/// second (the line drawn 0.2 s into the pause), and plays to its end.
fn paused_timeline() -> String {
    json!([
        { "t_ms": 0, "action": "seek", "value": 0 },
        { "t_ms": 0, "action": "rate", "value": 1 },
        { "t_ms": 0, "action": "play", "value": 0 },
        { "t_ms": 1000, "action": "pause", "value": 1.0 },
        { "t_ms": 1200, "action": "draw", "value": 0 },
        { "t_ms": 2000, "action": "play", "value": 1.0 },
    ])
    .to_string()
}

/// One frame's pixels (RGB), `at` seconds in, cropped to `w`×`h` at (`x`, `y`).
fn pixels(file: &Path, at: f64, (x, y, w, h): (u32, u32, u32, u32)) -> Vec<u8> {
    let out = std::process::Command::new("ffmpeg")
        .args([
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-ss",
            &format!("{at:.3}"),
            "-i",
        ])
        .arg(file)
        .args([
            "-frames:v",
            "1",
            "-vf",
            &format!("format=rgb24,crop={w}:{h}:{x}:{y}"),
            "-f",
            "rawvideo",
            "-",
        ])
        .output()
        .expect("ffmpeg");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout.len(), (w * h * 3) as usize);
    out.stdout
}

fn mean_difference(a: &[u8], b: &[u8]) -> f64 {
    a.iter().zip(b).map(|(x, y)| f64::from(x.abs_diff(*y))).sum::<f64>() / a.len() as f64
}

fn close_to(pixel: &[u8], expected: [u8; 3]) -> bool {
    pixel.iter().zip(expected).all(|(p, e)| p.abs_diff(e) <= 45)
}

fn ffprobe(file: &Path) -> serde_json::Value {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json", "-show_format", "-show_streams"])
        .arg(file)
        .output()
        .expect("ffprobe");
    serde_json::from_slice(&out.stdout).expect("ffprobe's JSON")
}

fn the_export(app: &TestApp) -> export::ExportRow {
    use practika::db::schema::comments_export;
    comments_export::table
        .select(export::ExportRow::as_select())
        .first(&mut *app.conn())
        .expect("an export")
}

#[actix_web::test]
async fn a_reply_exports_as_a_video_that_follows_its_voice_over() {
    let app = spawn_app().await;
    let t = thread(&app).await;
    let attempt = t.attempt.to_string();
    let voice = recorded(&app, &t.coach, &std::fs::read(voice_sample(3)).expect("voice")).await;
    app.run_jobs().await;
    let drawings = json!([line_drawing()]).to_string();
    let (voice_text, timeline) = (voice.to_string(), paused_timeline());
    let response = reply(
        &app,
        &t.coach,
        &t,
        &[
            ("text", "Watch the pause"),
            ("attempt_video_id", &attempt),
            ("drawings", &drawings),
            ("voiceover_id", &voice_text),
            ("voiceover_timeline", &timeline),
        ],
    )
    .await;
    assert_eq!(
        response.status().as_u16(),
        303,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let reply = reply_id(&app, &t);
    let page_path = format!("/exercises/{}", t.exercise);

    // The author is offered the export; nobody else is.
    let page = app.page_with(&t.coach, &page_path).await;
    let form = format!("form[action='/comments/{reply}/export'][method=post]");
    assert!(
        page.has(&format!("{form} input[name=csrf_token]")),
        "with the CSRF token"
    );
    assert!(!app.page_with(&t.student, &page_path).await.has(&form));

    // A double click: two POSTs, one export, one job.
    let url = format!("/comments/{reply}/export");
    for _ in 0..2 {
        let response = app.post_form_with(&t.coach, &url, &[]).await;
        assert_eq!(response.status().as_u16(), 303);
        assert_eq!(
            location(&response),
            format!("/exercises/{}#comment-{}", t.exercise, t.comment)
        );
    }
    assert_eq!(app.count("comments_export"), 1);
    assert_eq!(app.jobs_of(export::EXPORT_REPLY).len(), 1);
    // Someone else cannot ask for it.
    let response = app.post_form_with(&t.student, &url, &[]).await;
    assert_eq!(response.status().as_u16(), 403);
    let page = app.page_with(&t.coach, &page_path).await;
    assert_eq!(
        page.select_text("[data-export-pending]"),
        vec!["Preparing your video…".to_owned()]
    );
    assert!(!page.has(&form), "not offered again while it is made");

    let started = Instant::now();
    assert!(app.run_jobs().await >= 1);
    let took = started.elapsed();
    let row = the_export(&app);
    assert_eq!(row.status(), Status::Ready, "{:?}", row.processing_error);
    let file = app.media_dir().join(row.path.as_deref().expect("a file"));
    let size = std::fs::metadata(&file).expect("the file").len();
    println!("a 3 s export of a 2 s attempt: made in {took:?}, {size} bytes");

    // An MP4 as long as the voice: the 2 s attempt and the 1 s pause.
    let probe = ffprobe(&file);
    assert!(
        probe["format"]["format_name"]
            .as_str()
            .unwrap_or_default()
            .contains("mp4"),
        "{probe}"
    );
    let seconds: f64 = probe["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .expect("a duration");
    assert!((2.85..=3.2).contains(&seconds), "{seconds} s");
    let codecs: Vec<(String, String)> = probe["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|s| {
            (
                s["codec_type"].as_str().unwrap_or_default().to_owned(),
                s["codec_name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(codecs.contains(&("video".to_owned(), "h264".to_owned())), "{codecs:?}");
    assert!(codecs.contains(&("audio".to_owned(), "aac".to_owned())), "{codecs:?}");

    // The pause holds the frame (the scrolling colour strip stands still),
    // where the playing attempt moved it.
    let strip = (0, 185, 320, 20);
    let playing = mean_difference(&pixels(&file, 0.2, strip), &pixels(&file, 0.8, strip));
    let held = mean_difference(&pixels(&file, 1.3, strip), &pixels(&file, 1.9, strip));
    assert!(playing > 10.0 && held < 3.0, "playing: {playing}, held: {held}");

    // The line shows from when it was drawn (1.2 s), over the held frame
    // and the attempt's frame at 1 s, and not before nor once it plays on.
    let blue = [30, 136, 229];
    let on_the_line = (160, 60, 1, 1);
    for (at, shown) in [(0.5, false), (1.1, false), (1.5, true), (1.9, true), (2.6, false)] {
        let pixel = pixels(&file, at, on_the_line);
        assert_eq!(close_to(&pixel, blue), shown, "at {at} s: {pixel:?}");
    }

    // The download: the author and the student whose attempt it is, not
    // another student, not someone logged out.
    let page = app.page_with(&t.student, &page_path).await;
    let link = page.attr("[data-export-link]", "href").expect("the download link");
    assert_eq!(link, format!("/exports/{}/file", row.id));
    let download = app.get_with(&t.coach, &link).await;
    assert_eq!(download.status().as_u16(), 200);
    assert_eq!(header(&download, "content-type"), "video/mp4");
    assert!(header(&download, "content-disposition").starts_with("attachment; filename=\"practika-feedback-"));
    assert_eq!(download.bytes().await.expect("bytes").len() as u64, size);
    assert_eq!(app.get_with(&t.student, &link).await.status().as_u16(), 200);
    let (_, stranger) = app.user_client("sam", "student").await;
    assert_eq!(app.get_with(&stranger, &link).await.status().as_u16(), 404);
    let status = format!("/exports/{}/status", row.id);
    assert_eq!(app.get_with(&stranger, &status).await.status().as_u16(), 404);
    assert!(!app.page_with(&stranger, &page_path).await.has("[data-export]"));
    assert_ne!(
        app.get_with(&crate::helpers::new_client(), &link)
            .await
            .status()
            .as_u16(),
        200
    );
    let polled: serde_json::Value = app.get_with(&t.coach, &status).await.json().await.expect("JSON");
    assert_eq!(
        (polled["settled"].as_bool(), polled["url"].as_str()),
        (Some(true), Some(link.as_str()))
    );

    // Asking again for a made export changes nothing.
    app.post_form_with(&t.coach, &url, &[]).await;
    assert_eq!(app.jobs_of(export::EXPORT_REPLY).len(), 1);

    // Deleting the reply takes the export and its file.
    let response = app
        .post_form_with(&t.coach, &format!("/comments/{reply}/delete"), &[])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(app.count("comments_export"), 0);
    assert!(!file.exists(), "the file is removed with the reply");
}

#[actix_web::test]
async fn a_reply_with_drawings_alone_exports_the_attempt_once_with_its_sound() {
    let app = spawn_app().await;
    let t = thread(&app).await;
    let attempt = t.attempt.to_string();
    let drawings = json!([{
        "start": 0.5, "end": 1.5,
        "shapes": [{ "type": "line", "colour": "blue", "from": [0.5, 0.1], "to": [0.5, 0.9] }],
    }])
    .to_string();
    let response = reply(
        &app,
        &t.coach,
        &t,
        &[("text", ""), ("attempt_video_id", &attempt), ("drawings", &drawings)],
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    let reply = reply_id(&app, &t);
    app.post_form_with(&t.coach, &format!("/comments/{reply}/export"), &[])
        .await;
    app.run_jobs().await;
    let row = the_export(&app);
    assert_eq!(row.status(), Status::Ready, "{:?}", row.processing_error);
    let file = app.media_dir().join(row.path.as_deref().expect("a file"));
    let probe = ffprobe(&file);
    let seconds: f64 = probe["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .expect("a duration");
    assert!((1.9..=2.15).contains(&seconds), "the attempt's 2 s: {seconds}");
    let sound = probe["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .any(|s| s["codec_type"] == "audio");
    assert!(sound, "the attempt's own sound: {probe}");
    let blue = [30, 136, 229];
    assert!(!close_to(&pixels(&file, 0.2, (160, 60, 1, 1)), blue));
    assert!(close_to(&pixels(&file, 1.0, (160, 60, 1, 1)), blue));

    // Redrawn in an edit, the export no longer shows the reply: it goes.
    let page = app.page_with(&t.coach, &format!("/comments/{reply}/edit")).await;
    assert!(page.has("form"));
    let response = app
        .post_form_with(
            &t.coach,
            &format!("/comments/{reply}/edit"),
            &[
                ("text", "Redrawn"),
                ("attempt_video_id", &attempt),
                ("drawings", &drawings),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(app.count("comments_export"), 0);
    assert!(!file.exists());
}

#[actix_web::test]
async fn staff_list_and_delete_exports() {
    let app = spawn_app().await;
    let t = thread(&app).await;
    let attempt = t.attempt.to_string();
    let drawings = json!([line_drawing()]).to_string();
    reply(
        &app,
        &t.coach,
        &t,
        &[("text", ""), ("attempt_video_id", &attempt), ("drawings", &drawings)],
    )
    .await;
    let reply = reply_id(&app, &t);
    app.post_form_with(&t.coach, &format!("/comments/{reply}/export"), &[])
        .await;
    let confirm = app.page_with(&t.coach, &format!("/comments/{reply}/delete")).await;
    assert!(
        confirm
            .select_text("p")
            .iter()
            .any(|p| p.contains("The 1 exported video of it goes too.")),
        "{}",
        confirm.text
    );
    app.create_staff("root", crate::helpers::GOOD_PASSWORD);
    let staff = crate::helpers::new_client();
    app.login_with(&staff, "root", crate::helpers::GOOD_PASSWORD).await;
    let list = app.page_with(&staff, "/staff/exports").await;
    assert_eq!(list.select_text("tbody tr").len(), 1, "{}", list.text);
    let made = the_export(&app);
    let row: Id = made.id;
    // The reply's staff page lists it beside its drawings; the previews of
    // deleting the reply, the attempt and the coach say it goes too.
    let page = app.page_with(&staff, &format!("/staff/comments/{reply}")).await;
    assert!(page.has(&format!("a[href='/staff/exports/{row}']")), "{}", page.text);
    for (model, id) in [
        ("comments", reply.to_string()),
        ("comments", t.comment.to_string()),
        ("videos", t.attempt.to_string()),
        ("users", made.owner_id.to_string()),
    ] {
        let preview = app.page_with(&staff, &format!("/staff/{model}/{id}/delete")).await;
        assert!(
            preview.text.contains("1 exported video(s)"),
            "{model} {id}: {}",
            preview.text
        );
    }
    let preview = app.page_with(&staff, &format!("/staff/exports/{row}/delete")).await;
    assert!(preview.text.contains("hourly clean-up"), "{}", preview.text);
    let response = app
        .post_form_with(&staff, &format!("/staff/exports/{row}/delete"), &[])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(app.count("comments_export"), 0);
}

/// A voice-over's bytes (the recording and its web version) count towards
/// its owner's quota: an upload that fits only without them is refused.
#[actix_web::test]
async fn voice_overs_count_towards_the_storage_quota() {
    let app = spawn_app_with(&[("PRACTIKA_STORAGE_QUOTA_MB", "1")]).await;
    let t = thread(&app).await;
    let coach_id: i32 = {
        use practika::db::schema::auth_user;
        auth_user::table
            .filter(auth_user::username.eq("cora"))
            .select(auth_user::id)
            .first(&mut *app.conn())
            .expect("the coach")
    };
    let voice = recorded(&app, &t.coach, &std::fs::read(voice_sample(3)).expect("voice")).await;
    app.run_jobs().await;
    let row = practika::comments::voice::find(&mut app.conn(), voice)
        .expect("query")
        .expect("row");
    let bytes = row.original_size + row.audio_size.expect("processed");
    let usage = practika::videos::quota::usage(&mut app.conn(), coach_id, 1024 * 1024).expect("usage");
    assert_eq!(
        (usage.stored, usage.pending),
        (bytes as u64, 0),
        "the finished upload is not counted twice"
    );

    let create = |length: u64| {
        let client = t.coach.clone();
        let app = &app;
        async move {
            let token = app.csrf_token_with(&client).await;
            client
                .post(app.url("/uploads"))
                .header("Tus-Resumable", "1.0.0")
                .header("X-CSRF-Token", token)
                .header("Upload-Length", length.to_string())
                .send()
                .await
                .expect("POST /uploads")
                .status()
                .as_u16()
        }
    };
    let room = 1024 * 1024 - bytes as u64;
    assert_eq!(create(room + 1).await, 413, "the voice-over's bytes are used");
    assert_eq!(create(room).await, 201, "what is left still fits");
}

/// While a reply's voice-over is processed the thread says so and its
/// script polls the status (the page then reloads to play it); the reply's
/// edit form removes it, and with it the export that showed it.
#[actix_web::test]
async fn a_voice_over_is_polled_while_processed_and_removed_from_the_edit_form() {
    let app = spawn_app().await;
    let t = thread(&app).await;
    let attempt = t.attempt.to_string();
    let voice = recorded(&app, &t.coach, &std::fs::read(voice_sample(3)).expect("voice")).await;
    let voice_text = voice.to_string();
    let response = reply(
        &app,
        &t.coach,
        &t,
        &[
            ("text", "Listen"),
            ("attempt_video_id", &attempt),
            ("voiceover_id", &voice_text),
        ],
    )
    .await;
    assert_eq!(
        response.status().as_u16(),
        303,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let reply = reply_id(&app, &t);
    let page_path = format!("/exercises/{}", t.exercise);
    let page = app.page_with(&t.student, &page_path).await;
    let status = format!("/voiceovers/{voice}/status");
    assert_eq!(
        page.attr("[data-voiceover-pending]", "data-status-url"),
        Some(status.clone())
    );
    let polled: serde_json::Value = app.get_with(&t.student, &status).await.json().await.expect("JSON");
    assert_eq!(polled["settled"], false);
    app.run_jobs().await;
    let polled: serde_json::Value = app.get_with(&t.student, &status).await.json().await.expect("JSON");
    assert_eq!(
        (polled["settled"].as_bool(), polled["status"].as_str()),
        (Some(true), Some("ready"))
    );
    let page = app.page_with(&t.student, &page_path).await;
    assert!(!page.has("[data-voiceover-pending]") && page.has("audio[data-voiceover-audio]"));

    app.post_form_with(&t.coach, &format!("/comments/{reply}/export"), &[])
        .await;
    assert_eq!(app.count("comments_export"), 1);
    let edit = app.page_with(&t.coach, &format!("/comments/{reply}/edit")).await;
    assert!(edit.has("input[type=checkbox][name=remove_voiceover]"), "{}", edit.text);
    assert!(edit.text.contains("a voice-over of 0:03"), "{}", edit.text);
    let response = app
        .post_form_with(
            &t.coach,
            &format!("/comments/{reply}/edit"),
            &[("text", "Listen"), ("remove_voiceover", "1")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(app.count("comments_voiceover"), 0);
    assert_eq!(app.count("comments_export"), 0, "the export showed the voice-over");
    assert_eq!(app.count("comments_videocomment"), 2, "the reply stays");
    let page = app.page_with(&t.student, &page_path).await;
    assert!(!page.has("[data-voiceover]"));
    assert_eq!(app.get_with(&t.student, &status).await.status().as_u16(), 404);
}
