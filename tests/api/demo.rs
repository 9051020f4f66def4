//! `practika seed-demo` on both backends: realistic rows, exact counters,
//! the same rows from the same seed, a refusal on a non-empty database, and
//! pages that work (logins, the library, a video that plays).

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::prelude::*;
use practika::db::schema::{comments_videocomment, exercises_exercise};
use practika::db::{self, DbConn, Id, Ts};
use practika::demo::{self, Options};
use practika::media::{demo::DemoVideo, Storage};

use crate::database::count;
use crate::helpers::{new_client, spawn_app_on, TestDb};

fn options(seed: u64, force: bool) -> Options {
    Options {
        users: 40,
        exercises: 60,
        comments: 600,
        seed,
        force,
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).single().expect("date")
}

fn migrated(dir: &std::path::Path) -> (TestDb, DbConn) {
    let db = TestDb::create(dir);
    let mut conn = db::establish(&db.url).expect("connect");
    db::migrations::run(&mut conn).expect("migrate");
    (db, conn)
}

fn media(dir: &std::path::Path) -> Vec<DemoVideo> {
    practika::media::demo::ensure(&Storage::new(dir.join("media")), "ffmpeg").expect("demo media (ffmpeg)")
}

/// Users whose metrics differ from their rows.
fn wrong_metrics(conn: &mut DbConn) -> i64 {
    count(
        conn,
        "SELECT CAST(count(*) AS BIGINT) AS n FROM accounts_usermetrics m \
         JOIN accounts_profile p ON p.id = m.profile_id \
         WHERE m.exercises_created <> (SELECT count(*) FROM exercises_exercise e WHERE e.created_by_id = p.user_id) \
         OR m.comments_made <> (SELECT count(*) FROM comments_videocomment c WHERE c.author_id = p.user_id) \
         OR m.total_video_time <> (SELECT coalesce(sum(v.duration_sec), 0) FROM core_videoasset v \
                                   WHERE v.uploaded_by_id = p.user_id)",
    )
}

fn rows(conn: &mut DbConn, table: &str) -> i64 {
    count(conn, &format!("SELECT CAST(count(*) AS BIGINT) AS n FROM {table}"))
}

fn exercises(conn: &mut DbConn) -> Vec<(Id, String, Ts)> {
    exercises_exercise::table
        .order(exercises_exercise::id)
        .select((
            exercises_exercise::id,
            exercises_exercise::name,
            exercises_exercise::created_at,
        ))
        .load(conn)
        .expect("exercises")
}

#[actix_web::test]
async fn seed_demo_makes_realistic_rows_with_exact_counters_from_a_seed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = media(dir.path());
    assert!(files.len() >= 3 && files.iter().all(|f| f.size_bytes > 1_000 && f.size_bytes < 500_000));
    let (db, mut conn) = migrated(dir.path());
    let summary = demo::seed(&mut conn, &options(7, false), &files, now()).expect("seed");

    assert_eq!(rows(&mut conn, "auth_user"), 40);
    assert_eq!(rows(&mut conn, "accounts_profile"), 40);
    assert_eq!(rows(&mut conn, "accounts_usermetrics"), 40);
    assert_eq!(rows(&mut conn, "exercises_exercise"), 60);
    assert_eq!(rows(&mut conn, "comments_videocomment"), 600);
    assert_eq!(summary.comments, 600);
    assert!(
        summary.replies > 100 && summary.replies < 200,
        "{} replies",
        summary.replies
    );
    assert!(summary.clips > 0, "some replies carry a clip");
    assert_eq!(wrong_metrics(&mut conn), 0, "metrics match the rows");
    // Roles: the fixed logins, and coaches besides students.
    assert_eq!(
        count(
            &mut conn,
            "SELECT CAST(count(*) AS BIGINT) AS n FROM auth_user WHERE username = 'demo-admin' \
             AND is_staff AND is_superuser"
        ),
        1
    );
    assert!(summary.coaches >= 2, "{} coaches", summary.coaches);
    assert_eq!(
        count(
            &mut conn,
            "SELECT CAST(count(*) AS BIGINT) AS n FROM accounts_profile WHERE role_id IS NULL"
        ),
        0
    );
    // Threads hold together: a reply is on its parent's exercise and never
    // answers a reply; a clip comment points at the clip's source video.
    assert_eq!(
        count(
            &mut conn,
            "SELECT CAST(count(*) AS BIGINT) AS n FROM comments_videocomment r \
             JOIN comments_videocomment p ON p.id = r.parent_id \
             WHERE p.exercise_id <> r.exercise_id OR p.parent_id IS NOT NULL OR r.created_at < p.created_at"
        ),
        0
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT CAST(count(*) AS BIGINT) AS n FROM comments_videocomment c \
             JOIN core_videoclip k ON k.id = c.clip_id WHERE k.original_video_id <> c.video_asset_id"
        ),
        0
    );
    assert!(
        count(
            &mut conn,
            "SELECT CAST(count(*) AS BIGINT) AS n FROM comments_videocomment WHERE range_start IS NOT NULL"
        ) > 50,
        "some comments pin a range"
    );
    // Spread over the year before `now`.
    let times: Vec<Ts> = comments_videocomment::table
        .select(comments_videocomment::created_at)
        .load(&mut conn)
        .expect("times");
    let (first, last) = (times.iter().min().expect("min").0, times.iter().max().expect("max").0);
    assert!(
        first >= now() - Duration::days(366) && last <= now(),
        "{first} … {last}"
    );
    assert!(last - first > Duration::days(200), "{first} … {last}");

    // The same seed gives the same rows; another seed other rows.
    let twin_dir = tempfile::tempdir().expect("temp dir");
    let (_twin, mut twin) = migrated(twin_dir.path());
    demo::seed(&mut twin, &options(7, false), &files, now()).expect("seed twin");
    assert_eq!(exercises(&mut conn), exercises(&mut twin));
    let other_dir = tempfile::tempdir().expect("temp dir");
    let (_other, mut other) = migrated(other_dir.path());
    demo::seed(&mut other, &options(8, false), &files, now()).expect("seed other");
    assert_ne!(exercises(&mut conn), exercises(&mut other));

    // A non-empty database is refused, untouched, unless --force.
    let refused = demo::seed(&mut conn, &options(9, false), &files, now()).expect_err("refused");
    assert!(refused.to_string().contains("--force"), "{refused}");
    assert!(refused.to_string().contains("40 users"), "{refused}");
    assert_eq!(rows(&mut conn, "auth_user"), 40);
    let more = demo::seed(&mut conn, &options(7, true), &files, now()).expect("forced");
    assert_eq!(more.admin, "demo-admin-41");
    assert_eq!(rows(&mut conn, "auth_user"), 80);
    assert_eq!(rows(&mut conn, "comments_videocomment"), 1200);
    assert_eq!(wrong_metrics(&mut conn), 0, "metrics still exact");
    // The library's total follows batched inserts (one statement for many
    // rows: a statement-level trigger on PostgreSQL).
    assert_eq!(
        count(
            &mut conn,
            "SELECT CAST(exercises AS BIGINT) AS n FROM exercises_librarytotal WHERE id = 1"
        ),
        rows(&mut conn, "exercises_exercise")
    );
    drop(conn);

    // The pages work: the demo student logs in, browses, and a video plays.
    let app = spawn_app_on(Arc::new(db), Arc::new(dir)).await;
    let client = new_client();
    let login = app.login_with(&client, &summary.student, demo::PASSWORD).await;
    assert_eq!(login.status().as_u16(), 303);
    let library = app.page_with(&client, "/exercises").await;
    assert_eq!(library.select_text(".video-card-title").len(), 20);
    let (busy, _) = summary.busy_exercise.expect("an exercise with comments");
    let thread = app.page_with(&client, &format!("/exercises/{busy}")).await;
    assert_eq!(thread.status, 200);
    let video = summary.sample_video.expect("a video");
    assert_eq!(app.page_with(&client, &format!("/videos/{video}")).await.status, 200);
    let media = client
        .get(app.url(&format!("/videos/{video}/media/original")))
        .header("Range", "bytes=100-")
        .send()
        .await
        .expect("media");
    assert_eq!(media.status().as_u16(), 206);
    assert!(media.bytes().await.expect("body").len() > 1_000);
}

#[test]
fn the_command_seeds_once_and_refuses_a_non_empty_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (db, conn) = migrated(dir.path());
    drop(conn);
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_practika"))
            .args([
                "seed-demo",
                "--users",
                "10",
                "--exercises",
                "8",
                "--comments",
                "40",
                "--seed",
                "3",
            ])
            .args(extra)
            .env("DATABASE_URL", &db.url)
            .env("PRACTIKA_DATA_DIR", dir.path())
            .env("RUST_LOG", "warn")
            .output()
            .expect("run practika")
    };
    let first = run(&[]);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(stdout.contains("Seeded 10 users"), "{stdout}");
    assert!(stdout.contains("demo-student"), "{stdout}");
    assert!(dir.path().join("media/demo/demo-1.mp4").is_file());
    let second = run(&[]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success());
    assert!(stderr.contains("not empty") && stderr.contains("--force"), "{stderr}");
    let forced = run(&["--force"]);
    assert!(forced.status.success(), "{}", String::from_utf8_lossy(&forced.stderr));
    let mut conn = db::establish(&db.url).expect("connect");
    assert_eq!(rows(&mut conn, "auth_user"), 20);
}
