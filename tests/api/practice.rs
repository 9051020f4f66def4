//! Progress over time and practice mode: who sees a progress page (every
//! role), what its timeline shows (notes, requests resolved, the first and
//! latest attempts compared), the practice log's checks (bad reports are a
//! clear 4xx and change nothing; a report sent twice counts once) and the
//! streaks the pages show.

use diesel::prelude::*;
use practika::comments::queries::{self as comments, Draft};
use practika::db::schema::exercises_practicesession as sessions;
use practika::db::{Id, Ts};
use practika::exercises::queries::{self as exercises, Exercise};

use crate::helpers::{location, new_client, TestApp, GOOD_PASSWORD};

fn youtube(app: &TestApp, owner: i32, n: usize) -> Id {
    practika::videos::upload::add_youtube(
        &mut app.conn(),
        &format!("https://www.youtube.com/watch?v=prog{n:07}"),
        owner,
    )
    .expect("youtube")
    .0
    .id
}

fn exercise(app: &TestApp, coach: i32, name: &str, n: usize) -> Exercise {
    let video = youtube(app, coach, n);
    exercises::create(
        &mut app.conn(),
        coach,
        &exercises::Draft {
            name: name.to_owned(),
            description: None,
            video_asset_id: video,
        },
    )
    .expect("exercise")
}

fn post(app: &TestApp, author: i32, on: &Exercise, draft: Draft) -> comments::Comment {
    comments::create(&mut app.conn(), author, on, &draft).expect("comment")
}

async fn client_of(app: &TestApp, username: &str) -> reqwest::Client {
    let client = new_client();
    let response = app.login_with(&client, username, GOOD_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303, "login {username}");
    client
}

/// Who may see a student's progress page: the student, the exercise's
/// coach, admins (the role and staff); not another coach nor another
/// student; anonymous visitors are sent to log in.
#[actix_web::test]
async fn progress_pages_for_every_role() {
    let app = crate::helpers::spawn_app().await;
    let coach = app.create_user("coach", GOOD_PASSWORD, "coach");
    app.create_user("other_coach", GOOD_PASSWORD, "coach");
    let student = app.create_user("student", GOOD_PASSWORD, "student");
    app.create_user("classmate", GOOD_PASSWORD, "student");
    app.create_user("admin", GOOD_PASSWORD, "admin");
    app.create_staff("staff", GOOD_PASSWORD);
    let e = exercise(&app, coach, "Scales", 1);
    let other = exercise(&app, coach, "Chords", 2);

    // Attempt 1 (a video), the coach's note asking for another try, then
    // attempt 2 (a video) that resolves it, and a third with text only.
    let first = post(
        &app,
        student,
        &e,
        Draft {
            text: Some("First go".into()),
            video: Some(youtube(&app, student, 10)),
            ..Default::default()
        },
    );
    post(
        &app,
        coach,
        &e,
        Draft {
            text: Some("Slower, and keep the wrist loose".into()),
            parent: Some(first.id),
            range: Some((1.0, 2.5)),
            retry: Some(first.clone()),
            ..Default::default()
        },
    );
    let second = post(
        &app,
        student,
        &e,
        Draft {
            text: Some("Second go, wrist loose".into()),
            video: Some(youtube(&app, student, 11)),
            ..Default::default()
        },
    );
    post(
        &app,
        student,
        &e,
        Draft {
            text: Some("Just a question".into()),
            ..Default::default()
        },
    );
    // On another exercise: not on this timeline.
    post(
        &app,
        student,
        &other,
        Draft {
            text: Some("Elsewhere".into()),
            ..Default::default()
        },
    );

    let path = format!("/exercises/{}/progress/{student}", e.id);
    for (who, status) in [
        ("student", 200),
        ("coach", 200),
        ("admin", 200),
        ("staff", 200),
        ("other_coach", 403),
        ("classmate", 403),
    ] {
        let client = client_of(&app, who).await;
        let page = app.page_with(&client, &path).await;
        assert_eq!(page.status, status, "{who}");
        if status == 403 {
            assert!(!page.text.contains("First go"), "{who} sees nothing of it");
        }
    }
    let anonymous = app.get(&path).await;
    assert_eq!(anonymous.status().as_u16(), 303);
    assert!(location(&anonymous).starts_with("/login"), "{}", location(&anonymous));

    let student_client = client_of(&app, "student").await;
    // The student's own address.
    let own = app
        .get_with(&student_client, &format!("/exercises/{}/progress", e.id))
        .await;
    assert_eq!(own.status().as_u16(), 303);
    assert_eq!(location(&own), path);
    // Unknown exercise or student: 404.
    let coach_client = client_of(&app, "coach").await;
    for missing in [
        format!("/exercises/{}/progress/{student}", Id::new()),
        format!("/exercises/{}/progress/99999", e.id),
    ] {
        assert_eq!(app.page_with(&coach_client, &missing).await.status, 404, "{missing}");
    }

    // The timeline, newest first: three attempts, the coach's note with its
    // request resolved by the second attempt.
    let page = app.page_with(&coach_client, &path).await;
    assert_eq!(page.select_text(".timeline-item").len(), 3);
    let texts = page.select_text(".timeline-text");
    assert_eq!(texts, ["Just a question", "Second go, wrist loose", "First go"]);
    assert_eq!(page.select_text(".timeline-note").len(), 1);
    let note = page.select_text(".timeline-note").join(" ");
    assert!(note.contains("Slower, and keep the wrist loose"), "{note}");
    assert!(note.contains("resolved by"), "{note}");
    assert!(
        page.select_text(".timeline-item .badge-retry").len() == 1,
        "the retry says what it resolves"
    );
    assert!(!page.text.contains("Elsewhere"));
    // One click: the first and the latest attempt with a video.
    let compare = page
        .attr("[data-first-vs-latest]", "href")
        .expect("compare first and latest");
    assert_eq!(compare, format!("/comments/{}/compare?with={}", second.id, first.id));
    let view = app.page_with(&coach_client, &compare).await;
    assert_eq!(view.status, 200);
    assert_eq!(view.select_text("h1"), ["Compare two attempts"]);
    assert_eq!(view.select_text(".compare-pane figcaption").len(), 2);
    assert!(!view.has("#compare-reply"), "no reply form between two attempts");
    // An attempt of another exercise is not compared with.
    let elsewhere = post(
        &app,
        student,
        &other,
        Draft {
            video: Some(youtube(&app, student, 12)),
            ..Default::default()
        },
    );
    let refused = app
        .page_with(
            &coach_client,
            &format!("/comments/{}/compare?with={}", second.id, elsewhere.id),
        )
        .await;
    assert_eq!(refused.status, 404);
    // Any two chosen: the form's GET leads to the comparison.
    let chosen = app
        .get_with(
            &coach_client,
            &format!("{path}/compare?from={}&to={}", first.id, second.id),
        )
        .await;
    assert_eq!(chosen.status().as_u16(), 303);
    assert_eq!(location(&chosen), compare);
    let same = app
        .get_with(&coach_client, &format!("{path}/compare?from={0}&to={0}", first.id))
        .await;
    assert_eq!(same.status().as_u16(), 400);

    // Links to it: the thread (the student's attempts), the inbox rows and
    // the student's to-do list.
    let thread = app.page_with(&coach_client, &format!("/exercises/{}", e.id)).await;
    assert!(
        thread.attrs(".comment-actions a", "href").contains(&path),
        "thread link"
    );
    let inbox = app.page_with(&coach_client, "/inbox").await;
    assert!(inbox.attrs(".inbox-actions a", "href").contains(&path), "inbox link");
    let classmate = client_of(&app, "classmate").await;
    let thread = app.page_with(&classmate, &format!("/exercises/{}", e.id)).await;
    assert!(
        !thread.attrs(".comment-actions a", "href").contains(&path),
        "no link for those who may not follow it"
    );
    let note = post(
        &app,
        coach,
        &e,
        Draft {
            text: Some("Once more please".into()),
            parent: Some(second.id),
            retry: Some(second.clone()),
            ..Default::default()
        },
    );
    let home = app.page_with(&student_client, "/").await;
    assert!(home.attrs(".todo-item a", "href").contains(&path), "to-do link");
    let page = app.page_with(&student_client, &path).await;
    assert!(page
        .select_text(".timeline-note")
        .join(" ")
        .contains("Once more please"));
    assert!(page.text.contains(&format!("#comment-{}", note.id)));
}

fn report<'a>(
    session: &'a str,
    exercise: &'a str,
    seconds: &'a str,
    speed: &'a str,
    loops: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("session", session),
        ("exercise", exercise),
        ("seconds", seconds),
        ("max_speed", speed),
        ("loops", loops),
    ]
}

async fn send(app: &TestApp, client: &reqwest::Client, fields: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let response = app.post_form_with(client, "/practice/sessions", fields).await;
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (status, body)
}

fn rows(app: &TestApp) -> Vec<(Id, i32, f64, i32, Ts, String)> {
    sessions::table
        .order(sessions::started_at.asc())
        .select((
            sessions::client_id,
            sessions::seconds,
            sessions::max_speed,
            sessions::loops,
            sessions::started_at,
            sessions::day,
        ))
        .load(&mut *app.conn())
        .expect("sessions")
}

/// Reports are checked whole (a clear 4xx, nothing changed), and a session
/// keeps the largest totals it was sent: twice the same report, or an old
/// one arriving late, counts once.
#[actix_web::test]
async fn practice_reports_are_checked_and_count_once() {
    let app = crate::helpers::spawn_app().await;
    let coach = app.create_user("coach", GOOD_PASSWORD, "coach");
    app.create_user("student", GOOD_PASSWORD, "student");
    let e = exercise(&app, coach, "Scales", 1);
    let f = exercise(&app, coach, "Chords", 2);
    let client = client_of(&app, "student").await;
    let (id, ex, other) = (Id::new().to_string(), e.id.to_string(), f.id.to_string());
    let (status, body) = send(&app, &client, &(report(&id, &ex, "0", "0.5", "0"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ok"], true);
    assert_eq!(rows(&app).len(), 1);
    // The same report again, and a retry of it: still one row, same totals.
    for _ in 0..2 {
        let (status, _) = send(&app, &client, &(report(&id, &ex, "0", "0.5", "0"))).await;
        assert_eq!(status, 200);
    }
    let before = rows(&app);
    assert_eq!(before.len(), 1);
    assert_eq!((before[0].1, before[0].2, before[0].3), (0, 0.5, 0));
    let today = chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string();
    assert_eq!(before[0].5, today, "the day, in the student's zone (UTC until known)");

    // Out of bounds or unreadable: 422 with the reason, nothing changed.
    let fresh = Id::new().to_string();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (report("not-an-id", &ex, "5", "1", "1"), "session"),
        (report(&id, "nope", "5", "1", "1"), "exercise"),
        (report(&id, &ex, "-1", "1", "1"), "seconds"),
        (report(&id, &ex, "99999", "1", "1"), "seconds"),
        (report(&id, &ex, "5.5", "1", "1"), "seconds"),
        (report(&id, &ex, "5", "0", "1"), "max_speed"),
        (report(&id, &ex, "5", "3", "1"), "max_speed"),
        (report(&id, &ex, "5", "NaN", "1"), "max_speed"),
        (report(&id, &ex, "5", "1", "-2"), "loops"),
        (report(&id, &ex, "5", "1", "1000000"), "loops"),
        // More time than has passed since the session began.
        (report(&id, &ex, "3600", "1", "1"), "seconds"),
        // The same session id on another exercise.
        (report(&id, &other, "5", "1", "1"), "another exercise"),
        // A new session that claims more than a first report may.
        (report(&fresh, &ex, "900", "1", "1"), "seconds"),
    ];
    for (fields, says) in cases {
        let (status, body) = send(&app, &client, &(fields.clone())).await;
        assert_eq!(status, 422, "{fields:?}: {body}");
        let errors = body["errors"].to_string();
        assert!(errors.contains(says), "{fields:?}: {errors}");
        assert_eq!(rows(&app), before, "{fields:?} changed nothing");
    }
    // An exercise that does not exist: 404, no row.
    let (status, _) = send(
        &app,
        &client,
        &(report(&Id::new().to_string(), &Id::new().to_string(), "0", "1", "0")),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(rows(&app), before);
    // Without the CSRF token: 403, no row.
    let response = client
        .post(app.url("/practice/sessions"))
        .form(&report(&Id::new().to_string(), &ex, "0", "1", "0"))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(rows(&app), before);
    // Anonymous: nothing stored either.
    let stranger = new_client();
    let token = app.csrf_token_with(&stranger).await;
    let fresh = Id::new().to_string();
    let mut fields = report(&fresh, &ex, "0", "1", "0");
    fields.push(("csrf_token", &token));
    let response = stranger
        .post(app.url("/practice/sessions"))
        .form(&fields)
        .send()
        .await
        .expect("POST");
    assert!(response.status().as_u16() >= 300, "{}", response.status());
    assert_eq!(rows(&app), before);

    // As it goes: totals rise (the session began a minute ago), and a late
    // report with smaller ones lowers nothing.
    diesel::update(sessions::table)
        .set(sessions::started_at.eq(Ts(chrono::Utc::now() - chrono::Duration::seconds(90))))
        .execute(&mut *app.conn())
        .expect("an older session");
    let (status, body) = send(&app, &client, &(report(&id, &ex, "80", "0.75", "6"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["seconds"].as_i64(), body["loops"].as_i64()), (Some(80), Some(6)));
    let (status, body) = send(&app, &client, &(report(&id, &ex, "30", "0.5", "2"))).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            body["seconds"].as_i64(),
            body["max_speed"].as_f64(),
            body["loops"].as_i64()
        ),
        (Some(80), Some(0.75), Some(6)),
        "the largest totals stay"
    );
    assert_eq!(rows(&app).len(), 1);

    // At most so many new sessions a day.
    let student: i32 = practika::db::schema::auth_user::table
        .filter(practika::db::schema::auth_user::username.eq("student"))
        .select(practika::db::schema::auth_user::id)
        .first(&mut *app.conn())
        .expect("student");
    for _ in 1..practika::practice::queries::SESSIONS_PER_DAY {
        session_on(&app, student, &e, &today, 10);
    }
    let (status, body) = send(&app, &client, &(report(&Id::new().to_string(), &ex, "0", "1", "0"))).await;
    assert_eq!(status, 429, "{body}");
    // The sessions already begun still report.
    let (status, _) = send(&app, &client, &(report(&id, &ex, "85", "1", "7"))).await;
    assert_eq!(status, 200);
}

/// A session row as a browser's reports leave it, on `day`.
fn session_on(app: &TestApp, user: i32, e: &Exercise, day: &str, seconds: i32) {
    let now = Ts::now();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(Id::new()),
            sessions::client_id.eq(Id::new()),
            sessions::user_id.eq(user),
            sessions::exercise_id.eq(e.id),
            sessions::started_at.eq(now),
            sessions::updated_at.eq(now),
            sessions::day.eq(day),
            sessions::seconds.eq(seconds),
            sessions::max_speed.eq(0.75),
            sessions::loops.eq(4),
        ))
        .execute(&mut *app.conn())
        .expect("session");
}

/// Streaks of days practised, as the home, account and progress pages show
/// them: the days in a row up to today (or yesterday), the longest, the
/// time and the top speed; the progress page counts its exercise's only.
#[actix_web::test]
async fn streaks_of_days_practised() {
    let app = crate::helpers::spawn_app().await;
    let coach = app.create_user("coach", GOOD_PASSWORD, "coach");
    let student = app.create_user("student", GOOD_PASSWORD, "student");
    let e = exercise(&app, coach, "Scales", 1);
    let f = exercise(&app, coach, "Chords", 2);
    let today = chrono::Utc::now().date_naive();
    let day = |back: i64| (today - chrono::Duration::days(back)).format("%Y-%m-%d").to_string();
    // Scales: today (twice), yesterday; 4, 5, 6 and 7 days ago.
    // Chords: 2 days ago, which joins the two runs on the home page.
    for (back, on) in [
        (0, &e),
        (0, &e),
        (1, &e),
        (4, &e),
        (5, &e),
        (6, &e),
        (7, &e),
        (2, &f),
        (400, &e),
    ] {
        session_on(&app, student, on, &day(back), 60);
    }
    let client = client_of(&app, "student").await;
    let home = app.page_with(&client, "/").await;
    assert_eq!(
        home.select_text("[data-streak]"),
        ["3 days"],
        "today, yesterday, 2 days ago"
    );
    let line = home.select_text(".home-practice p").join(" ");
    assert!(line.contains("longest 4"), "{line}");
    assert!(line.contains("top speed 0.75×"), "{line}");
    let account = app.page_with(&client, "/account").await;
    assert_eq!(account.select_text("[data-practice-streak]"), ["3 (longest 4)"]);
    // 8 sessions of a minute in the last year (the one 400 days ago is not).
    let time = account.select_text("[data-practice-time]").join(" ");
    assert!(time.starts_with("8 min, "), "{time}");
    let progress = app
        .page_with(&client, &format!("/exercises/{}/progress/{student}", e.id))
        .await;
    assert_eq!(
        progress.select_text("[data-practice-streak]"),
        ["2 days in a row (longest 4)"],
        "on Scales alone: a gap 2 days ago"
    );
    assert_eq!(progress.select_text("[data-practice-time]"), ["7 min"]);
    assert_eq!(progress.select_text("[data-practice-speed]"), ["0.75×"]);
    // The coach sees the same on the student's page.
    let coach_client = client_of(&app, "coach").await;
    let seen = app
        .page_with(&coach_client, &format!("/exercises/{}/progress/{student}", e.id))
        .await;
    assert_eq!(
        seen.select_text("[data-practice-streak]"),
        progress.select_text("[data-practice-streak]")
    );
    // The practice page: the same figures for this exercise.
    let practice = app.page_with(&client, &format!("/exercises/{}/practice", e.id)).await;
    assert_eq!(practice.status, 200);
    assert!(practice.has("[data-practice][data-exercise-id]"));
    assert!(practice.text.contains("2 days in a row (longest 4)"));
}
