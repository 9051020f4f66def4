//! The schema on both backends: migration trees, the Django baseline,
//! adoption of a Django-made database, ON DELETE rules, concurrency.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use practika::db::migrations::{self, BASELINE_VERSION, POSTGRES, SQLITE};
use practika::db::{self, Backend, DbConn};

use crate::helpers::{exec, spawn_app, TestDb, GOOD_PASSWORD};

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct ColumnInfo {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    nullable: String,
}

/// Every table and column of a migrated database, with nullability. The
/// search machinery differs by design (a generated column on PostgreSQL,
/// an FTS5 table on SQLite) and is left out.
fn columns(conn: &mut DbConn) -> Vec<String> {
    let query = match conn {
        DbConn::Pg(_) => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
             CASE WHEN is_nullable = 'YES' THEN 'null' ELSE 'not null' END AS nullable \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             AND table_name NOT LIKE '\\_\\_diesel%' AND is_generated = 'NEVER'"
        }
        DbConn::Sqlite(_) => {
            "SELECT m.name AS table_name, p.name AS column_name, \
             CASE WHEN p.\"notnull\" = 1 OR p.pk = 1 THEN 'not null' ELSE 'null' END AS nullable \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE '\\_\\_diesel%' ESCAPE '\\' \
             AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             AND m.name NOT LIKE 'exercises\\_exercise\\_fts%' ESCAPE '\\'"
        }
    };
    let rows: Vec<ColumnInfo> = diesel::sql_query(query).load(conn).expect("columns");
    let mut found: Vec<String> = rows
        .into_iter()
        .map(|c| format!("{}.{} {}", c.table_name, c.column_name, c.nullable))
        .collect();
    found.sort();
    found
}

fn expected_columns() -> Vec<String> {
    let mut expected: Vec<String> = include_str!("../fixtures/schema_columns.txt")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    expected.sort();
    expected
}

#[test]
fn both_migration_trees_list_the_same_migrations() {
    let pg = migrations::versions(&POSTGRES).expect("postgres tree");
    let sqlite = migrations::versions(&SQLITE).expect("sqlite tree");
    assert_eq!(pg, sqlite);
    assert_eq!(pg.first().map(String::as_str), Some(BASELINE_VERSION));
}

#[test]
fn both_backends_end_with_the_same_tables_and_columns() {
    let dir = tempfile::tempdir().expect("temp dir");
    // SQLite always; PostgreSQL too when configured. Both must equal the
    // one list of tables and columns, so they equal each other.
    let mut urls = vec![format!("sqlite://{}", dir.path().join("schema.db").display())];
    let pg = TestDb::create(dir.path());
    if pg.backend() == Backend::Postgres {
        urls.push(pg.url.clone());
    }
    for url in urls {
        let mut conn = db::establish(&url).expect("connect");
        migrations::run(&mut conn).expect("migrate");
        assert_eq!(columns(&mut conn), expected_columns(), "{url}");
        assert!(migrations::pending(&mut conn).expect("pending").is_empty());
        // Migrating again is a no-op.
        assert!(migrations::run(&mut conn).expect("migrate again").is_empty());
    }
}

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

fn lines(conn: &mut DbConn, sql: &str) -> Vec<String> {
    let mut rows: Vec<Line> = diesel::sql_query(sql)
        .load(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.sort();
    rows.into_iter().map(|l| l.line).collect()
}

/// Column types, constraints and indexes of a PostgreSQL database, in text.
fn pg_schema(conn: &mut DbConn) -> Vec<String> {
    let mut all = lines(
        conn,
        "SELECT table_name || '.' || column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '') \
         || ' ' || is_nullable || ' ' || coalesce(column_default, '') || ' ' || is_identity AS line \
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE '\\_\\_diesel%' \
         AND table_name NOT LIKE 'django\\_%' AND table_name NOT LIKE 'auth\\_group%' \
         AND table_name NOT IN ('auth_permission', 'auth_user_groups', 'auth_user_user_permissions')",
    );
    all.extend(lines(
        conn,
        "SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS line \
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace \
         AND conrelid::regclass::text NOT LIKE '\\_\\_diesel%' AND conrelid::regclass::text NOT LIKE 'django\\_%' \
         AND conrelid::regclass::text NOT LIKE 'auth\\_group%' \
         AND conrelid::regclass::text NOT IN ('auth_permission', 'auth_user_groups', 'auth_user_user_permissions')",
    ));
    all.extend(lines(
        conn,
        "SELECT indexdef AS line FROM pg_indexes WHERE schemaname = 'public' \
         AND tablename NOT LIKE '\\_\\_diesel%' AND tablename NOT LIKE 'django\\_%' AND tablename NOT LIKE 'auth\\_group%' \
         AND tablename NOT IN ('auth_permission', 'auth_user_groups', 'auth_user_user_permissions')",
    ));
    all
}

const DJANGO_DUMP: &str = include_str!("../fixtures/django_postgres_schema.sql");

/// Rows as the Django app would have left them.
const DJANGO_ROWS: &str = "
INSERT INTO django_migrations (app, name, applied) VALUES ('accounts', '0001_initial', now()), ('core', '0009_videoasset_video_type_videoasset_youtube_url_and_more', now());
INSERT INTO auth_user (id, password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
  VALUES (7, 'pbkdf2_sha256$870000$cJ8Yq1Lw9ZxS3vFQmT0aNd$1A47pumATaN/Tyx8dbMS2crqm1+0RHkDcO1w2/YvlbA=', '2025-08-29 10:00:00+00', false, 'django_coach', 'Dana', 'Coach', 'dana@example.com', false, true, '2025-08-01 09:00:00+00'),
         (8, 'argon2$argon2id$v=19$m=102400,t=2,p=8$wOVjkKShZnqDOBskb2KFnQ$zHYUdvjVS+ZQsVbKZ8zj3bcCKwMyJpRMB8CWAbHcZis', NULL, true, 'django_admin', '', '', 'admin@example.com', true, true, '2025-08-01 09:00:00+00');
SELECT setval('auth_user_id_seq', 8);
INSERT INTO accounts_role (id, name) VALUES (1, 'admin'), (2, 'coach'), (3, 'student');
SELECT setval('accounts_role_id_seq', 3);
INSERT INTO accounts_profile (id, email_verified_at, onboarding_completed, first_login_at, last_activity_at, preferences, user_id, role_id)
  VALUES (1, '2025-08-02 09:00:00+00', true, '2025-08-02 09:00:00+00', NULL, '{\"speed\": 0.75}', 7, 2),
         (2, NULL, true, NULL, NULL, '{}', 8, 1);
SELECT setval('accounts_profile_id_seq', 2);
INSERT INTO accounts_usermetrics (id, exercises_created, comments_made, total_video_time, profile_id) VALUES (1, 1, 1, 12, 1), (2, 0, 0, 0, 2);
INSERT INTO accounts_betainvitation (id, email, token, accepted_at) VALUES (1, 'new@example.com', 'tok_abc', NULL);
INSERT INTO core_videoasset VALUES ('5c7a1f56-6c53-4b8e-9f4a-0a4f6f6b8e01', 'demo.mp4', 'videos/demo.mp4', 'video/mp4', 123456, NULL, NULL, '{}', NULL, 'upload', 12, 640, 360, 'ready', NULL, NULL, true, NULL, '[]', 3, NULL, '2025-08-03 09:00:00+00', '2025-08-03 09:00:00+00');
INSERT INTO core_videoclip VALUES ('9d1b7c3e-2a44-4f0e-8a9b-3c2d1e0f4a55', 'h1', 1.5, 3.0, 1.5, 'clips/h1.mp4', 1000, 'ready', NULL, NULL, '2025-08-03 09:00:00+00', '2025-08-03 09:00:00+00', '5c7a1f56-6c53-4b8e-9f4a-0a4f6f6b8e01');
INSERT INTO exercises_exercise VALUES ('1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0', 'Scales', 'Two octaves', '2025-08-03 09:00:00+00', '2025-08-03 09:00:00+00', 7, '5c7a1f56-6c53-4b8e-9f4a-0a4f6f6b8e01');
INSERT INTO comments_videocomment VALUES ('2a3b4c5d-6e7f-4809-9a1b-2c3d4e5f6a7b', 'Nice', '2025-08-04 09:00:00+00', '2025-08-04 09:00:00+00', 7, '1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0', '5c7a1f56-6c53-4b8e-9f4a-0a4f6f6b8e01');
";

const DJANGO_TABLES: &[&str] = &[
    "auth_user",
    "accounts_role",
    "accounts_profile",
    "accounts_usermetrics",
    "accounts_betainvitation",
    "core_videoasset",
    "core_videoclip",
    "exercises_exercise",
    "comments_videocomment",
    "django_migrations",
];

/// The rows of a table, as JSON, limited to the columns Django made (later
/// migrations add columns; those are not changes to a row).
fn table_rows(conn: &mut DbConn, table: &str, columns: &[String]) -> Vec<String> {
    lines(
        conn,
        &format!(
            "SELECT row_to_json(t)::text AS line FROM (SELECT {} FROM {table}) t",
            columns.join(", ")
        ),
    )
}

fn column_names(conn: &mut DbConn, table: &str) -> Vec<String> {
    lines(
        conn,
        &format!(
            "SELECT column_name::text AS line FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = '{table}'"
        ),
    )
}

#[actix_web::test]
async fn a_django_made_database_is_adopted_without_losing_a_row() {
    let dir = tempfile::tempdir().expect("temp dir");
    let django = TestDb::create(dir.path());
    if django.backend() != Backend::Postgres {
        // The Django app ran on PostgreSQL only; the same check runs in CI's PostgreSQL pass.
        println!(
            "adoption of a Django database is a PostgreSQL test: run with {}",
            crate::helpers::PG_ENV
        );
        return;
    }
    let mut conn = db::establish(&django.url).expect("connect");
    exec(&mut conn, DJANGO_DUMP);
    exec(
        &mut conn,
        "SELECT pg_catalog.set_config('search_path', 'public', false)",
    );
    exec(&mut conn, DJANGO_ROWS);
    let columns: Vec<Vec<String>> = DJANGO_TABLES.iter().map(|t| column_names(&mut conn, t)).collect();
    let before: Vec<Vec<String>> = DJANGO_TABLES
        .iter()
        .zip(&columns)
        .map(|(t, c)| table_rows(&mut conn, t, c))
        .collect();

    let applied = migrations::run(&mut conn).expect("adopt and migrate");
    assert!(
        !applied.contains(&BASELINE_VERSION.to_string()),
        "the baseline is recorded, not run: {applied:?}"
    );
    assert_eq!(applied.len(), migrations::versions(&POSTGRES).expect("tree").len() - 1);
    assert!(migrations::pending(&mut conn).expect("pending").is_empty());
    let after: Vec<Vec<String>> = DJANGO_TABLES
        .iter()
        .zip(&columns)
        .map(|(t, c)| table_rows(&mut conn, t, c))
        .collect();
    assert_eq!(before, after, "no row changed");

    // The adopted schema is exactly what a fresh Practika database has.
    let fresh = TestDb::create(dir.path());
    let mut fresh_conn = db::establish(&fresh.url).expect("connect");
    migrations::run(&mut fresh_conn).expect("migrate fresh");
    assert_eq!(pg_schema(&mut conn), pg_schema(&mut fresh_conn));
    drop(conn);

    // Django's users log in with their passwords on the adopted database.
    let app = crate::helpers::spawn_app_on(std::sync::Arc::new(django), std::sync::Arc::new(dir)).await;
    assert_eq!(app.login("django_coach", "correct horse").await.status().as_u16(), 303);
    let page = app.page("/account").await;
    assert!(page.text.contains("Dana Coach"));
    assert!(page.has(".badge-coach"));
}

#[test]
fn a_fresh_postgres_baseline_matches_the_django_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    let django = TestDb::create(dir.path());
    if django.backend() != Backend::Postgres {
        println!(
            "the Django schema comparison is a PostgreSQL test: run with {}",
            crate::helpers::PG_ENV
        );
        return;
    }
    // Django's dump next to Practika's baseline migration alone.
    let mut dj = db::establish(&django.url).expect("connect");
    exec(&mut dj, DJANGO_DUMP);
    exec(&mut dj, "SELECT pg_catalog.set_config('search_path', 'public', false)");
    let baseline = TestDb::create(dir.path());
    let mut ours = db::establish(&baseline.url).expect("connect");
    let sql = include_str!("../../migrations/postgres/2025-08-30-000001_django_baseline/up.sql");
    exec(&mut ours, sql);
    assert_eq!(pg_schema(&mut ours), pg_schema(&mut dj));
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The `n` column of a one-row query.
pub(crate) fn count(conn: &mut DbConn, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

#[actix_web::test]
async fn on_delete_rules_hold_on_both_backends() {
    let app = spawn_app().await;
    let coach = app.create_user("cascade_coach", GOOD_PASSWORD, "coach");
    let mut conn = app.conn();
    let now = match app.backend() {
        Backend::Postgres => "now()",
        Backend::Sqlite => "'2026-11-27 10:00:00.000000'",
    };
    let (video, clip, exercise, comment) = match app.backend() {
        Backend::Postgres => (
            "'5c7a1f56-6c53-4b8e-9f4a-0a4f6f6b8e01'",
            "'9d1b7c3e-2a44-4f0e-8a9b-3c2d1e0f4a55'",
            "'1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0'",
            "'2a3b4c5d-6e7f-4809-9a1b-2c3d4e5f6a7b'",
        ),
        Backend::Sqlite => (
            "'5c7a1f566c534b8e9f4a0a4f6f6b8e01'",
            "'9d1b7c3e2a444f0e8a9b3c2d1e0f4a55'",
            "'1f0e2d3c4b5a49688776a5b4c3d2e1f0'",
            "'2a3b4c5d6e7f48099a1b2c3d4e5f6a7b'",
        ),
    };
    exec(&mut conn, &format!(
        "INSERT INTO core_videoasset (id, orig_filename, mime_type, renditions, video_type, processing_status, is_valid, validation_errors, access_count, created_at, updated_at) \
         VALUES ({video}, 'demo.mp4', 'video/mp4', '{{}}', 'upload', 'ready', true, '[]', 0, {now}, {now});
         INSERT INTO core_videoclip (id, clip_hash, start_time, end_time, duration, storage_path, processing_status, created_at, updated_at, original_video_id) \
         VALUES ({clip}, 'hash1', 1.0, 2.0, 1.0, 'clips/x.mp4', 'ready', {now}, {now}, {video});
         INSERT INTO exercises_exercise (id, name, created_at, updated_at, created_by_id, video_asset_id) VALUES ({exercise}, 'Scales', {now}, {now}, {coach}, {video});
         INSERT INTO comments_videocomment (id, text, created_at, updated_at, author_id, exercise_id, video_asset_id) VALUES ({comment}, 'hi', {now}, {now}, {coach}, {exercise}, {video});"
    ));

    // Deleting a role leaves its profiles without one (SET NULL).
    let other = app.create_user("role_less", GOOD_PASSWORD, "student");
    exec(&mut conn, "DELETE FROM accounts_role WHERE name = 'student'");
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT count(*) AS n FROM accounts_profile WHERE user_id = {other} AND role_id IS NULL")
        ),
        1
    );

    // Deleting a user takes their profile, metrics, exercises and comments (CASCADE).
    exec(&mut conn, &format!("DELETE FROM auth_user WHERE id = {coach}"));
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT count(*) AS n FROM accounts_profile WHERE user_id = {coach}")
        ),
        0
    );
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM accounts_usermetrics m WHERE NOT EXISTS (SELECT 1 FROM accounts_profile p WHERE p.id = m.profile_id)"), 0);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM exercises_exercise"), 0);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM comments_videocomment"), 0);
    // Deleting a video takes its clips.
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM core_videoclip"), 1);
    exec(&mut conn, "DELETE FROM core_videoasset");
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM core_videoclip"), 0);

    // Files over 2 GiB fit.
    exec(&mut conn, &format!(
        "INSERT INTO core_videoasset (id, orig_filename, mime_type, size_bytes, renditions, video_type, processing_status, is_valid, validation_errors, access_count, created_at, updated_at) \
         VALUES ({video}, 'big.mp4', 'video/mp4', 5000000000, '{{}}', 'upload', 'ready', true, '[]', 0, {now}, {now})"
    ));
    assert_eq!(
        count(&mut conn, "SELECT size_bytes AS n FROM core_videoasset"),
        5_000_000_000
    );
}

#[actix_web::test]
async fn concurrent_writers_do_not_collide() {
    let app = spawn_app().await;
    let hash = practika::accounts::password::hash(GOOD_PASSWORD).expect("hash");
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let pool = app.pool.clone();
            let hash = hash.clone();
            std::thread::spawn(move || {
                let mut conn = pool.get().expect("connection");
                practika::accounts::queries::create_user(
                    &mut conn,
                    &practika::accounts::queries::NewUser {
                        username: format!("racer{i}"),
                        email: format!("racer{i}@example.com"),
                        first_name: String::new(),
                        last_name: String::new(),
                        password_hash: hash,
                        is_staff: false,
                        is_superuser: false,
                        role: "student".to_owned(),
                        email_verified_at: None,
                    },
                )
                .map_err(|e| e.to_string())
            })
        })
        .collect();
    for handle in handles {
        handle
            .join()
            .expect("thread")
            .expect("user created without a lock error");
    }
    // And the same username twice is a clean refusal, not a crash.
    let duplicate = practika::accounts::queries::create_user(
        &mut app.conn(),
        &practika::accounts::queries::NewUser {
            username: "racer0".into(),
            email: "x@example.com".into(),
            first_name: String::new(),
            last_name: String::new(),
            password_hash: hash,
            is_staff: false,
            is_superuser: false,
            role: "student".to_owned(),
            email_verified_at: None,
        },
    );
    assert!(matches!(
        duplicate,
        Err(practika::accounts::queries::CreateUserError::UsernameTaken)
    ));
    assert_eq!(
        count(&mut app.conn(), "SELECT count(*) AS n FROM accounts_usermetrics"),
        8
    );
}

/// Nodes that start at once on a fresh database: every one of them
/// migrates without an error, and each migration is applied exactly once
/// (the others wait for the lock, then find nothing to do).
#[test]
fn concurrent_migrations_on_a_fresh_database_all_succeed() {
    let versions = migrations::versions(&SQLITE).expect("versions").len();
    for round in 0..3 {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = TestDb::create(dir.path());
        let start = std::sync::Arc::new(std::sync::Barrier::new(4));
        let racers: Vec<_> = (0..4)
            .map(|_| {
                let (url, start) = (target.url.clone(), start.clone());
                std::thread::spawn(move || {
                    let mut conn = db::establish(&url).expect("connect");
                    start.wait();
                    migrations::run(&mut conn).map(|applied| applied.len())
                })
            })
            .collect();
        let mut applied = 0;
        for racer in racers {
            applied += racer
                .join()
                .expect("thread")
                .unwrap_or_else(|e| panic!("round {round}: a concurrent migration failed: {e:#}"));
        }
        assert_eq!(applied, versions, "round {round}: each migration ran once");
        let mut conn = db::establish(&target.url).expect("connect");
        assert!(migrations::pending(&mut conn).expect("pending").is_empty());
    }
}

/// `pending` only reads: on a database with no history it reports every
/// migration and creates nothing (a readiness check must not race a node
/// that is migrating).
#[test]
fn pending_on_a_fresh_database_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = TestDb::create(dir.path());
    let mut conn = db::establish(&target.url).expect("connect");
    let pending = migrations::pending(&mut conn).expect("pending");
    assert_eq!(pending.len(), migrations::versions(&SQLITE).expect("versions").len());
    let history = match conn {
        DbConn::Pg(_) => {
            "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = '__diesel_schema_migrations'"
        }
        DbConn::Sqlite(_) => "SELECT count(*) AS n FROM sqlite_master WHERE name = '__diesel_schema_migrations'",
    };
    assert_eq!(count(&mut conn, history), 0);
}

/// Requests take their turn at the database in the order they came: with
/// every connection busy, the ones that wait are served first come, first
/// served (r2d2's own wait let late arrivals overtake, and under a burst
/// some requests starved past any timeout).
#[actix_web::test]
async fn requests_wait_for_a_connection_in_arrival_order() {
    use std::sync::{mpsc, Arc, Mutex};
    let dir = tempfile::tempdir().expect("temp dir");
    let test_db = TestDb::create(dir.path());
    let pool = db::Pool::new(&test_db.url);
    let size = pool.size() as usize;
    // Hold every connection until told to let go.
    let busy = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut releases = Vec::new();
    let mut holders = Vec::new();
    for _ in 0..size {
        let (release, wait) = mpsc::channel::<()>();
        releases.push(release);
        let busy = busy.clone();
        let pool = pool.clone();
        holders.push(actix_web::rt::spawn(async move {
            db::run(&pool, move |conn| {
                diesel::sql_query("SELECT 1").execute(conn)?;
                busy.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                wait.recv().ok();
                Ok::<_, diesel::result::Error>(())
            })
            .await
        }));
    }
    while busy.load(std::sync::atomic::Ordering::SeqCst) < size {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // Ten more arrive, one after the other, and wait.
    let served = Arc::new(Mutex::new(Vec::new()));
    let mut waiters = Vec::new();
    for n in 0..10 {
        let pool = pool.clone();
        let served = served.clone();
        waiters.push(actix_web::rt::spawn(async move {
            db::run(&pool, move |conn| {
                diesel::sql_query("SELECT 1").execute(conn)?;
                served.lock().expect("lock").push(n);
                Ok::<_, diesel::result::Error>(())
            })
            .await
        }));
        // Let it reach the queue before the next one arrives.
        actix_web::rt::task::yield_now().await;
        actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // One connection frees up; while the ten go through it one by one,
    // ten late arrivals keep coming. None may overtake the ten.
    let mut releases = releases.into_iter();
    releases.next().expect("a holder").send(()).expect("release");
    for n in 10..20 {
        let pool = pool.clone();
        let served = served.clone();
        waiters.push(actix_web::rt::spawn(async move {
            db::run(&pool, move |conn| {
                diesel::sql_query("SELECT 1").execute(conn)?;
                served.lock().expect("lock").push(n);
                Ok::<_, diesel::result::Error>(())
            })
            .await
        }));
        actix_web::rt::task::yield_now().await;
    }
    for waiter in waiters {
        waiter.await.expect("task").expect("served");
    }
    for release in releases {
        release.send(()).expect("release");
    }
    for holder in holders {
        holder.await.expect("task").expect("held");
    }
    let served = served.lock().expect("lock").clone();
    assert_eq!(served.len(), 20);
    assert_eq!(
        served[..10],
        (0..10).collect::<Vec<_>>(),
        "served in the order {served:?}"
    );
}
