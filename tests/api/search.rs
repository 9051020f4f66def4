//! Exercise search on both backends: every word, any order, case and
//! accents ignored, ranked; the staff search finds the same; rows written
//! the way the Django app writes them are found too.

use diesel::prelude::*;
use practika::db::Id;

use crate::exercises::youtube_video;
use crate::helpers::{exec, spawn_app, TestApp};

fn add_exercise(app: &TestApp, coach: i32, video: Id, name: &str, description: &str) {
    practika::exercises::queries::create(
        &mut app.conn(),
        coach,
        &practika::exercises::queries::Draft {
            name: name.to_owned(),
            description: Some(description.to_owned()).filter(|d| !d.is_empty()),
            video_asset_id: video,
        },
    )
    .expect("exercise");
}

async fn library(app: &TestApp, client: &reqwest::Client, query: &str) -> Vec<String> {
    let path = format!("/exercises?q={}", urlencode(query));
    app.page_with(client, &path).await.select_text(".video-card-title")
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[actix_web::test]
async fn search_finds_every_word_in_any_order_ignoring_case_and_accents_ranked() {
    let app = spawn_app().await;
    let (coach, _) = app.user_client("sara", "coach").await;
    let (_, student) = app.user_client("sam", "student").await;
    let video = youtube_video(&app, coach, "dQw4w9WgXcQ");
    add_exercise(&app, coach, video, "Forehand drill X", "Hit across the body.");
    add_exercise(&app, coach, video, "Backhand drill", "Then a forehand to finish.");
    add_exercise(&app, coach, video, "Ete", "A summer étude.");
    add_exercise(&app, coach, video, "Arpeggios", "");
    add_exercise(&app, coach, video, "Serve", "Toss high, 100% effort.");

    assert_eq!(library(&app, &student, "forehand X").await, ["Forehand drill X"]);
    assert_eq!(
        library(&app, &student, "x FOREHAND").await,
        ["Forehand drill X"],
        "any order"
    );
    assert_eq!(library(&app, &student, "éte").await, ["Ete"], "accents ignored");
    assert_eq!(library(&app, &student, "ETUDE").await, ["Ete"], "in the description");
    assert_eq!(library(&app, &student, "arpeg").await, ["Arpeggios"], "a word's start");
    assert_eq!(library(&app, &student, "100%").await, ["Serve"], "signs are not syntax");
    assert_eq!(
        library(&app, &student, "forehand").await,
        ["Forehand drill X", "Backhand drill"],
        "a match in the name ranks first, though newer in the description"
    );
    assert_eq!(library(&app, &student, "drill -backhand").await, ["Forehand drill X"]);
    assert_eq!(
        library(&app, &student, "serve or arpeggios").await.len(),
        2,
        "alternatives"
    );
    assert_eq!(
        library(&app, &student, "\"drill forehand\"").await,
        Vec::<String>::new(),
        "a phrase keeps its order"
    );
    assert!(
        library(&app, &student, "forehand zzz").await.is_empty(),
        "every word must match"
    );
    // Syntax either engine would read is only text.
    for odd in ["NEAR(a b)", "\"", "a:*", "'", "(", "-", "*", "or", "a & b | !c"] {
        let response = app
            .get_with(&student, &format!("/exercises?q={}", urlencode(odd)))
            .await;
        assert_eq!(response.status().as_u16(), 200, "{odd}");
    }

    // The staff search finds the same rows, best first.
    app.create_staff("root", crate::helpers::GOOD_PASSWORD);
    let admin = crate::helpers::new_client();
    app.login_with(&admin, "root", crate::helpers::GOOD_PASSWORD).await;
    let staff_rows = |query: &str| {
        let path = format!("/staff/exercises?q={}", urlencode(query));
        let (app, admin) = (&app, &admin);
        async move {
            app.page_with(admin, &path)
                .await
                .select_text("table.staff-list tbody th[scope=row]")
        }
    };
    assert_eq!(staff_rows("x forehand").await, ["Forehand drill X"]);
    assert_eq!(staff_rows("éte").await, ["Ete"]);
    assert_eq!(staff_rows("forehand").await, ["Forehand drill X", "Backhand drill"]);
}

#[actix_web::test]
async fn rows_the_django_app_writes_are_searchable() {
    let app = spawn_app().await;
    let (coach, student) = app.user_client("dora", "coach").await;
    let video = youtube_video(&app, coach, "9bZkp7q19f0");
    let mut conn = app.conn();
    // Django names the columns it writes: the generated column (PostgreSQL)
    // and the triggers (SQLite) do the rest.
    let id = Id::new();
    let (id_sql, video_sql, now) = match &*conn {
        practika::db::DbConn::Pg(_) => (format!("'{id}'"), format!("'{video}'"), "now()"),
        practika::db::DbConn::Sqlite(_) => (
            format!("'{}'", id.0.simple()),
            format!("'{}'", video.0.simple()),
            "'2026-01-01 00:00:00.000000'",
        ),
    };
    exec(
        &mut conn,
        &format!(
            "INSERT INTO exercises_exercise (id, name, description, created_at, updated_at, created_by_id, video_asset_id) \
             VALUES ({id_sql}, 'Pirouette en dehors', 'Spot the wall', {now}, {now}, {coach}, {video_sql})"
        ),
    );
    drop(conn);
    assert_eq!(
        library(&app, &student, "dehors pirouette").await,
        ["Pirouette en dehors"]
    );
    exec(
        &mut app.conn(),
        &format!("UPDATE exercises_exercise SET name = 'Relevé' WHERE id = {id_sql}"),
    );
    assert!(
        library(&app, &student, "pirouette").await.is_empty(),
        "the old name is gone"
    );
    assert_eq!(library(&app, &student, "releve wall").await, ["Relevé"]);
    exec(
        &mut app.conn(),
        &format!("DELETE FROM exercises_exercise WHERE id = {id_sql}"),
    );
    assert!(library(&app, &student, "releve").await.is_empty());
    let left: i64 = practika::db::schema::exercises_exercise::table
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(left, 0);
}
