//! One-time form keys: the same comment, reply or new exercise sent twice,
//! or ten times at the same instant, is stored once, and every repeat
//! answers the first one's redirect. Real concurrent requests, on both
//! backends.

use diesel::prelude::*;
use practika::accounts::submissions;
use practika::db::schema::{accounts_formsubmission, comments_videocomment, exercises_exercise, jobs_job};
use practika::db::{Id, Ts};

use crate::helpers::{location, Page, TestApp};

fn comments(app: &TestApp) -> i64 {
    app.count("comments_videocomment")
}

fn notices(app: &TestApp) -> i64 {
    jobs_job::table
        .filter(jobs_job::kind.eq(practika::comments::notify::SEND_COMMENT_NOTICE))
        .count()
        .get_result(&mut *app.conn())
        .expect("count")
}

/// A coach's exercise (on a YouTube link) and a student's client.
async fn thread(app: &TestApp) -> (Id, i32, reqwest::Client) {
    let (coach_id, _) = app.user_client("once_coach", "coach").await;
    let (student_id, student) = app.user_client("once_student", "student").await;
    let video =
        practika::videos::upload::add_youtube(&mut app.conn(), "https://www.youtube.com/watch?v=dQw4w9WgXcQ", coach_id)
            .expect("youtube")
            .0
            .id;
    let draft = practika::exercises::queries::Draft {
        name: "Twice".to_owned(),
        description: None,
        video_asset_id: video,
    };
    let exercise = practika::exercises::queries::create(&mut app.conn(), coach_id, &draft).expect("exercise");
    (exercise.id, student_id, student)
}

fn field(page: &Page, css: &str) -> String {
    page.attr(css, "value").unwrap_or_else(|| panic!("no {css}"))
}

/// Sends the same form `n` times at once; returns each (status, location).
async fn send_at_once(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    fields: &[(&str, String)],
    n: usize,
) -> Vec<(u16, String)> {
    let requests = (0..n).map(|_| {
        let request = client.post(app.url(path)).form(fields);
        async move {
            let response = request.send().await.expect("POST");
            (response.status().as_u16(), location(&response))
        }
    });
    futures_util::future::join_all(requests).await
}

#[actix_web::test]
async fn ten_identical_comments_at_once_store_one_and_answer_alike() {
    let app = crate::helpers::spawn_app().await;
    let (exercise, student_id, student) = thread(&app).await;
    let page = app.page_with(&student, &format!("/exercises/{exercise}")).await;
    assert!(page.has("form[data-once] input[name=once]"), "the form carries its key");
    let csrf = field(&page, "form[data-once] input[name=csrf_token]");
    let key = field(&page, "form[data-once] input[name=once]");
    let path = format!("/exercises/{exercise}/comments");
    let fields = vec![
        ("csrf_token", csrf.clone()),
        ("once", key.clone()),
        ("text", "Double-clicked".to_owned()),
    ];

    let answers = send_at_once(&app, &student, &path, &fields, 10).await;
    assert_eq!(comments(&app), 1, "one comment from ten requests: {answers:?}");
    assert_eq!(notices(&app), 1, "and one email");
    let id: Id = comments_videocomment::table
        .select(comments_videocomment::id)
        .first(&mut *app.conn())
        .expect("comment");
    let expected = format!("/exercises/{exercise}#comment-{id}");
    assert!(
        answers.iter().all(|a| *a == (303, expected.clone())),
        "each answers as the first did: {answers:?}"
    );
    use practika::db::schema::{accounts_profile, accounts_usermetrics};
    let made: i32 = accounts_usermetrics::table
        .inner_join(accounts_profile::table)
        .filter(accounts_profile::user_id.eq(student_id))
        .select(accounts_usermetrics::comments_made)
        .first(&mut *app.conn())
        .expect("metrics");
    assert_eq!(made, 1, "counted once");

    // Later, the same key (a browser resending) still stores nothing.
    let again = student.post(app.url(&path)).form(&fields).send().await.expect("POST");
    assert_eq!((again.status().as_u16(), location(&again)), (303, expected));
    assert_eq!(comments(&app), 1);

    // A reply from its own form, sent twice at once: one reply.
    let page = app.page_with(&student, &format!("/exercises/{exercise}")).await;
    let reply_key = field(&page, "details.reply form[data-once] input[name=once]");
    assert_ne!(reply_key, key, "each form has its own key");
    let reply = vec![
        ("csrf_token", csrf.clone()),
        ("once", reply_key),
        ("text", "Replying twice".to_owned()),
        ("parent_id", id.to_string()),
    ];
    let answers = send_at_once(&app, &student, &path, &reply, 2).await;
    assert_eq!(comments(&app), 2, "{answers:?}");
    assert_eq!(answers[0], answers[1]);

    // Another form (a new key) is another comment, as it should be.
    let page = app.page_with(&student, &format!("/exercises/{exercise}")).await;
    let fresh = vec![
        ("csrf_token", csrf),
        ("once", field(&page, "form[data-once] input[name=once]")),
        ("text", "Double-clicked".to_owned()),
    ];
    let response = student.post(app.url(&path)).form(&fresh).send().await.expect("POST");
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(comments(&app), 3);
    assert_eq!(app.count("accounts_formsubmission"), 3, "one claim per key");
}

#[actix_web::test]
async fn a_key_is_bound_to_its_user_and_expires() {
    let app = crate::helpers::spawn_app().await;
    let (exercise, student_id, student) = thread(&app).await;
    let (other_id, _) = app.user_client("once_other", "student").await;
    let path = format!("/exercises/{exercise}/comments");
    let secret = app.settings.secret_key.bytes();

    let someone_elses = submissions::mint(secret, other_id, Ts::now());
    let stale = submissions::mint(secret, student_id, Ts(Ts::now().0 - chrono::Duration::hours(25)));
    for (key, message) in [
        (someone_elses, "could not be checked"),
        ("1.forged.0000".to_owned(), "could not be checked"),
        (stale, "open for more than a day"),
    ] {
        let response = app
            .post_form_with(&student, &path, &[("text", "Refused"), ("once", &key)])
            .await;
        assert_eq!(response.status().as_u16(), 422, "{key}");
        let body = response.text().await.expect("body");
        assert!(body.contains(message), "{key}: {body}");
        assert!(body.contains("Refused"), "the text typed is kept");
    }
    assert_eq!(comments(&app), 0, "nothing stored");

    // Claims older than a key lives are deleted by the worker.
    let mine = submissions::mint(secret, student_id, Ts::now());
    let response = app
        .post_form_with(&student, &path, &[("text", "Kept"), ("once", &mine)])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    diesel::update(accounts_formsubmission::table)
        .set(accounts_formsubmission::created_at.eq(Ts(Ts::now().0 - chrono::Duration::hours(25))))
        .execute(&mut *app.conn())
        .expect("age the claim");
    app.worker().housekeeping().await;
    assert_eq!(app.count("accounts_formsubmission"), 0);
    assert_eq!(comments(&app), 1, "the comment stays");
}

#[actix_web::test]
async fn a_new_exercise_sent_five_times_at_once_is_published_once() {
    let app = crate::helpers::spawn_app().await;
    let (coach_id, coach) = app.user_client("once_publisher", "coach").await;
    let video =
        practika::videos::upload::add_youtube(&mut app.conn(), "https://www.youtube.com/watch?v=9bZkp7q19f0", coach_id)
            .expect("youtube")
            .0
            .id;
    let page = app.page_with(&coach, "/exercises/new").await;
    let fields = vec![
        ("csrf_token", field(&page, "form[data-once] input[name=csrf_token]")),
        ("once", field(&page, "form[data-once] input[name=once]")),
        ("name", "Published once".to_owned()),
        ("video_id", video.to_string()),
    ];
    let answers = send_at_once(&app, &coach, "/exercises", &fields, 5).await;
    let id: Id = exercises_exercise::table
        .select(exercises_exercise::id)
        .first(&mut *app.conn())
        .expect("exercise");
    assert_eq!(app.count("exercises_exercise"), 1, "{answers:?}");
    assert!(
        answers.iter().all(|a| *a == (303, format!("/exercises/{id}"))),
        "no \"name taken\" error for the repeats: {answers:?}"
    );
}
