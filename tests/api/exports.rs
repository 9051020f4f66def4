//! "Export my data": the request (a button, once while pending), the job
//! that builds the ZIP, the email with its link, the ZIP's contents
//! against the user's rows and files (JSON compared, media by SHA-256),
//! who may download it, and its expiry and removal.

use std::io::Read;

use diesel::prelude::*;
use practika::comments::queries::{self as comments, Draft};
use practika::db::schema::{
    comments_drawing, comments_videocomment, comments_voiceover, exercises_practicesession, exports_dataexport,
};
use practika::db::{Id, Json, Ts};
use practika::exercises::queries as exercises;
use serde_json::{json, Value};

use crate::helpers::{location, new_client, TestApp, GOOD_PASSWORD};
use crate::media_fixtures::{sample_bytes, sha256_hex, Sample};

/// The ZIP's entries by name.
fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    let mut entries = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("entry");
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("read entry");
        entries.insert(entry.name().to_owned(), data);
    }
    entries
}

fn json_of(entries: &std::collections::BTreeMap<String, Vec<u8>>, name: &str) -> Value {
    serde_json::from_slice(entries.get(name).unwrap_or_else(|| panic!("{name} in the ZIP"))).expect("JSON")
}

fn export_rows(app: &TestApp) -> Vec<(Id, i32, String)> {
    exports_dataexport::table
        .select((
            exports_dataexport::id,
            exports_dataexport::user_id,
            exports_dataexport::status,
        ))
        .order(exports_dataexport::created_at.asc())
        .load(&mut *app.conn())
        .expect("exports")
}

struct Fixture {
    app: TestApp,
    practice: Id,
    sue: i32,
    sue_client: reqwest::Client,
    video: Id,
    attempt: Id,
    own_reply: Id,
    coach_reply: Id,
    voiceover: Id,
    audio: Vec<u8>,
}

/// Sue's data: an uploaded video, an attempt with it, the coach's reply,
/// her own reply with a drawing, and a voice-over of hers.
async fn fixture() -> Fixture {
    let app = crate::helpers::spawn_app().await;
    let (coach, _) = app.user_client("exp_coach", "coach").await;
    let (sue, sue_client) = app.user_client("exp_sue", "student").await;
    let demonstration =
        practika::videos::upload::add_youtube(&mut app.conn(), "https://www.youtube.com/watch?v=exportdemo1", coach)
            .expect("youtube")
            .0
            .id;
    let exercise = exercises::create(
        &mut app.conn(),
        coach,
        &exercises::Draft {
            name: "Scales".to_owned(),
            description: None,
            video_asset_id: demonstration,
        },
    )
    .expect("exercise");
    let video = app
        .upload_ok(&sue_client, sample_bytes(Sample::Small), "my attempt.mp4")
        .await;
    let create = |author: i32, text: &str, video: Option<Id>, parent: Option<Id>| {
        comments::create(
            &mut app.conn(),
            author,
            &exercise,
            &Draft {
                text: Some(text.to_owned()),
                video,
                parent,
                ..Default::default()
            },
        )
        .expect("comment")
        .id
    };
    let attempt = create(sue, "My first try", Some(video), None);
    let coach_reply = create(coach, "Slower, please", None, Some(attempt));
    let own_reply = create(sue, "Like this?", None, Some(attempt));
    let drawing = json!([{ "start": 0.5, "end": 1.5, "shapes": [
        { "type": "line", "colour": "yellow", "from": [0.1, 0.2], "to": [0.3, 0.4] }
    ] }]);
    let drawings = practika::comments::studio::parse(&drawing.to_string(), Some(2.0)).expect("drawing");
    practika::comments::studio::replace(&mut app.conn(), own_reply, video, &drawings).expect("store drawing");
    // A voice-over of hers, its sound stored under the media root.
    let voiceover = Id::new();
    let audio = b"OggS not really a recording, but bytes to carry".to_vec();
    let relative = practika::comments::voice::audio_path(voiceover);
    let path = app.media_dir().join(&relative);
    std::fs::create_dir_all(path.parent().expect("folder")).expect("mkdir");
    std::fs::write(&path, &audio).expect("write audio");
    diesel::insert_into(comments_voiceover::table)
        .values((
            comments_voiceover::id.eq(voiceover),
            comments_voiceover::owner_id.eq(sue),
            comments_voiceover::comment_id.eq(Some(own_reply)),
            comments_voiceover::video_id.eq(Some(video)),
            comments_voiceover::original_path.eq(&relative),
            comments_voiceover::original_mime.eq("audio/webm"),
            comments_voiceover::original_size.eq(audio.len() as i64),
            comments_voiceover::audio_path.eq(Some(&relative)),
            comments_voiceover::audio_size.eq(Some(audio.len() as i64)),
            comments_voiceover::duration_ms.eq(Some(1500)),
            comments_voiceover::timeline.eq(Json(json!([{ "t_ms": 0, "action": "play", "value": 0.0 }]))),
            comments_voiceover::transcript.eq(Some("Watch the elbow")),
            comments_voiceover::status.eq("ready"),
            comments_voiceover::created_at.eq(Ts::now()),
        ))
        .execute(&mut *app.conn())
        .expect("voice-over");
    // Her practice on the exercise, and the coach's (not in her export).
    let practice = Id::new();
    for (id, user, seconds) in [(practice, sue, 95), (Id::new(), coach, 30)] {
        diesel::insert_into(exercises_practicesession::table)
            .values((
                exercises_practicesession::id.eq(id),
                exercises_practicesession::client_id.eq(Id::new()),
                exercises_practicesession::user_id.eq(user),
                exercises_practicesession::exercise_id.eq(exercise.id),
                exercises_practicesession::started_at.eq(Ts::now()),
                exercises_practicesession::updated_at.eq(Ts::now()),
                exercises_practicesession::day.eq("2026-11-30"),
                exercises_practicesession::seconds.eq(seconds),
                exercises_practicesession::max_speed.eq(0.75),
                exercises_practicesession::loops.eq(7),
            ))
            .execute(&mut *app.conn())
            .expect("practice session");
    }
    Fixture {
        app,
        practice,
        sue,
        sue_client,
        video,
        attempt,
        own_reply,
        coach_reply,
        voiceover,
        audio,
    }
}

/// The export's email (comments send their own notices too).
fn export_mail(app: &TestApp) -> crate::mail::Received {
    app.mail
        .received()
        .into_iter()
        .filter(|m| m.recipients.iter().any(|r| r == "exp_sue@example.com"))
        .find(|m| m.subject() == "Your Practika data export is ready")
        .expect("the export's email")
}

/// Asks for the export, runs the jobs, and returns the emailed link's path.
async fn export_and_link(f: &Fixture) -> String {
    let response = f.app.post_form_with(&f.sue_client, "/account/export", &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    f.app.run_jobs().await;
    let mail = export_mail(&f.app);
    f.app.path_of(&mail.link("http://practika.test/data-exports/"))
}

#[actix_web::test]
async fn an_export_zip_holds_the_users_rows_and_files() {
    crate::media_fixtures::require_ffmpeg();
    let f = fixture().await;
    let app = &f.app;
    // The page offers the button; a second click while pending starts nothing.
    let settings = app.page_with(&f.sue_client, "/account/settings").await;
    assert!(settings.has("#export form[action='/account/export'] input[name=csrf_token]"));
    for _ in 0..2 {
        let response = app.post_form_with(&f.sue_client, "/account/export", &[]).await;
        assert_eq!(response.status().as_u16(), 303);
        assert_eq!(location(&response), "/account/settings#export");
    }
    assert_eq!(export_rows(app).len(), 1, "one request while one is pending");
    assert_eq!(app.jobs_of("build_export").len(), 1);
    let pending = app.page_with(&f.sue_client, "/account/settings").await;
    assert!(pending.select_text("#export .export-state")[0].starts_with("Being prepared"));
    assert!(!pending.has("#export form"), "no button while it is being built");
    // Without CSRF token: refused.
    let forged = f
        .sue_client
        .post(app.url("/account/export"))
        .send()
        .await
        .expect("POST");
    assert_eq!(forged.status().as_u16(), 403);

    app.run_jobs().await;
    let (id, _, status) = export_rows(app).remove(0);
    assert_eq!(status, "ready");
    let mail = export_mail(app);
    let path = app.path_of(&mail.link("http://practika.test/data-exports/"));
    assert!(path.starts_with(&format!("/data-exports/{id}/")), "{path}");
    let ready = app.page_with(&f.sue_client, "/account/settings").await;
    assert_eq!(
        ready.attr("#export a[download]", "href").as_deref(),
        Some(path.as_str())
    );

    let response = app.get_with(&f.sue_client, &path).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        crate::media_fixtures::header(&response, "content-type"),
        "application/zip"
    );
    assert!(crate::media_fixtures::header(&response, "content-disposition").starts_with("attachment;"));
    let bytes = response.bytes().await.expect("body");
    let entries = unzip(&bytes);

    // Videos: the row, and the original byte for byte.
    let asset = app.asset(f.video);
    let videos = json_of(&entries, "videos.json");
    let videos = videos.as_array().expect("a list");
    assert_eq!(
        videos.len(),
        1,
        "her upload only, not the coach's demonstration: {videos:?}"
    );
    let file = videos[0]["file"].as_str().expect("the file's name");
    assert_eq!(file, format!("videos/{}.mp4", f.video.0.simple()));
    assert_eq!(videos[0]["id"], json!(f.video));
    let stored = std::fs::read(app.media_dir().join(asset.storage_path.as_deref().expect("stored"))).expect("file");
    assert_eq!(sha256_hex(&entries[file]), sha256_hex(&stored));
    assert_eq!(Some(sha256_hex(&entries[file])), asset.checksum_sha256);
    assert_eq!(videos[0]["file_sha256"], json!(sha256_hex(&stored)));

    // Comments: hers, as stored; replies: the coach's to her.
    let comments = json_of(&entries, "comments.json");
    let rows: Vec<(Id, Option<String>, Option<Id>)> = comments_videocomment::table
        .filter(comments_videocomment::author_id.eq(f.sue))
        .order(comments_videocomment::created_at.asc())
        .select((
            comments_videocomment::id,
            comments_videocomment::text,
            comments_videocomment::parent_id,
        ))
        .load(&mut *app.conn())
        .expect("rows");
    let exported: Vec<(Value, Value, Value)> = comments
        .as_array()
        .expect("list")
        .iter()
        .map(|c| (c["id"].clone(), c["text"].clone(), c["parent_id"].clone()))
        .collect();
    let expected: Vec<(Value, Value, Value)> = rows
        .iter()
        .map(|(id, text, parent)| (json!(id), json!(text), json!(parent)))
        .collect();
    assert_eq!(exported, expected);
    assert_eq!(exported[0].0, json!(f.attempt));
    assert_eq!(comments[0]["video_id"], json!(f.video));
    assert_eq!(
        comments[1]["video_id"],
        Value::Null,
        "a reply without a video of its own"
    );
    let replies = json_of(&entries, "replies.json");
    assert_eq!(replies.as_array().map(Vec::len), Some(1));
    assert_eq!(replies[0]["id"], json!(f.coach_reply));
    assert_eq!(replies[0]["text"], "Slower, please");
    assert_eq!(replies[0]["in_reply_to"], json!(f.attempt));

    // Drawings: the stored shapes.
    let drawings = json_of(&entries, "drawings.json");
    let stored_shapes: Json = comments_drawing::table
        .filter(comments_drawing::comment_id.eq(f.own_reply))
        .select(comments_drawing::shapes)
        .first(&mut *app.conn())
        .expect("drawing");
    assert_eq!(drawings.as_array().map(Vec::len), Some(1));
    assert_eq!(drawings[0]["shapes"], stored_shapes.0);
    assert_eq!(drawings[0]["comment_id"], json!(f.own_reply));

    // Voice-overs: the row and the sound.
    let voiceovers = json_of(&entries, "voiceovers.json");
    assert_eq!(voiceovers[0]["id"], json!(f.voiceover));
    assert_eq!(voiceovers[0]["transcript"], "Watch the elbow");
    let sound = voiceovers[0]["file"].as_str().expect("sound file");
    assert_eq!(sha256_hex(&entries[sound]), sha256_hex(&f.audio));

    let practice = json_of(&entries, "practice.json");
    assert_eq!(practice.as_array().map(Vec::len), Some(1), "hers only: {practice}");
    assert_eq!(practice[0]["id"], json!(f.practice));
    assert_eq!(practice[0]["exercise"], "Scales");
    assert_eq!(
        (
            practice[0]["day"].as_str(),
            practice[0]["seconds"].as_i64(),
            practice[0]["max_speed"].as_f64(),
            practice[0]["loops"].as_i64()
        ),
        (Some("2026-11-30"), Some(95), Some(0.75), Some(7))
    );
    assert_eq!(json_of(&entries, "account.json")["username"], "exp_sue");
    assert!(entries.contains_key("README.txt"));
    let mut names: Vec<&str> = entries.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names.len(), 11, "{names:?}");

    // A new export replaces this one: one ZIP on disk per user.
    let zip_files = || {
        app.media_files()
            .into_iter()
            .filter(|f| f.starts_with("data-exports/"))
            .count()
    };
    assert_eq!(zip_files(), 1);
    let response = app.post_form_with(&f.sue_client, "/account/export", &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    app.run_jobs().await;
    assert_eq!(export_rows(app).len(), 1);
    assert_eq!(zip_files(), 1);
    assert_eq!(
        app.get_with(&f.sue_client, &path).await.status().as_u16(),
        404,
        "the old link is gone"
    );
}

#[actix_web::test]
async fn only_the_owner_logged_in_downloads_an_export() {
    crate::media_fixtures::require_ffmpeg();
    let f = fixture().await;
    let app = &f.app;
    let path = export_and_link(&f).await;
    // Someone else, even staff: not found. Nobody logged in: the login page.
    let (_, tom) = app.user_client("exp_tom", "student").await;
    assert_eq!(app.get_with(&tom, &path).await.status().as_u16(), 404);
    let staff = app.create_staff("exp_staff", GOOD_PASSWORD);
    let staff_client = new_client();
    assert_eq!(
        app.login_with(&staff_client, "exp_staff", GOOD_PASSWORD)
            .await
            .status()
            .as_u16(),
        303
    );
    assert_eq!(app.get_with(&staff_client, &path).await.status().as_u16(), 404);
    let _ = staff;
    let anonymous = app.get_with(&new_client(), &path).await;
    assert_eq!(anonymous.status().as_u16(), 303);
    assert!(location(&anonymous).starts_with("/login?next="));
    // A tampered signature: not found, even for her.
    let mut tampered = path.clone();
    let last = if path.ends_with('0') { "1" } else { "0" };
    tampered.replace_range(path.len() - 1.., last);
    assert_eq!(app.get_with(&f.sue_client, &tampered).await.status().as_u16(), 404);
    assert_eq!(app.get_with(&f.sue_client, &path).await.status().as_u16(), 200);
}

#[actix_web::test]
async fn an_expired_export_is_refused_and_then_removed() {
    crate::media_fixtures::require_ffmpeg();
    let f = fixture().await;
    let app = &f.app;
    let path = export_and_link(&f).await;
    assert_eq!(
        app.media_files()
            .iter()
            .filter(|f| f.starts_with("data-exports/"))
            .count(),
        1
    );
    // Eight days later (the link's signature covers the expiry it was
    // made with, so the row's expiry is moved, not the link's).
    diesel::update(exports_dataexport::table)
        .set(exports_dataexport::expires_at.eq(Ts(Ts::now().0 - chrono::Duration::days(1))))
        .execute(&mut *app.conn())
        .expect("age");
    let response = app.get_with(&f.sue_client, &path).await;
    assert_eq!(response.status().as_u16(), 404, "another expiry: not this link's");
    let aged = practika::exports::queries::latest(&mut app.conn(), f.sue)
        .expect("q")
        .expect("export");
    let expired_link = practika::exports::build::download_path(&aged, app.settings.secret_key.bytes());
    assert_eq!(
        app.get_with(&f.sue_client, &expired_link).await.status().as_u16(),
        410,
        "expired"
    );
    app.worker().housekeeping().await;
    assert!(export_rows(app).is_empty(), "the row is gone");
    assert!(
        app.media_files().iter().all(|f| !f.starts_with("data-exports/")),
        "the file is gone: {:?}",
        app.media_files()
    );
    assert_eq!(app.get_with(&f.sue_client, &path).await.status().as_u16(), 404);
}
