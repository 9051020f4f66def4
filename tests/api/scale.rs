//! Pages at scale: each page costs a fixed number of statements, counted by
//! the server itself (diesel's connection instrumentation, per request, in
//! `Server-Timing`), authentication included, whatever the rows it shows.
//! An N+1 makes the bigger data set cost more and fails here; so does a
//! page that needs more than its budget.

use diesel::prelude::*;
use practika::comments::queries::{self as comments, Draft as CommentDraft};
use practika::db::schema::{accounts_usermetrics, core_videoasset, exercises_exercise};
use practika::db::{Id, Ts};
use practika::exercises::queries::{self as exercises, Exercise};
use practika::videos::queries::{insert_or_get_clip, NewClip};
use practika::videos::upload::add_youtube;

use crate::helpers::{spawn_app_with, TestApp, GOOD_PASSWORD};
use crate::staff::quick_user;

/// Every model list on the staff pages.
const STAFF_LISTS: [&str; 8] = [
    "users",
    "roles",
    "invitations",
    "videos",
    "clips",
    "exercises",
    "comments",
    "jobs",
];

/// Statements the server counted for one GET (which must answer 200).
async fn statements(app: &TestApp, client: &reqwest::Client, path: &str) -> u64 {
    let response = app.get_with(client, path).await;
    assert_eq!(response.status().as_u16(), 200, "{path}");
    let timing = response
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{path}: no Server-Timing header"))
        .to_owned();
    // db;desc="N statements";dur=ms
    timing
        .split('"')
        .nth(1)
        .and_then(|desc| desc.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{path}: unreadable Server-Timing {timing:?}"))
}

async fn counting_app() -> TestApp {
    spawn_app_with(&[("PRACTIKA_SERVER_TIMING", "1")]).await
}

fn youtube(app: &TestApp, owner: i32, n: usize) -> Id {
    add_youtube(
        &mut app.conn(),
        &format!("https://www.youtube.com/watch?v=scale{n:06}"),
        owner,
    )
    .expect("video")
    .0
    .id
}

fn exercise(app: &TestApp, coach: i32, n: usize) -> Exercise {
    let video = youtube(app, coach, 100_000 + n);
    exercises::create(
        &mut app.conn(),
        coach,
        &exercises::Draft {
            name: format!("Exercise {n}"),
            description: Some(format!("Drill number {n}")),
            video_asset_id: video,
        },
    )
    .expect("exercise")
}

fn clip_of(app: &TestApp, video: Id, n: usize) -> Id {
    let now = Ts::now();
    insert_or_get_clip(
        &mut app.conn(),
        &NewClip {
            id: Id::new(),
            clip_hash: format!("scale-clip-{video}-{n}"),
            start_time: 0.0,
            end_time: 1.0,
            duration: 1.0,
            storage_path: format!("clips/scale-{n}.mp4"),
            size_bytes: None,
            processing_status: "pending".to_owned(),
            processing_error: None,
            processed_at: None,
            created_at: now,
            updated_at: now,
            original_video_id: video,
        },
    )
    .expect("clip")
    .0
    .id
}

/// `n` attempts on the exercise, each with its own video, a coach's reply
/// carrying a clip of it, and a second reply.
fn thread_of(app: &TestApp, exercise: &Exercise, coach: i32, students: &[i32], n: usize) {
    for i in 0..n {
        let student = students[i % students.len()];
        let video = youtube(app, student, 200_000 + i);
        let attempt = comments::create(
            &mut app.conn(),
            student,
            exercise,
            &CommentDraft {
                text: Some(format!("Attempt {i}")),
                video: Some(video),
                ..Default::default()
            },
        )
        .expect("attempt");
        let clip = clip_of(app, video, i);
        for draft in [
            CommentDraft {
                text: Some("Look at this part".to_owned()),
                clip: Some(clip),
                parent: Some(attempt.id),
                ..Default::default()
            },
            CommentDraft {
                text: Some("Thanks!".to_owned()),
                parent: Some(attempt.id),
                ..Default::default()
            },
        ] {
            let author = if draft.clip.is_some() { coach } else { student };
            comments::create(&mut app.conn(), author, exercise, &draft).expect("reply");
        }
    }
}

async fn logged_in(app: &TestApp, username: &str) -> reqwest::Client {
    let client = crate::helpers::new_client();
    let response = app.login_with(&client, username, GOOD_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303, "login {username}");
    client
}

/// The student-facing pages: the same count with 2 rows and with 25 (and
/// a full exercise page of 20 attempts, each with a video, a clip and
/// replies), within each page's budget.
#[actix_web::test]
async fn pages_cost_a_fixed_number_of_statements() {
    let app = counting_app().await;
    let coach = app.create_user("coach", GOOD_PASSWORD, "coach");
    app.create_user("student", GOOD_PASSWORD, "student");
    let students: Vec<i32> = (0..5).map(|i| quick_user(&app, &format!("s{i}"), "student")).collect();
    let small = exercise(&app, coach, 0);
    thread_of(&app, &small, coach, &students, 2);
    let student = logged_in(&app, "student").await;

    let clip_of_video = |video: Id| -> Id {
        use practika::db::schema::core_videoclip as clips;
        clips::table
            .filter(clips::original_video_id.eq(video))
            .select(clips::id)
            .first(&mut *app.conn())
            .expect("a clip of the attempt")
    };
    let pages = |e: &Exercise, attempt_video: Id, attempt: Id| {
        vec![
            // Authentication, the to-do list ("try again" requests) and
            // the practice log's summary (streaks).
            ("home", "/".to_owned(), 3),
            ("library", "/exercises".to_owned(), 4),
            ("library, filtered", format!("/exercises?coach={coach}&q=drill"), 4),
            // 9: authentication; the exercise with the thread's count; the
            // page of attempts; their replies; the videos and clips they
            // carry (2); drawings; voice-overs; the "try again" links of
            // attempts and notes. The forms' choices are fetched as a form
            // opens (13 when the page carried them, and ~95 KB at
            // seed-demo scale).
            ("exercise page", format!("/exercises/{}", e.id), 9),
            // The exercise, the user's videos, and the clip choices in two
            // indexed statements (the thread's clips, the user's own), not
            // one `OR` that read every clip.
            ("form choices", format!("/exercises/{}/choices", e.id), 5),
            // Authentication; the video with whether anything uses it; its
            // clips; the attempts it is posted with, named.
            ("video page", format!("/videos/{attempt_video}"), 4),
            ("compare view", format!("/comments/{attempt}/compare"), 7),
            // Authentication; the clip; its video; the attempts.
            ("clip page", format!("/clips/{}", clip_of_video(attempt_video)), 4),
        ]
    };
    let first_attempt = |e: &Exercise| -> (Id, Id) {
        use practika::db::schema::comments_videocomment as c;
        c::table
            .filter(c::exercise_id.eq(e.id))
            .filter(c::parent_id.is_null())
            .order(c::created_at.desc())
            .select((c::video_asset_id, c::id))
            .first(&mut *app.conn())
            .expect("an attempt")
    };
    let (video, attempt) = first_attempt(&small);
    let mut before = Vec::new();
    for (name, path, budget) in pages(&small, video, attempt) {
        let n = statements(&app, &student, &path).await;
        println!("{name}: {n} statements (budget {budget}), small data set");
        assert!(n <= budget, "{name} ({path}): {n} statements, budget {budget}");
        before.push(n);
    }

    // Many more rows: 25 exercises, and a thread of 30 attempts (a full
    // first page of 20, each with a video, a clip and two replies).
    for n in 1..25 {
        exercise(&app, if n % 2 == 0 { coach } else { students[0] }, n);
    }
    let big = exercise(&app, coach, 99);
    thread_of(&app, &big, coach, &students, 30);
    let (video, attempt) = first_attempt(&big);
    for ((name, path, budget), small_count) in pages(&big, video, attempt).into_iter().zip(before) {
        let n = statements(&app, &student, &path).await;
        println!("{name}: {n} statements (budget {budget}), large data set");
        assert!(n <= budget, "{name} ({path}): {n} statements, budget {budget}");
        assert_eq!(n, small_count, "{name} ({path}) grows with the rows it shows");
    }
    // Deep pages cost what the first one costs, by cursor and by number.
    let page = app.page_with(&student, "/exercises").await;
    let older = page.attr("a[rel=next]", "href").expect("a link to older exercises");
    assert!(older.starts_with("?after="), "{older}");
    let n = statements(&app, &student, &format!("/exercises{older}")).await;
    assert!(n <= 4, "library by cursor: {n}");
    // The older page holds the rest; its "Newer" link leads back to the first.
    let newest = page.select_text(".video-card-title");
    let second = app.page_with(&student, &format!("/exercises{older}")).await;
    let rest = second.select_text(".video-card-title");
    assert_eq!((newest.len(), rest.len()), (20, 6), "26 exercises in all");
    assert!(rest.iter().all(|t| !newest.contains(t)), "no exercise on both pages");
    assert!(second.attr("a[rel=next]", "href").is_none(), "nothing older");
    let newer = second
        .attr("a[rel=prev]", "href")
        .expect("a link back to newer exercises");
    assert!(newer.starts_with("?before="), "{newer}");
    let back = app.page_with(&student, &format!("/exercises{newer}")).await;
    assert_eq!(back.select_text(".video-card-title"), newest);
    assert!(
        back.attr("a[rel=prev]", "href").is_none(),
        "the newest page links to nothing newer"
    );
    let n = statements(&app, &student, "/exercises?page=2").await;
    assert!(n <= 4, "library page 2: {n}");
    let n = statements(&app, &student, &format!("/exercises/{}?page=2", big.id)).await;
    assert!(n <= 10, "thread page 2: {n}");
}

/// Every staff list and change page: the same count with few rows and with
/// many.
#[actix_web::test]
async fn staff_pages_cost_a_fixed_number_of_statements() {
    let app = counting_app().await;
    let boss = app.create_staff("boss", GOOD_PASSWORD);
    let coach = quick_user(&app, "coach", "coach");
    let students: Vec<i32> = (0..3).map(|i| quick_user(&app, &format!("s{i}"), "student")).collect();
    let first = exercise(&app, coach, 0);
    thread_of(&app, &first, coach, &students, 1);
    let staff = logged_in(&app, "boss").await;
    // Staff see their inbox's count in the navigation: one statement more.
    const LIST_BUDGET: u64 = 7;
    let mut small = Vec::new();
    for slug in STAFF_LISTS {
        let n = statements(&app, &staff, &format!("/staff/{slug}")).await;
        println!("/staff/{slug}: {n} statements, small data set");
        assert!(n <= LIST_BUDGET, "/staff/{slug}: {n} statements, budget {LIST_BUDGET}");
        small.push(n);
    }
    for n in 1..30 {
        let coach = quick_user(&app, &format!("coach{n}"), "coach");
        let e = exercise(&app, coach, n);
        thread_of(&app, &e, coach, &students, 2);
        practika::accounts::invitations::create(
            &mut app.conn(),
            &format!("invitee{n}@example.com"),
            practika::accounts::invitations::Role::Student,
            Some(boss),
        )
        .expect("invitation");
    }
    for (slug, small_count) in STAFF_LISTS.into_iter().zip(small) {
        let n = statements(&app, &staff, &format!("/staff/{slug}")).await;
        println!("/staff/{slug}: {n} statements, large data set");
        assert!(n <= LIST_BUDGET, "/staff/{slug}: {n} statements, budget {LIST_BUDGET}");
        assert_eq!(n, small_count, "/staff/{slug} grows with the rows it shows");
    }
    let video: Id = core_videoasset::table
        .select(core_videoasset::id)
        .first(&mut *app.conn())
        .expect("video");
    let changes = [
        format!("/staff/users/{coach}"),
        format!("/staff/exercises/{}", first.id),
        format!("/staff/videos/{video}"),
    ];
    for path in changes {
        let n = statements(&app, &staff, &path).await;
        println!("{path}: {n} statements");
        // A user's page also shows their storage quota and what they use;
        // each page has the navigation's inbox count.
        let budget = if path.starts_with("/staff/users/") { 16 } else { 13 };
        assert!(n <= budget, "{path}: {n} statements, budget {budget}");
    }
}

/// Huge page numbers are clamped everywhere (PostgreSQL once answered 500:
/// "OFFSET must not be negative"): the last page, never an error.
#[actix_web::test]
async fn huge_page_numbers_show_the_last_page() {
    let app = counting_app().await;
    app.create_staff("boss", GOOD_PASSWORD);
    let coach = quick_user(&app, "coach", "coach");
    for n in 0..3 {
        exercise(&app, coach, n);
    }
    let staff = logged_in(&app, "boss").await;
    let huge = "9223372036854775807";
    let page = app.page_with(&staff, &format!("/exercises?page={huge}")).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.select_text(".video-card-title").len(), 3, "the last (only) page");
    for path in [
        "/exercises?page=99999999999999999999999".to_owned(),
        "/exercises?page=-1".to_owned(),
        format!("/videos?page={huge}"),
    ] {
        assert_eq!(app.page_with(&staff, &path).await.status, 200, "{path}");
    }
    let e: Id = exercises_exercise::table
        .select(exercises_exercise::id)
        .first(&mut *app.conn())
        .expect("exercise");
    assert_eq!(
        app.page_with(&staff, &format!("/exercises/{e}?page={huge}"))
            .await
            .status,
        200
    );
    for slug in STAFF_LISTS {
        let page = app.page_with(&staff, &format!("/staff/{slug}?page={huge}")).await;
        assert_eq!(page.status, 200, "/staff/{slug}");
        assert!(page.text.contains("here is the last"), "/staff/{slug} says it clamped");
    }
}

/// The per-user counters are one atomic UPDATE: comments posted at the
/// same moment all count (a read followed by a write lost some on
/// PostgreSQL).
#[actix_web::test]
async fn concurrent_comments_all_count() {
    let app = counting_app().await;
    let coach = quick_user(&app, "coach", "coach");
    let author = quick_user(&app, "author", "student");
    let e = exercise(&app, coach, 0);
    const THREADS: usize = 8;
    const EACH: usize = 10;
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (pool, e) = (app.pool.clone(), e.clone());
            std::thread::spawn(move || {
                for i in 0..EACH {
                    let mut conn = pool.get().expect("connection");
                    comments::create(
                        &mut conn,
                        author,
                        &e,
                        &CommentDraft {
                            text: Some(format!("comment {i}")),
                            ..Default::default()
                        },
                    )
                    .expect("comment");
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("thread");
    }
    let made = practika::accounts::queries::metrics(&mut app.conn(), author)
        .expect("metrics")
        .comments_made;
    assert_eq!(made as usize, THREADS * EACH);
    // The exercise's own count, kept by a trigger, agrees.
    let count: i32 = exercises_exercise::table
        .find(e.id)
        .select(exercises_exercise::comment_count)
        .first(&mut *app.conn())
        .expect("count");
    assert_eq!(count as usize, THREADS * EACH);
    // And a counter never goes below zero.
    practika::accounts::queries::bump_metric(
        &mut app.conn(),
        author,
        practika::accounts::queries::Counter::Exercises,
        -5,
    )
    .expect("bump");
    let exercises_created: i32 = accounts_usermetrics::table
        .inner_join(practika::db::schema::accounts_profile::table)
        .filter(practika::db::schema::accounts_profile::user_id.eq(author))
        .select(accounts_usermetrics::exercises_created)
        .first(&mut *app.conn())
        .expect("metrics");
    assert_eq!(exercises_created, 0);
}

/// The comment count on each card stays exact when comments are written
/// behind Practika's back (the Django app during the cutover): a trigger
/// keeps it, on both backends.
#[actix_web::test]
async fn comment_counts_follow_rows_written_by_anyone() {
    let app = counting_app().await;
    let coach = quick_user(&app, "coach", "coach");
    let a = exercise(&app, coach, 0);
    let b = exercise(&app, coach, 1);
    let count = |id: Id| -> i32 {
        exercises_exercise::table
            .find(id)
            .select(exercises_exercise::comment_count)
            .first(&mut *app.conn())
            .expect("count")
    };
    use practika::db::schema::comments_videocomment as c;
    let now = Ts::now();
    let ids: Vec<Id> = (0..3).map(|_| Id::new()).collect();
    for id in &ids {
        // As the Django app writes a comment: its own columns only.
        diesel::insert_into(c::table)
            .values((
                c::id.eq(*id),
                c::text.eq(Some("from django")),
                c::created_at.eq(now),
                c::updated_at.eq(now),
                c::author_id.eq(coach),
                c::exercise_id.eq(a.id),
                c::video_asset_id.eq(a.video_asset_id),
            ))
            .execute(&mut *app.conn())
            .expect("insert");
    }
    assert_eq!(count(a.id), 3);
    diesel::update(c::table.find(ids[0]))
        .set(c::exercise_id.eq(b.id))
        .execute(&mut *app.conn())
        .expect("move");
    assert_eq!((count(a.id), count(b.id)), (2, 1));
    diesel::delete(c::table.find(ids[1]))
        .execute(&mut *app.conn())
        .expect("delete");
    assert_eq!(count(a.id), 1);
    // Many rows in one statement, over two exercises (a batch import, or
    // seed-demo): counted per statement on PostgreSQL, per row on SQLite.
    let batch: Vec<Id> = (0..5).map(|_| Id::new()).collect();
    let rows: Vec<_> = batch
        .iter()
        .enumerate()
        .map(|(n, id)| {
            let on = if n < 3 { &a } else { &b };
            (
                c::id.eq(*id),
                c::text.eq(Some("batch")),
                c::created_at.eq(now),
                c::updated_at.eq(now),
                c::author_id.eq(coach),
                c::exercise_id.eq(on.id),
                c::video_asset_id.eq(on.video_asset_id),
            )
        })
        .collect();
    practika::for_each_backend!(&mut *app.conn(), |conn| diesel::insert_into(c::table)
        .values(&rows)
        .execute(conn))
    .expect("batch insert");
    assert_eq!((count(a.id), count(b.id)), (4, 3));
    diesel::delete(c::table.filter(c::text.eq("batch")))
        .execute(&mut *app.conn())
        .expect("batch delete");
    assert_eq!((count(a.id), count(b.id)), (1, 1));
    let student = {
        app.create_user("reader", GOOD_PASSWORD, "student");
        logged_in(&app, "reader").await
    };
    let page = app.page_with(&student, "/exercises").await;
    let metas = page.select_text(".video-card-meta");
    assert!(
        metas
            .iter()
            .any(|m| m.contains("1 comment") && !m.contains("1 comments")),
        "{metas:?}"
    );
}

/// The exercise page leaves its forms' video and clip choices out (they
/// were most of its size), and its script fetches them as a form opens;
/// without JavaScript a link shows the page with them. Either way the same
/// queries choose them: the user's own videos, the clips of the thread's
/// videos and of their own, never another student's.
#[actix_web::test]
async fn the_exercise_page_fetches_its_choices_and_never_offers_another_students() {
    let app = counting_app().await;
    let coach = quick_user(&app, "coach", "coach");
    let student = app.create_user("student", GOOD_PASSWORD, "student");
    let other = quick_user(&app, "other", "student");
    let e = exercise(&app, coach, 0);
    let mine = youtube(&app, student, 1);
    let my_clip = clip_of(&app, mine, 1);
    let theirs = youtube(&app, other, 2);
    let their_clip = clip_of(&app, theirs, 2);
    // The other student's attempt, in the thread: a clip of it may answer it.
    let posted = youtube(&app, other, 3);
    comments::create(
        &mut app.conn(),
        other,
        &e,
        &CommentDraft {
            video: Some(posted),
            ..Default::default()
        },
    )
    .expect("attempt");
    let posted_clip = clip_of(&app, posted, 3);
    let client = logged_in(&app, "student").await;
    let ids = |list: &[Id]| list.iter().map(Id::to_string).collect::<Vec<_>>();

    let offered = crate::exercises::choices(&app, &client, e.id).await;
    assert_eq!(offered.videos, ids(&[mine]), "only the student's own videos");
    assert_eq!(
        offered.clips,
        ids(&[posted_clip, my_clip]),
        "the thread's clips and their own, newest first; not {their_clip}"
    );

    // The page itself carries none of them, only where to fetch them.
    let path = format!("/exercises/{}", e.id);
    let page = app.page_with(&client, &path).await;
    assert_eq!(page.attrs("select[name=video_id] option", "value"), vec![""]);
    assert_eq!(
        page.attrs("#compose select[name=clip_id] option", "value"),
        vec![""],
        "the form's list is empty"
    );
    assert!(
        !page.has("details.reply form:not([data-reply-light])"),
        "the reply forms are light: their clip list comes with replies.js"
    );
    assert!(page.has("select[name=clip_id][data-choices=clips]"));
    assert_eq!(
        page.attr("[data-choices-url]", "data-choices-url"),
        Some(format!("{path}/choices"))
    );
    assert_eq!(
        page.attr("#compose [data-choices-link] a", "href").as_deref(),
        Some("?choose=compose#compose")
    );
    // Without JavaScript: the same lists, in the page, the form open.
    let shown = app.page_with(&client, &format!("{path}?choose=compose")).await;
    assert!(shown.has("details#compose[open]"));
    assert!(!shown.has("[data-choices-url]") && !shown.has("[data-choices-link]"));
    let mut videos = vec![String::new()];
    videos.extend(offered.videos);
    assert_eq!(shown.attrs("#video_id option", "value"), videos);
    let mut clips = vec![String::new()];
    clips.extend(offered.clips);
    assert_eq!(shown.attrs("#clip_id option", "value"), clips);

    // Only on an exercise that exists, and only for someone logged in.
    let missing = app
        .get_with(&client, &format!("/exercises/{}/choices", Id::new()))
        .await;
    assert_eq!(missing.status().as_u16(), 404);
    let visitor = app.get(&format!("{path}/choices")).await;
    assert_eq!(visitor.status().as_u16(), 303);
    assert!(crate::helpers::location(&visitor).starts_with("/login"));
}

/// The videos list pages by cursor like the library: a deep page costs
/// what the first costs, each video shows once, "Newer" leads back, and
/// old `?page=` links still work.
#[actix_web::test]
async fn the_videos_list_pages_by_cursor() {
    let app = counting_app().await;
    let student = app.create_user("student", GOOD_PASSWORD, "student");
    let other = quick_user(&app, "other", "student");
    for n in 0..30 {
        youtube(&app, student, n);
    }
    youtube(&app, other, 99);
    let client = logged_in(&app, "student").await;
    let first = app.page_with(&client, "/videos").await;
    let newest = first.attrs(".video-card-link", "href");
    assert_eq!(newest.len(), 24);
    assert!(first.attr("a[rel=prev]", "href").is_none(), "nothing newer");
    let older = first.attr("a[rel=next]", "href").expect("a link to older videos");
    assert!(older.starts_with("/videos?after="), "{older}");
    let cost = statements(&app, &client, "/videos").await;
    assert_eq!(
        statements(&app, &client, &older).await,
        cost,
        "a deep page costs what the first does"
    );
    let second = app.page_with(&client, &older).await;
    let rest = second.attrs(".video-card-link", "href");
    assert_eq!(rest.len(), 6, "their own 30 videos, not the other student's");
    assert!(rest.iter().all(|t| !newest.contains(t)), "no video on both pages");
    assert!(second.attr("a[rel=next]", "href").is_none(), "nothing older");
    let newer = second.attr("a[rel=prev]", "href").expect("a link back");
    assert!(newer.starts_with("/videos?before="), "{newer}");
    assert_eq!(
        app.page_with(&client, &newer).await.attrs(".video-card-link", "href"),
        newest
    );
    // The old links by number.
    let by_number = app.page_with(&client, "/videos?page=2").await;
    assert_eq!(by_number.attrs(".video-card-link", "href"), rest);
    assert!(by_number.text.contains("Page 2"));
    let past = app.page_with(&client, "/videos?page=3").await;
    assert!(past.text.contains("No more videos"));
}

/// A clip older than the newest hundred can still be attached (it was
/// refused because it was looked for in the form's list of choices).
#[actix_web::test]
async fn an_old_clip_can_still_be_attached() {
    let app = counting_app().await;
    let coach = quick_user(&app, "coach", "coach");
    let e = exercise(&app, coach, 0);
    let own = youtube(&app, coach, 1);
    let oldest = clip_of(&app, own, 0);
    for n in 1..=(comments::CLIP_CHOICES as usize + 5) {
        clip_of(&app, own, n);
    }
    let mut conn = app.conn();
    assert!(comments::clip_allowed(&mut conn, oldest, e.id, coach).expect("allowed"));
    let offered = comments::clip_choices_described(&mut conn, e.id, coach).expect("choices");
    assert_eq!(offered.len(), comments::CLIP_CHOICES as usize);
    assert!(
        !offered.iter().any(|(c, _)| c.id == oldest),
        "the list is the newest hundred"
    );
    // Someone else's clip, from a video that is not in this thread, is not.
    let stranger = quick_user(&app, "stranger", "student");
    let theirs = youtube(&app, stranger, 2);
    let foreign = clip_of(&app, theirs, 999);
    assert!(!comments::clip_allowed(&mut conn, foreign, e.id, coach).expect("refused"));
    // Once the stranger's video is posted in the thread, a clip of it is.
    drop(conn);
    comments::create(
        &mut app.conn(),
        stranger,
        &e,
        &CommentDraft {
            video: Some(theirs),
            ..Default::default()
        },
    )
    .expect("attempt");
    assert!(comments::clip_allowed(&mut app.conn(), foreign, e.id, coach).expect("allowed"));
}

/// The library's coach filter lists the twelve coaches with the most
/// exercises (and the chosen one), from counts that triggers keep exact
/// whoever writes the exercises: Practika, or the Django app's own
/// inserts, updates and deletes.
#[actix_web::test]
async fn the_coach_filter_lists_the_coaches_with_the_most_exercises() {
    let app = counting_app().await;
    let coaches: Vec<i32> = (0..14)
        .map(|i| quick_user(&app, &format!("coach{i:02}"), "coach"))
        .collect();
    let mut n = 0;
    for (i, coach) in coaches.iter().enumerate() {
        for _ in 0..=i {
            exercise(&app, *coach, n);
            n += 1;
        }
    }
    app.create_user("reader", GOOD_PASSWORD, "student");
    let student = logged_in(&app, "reader").await;
    let listed = |page: &crate::helpers::Page| -> Vec<String> {
        let mut values = page.attrs("#coach option", "value");
        values.retain(|v| !v.is_empty());
        values.sort();
        values
    };
    let ids = |of: &[i32]| -> Vec<String> {
        let mut v: Vec<String> = of.iter().map(|id| id.to_string()).collect();
        v.sort();
        v
    };
    let lead = |page: &crate::helpers::Page| page.select_text("p.lead").join(" ");
    let page = app.page_with(&student, "/exercises").await;
    assert_eq!(listed(&page), ids(&coaches[2..]), "the twelve with the most");
    assert_eq!(lead(&page), "105 exercises.");
    let page = app
        .page_with(&student, &format!("/exercises?coach={}", coaches[0]))
        .await;
    let mut with_chosen = coaches[2..].to_vec();
    with_chosen.push(coaches[0]);
    assert_eq!(listed(&page), ids(&with_chosen), "and the chosen one");
    assert_eq!(lead(&page), "1 exercise matches.");
    let page = app
        .page_with(&student, &format!("/exercises?coach={}", coaches[13]))
        .await;
    assert_eq!(lead(&page), "14 exercises match.");

    // Behind Practika's back, as the Django app writes: the busiest coach's
    // exercises move to the first coach, then the next busiest's go.
    use practika::db::schema::exercises_exercise as e;
    diesel::update(e::table.filter(e::created_by_id.eq(coaches[13])))
        .set(e::created_by_id.eq(coaches[0]))
        .execute(&mut *app.conn())
        .expect("move");
    diesel::delete(e::table.filter(e::created_by_id.eq(coaches[12])))
        .execute(&mut *app.conn())
        .expect("delete");
    // Django's save() writes every column, the owner unchanged.
    diesel::update(e::table.filter(e::created_by_id.eq(coaches[1])))
        .set(e::created_by_id.eq(coaches[1]))
        .execute(&mut *app.conn())
        .expect("save");
    let page = app.page_with(&student, "/exercises").await;
    let mut now_top = vec![coaches[0], coaches[1]];
    now_top.extend_from_slice(&coaches[2..12]);
    assert_eq!(listed(&page), ids(&now_top), "counts followed the rows");
    assert_eq!(lead(&page), "92 exercises.", "105 less the 13 deleted");
    let page = app
        .page_with(&student, &format!("/exercises?coach={}", coaches[0]))
        .await;
    assert_eq!(lead(&page), "15 exercises match.", "1 and the 14 moved");
    let page = app
        .page_with(&student, &format!("/exercises?coach={}", coaches[13]))
        .await;
    assert_eq!(lead(&page), "0 exercises match.");
}

/// The coach inbox and the home page with a to-do list: the same count
/// with a few rows and with many (a full inbox page of 20 with filters, a
/// to-do list of 12 requests), within their budgets. The inbox: session,
/// the navigation's count, total, page, the filters' short lists (from the
/// 1,000 longest-waiting attempts), names, and the notes the attempts
/// answer (7). The home page: session, the to-do list in one joined
/// statement, and the practice log's summary (streak, time this week: one
/// grouped statement of at most 366 rows, `practice::queries::days`), 3; a
/// coach's adds the navigation's count.
#[actix_web::test]
async fn the_inbox_and_the_to_do_list_cost_a_fixed_number_of_statements() {
    const INBOX: u64 = 7;
    const HOME: u64 = 3;
    let app = counting_app().await;
    let coach = app.create_user("coach", GOOD_PASSWORD, "coach");
    let student = app.create_user("student", GOOD_PASSWORD, "student");
    let others: Vec<i32> = (0..5).map(|i| quick_user(&app, &format!("s{i}"), "student")).collect();
    let first = exercise(&app, coach, 0);
    let ask = |e: &Exercise, of: i32| {
        let attempt = comments::create(
            &mut app.conn(),
            of,
            e,
            &CommentDraft {
                text: Some("attempt".to_owned()),
                ..Default::default()
            },
        )
        .expect("attempt");
        comments::create(
            &mut app.conn(),
            coach,
            e,
            &CommentDraft {
                text: Some("Once more".to_owned()),
                parent: Some(attempt.id),
                range: Some((1.0, 2.0)),
                retry: Some(attempt),
                ..Default::default()
            },
        )
        .expect("note");
    };
    ask(&first, student);
    // A retry (it answers the note) and one more waiting attempt.
    comments::create(
        &mut app.conn(),
        others[0],
        &first,
        &CommentDraft {
            text: Some("waiting".to_owned()),
            ..Default::default()
        },
    )
    .expect("attempt");
    let coach_client = logged_in(&app, "coach").await;
    let student_client = logged_in(&app, "student").await;
    let pages = |student_id: i32| {
        vec![
            ("inbox", "/inbox".to_owned(), INBOX),
            ("inbox, by student", format!("/inbox?student={student_id}"), INBOX),
            ("inbox, by exercise", format!("/inbox?exercise={}", first.id), INBOX),
            ("coach's home", "/".to_owned(), HOME + 1),
        ]
    };
    let mut small = Vec::new();
    for (name, path, budget) in pages(others[0]) {
        let n = statements(&app, &coach_client, &path).await;
        println!("{name}: {n} statements (budget {budget}), small data set");
        assert!(n <= budget, "{name} ({path}): {n}, budget {budget}");
        small.push(n);
    }
    let home_small = statements(&app, &student_client, "/").await;
    assert!(home_small <= HOME, "home with a to-do item: {home_small}");
    assert_eq!(
        app.page_with(&student_client, "/")
            .await
            .select_text(".todo-item")
            .len(),
        1
    );

    for n in 1..12 {
        let e = exercise(&app, coach, n);
        ask(&e, student);
        for (i, other) in others.iter().enumerate() {
            comments::create(
                &mut app.conn(),
                *other,
                &e,
                &CommentDraft {
                    text: Some(format!("attempt {i}")),
                    ..Default::default()
                },
            )
            .expect("attempt");
        }
    }
    for ((name, path, budget), before) in pages(others[0]).into_iter().zip(small) {
        let n = statements(&app, &coach_client, &path).await;
        println!("{name}: {n} statements (budget {budget}), large data set");
        assert!(n <= budget, "{name} ({path}): {n}, budget {budget}");
        assert_eq!(n, before, "{name} ({path}) grows with the rows it shows");
    }
    let page = app.page_with(&coach_client, "/inbox").await;
    assert_eq!(page.select_text(".inbox-item").len(), 20, "a full page");
    let later = page.attr("a[rel=next]", "href").expect("a later page");
    let n = statements(&app, &coach_client, &later).await;
    assert!(n <= INBOX, "inbox by cursor: {n}");
    let home = statements(&app, &student_client, "/").await;
    println!("home with 12 to-do items: {home} statements (budget {HOME})");
    assert_eq!(home, home_small, "the home page grows with the to-do list");
    assert_eq!(
        app.page_with(&student_client, "/")
            .await
            .select_text(".todo-item")
            .len(),
        12
    );
}

/// A student's progress page, the practice page and the comparison of two
/// attempts: the same count with two attempts and with thirty (a full
/// timeline page, each attempt with a video, the coach's notes, requests to
/// try again made and resolved, and a practice log of many days). The
/// progress page: session, exercise, student, count, page, videos, notes,
/// requests, the first and the latest attempt with a video (two), the
/// practice days (11); a coach's adds the navigation's count. The practice
/// page: session, exercise with its demonstration, the practice days (3).
#[actix_web::test]
async fn the_progress_page_costs_a_fixed_number_of_statements() {
    const PROGRESS: u64 = 11;
    const PRACTICE: u64 = 3;
    const COMPARE_TWO: u64 = 8;
    let app = counting_app().await;
    let coach = app.create_user("coach", GOOD_PASSWORD, "coach");
    let student = app.create_user("student", GOOD_PASSWORD, "student");
    let e = exercise(&app, coach, 0);
    let mut n = 0;
    let mut attempt = |app: &TestApp| {
        n += 1;
        let video = youtube(app, student, 300_000 + n);
        let attempt = comments::create(
            &mut app.conn(),
            student,
            &e,
            &CommentDraft {
                text: Some(format!("Attempt {n}")),
                video: Some(video),
                ..Default::default()
            },
        )
        .expect("attempt");
        comments::create(
            &mut app.conn(),
            coach,
            &e,
            &CommentDraft {
                text: Some("Once more".to_owned()),
                parent: Some(attempt.id),
                range: Some((1.0, 2.0)),
                retry: Some(attempt.clone()),
                ..Default::default()
            },
        )
        .expect("note");
        attempt.id
    };
    let mut ids: Vec<Id> = (0..2).map(|_| attempt(&app)).collect();
    let practised = |app: &TestApp, days: i64| {
        use practika::db::schema::exercises_practicesession as p;
        let today = chrono::Utc::now().date_naive();
        for back in 0..days {
            let now = Ts::now();
            diesel::insert_into(p::table)
                .values((
                    p::id.eq(Id::new()),
                    p::client_id.eq(Id::new()),
                    p::user_id.eq(student),
                    p::exercise_id.eq(e.id),
                    p::started_at.eq(now),
                    p::updated_at.eq(now),
                    p::day.eq((today - chrono::Duration::days(back)).format("%Y-%m-%d").to_string()),
                    p::seconds.eq(120),
                    p::max_speed.eq(0.75),
                    p::loops.eq(8),
                ))
                .execute(&mut *app.conn())
                .expect("session");
        }
    };
    practised(&app, 2);
    let coach_client = logged_in(&app, "coach").await;
    let student_client = logged_in(&app, "student").await;
    let progress = format!("/exercises/{}/progress/{student}", e.id);
    let practice = format!("/exercises/{}/practice", e.id);
    let pages = |ids: &[Id]| {
        let compare = format!("/comments/{}/compare?with={}", ids[ids.len() - 1], ids[0]);
        vec![
            ("progress, the student", true, progress.clone(), PROGRESS),
            ("progress, the coach", false, progress.clone(), PROGRESS + 1),
            ("practice page", true, practice.clone(), PRACTICE),
            ("two attempts compared", true, compare, COMPARE_TWO),
        ]
    };
    let mut small = Vec::new();
    for (name, as_student, path, budget) in pages(&ids) {
        let client = if as_student { &student_client } else { &coach_client };
        let n = statements(&app, client, &path).await;
        println!("{name}: {n} statements (budget {budget}), small data set");
        assert!(n <= budget, "{name} ({path}): {n}, budget {budget}");
        small.push(n);
    }
    ids.extend((0..28).map(|_| attempt(&app)));
    practised(&app, 300);
    for ((name, as_student, path, budget), before) in pages(&ids).into_iter().zip(small) {
        let client = if as_student { &student_client } else { &coach_client };
        let n = statements(&app, client, &path).await;
        println!("{name}: {n} statements (budget {budget}), large data set");
        assert!(n <= budget, "{name} ({path}): {n}, budget {budget}");
        assert_eq!(n, before, "{name} ({path}) grows with the rows it shows");
    }
    let page = app.page_with(&student_client, &progress).await;
    assert_eq!(page.select_text(".timeline-item").len(), 10, "a page of the timeline");
    let older = page.attr("a[rel=next]", "href").expect("older attempts");
    assert!(older.starts_with("?after="), "{older}");
    let n = statements(&app, &student_client, &format!("{progress}{older}")).await;
    assert!(n <= PROGRESS, "progress by cursor: {n}");
}

/// The unfiltered library runs its statement unboxed on the inner
/// connection (`exercises::unfiltered_page`): it returns what the boxed
/// query for any filter returns without one, at every shape of position
/// (a page number, after a cursor, before one), ties on the time included.
#[actix_web::test]
async fn the_unfiltered_library_matches_the_general_query() {
    use practika::exercises::queries::{library_page_query, unfiltered_page, CardRow, Filter};
    use practika::web::paging::{Cursor, Start};
    let app = counting_app().await;
    let coach = app.create_user("coach", GOOD_PASSWORD, "coach");
    let other = quick_user(&app, "other", "coach");
    let made: Vec<Exercise> = (0..45)
        .map(|n| exercise(&app, if n % 3 == 0 { other } else { coach }, n))
        .collect();
    // Ten exercises share one time: the id orders them.
    let tied = made[10].created_at;
    let ids: Vec<Id> = made[10..20].iter().map(|e| e.id).collect();
    diesel::update(exercises_exercise::table.filter(exercises_exercise::id.eq_any(&ids)))
        .set(exercises_exercise::created_at.eq(tied))
        .execute(&mut *app.conn())
        .expect("tie");
    let key = |rows: &[CardRow]| -> Vec<(Id, String, String)> {
        rows.iter()
            .map(|(e, name, ..)| (e.id, e.name.clone(), name.0.clone()))
            .collect()
    };
    let mut conn = app.conn();
    let backend = conn.backend();
    let general = |conn: &mut practika::db::DbConn, start: Start| -> Vec<CardRow> {
        library_page_query(backend, &Filter::default(), start)
            .load(conn)
            .expect("general query")
    };
    let first = general(&mut conn, Start::Page(1));
    assert_eq!(first.len(), 21, "a page and one more");
    let at = |i: usize| Cursor::new(first[i].0.created_at, first[i].0.id);
    for start in [
        Start::Page(1),
        Start::Page(2),
        Start::Page(3),
        Start::After(at(5)),
        Start::After(at(12)),
        Start::Before(at(15)),
        Start::Before(at(20)),
    ] {
        let direct = unfiltered_page(&mut conn, start).expect("direct query");
        let expected = general(&mut conn, start);
        assert!(!expected.is_empty(), "{start:?}");
        assert_eq!(key(&direct), key(&expected), "{start:?}");
    }
}
