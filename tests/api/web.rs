//! The request pipeline: CSRF, security headers, error pages, static files,
//! health and readiness.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::helpers::{location, spawn_app, spawn_app_on, TestDb, GOOD_PASSWORD};

#[actix_web::test]
async fn forms_without_the_csrf_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let id = app.create_user("careful", GOOD_PASSWORD, "student");
    app.login("careful", GOOD_PASSWORD).await;
    let change = [
        ("current_password", GOOD_PASSWORD),
        ("new_password", "amber-lantern-47"),
        ("new_password_confirm", "amber-lantern-47"),
    ];
    let before = app.stored_password(id);

    // Missing token.
    let response = app
        .client
        .post(app.url("/account/password"))
        .form(&change)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 403);
    let body = response.text().await.expect("body");
    assert!(body.contains("Nothing was changed"));
    // Wrong token.
    let mut forged = change.to_vec();
    forged.push(("csrf_token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    let response = app
        .client
        .post(app.url("/account/password"))
        .form(&forged)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 403);
    // Right token, but sent from another site.
    let token = app.csrf_token_with(&app.client).await;
    let mut cross = change.to_vec();
    cross.push(("csrf_token", &token));
    let response = app
        .client
        .post(app.url("/account/password"))
        .header("origin", "https://evil.example")
        .form(&cross)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 403);
    let response = app
        .client
        .post(app.url("/account/password"))
        .header("sec-fetch-site", "cross-site")
        .form(&cross)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(app.stored_password(id), before);

    // The same request from this site goes through.
    let response = app
        .client
        .post(app.url("/account/password"))
        .header("origin", &app.address)
        .form(&cross)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 303);
    assert_ne!(app.stored_password(id), before);
}

#[actix_web::test]
async fn multipart_forms_need_the_token_too() {
    let app = spawn_app().await;
    app.create_user("uploader", GOOD_PASSWORD, "student");
    let multipart = || {
        reqwest::multipart::Form::new()
            .text("username", "uploader")
            .text("password", GOOD_PASSWORD)
            .part(
                "file",
                reqwest::multipart::Part::bytes(vec![0u8; 1024]).file_name("clip.mp4"),
            )
    };
    // No token; a token inside the multipart body is not read (the body is a stream).
    let token = app.csrf_token_with(&app.client).await;
    let response = app
        .client
        .post(app.url("/login"))
        .multipart(multipart().text("csrf_token", token.clone()))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 403);
    let response = app
        .client
        .post(app.url("/login?csrf_token=wrong"))
        .multipart(multipart())
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 403);
    // The header works (scripts use it); the request then reaches the handler,
    // which accepts only url-encoded logins.
    let response = app
        .client
        .post(app.url("/login"))
        .header("x-csrf-token", &token)
        .multipart(multipart())
        .send()
        .await
        .expect("POST");
    assert_ne!(response.status().as_u16(), 403);
    assert_eq!(app.get("/account").await.status().as_u16(), 303, "no login happened");
}

#[actix_web::test]
async fn pages_carry_security_headers_and_a_request_id() {
    let app = spawn_app().await;
    for path in ["/", "/login", "/does-not-exist"] {
        let response = app.get(path).await;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let csp = header("content-security-policy");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(header("x-frame-options"), "DENY");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("referrer-policy"), "same-origin");
        assert_eq!(header("x-request-id").len(), 16);
        let cookie = header("set-cookie");
        if !cookie.is_empty() {
            assert!(
                cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
                "{cookie}"
            );
        }
    }
}

#[actix_web::test]
async fn errors_render_inside_the_layout_with_the_request_id() {
    let app = spawn_app().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status().as_u16(), 404);
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let html = scraper::Html::parse_document(&response.text().await.expect("body"));
    let pick = |css: &str| {
        let selector = scraper::Selector::parse(css).expect("selector");
        html.select(&selector)
            .map(|e| e.text().collect::<String>())
            .collect::<Vec<_>>()
    };
    assert_eq!(pick("h1"), vec!["Page not found"]);
    assert_eq!(pick(".request-id code"), vec![request_id]);
    assert_eq!(pick("a.brand"), vec!["Practika"], "inside the site layout");

    // Logged-in users still see who they are on an error page.
    app.create_user("lost_lena", GOOD_PASSWORD, "coach");
    app.login("lost_lena", GOOD_PASSWORD).await;
    let page = app.page("/nowhere").await;
    assert_eq!(page.status, 404);
    assert_eq!(page.select_text(".nav-username"), vec!["lost_lena"]);
}

#[actix_web::test]
async fn pages_that_need_a_login_send_to_the_login_page_and_back() {
    let app = spawn_app().await;
    let response = app.get("/account/password?tab=1").await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/login?next=%2Faccount%2Fpassword%3Ftab%3D1");
}

#[actix_web::test]
async fn static_files_are_versioned_and_cached() {
    let app = spawn_app().await;
    let page = app.page("/").await;
    let href = page.attr("link[rel=stylesheet]", "href").expect("stylesheet");
    assert!(href.starts_with("/static/css/app.css?v="), "{href}");
    let response = app.get(&href).await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/css"));
    assert!(response.headers()["cache-control"]
        .to_str()
        .unwrap_or_default()
        .contains("immutable"));
    assert_eq!(app.get("/static/../Cargo.toml").await.status().as_u16(), 404);
    assert_eq!(app.get("/static/css/nope.css").await.status().as_u16(), 404);
}

#[actix_web::test]
async fn healthz_and_readyz_answer_when_all_is_well() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);
    let response = app.get("/readyz").await;
    assert_eq!(response.status().as_u16(), 200);
}

/// A node whose database is down, asked by a client that carries a
/// logged-in session cookie: `/healthz` answers from the process alone and
/// `/readyz` answers its JSON, never the HTML error page.
#[actix_web::test]
async fn health_endpoints_ignore_the_session_and_always_answer_json() {
    let app = spawn_app().await;
    app.create_user("prober", GOOD_PASSWORD, "student");
    assert_eq!(app.login("prober", GOOD_PASSWORD).await.status().as_u16(), 303);

    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let missing = match app.backend() {
        practika::db::Backend::Postgres => crate::helpers::with_database(
            &app.db.url,
            &format!("practika_absent_{}", uuid::Uuid::new_v4().simple()),
        ),
        practika::db::Backend::Sqlite => format!("sqlite://{}/absent/practika.db", dir.path().display()),
    };
    let down = spawn_app_on(Arc::new(TestDb::pointing_at(&missing)), dir).await;
    // Same host, same secret key: the session cookie goes to this node too.
    let healthz = app.client.get(down.url("/healthz")).send().await.expect("GET");
    assert_eq!(healthz.status().as_u16(), 200);
    let body: serde_json::Value = healthz.json().await.expect("JSON");
    assert_eq!(body["status"], "ok");

    let readyz = app.client.get(down.url("/readyz")).send().await.expect("GET");
    assert_eq!(readyz.status().as_u16(), 503);
    let content_type = readyz
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    let body: serde_json::Value = readyz.json().await.expect("JSON");
    assert_eq!(body["database"], "unreachable");
    // A page on that node still needs the database: 503, in the layout.
    let page = app.client.get(down.url("/account")).send().await.expect("GET");
    assert_eq!(page.status().as_u16(), 503);
}

#[actix_web::test]
async fn an_unreachable_database_gives_fast_503s_and_recovers_without_a_restart() {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    // A database that is not there yet: a PostgreSQL database not created,
    // or an SQLite file in a folder that does not exist.
    let db = TestDb::create(dir.path());
    let late_name = format!("practika_test_late_{}", uuid::Uuid::new_v4().simple());
    let missing_url = match db.backend() {
        practika::db::Backend::Postgres => crate::helpers::with_database(&db.url, &late_name),
        practika::db::Backend::Sqlite => {
            format!("sqlite://{}/later/practika.db", dir.path().display())
        }
    };
    let unreachable = Arc::new(TestDb::pointing_at(&missing_url));
    let app = spawn_app_on(unreachable, dir.clone()).await;

    let started = Instant::now();
    let response = app.get("/readyz").await;
    assert_eq!(response.status().as_u16(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        app.get("/healthz").await.status().as_u16(),
        200,
        "liveness has no dependencies"
    );
    // Pages that need no database still work; those that do say 503 in the layout.
    assert_eq!(app.get("/").await.status().as_u16(), 200);
    let response = app.post_form("/login", &[("username", "x"), ("password", "y")]).await;
    assert_eq!(response.status().as_u16(), 503);
    assert!(response.text().await.expect("body").contains("Temporarily unavailable"));

    // The database appears and is migrated: ready, with no restart.
    match db.backend() {
        practika::db::Backend::Postgres => {
            use diesel::connection::SimpleConnection;
            use diesel::Connection;
            let admin = std::env::var(crate::helpers::PG_ENV).expect("pg url");
            let mut conn = diesel::PgConnection::establish(&admin).expect("admin connection");
            conn.batch_execute(&format!("CREATE DATABASE {late_name}"))
                .expect("create");
        }
        practika::db::Backend::Sqlite => std::fs::create_dir_all(dir.path().join("later")).expect("mkdir"),
    }
    let _cleanup = TestDb::owning(&missing_url);
    assert_eq!(
        app.get("/readyz").await.status().as_u16(),
        503,
        "reachable but not migrated"
    );
    let mut conn = practika::db::establish(&missing_url).expect("connect");
    practika::db::migrations::run(&mut conn).expect("migrate");
    assert_eq!(app.get("/readyz").await.status().as_u16(), 200);
    drop(db);
}

#[actix_web::test]
async fn modules_imported_without_a_version_are_revalidated_not_kept_for_a_year() {
    let app = spawn_app().await;
    let versioned = app.get("/static/js/player.js?v=whatever").await;
    assert_eq!(versioned.status().as_u16(), 200);
    assert!(crate::media_fixtures::header(&versioned, "cache-control").contains("immutable"));
    // How exercise.js imports it: `./player.js`, no version.
    let plain = app.get("/static/js/player.js").await;
    assert_eq!(plain.status().as_u16(), 200);
    assert_eq!(crate::media_fixtures::header(&plain, "cache-control"), "no-cache");
    let etag = crate::media_fixtures::header(&plain, "etag");
    assert!(etag.starts_with('"') && etag.len() > 4, "{etag}");
    assert!(plain
        .text()
        .await
        .expect("body")
        .contains("export function mountPlayer"));
    let again = app
        .client
        .get(app.url("/static/js/player.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("GET");
    assert_eq!(again.status().as_u16(), 304, "unchanged: no body");
    let changed = app
        .client
        .get(app.url("/static/js/player.js"))
        .header("if-none-match", "\"an-older-release\"")
        .send()
        .await
        .expect("GET");
    assert_eq!(changed.status().as_u16(), 200);
}

#[actix_web::test]
async fn the_time_zone_comes_from_the_browser_once_and_times_are_shown_in_it() {
    use practika::db::schema::{accounts_profile, auth_user};

    let app = spawn_app().await;
    let id = app.create_user("zoe", GOOD_PASSWORD, "student");
    app.login("zoe", GOOD_PASSWORD).await;
    let zone_of = || -> Option<String> {
        use diesel::prelude::*;
        let json: practika::db::Json = accounts_profile::table
            .filter(accounts_profile::user_id.eq(id))
            .select(accounts_profile::preferences)
            .first(&mut *app.conn())
            .expect("profile");
        json.0.get("time_zone").and_then(|v| v.as_str()).map(str::to_owned)
    };
    // Unknown: every page asks the browser (a script, no inline code).
    let page = app.page("/account").await;
    let script = page.attr("script[data-csrf]", "src").expect("the time zone script");
    assert!(script.starts_with("/static/js/timezone.js?v="), "{script}");
    assert!(page.has("time[datetime][title]"), "times carry their exact value");

    let response = app
        .post_form("/account/time-zone", &[("time_zone", "Mars/Olympus")])
        .await;
    assert_eq!(response.status().as_u16(), 422);
    assert_eq!(zone_of(), None, "nothing stored");
    // Without the token: refused like any other form.
    let response = app
        .client
        .post(app.url("/account/time-zone"))
        .form(&[("time_zone", "Europe/Paris")])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 403);

    let response = app
        .post_form("/account/time-zone", &[("time_zone", "Europe/Paris")])
        .await;
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(zone_of().as_deref(), Some("Europe/Paris"));
    // Only the first time: another browser does not move it.
    let response = app
        .post_form("/account/time-zone", &[("time_zone", "Asia/Tokyo")])
        .await;
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(zone_of().as_deref(), Some("Europe/Paris"));

    // Known: no more asking, and the exact times are in it.
    {
        use diesel::prelude::*;
        diesel::update(auth_user::table.find(id))
            .set(
                auth_user::date_joined.eq(practika::db::Ts(
                    chrono::DateTime::parse_from_rfc3339("2026-01-15T09:40:00Z")
                        .expect("time")
                        .with_timezone(&chrono::Utc),
                )),
            )
            .execute(&mut *app.conn())
            .expect("date joined");
    }
    let page = app.page("/account").await;
    assert!(!page.has("script[data-csrf]"));
    let joined = page.attr("time[datetime='2026-01-15T09:40:00Z']", "title");
    assert_eq!(joined.as_deref(), Some("Thursday 15 January 2026, 10:40 CET"));

    // The settings choose another, and keep the other preferences.
    let settings = app.page("/account/settings").await;
    assert!(settings.has("select#time_zone option[value='Europe/Paris'][selected]"));
    let response = app
        .post_form(
            "/account/settings",
            &[("playback_speed", "0.1"), ("time_zone", "Atlantis/Capital")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422, "not a zone: refused");
    assert_eq!(zone_of().as_deref(), Some("Europe/Paris"));
    let response = app
        .post_form(
            "/account/settings",
            &[("playback_speed", "0.1"), ("time_zone", "Asia/Tokyo")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(zone_of().as_deref(), Some("Asia/Tokyo"));
    let page = app.page("/account").await;
    assert_eq!(
        page.attr("time[datetime='2026-01-15T09:40:00Z']", "title").as_deref(),
        Some("Thursday 15 January 2026, 18:40 JST")
    );
}

/// A coach's YouTube video (no ffmpeg needed), as a form value.
fn youtube_video_of(app: &crate::helpers::TestApp, coach_id: i32) -> String {
    practika::videos::upload::add_youtube(&mut app.conn(), "https://www.youtube.com/watch?v=dQw4w9WgXcQ", coach_id)
        .expect("youtube")
        .0
        .id
        .to_string()
}

/// Publishes an exercise through the form; the newest exercise's id.
async fn publish_exercise(app: &crate::helpers::TestApp, coach: &reqwest::Client, video: &str) -> practika::db::Id {
    use diesel::prelude::*;
    use practika::db::schema::exercises_exercise;
    let response = app
        .post_form_with(
            coach,
            "/exercises",
            &[("name", "Scales"), ("description", "slowly"), ("video_id", video)],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    exercises_exercise::table
        .order(exercises_exercise::created_at.desc())
        .select(exercises_exercise::id)
        .first(&mut *app.conn())
        .expect("exercise")
}

/// A NUL character anywhere a user can type (a form field, a search box, an
/// address) is refused in one place with a 422 and a message, on both
/// backends (PostgreSQL cannot store it), and nothing is stored.
#[actix_web::test]
async fn nul_characters_are_refused_everywhere_with_a_422_and_change_nothing() {
    use diesel::prelude::*;
    use practika::db::schema::{comments_videocomment, exercises_exercise};

    let app = spawn_app().await;
    let refused = |status: u16, body: &str, what: &str| {
        assert_eq!(status, 422, "{what}");
        assert!(body.contains("NUL character"), "{what}: {body}");
    };
    // Anonymous: the login name.
    let response = app
        .post_form("/login", &[("username", "ad\0min"), ("password", "x")])
        .await;
    let status = response.status().as_u16();
    refused(status, &response.text().await.expect("body"), "login username");

    let (coach_id, coach) = app.user_client("nul_coach", "coach").await;
    let video = youtube_video_of(&app, coach_id);
    let exercises = || -> i64 {
        exercises_exercise::table
            .count()
            .get_result(&mut *app.conn())
            .expect("count")
    };
    let response = app
        .post_form_with(
            &coach,
            "/exercises",
            &[("name", "Scales"), ("description", "slow\0ly"), ("video_id", &video)],
        )
        .await;
    let status = response.status().as_u16();
    refused(status, &response.text().await.expect("body"), "exercise description");
    assert_eq!(exercises(), 0);

    let exercise = publish_exercise(&app, &coach, &video).await;
    let response = app
        .post_form_with(&coach, &format!("/exercises/{exercise}/comments"), &[("text", "hi\0")])
        .await;
    let status = response.status().as_u16();
    refused(status, &response.text().await.expect("body"), "comment text");
    let comments: i64 = comments_videocomment::table
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(comments, 0);

    // Query strings and addresses.
    for path in ["/exercises?q=%00", "/exercises?q=a%00b&page=2", "/exercises/%00"] {
        let page = app.page_with(&coach, path).await;
        refused(page.status, &page.text, path);
    }
    // An escaped percent sign followed by 00 is ordinary text.
    assert_eq!(app.page_with(&coach, "/exercises?q=%2500").await.status, 200);

    let staff = app.create_staff("nul_boss", GOOD_PASSWORD);
    let staff_client = crate::helpers::new_client();
    app.login_with(&staff_client, "nul_boss", GOOD_PASSWORD).await;
    for path in ["/staff/users?q=%00", "/staff/exercises?q=%00", "/staff/jobs?q=x%00"] {
        let page = app.page_with(&staff_client, path).await;
        refused(page.status, &page.text, path);
    }
    let response = app
        .post_form_with(
            &staff_client,
            &format!("/staff/users/{coach_id}"),
            &[
                ("first_name", "K\0im"),
                ("email", "nul_coach@example.com"),
                ("role", "coach"),
            ],
        )
        .await;
    let status = response.status().as_u16();
    refused(status, &response.text().await.expect("body"), "staff change form");
    let _ = staff;
}

/// A script included twice runs twice: on the comment edit page attach.js
/// did, and a chosen file was uploaded twice. No page loads a script more
/// than once.
#[actix_web::test]
async fn no_page_loads_a_script_twice() {
    use diesel::prelude::*;
    use practika::db::schema::comments_videocomment;

    let app = spawn_app().await;
    let (coach_id, coach) = app.user_client("script_coach", "coach").await;
    let video = youtube_video_of(&app, coach_id);
    let exercise = publish_exercise(&app, &coach, &video).await;
    let response = app
        .post_form_with(
            &coach,
            &format!("/exercises/{exercise}/comments"),
            &[("text", "Try this.")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let comment: practika::db::Id = comments_videocomment::table
        .select(comments_videocomment::id)
        .first(&mut *app.conn())
        .expect("comment");
    app.make_staff(coach_id);
    for path in [
        format!("/comments/{comment}/edit"),
        format!("/exercises/{exercise}"),
        format!("/exercises/{exercise}/edit"),
        "/exercises/new".to_owned(),
        "/videos/new".to_owned(),
        format!("/videos/{video}"),
        "/staff/users".to_owned(),
    ] {
        let page = app.page_with(&coach, &path).await;
        assert_eq!(page.status, 200, "{path}");
        let selector = scraper::Selector::parse("script[src]").expect("selector");
        let mut sources: Vec<&str> = page
            .html
            .select(&selector)
            .filter_map(|s| s.value().attr("src"))
            .collect();
        let all = sources.len();
        sources.sort_unstable();
        sources.dedup();
        assert_eq!(sources.len(), all, "{path} loads a script twice: {sources:?}");
        if path.ends_with("/edit") || path == "/exercises/new" {
            // The comment's edit page loads edit.js, which imports attach.js
            // beside the attempt's player and studio.
            let uploader = if path.starts_with("/comments/") {
                "/static/js/edit.js"
            } else {
                "/static/js/attach.js"
            };
            assert!(sources.iter().any(|s| s.starts_with(uploader)), "{path} uploads");
        }
    }
}

/// The pool tests no connection at check-out (no `SELECT 1` per query
/// batch): a connection the database dropped is noticed when a statement
/// fails on it, that request answers 503, and the connection is thrown away
/// instead of going back to the pool, so the next requests work. PostgreSQL
/// only (an SQLite file has no connection to lose).
#[actix_web::test]
async fn connections_the_database_dropped_are_replaced_not_reused() {
    let owner = spawn_app().await;
    if owner.backend() != practika::db::Backend::Postgres {
        return;
    }
    owner.create_user("paula", GOOD_PASSWORD, "student");
    let mut outage = crate::outage::Outage::prepare(&owner).await;
    let app = spawn_app_on(Arc::new(TestDb::pointing_at(outage.url())), owner.dir.clone()).await;
    assert_eq!(app.login("paula", GOOD_PASSWORD).await.status().as_u16(), 303);
    // A few requests at once, so that the pool holds several connections.
    let warm = futures_util::future::join_all((0..4).map(|_| app.get("/exercises"))).await;
    assert!(warm.iter().all(|r| r.status().as_u16() == 200));

    // The database drops every connection, and is back at once.
    outage.begin();
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    outage.end();

    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(app.get("/exercises").await.status().as_u16());
    }
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "a lost connection is a 503, never a 500: {statuses:?}"
    );
    let first_ok = statuses.iter().position(|s| *s == 200).expect("recovered");
    assert!(first_ok >= 1, "the outage reached a pooled connection: {statuses:?}");
    assert!(first_ok <= 4, "at most one failure per pooled connection: {statuses:?}");
    assert!(
        statuses[first_ok..].iter().all(|s| *s == 200),
        "no dead connection went back to the pool: {statuses:?}"
    );
}
