//! Exercises and comments: the practice loop end to end, the role × action
//! matrix, validation, search and pagination, exact counters.

use diesel::prelude::*;
use practika::db::schema::{accounts_profile, accounts_usermetrics, comments_videocomment, exercises_exercise};
use practika::db::Id;

use crate::helpers::{location, new_client, spawn_app, TestApp};
use crate::media_fixtures::{sample_bytes, Sample};

fn metrics(app: &TestApp, user_id: i32) -> (i32, i32) {
    accounts_usermetrics::table
        .inner_join(accounts_profile::table)
        .filter(accounts_profile::user_id.eq(user_id))
        .select((
            accounts_usermetrics::exercises_created,
            accounts_usermetrics::comments_made,
        ))
        .first(&mut *app.conn())
        .expect("metrics")
}

fn exercise_named(app: &TestApp, name: &str) -> Option<Id> {
    exercises_exercise::table
        .filter(exercises_exercise::name.eq(name))
        .select(exercises_exercise::id)
        .first(&mut *app.conn())
        .optional()
        .expect("query")
}

/// What the exercise page's forms offer a user, by id.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Offered {
    pub videos: Vec<String>,
    pub clips: Vec<String>,
}

/// The exercise page's choices, as its script fetches them.
pub(crate) async fn choices(app: &TestApp, client: &reqwest::Client, exercise: Id) -> Offered {
    #[derive(serde::Deserialize)]
    struct Choice {
        id: String,
        label: String,
    }
    #[derive(serde::Deserialize)]
    struct Choices {
        videos: Vec<Choice>,
        clips: Vec<Choice>,
    }
    let response = app.get_with(client, &format!("/exercises/{exercise}/choices")).await;
    assert_eq!(response.status().as_u16(), 200);
    let choices: Choices = response.json().await.expect("JSON choices");
    let ids = |list: Vec<Choice>| {
        list.into_iter()
            .inspect(|c| assert!(!c.label.is_empty(), "{}: no label", c.id))
            .map(|c| c.id)
            .collect()
    };
    Offered {
        videos: ids(choices.videos),
        clips: ids(choices.clips),
    }
}

/// A video for a user without ffmpeg: a YouTube link.
pub(crate) fn youtube_video(app: &TestApp, user_id: i32, video: &str) -> Id {
    let url = format!("https://www.youtube.com/watch?v={video}");
    practika::videos::upload::add_youtube(&mut app.conn(), &url, user_id)
        .expect("youtube")
        .0
        .id
}

async fn publish(app: &TestApp, client: &reqwest::Client, name: &str, video: Id) -> Id {
    let response = app
        .post_form_with(
            client,
            "/exercises",
            &[
                ("name", name),
                ("description", "Slowly."),
                ("video_id", &video.to_string()),
            ],
        )
        .await;
    assert_eq!(
        response.status().as_u16(),
        303,
        "{}",
        response.text().await.unwrap_or_default()
    );
    exercise_named(app, name).expect("published")
}

#[actix_web::test]
async fn the_practice_loop_works_end_to_end() {
    let app = spawn_app().await;
    let (coach_id, coach) = app.user_client("coach_kim", "coach").await;
    let (student_id, student) = app.user_client("student_sam", "student").await;

    // The coach uploads a demonstration and publishes an exercise with it.
    let demo = app.upload_ok(&coach, sample_bytes(Sample::Hd), "scales.mp4").await;
    app.run_jobs().await;
    let exercise = publish(&app, &coach, "C major scale", demo).await;
    assert_eq!(metrics(&app, coach_id), (1, 0));

    // The student finds it in the library, with its poster and duration.
    let library = app.page_with(&student, "/exercises").await;
    assert_eq!(library.status, 200);
    assert_eq!(library.select_text(".video-card-title"), vec!["C major scale"]);
    assert_eq!(
        library.attr(".video-thumb img", "src"),
        Some(format!("/videos/{demo}/poster"))
    );
    assert!(library
        .select_text(".video-card-meta")
        .iter()
        .any(|m| m.contains("0 comments") && m.contains("0:02")));
    let page = app.page_with(&student, &format!("/exercises/{exercise}")).await;
    assert_eq!(page.status, 200);
    assert!(page.has("video[data-demo] source"));
    assert!(
        page.has("[data-controls] [data-speed]"),
        "speed, quality, frame and loop controls"
    );
    assert!(page.has("[data-controls] [data-quality]"));
    assert!(!page.has("a[href$='/edit']"), "students cannot edit the exercise");

    // The student answers with an attempt video, pinned to a range of the demonstration.
    let attempt = app
        .upload_ok(&student, sample_bytes(Sample::Small), "my attempt.mp4")
        .await;
    app.run_jobs().await;
    let response = app
        .post_form_with(
            &student,
            &format!("/exercises/{exercise}/comments"),
            &[
                ("text", "Is my thumb right here?"),
                ("video_id", &attempt.to_string()),
                ("range_start", "0.5"),
                ("range_end", "1.5"),
            ],
        )
        .await;
    assert_eq!(
        response.status().as_u16(),
        303,
        "{}",
        response.text().await.unwrap_or_default()
    );
    assert_eq!(metrics(&app, student_id), (0, 1));
    let seconds: i32 = accounts_usermetrics::table
        .inner_join(accounts_profile::table)
        .filter(accounts_profile::user_id.eq(student_id))
        .select(accounts_usermetrics::total_video_time)
        .first(&mut *app.conn())
        .expect("metrics");
    assert_eq!(seconds, 2, "the attempt's seconds count once it is processed");
    // The coach is told by email (notifications are on by default), by the worker.
    app.run_jobs().await;
    let mail = app.mail.wait_for_mail_to("coach_kim@example.com").await;
    assert!(mail.subject().contains("posted on your exercise"), "{}", mail.subject());
    assert!(mail.text().contains("Is my thumb right here?") && mail.text().contains("with a video"));
    let comment: Id = comments_videocomment::table
        .filter(comments_videocomment::author_id.eq(student_id))
        .select(comments_videocomment::id)
        .first(&mut *app.conn())
        .expect("comment");

    // The coach sees it: text, the range chip, the attempt video (playable), a compare link.
    let page = app.page_with(&coach, &format!("/exercises/{exercise}")).await;
    assert!(page.text.contains("Is my thumb right here?"));
    assert_eq!(
        page.attr("[data-range-start]", "data-range-start").as_deref(),
        Some("0.5")
    );
    assert_eq!(
        page.attr("[data-range-start]", "data-range-end").as_deref(),
        Some("1.5")
    );
    assert!(page.has(&format!(".comment-video source[src^='/videos/{attempt}/media/']")));
    assert!(page.has(&format!("a[href='/comments/{comment}/compare']")));
    let media = app.get_with(&coach, &format!("/videos/{attempt}/media/original")).await;
    assert_eq!(media.status().as_u16(), 200, "an attached attempt plays for the coach");

    // The coach cuts a clip of the attempt and replies with it.
    let response = app
        .post_form_with(
            &coach,
            &format!("/videos/{attempt}/clips"),
            &[("start", "0.2"), ("end", "1.2")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let clip: Id = location(&response)
        .trim_start_matches("/clips/")
        .parse()
        .expect("clip id");
    app.run_jobs().await;
    // The reply form offers it: fetched as the form opens, or in the page
    // by the link a browser without JavaScript follows.
    let choices = choices(&app, &coach, exercise).await;
    assert!(choices.clips.contains(&clip.to_string()), "{choices:?}");
    let page = app.page_with(&coach, &format!("/exercises/{exercise}")).await;
    let reply = format!("#comment-{comment} details.reply");
    assert!(!page.has(&format!("{reply} option[value='{clip}']")), "not in the page");
    let link = page
        .attr(&format!("{reply} [data-reply-more] a"), "href")
        .expect("a link to the reply's choices");
    assert_eq!(link, format!("?choose={comment}#comment-{comment}"));
    let reply_form = app
        .page_with(
            &coach,
            &format!("/exercises/{exercise}{}", link.split('#').next().unwrap_or_default()),
        )
        .await;
    assert!(reply_form.has(&format!("{reply}[open] select[name=clip_id] option[value='{clip}']")));
    let response = app
        .post_form_with(
            &coach,
            &format!("/exercises/{exercise}/comments"),
            &[
                ("text", "Watch your wrist here."),
                ("clip_id", &clip.to_string()),
                ("parent_id", &comment.to_string()),
            ],
        )
        .await;
    assert_eq!(
        response.status().as_u16(),
        303,
        "{}",
        response.text().await.unwrap_or_default()
    );
    assert_eq!(metrics(&app, coach_id), (1, 1));

    app.run_jobs().await;
    let mail = app.mail.wait_for_mail_to("student_sam@example.com").await;
    assert!(mail.subject().contains("replied to you"), "{}", mail.subject());

    // The student sees the reply under their comment, with the clip playing.
    let page = app.page_with(&student, &format!("/exercises/{exercise}")).await;
    let replies = page.select_text(&format!("#comment-{comment} .replies .comment"));
    assert_eq!(replies.len(), 1);
    assert!(replies[0].contains("Watch your wrist here."));
    assert!(page.has(&format!(".replies source[src='/clips/{clip}/media']")));
    assert_eq!(
        app.get_with(&student, &format!("/clips/{clip}/media"))
            .await
            .status()
            .as_u16(),
        200
    );

    // Compare: both videos side by side; a reply keeps the offset and reopens it.
    let compare = app.page_with(&coach, &format!("/comments/{comment}/compare")).await;
    assert_eq!(compare.status, 200);
    assert!(compare.has("video[data-compare-demo]") && compare.has("video[data-compare-attempt]"));
    let response = app
        .post_form_with(
            &coach,
            &format!("/exercises/{exercise}/comments"),
            &[
                ("text", "Side by side, you start late."),
                ("parent_id", &comment.to_string()),
                ("compare_offset", "-0.75"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let page = app.page_with(&student, &format!("/exercises/{exercise}")).await;
    let reopen = format!("/comments/{comment}/compare?offset=-0.75");
    assert!(page.has(&format!("a[href='{reopen}']")));
    let reopened = app.page_with(&student, &reopen).await;
    assert_eq!(
        reopened.attr("[data-compare-offset]", "value").as_deref(),
        Some("-0.75")
    );

    // The library counts the comments.
    let library = app.page_with(&coach, "/exercises").await;
    assert!(library.select_text(".video-card-meta")[0].contains("3 comments"));
}

#[actix_web::test]
async fn the_role_by_action_matrix_holds() {
    let app = spawn_app().await;
    let (owner_id, owner) = app.user_client("owner_coach", "coach").await;
    let (_, other_coach) = app.user_client("other_coach", "coach").await;
    let (student_id, student) = app.user_client("a_student", "student").await;
    let (_, other_student) = app.user_client("b_student", "student").await;
    let (_, admin) = app.user_client("an_admin", "admin").await;
    let anonymous = new_client();
    let video = youtube_video(&app, owner_id, "dQw4w9WgXcQ");
    let exercise = publish(&app, &owner, "Arpeggios", video).await;
    let student_video = youtube_video(&app, student_id, "9bZkp7q19f0");
    let response = app
        .post_form_with(
            &student,
            &format!("/exercises/{exercise}/comments"),
            &[("text", "My try"), ("video_id", &student_video.to_string())],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let comment: Id = comments_videocomment::table
        .select(comments_videocomment::id)
        .first(&mut *app.conn())
        .expect("comment");

    // Anonymous: every page sends to the login page.
    for path in [
        "/exercises",
        "/exercises/new",
        &format!("/exercises/{exercise}"),
        &format!("/exercises/{exercise}/edit"),
    ] {
        let response = app.get_with(&anonymous, path).await;
        assert_eq!(response.status().as_u16(), 303, "{path}");
        assert!(location(&response).starts_with("/login?next="), "{path}");
    }

    // Who may open what.
    let edit = format!("/exercises/{exercise}/edit");
    let delete = format!("/exercises/{exercise}/delete");
    let comment_edit = format!("/comments/{comment}/edit");
    for (who, client, allowed) in [
        (
            "student",
            &student,
            vec![
                ("/exercises", 200),
                ("/exercises/new", 403),
                (edit.as_str(), 403),
                (delete.as_str(), 403),
                (comment_edit.as_str(), 200),
            ],
        ),
        ("other student", &other_student, vec![(comment_edit.as_str(), 403)]),
        (
            "other coach",
            &other_coach,
            vec![
                ("/exercises/new", 200),
                (edit.as_str(), 403),
                (delete.as_str(), 403),
                (comment_edit.as_str(), 403),
            ],
        ),
        (
            "owner",
            &owner,
            vec![
                (edit.as_str(), 200),
                (delete.as_str(), 200),
                (comment_edit.as_str(), 403),
            ],
        ),
        (
            "admin",
            &admin,
            vec![
                ("/exercises/new", 200),
                (edit.as_str(), 200),
                (delete.as_str(), 200),
                (comment_edit.as_str(), 200),
            ],
        ),
    ] {
        for (path, status) in allowed {
            assert_eq!(
                app.get_with(client, path).await.status().as_u16(),
                status,
                "{who} GET {path}"
            );
        }
    }

    // Forbidden changes change nothing.
    let rename = [("name", "Hijacked"), ("video_id", &video.to_string())];
    for client in [&student, &other_coach] {
        assert_eq!(app.post_form_with(client, &edit, &rename).await.status().as_u16(), 403);
        assert_eq!(app.post_form_with(client, &delete, &[]).await.status().as_u16(), 403);
    }
    assert_eq!(
        app.post_form_with(
            &student,
            "/exercises",
            &[("name", "Mine"), ("video_id", &student_video.to_string())]
        )
        .await
        .status()
        .as_u16(),
        403
    );
    assert!(exercise_named(&app, "Mine").is_none());
    assert!(exercise_named(&app, "Arpeggios").is_some() && exercise_named(&app, "Hijacked").is_none());
    for client in [&other_student, &other_coach, &owner] {
        let response = app.post_form_with(client, &comment_edit, &[("text", "changed")]).await;
        assert_eq!(response.status().as_u16(), 403);
        assert_eq!(
            app.post_form_with(client, &format!("/comments/{comment}/delete"), &[])
                .await
                .status()
                .as_u16(),
            403
        );
    }
    let text: Option<String> = comments_videocomment::table
        .select(comments_videocomment::text)
        .first(&mut *app.conn())
        .expect("c");
    assert_eq!(text.as_deref(), Some("My try"));

    // Allowed changes work: the author edits, the admin renames.
    assert_eq!(
        app.post_form_with(
            &student,
            &comment_edit,
            &[("text", "My better try"), ("video_id", &student_video.to_string())]
        )
        .await
        .status()
        .as_u16(),
        303
    );
    assert_eq!(
        app.post_form_with(
            &admin,
            &edit,
            &[("name", "Arpeggios (admin)"), ("video_id", &video.to_string())]
        )
        .await
        .status()
        .as_u16(),
        303
    );
    assert!(exercise_named(&app, "Arpeggios (admin)").is_some());
    let (text, attached): (Option<String>, Id) = comments_videocomment::table
        .select((comments_videocomment::text, comments_videocomment::video_asset_id))
        .first(&mut *app.conn())
        .expect("c");
    assert_eq!((text.as_deref(), attached), (Some("My better try"), student_video));

    // Unknown ids are a 404.
    let nowhere = Id::new();
    assert_eq!(
        app.get_with(&admin, &format!("/exercises/{nowhere}"))
            .await
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        app.get_with(&admin, "/exercises/not-a-uuid").await.status().as_u16(),
        404
    );
    assert_eq!(
        app.get_with(&admin, &format!("/comments/{nowhere}/edit"))
            .await
            .status()
            .as_u16(),
        404
    );
}

#[actix_web::test]
async fn exercise_forms_explain_what_is_wrong() {
    let app = spawn_app().await;
    let (coach_id, coach) = app.user_client("form_coach", "coach").await;
    let (other_id, other) = app.user_client("form_other", "coach").await;
    let video = youtube_video(&app, coach_id, "dQw4w9WgXcQ");
    let others_video = youtube_video(&app, other_id, "9bZkp7q19f0");
    publish(&app, &coach, "Taken name", video).await;
    let long = "x".repeat(141);
    let v = video.to_string();
    for (fields, field, message) in [
        (
            vec![("name", ""), ("video_id", v.as_str())],
            "name",
            "Give the exercise a name",
        ),
        (
            vec![("name", long.as_str()), ("video_id", v.as_str())],
            "name",
            "at most 140",
        ),
        (
            vec![("name", "Taken name"), ("video_id", v.as_str())],
            "name",
            "already have an exercise with this name",
        ),
        (vec![("name", "No video")], "video", "Choose the demonstration video"),
        (
            vec![("name", "Not mine"), ("video_id", &others_video.to_string())],
            "video",
            "your own videos",
        ),
        (
            vec![("name", "Bad link"), ("youtube_url", "https://vimeo.com/123")],
            "youtube_url",
            "YouTube",
        ),
    ] {
        let response = app.post_form_with(&coach, "/exercises", &fields).await;
        assert_eq!(response.status().as_u16(), 422, "{field}");
        let body = response.text().await.expect("body");
        assert!(body.contains(message), "{field}: {message}");
    }
    assert_eq!(metrics(&app, coach_id).0, 1, "nothing was created");
    // Another coach may use the same name; a YouTube link works directly.
    let response = app
        .post_form_with(
            &other,
            "/exercises",
            &[("name", "Taken name"), ("youtube_url", "https://youtu.be/dQw4w9WgXcQ")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let page = app.page_with(&other, &location(&response)).await;
    assert_eq!(
        page.attr("iframe", "src").as_deref(),
        Some("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ")
    );
}

#[actix_web::test]
async fn comment_forms_refuse_what_does_not_fit() {
    let app = spawn_app().await;
    let (coach_id, coach) = app.user_client("c_coach", "coach").await;
    let (student_id, student) = app.user_client("c_student", "student").await;
    let video = youtube_video(&app, coach_id, "dQw4w9WgXcQ");
    let exercise = publish(&app, &coach, "Chords", video).await;
    let coach_other = youtube_video(&app, coach_id, "9bZkp7q19f0");
    let path = format!("/exercises/{exercise}/comments");
    let not_theirs = coach_other.to_string();
    for (fields, message) in [
        (vec![("text", "  ")], "Write something"),
        (
            vec![("text", "x"), ("range_start", "3"), ("range_end", "2")],
            "must come after",
        ),
        (vec![("text", "x"), ("range_start", "3")], "both ends"),
        (
            vec![("text", "x"), ("video_id", not_theirs.as_str())],
            "your own videos",
        ),
        (
            vec![("text", "x"), ("video_id", "nonsense")],
            "Choose one of your videos",
        ),
    ] {
        let response = app.post_form_with(&student, &path, &fields).await;
        assert_eq!(response.status().as_u16(), 422, "{message}");
        assert!(response.text().await.expect("body").contains(message), "{message}");
    }
    assert_eq!(metrics(&app, student_id).1, 0);
    let count: i64 = comments_videocomment::table
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(count, 0);
    // Text is escaped.
    app.post_form_with(&student, &path, &[("text", "<script>alert(1)</script>")])
        .await;
    let page = app.page_with(&coach, &format!("/exercises/{exercise}")).await;
    assert!(!page.text.contains("<script>alert(1)</script>"));
    assert!(page
        .select_text(".comment p")
        .iter()
        .any(|t| t == "<script>alert(1)</script>"));
}

#[actix_web::test]
async fn deleting_keeps_the_counters_exact() {
    let app = spawn_app().await;
    let (coach_id, coach) = app.user_client("d_coach", "coach").await;
    let (student_id, student) = app.user_client("d_student", "student").await;
    let video = youtube_video(&app, coach_id, "dQw4w9WgXcQ");
    let exercise = publish(&app, &coach, "To delete", video).await;
    let path = format!("/exercises/{exercise}/comments");
    app.post_form_with(&student, &path, &[("text", "first")]).await;
    app.post_form_with(&student, &path, &[("text", "second")]).await;
    let first: Id = comments_videocomment::table
        .filter(comments_videocomment::text.eq("first"))
        .select(comments_videocomment::id)
        .first(&mut *app.conn())
        .expect("first");
    app.post_form_with(&coach, &path, &[("text", "a reply"), ("parent_id", &first.to_string())])
        .await;
    assert_eq!(metrics(&app, student_id), (0, 2));
    assert_eq!(metrics(&app, coach_id), (1, 1));

    // Deleting a comment takes its replies, and their authors' counts.
    let confirm = app.page_with(&student, &format!("/comments/{first}/delete")).await;
    assert!(confirm.text.contains("1 reply goes"));
    assert_eq!(
        app.post_form_with(&student, &format!("/comments/{first}/delete"), &[])
            .await
            .status()
            .as_u16(),
        303
    );
    assert_eq!(metrics(&app, student_id), (0, 1));
    assert_eq!(metrics(&app, coach_id), (1, 0));

    // Deleting the exercise says what goes with it, then does it.
    let confirm = app.page_with(&coach, &format!("/exercises/{exercise}/delete")).await;
    assert!(confirm.text.contains("1 comment"));
    assert_eq!(
        app.post_form_with(&coach, &format!("/exercises/{exercise}/delete"), &[])
            .await
            .status()
            .as_u16(),
        303
    );
    assert!(exercise_named(&app, "To delete").is_none());
    assert_eq!(metrics(&app, student_id), (0, 0));
    assert_eq!(metrics(&app, coach_id), (0, 0));
    let left: i64 = comments_videocomment::table
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(left, 0);
}

#[actix_web::test]
async fn the_library_searches_filters_and_pages() {
    let app = spawn_app().await;
    let (anna_id, anna) = app.user_client("anna", "coach").await;
    let (ben_id, ben) = app.user_client("ben", "coach").await;
    let (_, student) = app.user_client("lib_student", "student").await;
    let empty = app.page_with(&student, "/exercises").await;
    assert!(empty.select_text(".empty-state h2")[0].contains("No exercises yet"));
    let coach_empty = app.page_with(&anna, "/exercises").await;
    assert!(coach_empty.select_text(".empty-state h2")[0].contains("Publish your first exercise"));

    let video = youtube_video(&app, anna_id, "dQw4w9WgXcQ");
    for i in 0..21 {
        publish(&app, &anna, &format!("Etude {i:02}"), video).await;
    }
    let ben_video = youtube_video(&app, ben_id, "9bZkp7q19f0");
    let response = app
        .post_form_with(
            &ben,
            "/exercises",
            &[
                ("name", "Breathing"),
                ("description", "Long 100% tones"),
                ("video_id", &ben_video.to_string()),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);

    let first = app.page_with(&student, "/exercises").await;
    let names = first.select_text(".video-card-title");
    assert_eq!(names.len(), 20);
    assert_eq!(names[0], "Breathing", "newest first");
    assert!(first.text.contains("Page 1 of 2"));
    let second = app.page_with(&student, "/exercises?page=2").await;
    assert_eq!(second.select_text(".video-card-title"), vec!["Etude 01", "Etude 00"]);

    let found = app.page_with(&student, "/exercises?q=tones").await;
    assert_eq!(
        found.select_text(".video-card-title"),
        vec!["Breathing"],
        "description search"
    );
    let found = app.page_with(&student, "/exercises?q=ETUDE%2007").await;
    assert_eq!(
        found.select_text(".video-card-title"),
        vec!["Etude 07"],
        "case-insensitive name search"
    );
    let found = app.page_with(&student, "/exercises?q=100%25").await;
    assert_eq!(
        found.select_text(".video-card-title"),
        vec!["Breathing"],
        "% is literal"
    );
    let by_ben = app.page_with(&student, &format!("/exercises?coach={ben_id}")).await;
    assert_eq!(by_ben.select_text(".video-card-title"), vec!["Breathing"]);
    let nothing = app.page_with(&student, "/exercises?q=zzz").await;
    assert!(nothing.select_text(".empty-state h2")[0].contains("No exercise matches"));
}

#[actix_web::test]
async fn the_coach_is_invited_to_comment_and_the_student_to_post_an_attempt() {
    let app = spawn_app().await;
    let (coach_id, coach) = app.user_client("cora", "coach").await;
    let (_, student) = app.user_client("stu", "student").await;
    let video = youtube_video(&app, coach_id, "aaaaaaaaaaa");
    let id = publish(&app, &coach, "Scales", video).await;
    let own = app.page_with(&coach, &format!("/exercises/{id}")).await;
    assert_eq!(own.select_text("details.compose > summary"), ["Post a comment"]);
    assert!(!own.text.contains("Post your attempt"), "not on their own exercise");
    assert!(own.text.contains("No attempts yet"));
    let theirs = app.page_with(&student, &format!("/exercises/{id}")).await;
    assert_eq!(theirs.select_text("details.compose > summary"), ["Post your attempt"]);
    // An empty thread shows the form open; a thread with comments folds it,
    // so that the thread starts right below.
    assert!(theirs.has("details.compose[open]"));
    let response = app
        .post_form_with(&student, &format!("/exercises/{id}/comments"), &[("text", "First try")])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let page = app.page_with(&student, &format!("/exercises/{id}")).await;
    assert!(page.has("details.compose:not([open])"));
    // A form with errors comes back open.
    let response = app
        .post_form_with(&student, &format!("/exercises/{id}/comments"), &[("text", "")])
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let html = scraper::Html::parse_document(&response.text().await.expect("body"));
    let open = scraper::Selector::parse("details.compose[open]").expect("selector");
    assert!(html.select(&open).next().is_some());
}

#[actix_web::test]
async fn a_clip_page_leads_back_to_the_attempt_it_was_cut_from_and_replies_with_it() {
    let app = spawn_app().await;
    let (coach_id, coach) = app.user_client("cora", "coach").await;
    let (_, student) = app.user_client("stu", "student").await;
    let demo = youtube_video(&app, coach_id, "aaaaaaaaaaa");
    let exercise = publish(&app, &coach, "Scales", demo).await;
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
    let comment: Id = comments_videocomment::table
        .filter(comments_videocomment::video_asset_id.eq(attempt))
        .select(comments_videocomment::id)
        .first(&mut *app.conn())
        .expect("the attempt");
    // The attempt's own page leads back to it too.
    let video_page = app.page_with(&coach, &format!("/videos/{attempt}")).await;
    assert!(video_page.has(&format!(
        ".breadcrumb a[href='/exercises/{exercise}#comment-{comment}']"
    )));
    // The coach cuts a clip from the attempt.
    let response = app
        .post_form_with(
            &coach,
            &format!("/videos/{attempt}/clips"),
            &[("start", "0.5"), ("end", "1.5")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let clip_page = location(&response);
    let page = app.page_with(&coach, &clip_page).await;
    assert_eq!(page.status, 200);
    let back = format!("/exercises/{exercise}#comment-{comment}");
    assert!(
        page.has(&format!(".breadcrumb a[href='{back}']")),
        "back to the attempt"
    );
    assert!(
        page.has(&format!(".breadcrumb a[href='/exercises/{exercise}']")),
        "and its exercise"
    );
    assert!(page.text.contains("stu's attempt on"));
    let clip_id = clip_page.trim_start_matches("/clips/").to_owned();
    assert_eq!(
        page.attr("form input[name=clip_id]", "value").as_deref(),
        Some(clip_id.as_str())
    );
    assert_eq!(
        page.attr("form input[name=parent_id]", "value"),
        Some(comment.to_string())
    );
    // The reply form there posts the clip under the attempt.
    let response = app
        .post_form_with(
            &coach,
            &format!("/exercises/{exercise}/comments"),
            &[
                ("text", "Watch your wrist here"),
                ("parent_id", &comment.to_string()),
                ("clip_id", &clip_id),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let replies: i64 = comments_videocomment::table
        .filter(comments_videocomment::parent_id.eq(comment))
        .filter(comments_videocomment::clip_id.is_not_null())
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(replies, 1);
    // The clip's page still names one attempt (the reply with the clip is not one).
    let page = app.page_with(&student, &clip_page).await;
    assert_eq!(page.select_text("form input[name=parent_id]").len(), 1);
}
