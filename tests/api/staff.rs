//! Staff pages: every model's list (search, filter, sort, pages), change
//! form, delete with its preview, bulk actions and the audit entries they
//! leave; and a 404 for everyone who is not staff.

use diesel::prelude::*;
use practika::accounts::queries as accounts;
use practika::db::schema::{accounts_betainvitation, auth_user, jobs_job, staff_auditentry};
use practika::db::{Id, Json};
use practika::exercises::queries::{self as exercises, Draft, Exercise};
use practika::videos::upload::add_youtube;

use crate::helpers::{location, new_client, spawn_app, Page, TestApp, GOOD_PASSWORD};

/// An app with a logged-in staff member `boss` (superuser when asked).
pub(crate) async fn staff_app(superuser: bool) -> (TestApp, i32) {
    let app = spawn_app().await;
    let id = app.create_staff("boss", GOOD_PASSWORD);
    if superuser {
        diesel::update(auth_user::table.find(id))
            .set(auth_user::is_superuser.eq(true))
            .execute(&mut *app.conn())
            .expect("superuser");
    }
    assert_eq!(app.login("boss", GOOD_PASSWORD).await.status().as_u16(), 303);
    (app, id)
}

/// A user without the cost of hashing a password per user.
pub(crate) fn quick_user(app: &TestApp, username: &str, role: &'static str) -> i32 {
    app.create_user_with_hash(username, "!unusable", role)
}

fn row_labels(page: &Page) -> Vec<String> {
    page.select_text("table.staff-list tbody th[scope=row]")
}

fn row_ids(page: &Page) -> Vec<String> {
    let selector = scraper::Selector::parse("table.staff-list input[name=ids]").expect("selector");
    page.html
        .select(&selector)
        .filter_map(|e| e.value().attr("value").map(str::to_owned))
        .collect()
}

/// (action, object_id, changes) of the audit entries on one type, oldest first.
pub(crate) fn audit(app: &TestApp, object_type: &str) -> Vec<(String, String, serde_json::Value, Option<i32>)> {
    staff_auditentry::table
        .filter(staff_auditentry::object_type.eq(object_type))
        .order(staff_auditentry::id.asc())
        .select((
            staff_auditentry::action,
            staff_auditentry::object_id,
            staff_auditentry::changes,
            staff_auditentry::actor_id,
        ))
        .load::<(String, String, Json, Option<i32>)>(&mut *app.conn())
        .expect("audit entries")
        .into_iter()
        .map(|(a, o, c, who)| (a, o, c.0, who))
        .collect()
}

async fn bulk(app: &TestApp, slug: &str, action: &str, ids: &[&str], extra: &[(&str, &str)]) -> reqwest::Response {
    let mut fields: Vec<(&str, &str)> = vec![("action", action)];
    fields.extend(ids.iter().map(|id| ("ids", *id)));
    fields.extend_from_slice(extra);
    app.post_form(&format!("/staff/{slug}/bulk"), &fields).await
}

fn metrics(app: &TestApp, user: i32) -> (i32, i32) {
    let m = accounts::metrics(&mut app.conn(), user).expect("metrics");
    (m.exercises_created, m.comments_made)
}

pub(crate) fn exercise_for(app: &TestApp, coach: i32, name: &str, video: &str) -> Exercise {
    let (asset, _) = add_youtube(
        &mut app.conn(),
        &format!("https://www.youtube.com/watch?v={video}"),
        coach,
    )
    .expect("youtube video");
    exercises::create(
        &mut app.conn(),
        coach,
        &Draft {
            name: name.to_owned(),
            description: Some(format!("About {name}")),
            video_asset_id: asset.id,
        },
    )
    .expect("exercise")
}

fn comment_on(app: &TestApp, author: i32, exercise: &Exercise, text: &str, parent: Option<Id>) -> Id {
    practika::comments::queries::create(
        &mut app.conn(),
        author,
        exercise,
        &practika::comments::queries::Draft {
            text: Some(text.to_owned()),
            parent,
            ..Default::default()
        },
    )
    .expect("comment")
    .id
}

#[actix_web::test]
async fn staff_urls_are_a_404_for_anonymous_students_and_coaches() {
    let app = spawn_app().await;
    let coach = quick_user(&app, "cora", "coach");
    let staff = app.create_staff("boss", GOOD_PASSWORD);
    let exercise = exercise_for(&app, coach, "Scales", "aaaaaaaaaaa");
    let comment = comment_on(&app, coach, &exercise, "hi", None);
    let job = practika::jobs::queue::enqueue(&mut app.conn(), "process_video", serde_json::json!({})).expect("job");
    let ids = [
        ("users", staff.to_string()),
        ("roles", "1".to_owned()),
        ("invitations", "1".to_owned()),
        ("videos", exercise.video_asset_id.to_string()),
        ("clips", Id::new().to_string()),
        ("exercises", exercise.id.to_string()),
        ("comments", comment.to_string()),
        ("jobs", job.to_string()),
    ];
    let mut gets = vec!["/staff".to_owned()];
    let mut posts = vec![
        "/staff/invitations".to_owned(),
        "/staff/invitations/1/resend".to_owned(),
    ];
    for (slug, id) in &ids {
        gets.push(format!("/staff/{slug}"));
        gets.push(format!("/staff/{slug}/{id}"));
        gets.push(format!("/staff/{slug}/{id}/delete"));
        gets.push(format!("/staff/{slug}/{id}/history"));
        posts.push(format!("/staff/{slug}/bulk"));
        posts.push(format!("/staff/{slug}/{id}"));
        posts.push(format!("/staff/{slug}/{id}/delete"));
    }
    let anonymous = new_client();
    let (_, student) = app.user_client("stu", "student").await;
    let (_, coach_client) = app.user_client("coachy", "coach").await;
    for (who, client) in [
        ("anonymous", &anonymous),
        ("student", &student),
        ("coach", &coach_client),
    ] {
        for path in &gets {
            let status = app.get_with(client, path).await.status().as_u16();
            assert_eq!(status, 404, "GET {path} as {who}");
        }
        for path in &posts {
            let status = app
                .post_form_with(client, path, &[("action", "delete"), ("ids", &comment.to_string())])
                .await
                .status()
                .as_u16();
            assert_eq!(status, 404, "POST {path} as {who}");
        }
    }
    // Nothing changed.
    assert!(practika::comments::queries::find(&mut app.conn(), comment)
        .expect("query")
        .is_some());
    assert_eq!(app.count("staff_auditentry"), 0);
}

#[actix_web::test]
async fn the_dashboard_counts_and_shows_recent_actions_and_failing_jobs() {
    let (app, _) = staff_app(false).await;
    let coach = quick_user(&app, "cora", "coach");
    exercise_for(&app, coach, "Scales", "aaaaaaaaaaa");
    let job = practika::jobs::queue::enqueue(&mut app.conn(), "cut_clip", serde_json::json!({})).expect("job");
    diesel::update(jobs_job::table.find(job))
        .set((
            jobs_job::status.eq("failed"),
            jobs_job::last_error.eq(Some("ffmpeg exploded")),
        ))
        .execute(&mut *app.conn())
        .expect("fail the job");
    bulk(&app, "jobs", "retry", &[&job.to_string()], &[]).await;
    diesel::update(jobs_job::table.find(job))
        .set(jobs_job::status.eq("failed"))
        .execute(&mut *app.conn())
        .expect("fail it again");

    let page = app.page("/staff").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("ffmpeg exploded"), "failing job shown");
    assert!(page.has("a[href='/staff/jobs/1']") || page.has(&format!("a[href='/staff/jobs/{job}']")));
    let counts = page.select_text("dl.counts div");
    assert!(
        counts.iter().any(|c| c.contains("coach") && c.contains('1')),
        "{counts:?}"
    );
    assert!(
        counts.iter().any(|c| c.contains("exercises") && c.contains('1')),
        "{counts:?}"
    );
    assert!(
        counts.iter().any(|c| c.contains("ready") && c.contains('1')),
        "{counts:?}"
    );
    assert!(page.select_text("table.audit td").iter().any(|t| t == "retry"));
    // The main navigation links to it.
    assert!(page.has("nav.site-nav a[href='/staff']"));
}

#[actix_web::test]
async fn users_list_search_filter_sort_and_edit() {
    let (app, boss) = staff_app(false).await;
    let alice = quick_user(&app, "alice", "student");
    quick_user(&app, "bruno", "coach");
    quick_user(&app, "carla", "coach");

    let page = app.page("/staff/users").await;
    assert_eq!(page.status, 200);
    assert_eq!(row_labels(&page).len(), 4);
    assert!(page.text.contains("1–4 of 4"));

    assert_eq!(row_labels(&app.page("/staff/users?q=ALI").await), ["alice"]);
    let coaches = row_labels(&app.page("/staff/users?role=coach").await);
    assert_eq!(coaches.len(), 2);
    assert!(coaches.contains(&"bruno".to_owned()) && coaches.contains(&"carla".to_owned()));
    let sorted = app.page("/staff/users?sort=username&dir=desc").await;
    assert_eq!(row_labels(&sorted), ["carla", "bruno", "boss", "alice"]);
    assert_eq!(
        sorted.attr("th[aria-sort=descending] a", "href").as_deref(),
        Some("/staff/users?sort=username&dir=asc")
    );
    // A column that is not sortable is refused with a message, not an error.
    let refused = app.page("/staff/users?sort=password").await;
    assert_eq!(refused.status, 200);
    assert!(refused.text.contains("cannot be sorted"));
    let joined = app
        .page("/staff/users?joined_from=2000-01-01&joined_to=2000-12-31")
        .await;
    assert!(row_labels(&joined).is_empty());
    assert!(app
        .page("/staff/users?joined_from=yesterday")
        .await
        .text
        .contains("is not a date"));

    // The change form, with an error: 422, the message by the field, the
    // values kept, nothing saved.
    let form = app.page(&format!("/staff/users/{alice}")).await;
    assert_eq!(form.status, 200);
    assert!(
        form.has("input#f-is_staff[disabled]"),
        "staff is read-only for non-superusers"
    );
    let response = app
        .post_form(
            &format!("/staff/users/{alice}"),
            &[
                ("first_name", "Alice"),
                ("last_name", "Liddell"),
                ("email", "not-an-address"),
                ("role", "coach"),
                ("is_active__shown", "1"),
                ("is_active", "on"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let page = Page {
        status: 422,
        text: String::new(),
        html: scraper::Html::parse_document(&response.text().await.expect("body")),
    };
    assert!(page.has("#f-email-error"));
    assert_eq!(page.attr("#f-email", "value").as_deref(), Some("not-an-address"));
    assert_eq!(page.attr("#f-first_name", "value").as_deref(), Some("Alice"));
    assert!(audit(&app, "users").is_empty());

    // A plain staff member cannot grant staff rights (the server refuses).
    let response = app
        .post_form(
            &format!("/staff/users/{alice}"),
            &[
                ("email", "alice@example.com"),
                ("role", "student"),
                ("is_active__shown", "1"),
                ("is_active", "on"),
                ("is_staff__shown", "1"),
                ("is_staff", "on"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);

    // Nobody deactivates themselves.
    let response = app
        .post_form(
            &format!("/staff/users/{boss}"),
            &[
                ("email", "boss@example.com"),
                ("role", "admin"),
                ("is_active__shown", "1"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);

    let response = app
        .post_form(
            &format!("/staff/users/{alice}"),
            &[
                ("first_name", "Alice"),
                ("email", "alice@wonder.land"),
                ("role", "coach"),
                ("is_active__shown", "1"),
                ("is_active", "on"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let user = accounts::find_auth_user(&mut app.conn(), alice)
        .expect("query")
        .expect("user");
    assert_eq!(user.email, "alice@wonder.land");
    assert_eq!(user.profile.role.as_deref(), Some("coach"));
    let entries = audit(&app, "users");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, "change");
    assert_eq!(entries[0].1, alice.to_string());
    assert_eq!(
        entries[0].2["email"],
        serde_json::json!(["alice@example.com", "alice@wonder.land"])
    );
    assert_eq!(entries[0].2["role"], serde_json::json!(["student", "coach"]));
    assert_eq!(entries[0].3, Some(boss));

    let history = app.page(&format!("/staff/users/{alice}/history")).await;
    assert_eq!(history.status, 200);
    assert!(history.text.contains("alice@wonder.land"));
}

#[actix_web::test]
async fn superusers_grant_staff_rights_but_never_remove_their_own() {
    let (app, boss) = staff_app(true).await;
    let alice = quick_user(&app, "alice", "student");
    let form = app.page(&format!("/staff/users/{alice}")).await;
    assert!(form.has("input#f-is_staff:not([disabled])"));
    let response = app
        .post_form(
            &format!("/staff/users/{alice}"),
            &[
                ("email", "alice@example.com"),
                ("role", "student"),
                ("is_active__shown", "1"),
                ("is_active", "on"),
                ("is_staff__shown", "1"),
                ("is_staff", "on"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert!(
        accounts::find_auth_user(&mut app.conn(), alice)
            .expect("q")
            .expect("u")
            .is_staff
    );

    let response = app
        .post_form(
            &format!("/staff/users/{boss}"),
            &[
                ("email", "boss@example.com"),
                ("role", "admin"),
                ("is_staff__shown", "1"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(
        accounts::find_auth_user(&mut app.conn(), boss)
            .expect("q")
            .expect("u")
            .is_staff
    );
}

#[actix_web::test]
async fn users_bulk_actions_skip_yourself_and_leave_audit_entries() {
    let (app, boss) = staff_app(false).await;
    let alice = quick_user(&app, "alice", "student");
    let bruno = quick_user(&app, "bruno", "student");
    let (a, b, me) = (alice.to_string(), bruno.to_string(), boss.to_string());

    let response = bulk(&app, "users", "deactivate", &[&a, &b, &me], &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    let flashes = app.page("/staff/users").await.select_text(".flash");
    assert!(
        flashes.iter().any(|f| f.contains("cannot deactivate yourself")),
        "{flashes:?}"
    );
    let active = |id: i32| {
        accounts::find_auth_user(&mut app.conn(), id)
            .expect("q")
            .expect("u")
            .is_active
    };
    assert!(!active(alice) && !active(bruno) && active(boss));
    let entries = audit(&app, "users");
    assert_eq!(entries.len(), 2);
    assert!(entries
        .iter()
        .all(|e| e.0 == "deactivate" && e.2["is_active"] == serde_json::json!([true, false])));

    bulk(&app, "users", "activate", &[&a], &[]).await;
    assert!(active(alice));
    assert_eq!(
        audit(&app, "users").last().map(|e| e.0.clone()).as_deref(),
        Some("activate")
    );

    bulk(&app, "users", "set_role", &[&a, &b], &[("role", "coach")]).await;
    assert_eq!(
        accounts::find_auth_user(&mut app.conn(), bruno)
            .expect("q")
            .expect("u")
            .profile
            .role
            .as_deref(),
        Some("coach")
    );
    let entries = audit(&app, "users");
    assert_eq!(entries.iter().filter(|e| e.0 == "set_role").count(), 2);

    // A bulk request without a choice changes nothing.
    let before = audit(&app, "users").len();
    bulk(&app, "users", "", &[&a], &[]).await;
    bulk(&app, "users", "set_role", &[&a], &[("role", "pirate")]).await;
    assert_eq!(audit(&app, "users").len(), before);
}

#[actix_web::test]
async fn deleting_a_user_shows_what_goes_and_keeps_other_peoples_counts_exact() {
    let (app, boss) = staff_app(false).await;
    let coach = quick_user(&app, "cora", "coach");
    let student = quick_user(&app, "stu", "student");
    let other_coach = quick_user(&app, "otto", "coach");
    let own = exercise_for(&app, coach, "Scales", "aaaaaaaaaaa");
    let elsewhere = exercise_for(&app, other_coach, "Arpeggios", "bbbbbbbbbbb");
    comment_on(&app, student, &own, "on cora's exercise", None);
    let top = comment_on(&app, coach, &elsewhere, "cora elsewhere", None);
    comment_on(&app, student, &elsewhere, "reply to cora", Some(top));
    comment_on(&app, student, &elsewhere, "stays", None);
    assert_eq!(metrics(&app, student), (0, 3));

    let related = app.page(&format!("/staff/users/{coach}")).await;
    assert!(related.text.contains("Scales"), "a user's exercises are on their page");

    let preview = app.page(&format!("/staff/users/{coach}/delete")).await;
    assert_eq!(preview.status, 200);
    let lines = preview.select_text("ul.consequences li");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("1 exercise(s)") && l.contains("1 comment(s)")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("1 comment(s) they wrote elsewhere") && l.contains("1 repl")),
        "{lines:?}"
    );
    assert!(
        accounts::find_auth_user(&mut app.conn(), coach).expect("q").is_some(),
        "GET deletes nothing"
    );

    let response = app.post_form(&format!("/staff/users/{coach}/delete"), &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    assert!(accounts::find_auth_user(&mut app.conn(), coach).expect("q").is_none());
    assert_eq!(
        metrics(&app, student),
        (0, 1),
        "the student's removed comments are counted down"
    );
    assert_eq!(app.count("comments_videocomment"), 1);
    let entries = audit(&app, "users");
    assert_eq!(
        entries.last().map(|e| (e.0.as_str(), e.1.clone())),
        Some(("delete", coach.to_string()))
    );

    // Nobody deletes themselves.
    app.post_form(&format!("/staff/users/{boss}/delete"), &[]).await;
    assert!(accounts::find_auth_user(&mut app.conn(), boss).expect("q").is_some());
}

#[actix_web::test]
async fn roles_list_edit_and_delete() {
    let (app, _) = staff_app(false).await;
    let page = app.page("/staff/roles?sort=name&dir=asc").await;
    assert_eq!(row_labels(&page), ["admin", "coach", "student"]);
    assert_eq!(row_labels(&app.page("/staff/roles?q=oac").await), ["coach"]);
    // The built-in roles keep their names; a role of one's own can be renamed and deleted.
    let id: i64 = diesel::insert_into(practika::db::schema::accounts_role::table)
        .values(practika::db::schema::accounts_role::name.eq("coach-in-training"))
        .returning(practika::db::schema::accounts_role::id)
        .get_result(&mut *app.conn())
        .expect("role");
    let response = app
        .post_form(&format!("/staff/roles/{id}"), &[("name", "student")])
        .await;
    assert_eq!(response.status().as_u16(), 422, "name taken");
    let response = app
        .post_form(&format!("/staff/roles/{id}"), &[("name", "mentor")])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        audit(&app, "roles")[0].2["name"],
        serde_json::json!(["coach-in-training", "mentor"])
    );
    let cora = quick_user(&app, "cora", "mentor");
    let preview = app.page(&format!("/staff/roles/{id}/delete")).await;
    assert!(preview.text.contains("1 user(s)"));
    app.post_form(&format!("/staff/roles/{id}/delete"), &[]).await;
    assert_eq!(app.count("accounts_role"), 3);
    let user = accounts::find_auth_user(&mut app.conn(), cora)
        .expect("q")
        .expect("user kept");
    assert_eq!(user.profile.role, None);
    assert_eq!(
        audit(&app, "roles").last().map(|e| e.0.clone()).as_deref(),
        Some("delete")
    );
}

#[actix_web::test]
async fn invitations_list_filters_edits_sends_revokes_and_deletes() {
    let (app, _) = staff_app(false).await;
    let response = app
        .post_form(
            "/staff/invitations",
            &[("emails", "a@example.com, b@example.com"), ("role", "coach")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    app.run_jobs().await; // the worker sends the queued email
    app.mail.wait_for(2).await;
    assert_eq!(audit(&app, "invitations").len(), 2, "creating leaves entries");
    let page = app.page("/staff/invitations").await;
    assert_eq!(page.status, 200);
    assert!(page.has("textarea#emails"), "the invite form is on the list");
    assert_eq!(row_labels(&page).len(), 2);
    assert_eq!(
        row_labels(&app.page("/staff/invitations?q=a%40").await),
        ["a@example.com"]
    );
    assert_eq!(
        row_labels(&app.page("/staff/invitations?sort=email&dir=desc").await),
        ["b@example.com", "a@example.com"]
    );
    let ids: Vec<i64> = accounts_betainvitation::table
        .order(accounts_betainvitation::email.asc())
        .select(accounts_betainvitation::id)
        .load(&mut *app.conn())
        .expect("ids");
    let (a, b) = (ids[0].to_string(), ids[1].to_string());

    // Edit with a bad date, then a good one.
    let response = app
        .post_form(
            &format!("/staff/invitations/{a}"),
            &[("role", "student"), ("expires_at", "soon")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(3))
        .format("%Y-%m-%d")
        .to_string();
    let response = app
        .post_form(
            &format!("/staff/invitations/{a}"),
            &[("role", "student"), ("expires_at", &tomorrow)],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        audit(&app, "invitations").last().map(|e| e.2["role"].clone()),
        Some(serde_json::json!(["coach", "student"]))
    );

    // Resend: a new email, the count goes up.
    bulk(&app, "invitations", "send", &[&a], &[]).await;
    app.run_jobs().await; // the worker sends the queued email
    app.mail.wait_for(3).await;
    let entries = audit(&app, "invitations");
    assert_eq!(entries.last().map(|e| e.0.clone()).as_deref(), Some("send"));

    bulk(&app, "invitations", "revoke", &[&b], &[]).await;
    let revoked = app.page("/staff/invitations?status=revoked").await;
    assert_eq!(row_labels(&revoked), ["b@example.com"]);
    assert_eq!(
        row_labels(&app.page("/staff/invitations?status=pending").await),
        ["a@example.com"]
    );
    assert_eq!(
        audit(&app, "invitations").last().map(|e| e.0.clone()).as_deref(),
        Some("revoke")
    );
    // A revoked invitation cannot be sent again: skipped with a message.
    bulk(&app, "invitations", "send", &[&b], &[]).await;
    let flashes = app.page("/staff/invitations").await.select_text(".flash");
    assert!(
        flashes.iter().any(|f| f.contains("cannot be sent again")),
        "{flashes:?}"
    );

    let detail = app.page(&format!("/staff/invitations/{a}")).await;
    assert!(detail.select_text("dl.facts dd").iter().any(|t| t.contains("time(s)")));
    let preview = app.page(&format!("/staff/invitations/{b}/delete")).await;
    assert!(preview.text.contains("b@example.com"));
    app.post_form(&format!("/staff/invitations/{b}/delete"), &[]).await;
    assert_eq!(app.count("accounts_betainvitation"), 1);
}

#[actix_web::test]
async fn videos_list_edit_bulk_reprocess_revalidate_and_delete() {
    let (app, _) = staff_app(false).await;
    let coach = quick_user(&app, "cora", "coach");
    let student = quick_user(&app, "stu", "student");
    let exercise = exercise_for(&app, coach, "Scales", "aaaaaaaaaaa");
    comment_on(&app, student, &exercise, "nice", None);
    let (other, _) =
        add_youtube(&mut app.conn(), "https://www.youtube.com/watch?v=bbbbbbbbbbb", student).expect("video");
    // An upload row without a file: enough for the queue actions.
    let upload = Id::new();
    let mut new = practika::videos::queries::NewAsset::upload(
        upload,
        "lesson.mp4",
        "x/y.mp4".into(),
        "video/mp4",
        10,
        "00",
        coach,
    );
    new.processing_status = "failed".into();
    diesel::insert_into(practika::db::schema::core_videoasset::table)
        .values(&new)
        .execute(&mut *app.conn())
        .expect("upload row");

    let page = app.page("/staff/videos").await;
    assert_eq!(row_labels(&page).len(), 3);
    assert_eq!(row_labels(&app.page("/staff/videos?q=lesson").await), ["lesson"]);
    assert_eq!(row_labels(&app.page("/staff/videos?status=failed").await), ["lesson"]);
    assert_eq!(row_labels(&app.page("/staff/videos?type=youtube").await).len(), 2);
    // By title as shown; YouTube links without one go by their address.
    let sorted = row_labels(&app.page("/staff/videos?sort=title&dir=desc").await);
    assert_eq!(sorted[0], "lesson");

    let response = app
        .post_form(&format!("/staff/videos/{upload}"), &[("title", " ")])
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let response = app
        .post_form(&format!("/staff/videos/{upload}"), &[("title", "Lesson one")])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(app.asset(upload).title.as_deref(), Some("Lesson one"));
    assert_eq!(app.asset(upload).orig_filename, "lesson.mp4", "the file name stays");

    let id = upload.to_string();
    bulk(&app, "videos", "reprocess", &[&id, &other.id.to_string()], &[]).await;
    assert_eq!(app.jobs_of("process_video").len(), 1, "YouTube links are skipped");
    assert_eq!(app.asset(upload).processing_status, "pending");
    bulk(&app, "videos", "revalidate", &[&id], &[]).await;
    assert_eq!(app.jobs_of("revalidate_video").len(), 1);
    let actions: Vec<String> = audit(&app, "videos").into_iter().map(|e| e.0).collect();
    assert_eq!(actions, ["change", "reprocess", "revalidate"]);

    // A video's page lists its exercises; deleting it shows and takes them.
    let detail = app.page(&format!("/staff/videos/{}", exercise.video_asset_id)).await;
    assert!(detail.text.contains("Scales"));
    let preview = app
        .page(&format!("/staff/videos/{}/delete", exercise.video_asset_id))
        .await;
    let lines = preview.select_text("ul.consequences li");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("1 exercise(s)") && l.contains("1 comment(s)")),
        "{lines:?}"
    );
    app.post_form(&format!("/staff/videos/{}/delete", exercise.video_asset_id), &[])
        .await;
    assert_eq!(app.count("exercises_exercise"), 0);
    assert_eq!(metrics(&app, coach), (0, 0));
    assert_eq!(metrics(&app, student), (0, 0));
}

#[actix_web::test]
async fn clips_list_edit_and_delete() {
    let (app, _) = staff_app(false).await;
    let coach = quick_user(&app, "cora", "coach");
    let (video, _) = add_youtube(&mut app.conn(), "https://www.youtube.com/watch?v=aaaaaaaaaaa", coach).expect("video");
    let mut clip_ids = Vec::new();
    for (start, status) in [(0.0, "ready"), (5.0, "failed")] {
        let (clip, _) = practika::videos::queries::insert_or_get_clip(
            &mut app.conn(),
            &practika::videos::queries::NewClip {
                id: Id::new(),
                clip_hash: format!("hash{start}"),
                start_time: start,
                end_time: start + 2.0,
                duration: 2.0,
                storage_path: format!("clips/{start}.mp4"),
                size_bytes: None,
                processing_status: status.to_owned(),
                processing_error: None,
                processed_at: None,
                created_at: practika::db::Ts::now(),
                updated_at: practika::db::Ts::now(),
                original_video_id: video.id,
            },
        )
        .expect("clip");
        clip_ids.push(clip.id);
    }
    assert_eq!(row_labels(&app.page("/staff/clips").await).len(), 2);
    assert_eq!(row_labels(&app.page("/staff/clips?status=failed").await), ["0:05–0:07"]);
    assert_eq!(row_labels(&app.page("/staff/clips?q=hash0").await).len(), 1);
    assert_eq!(
        row_labels(&app.page("/staff/clips?sort=range&dir=desc").await)[0],
        "0:05–0:07"
    );
    assert!(
        app.page(&format!("/staff/videos/{}", video.id))
            .await
            .text
            .contains("0:05–0:07"),
        "a video's clips"
    );
    let id = clip_ids[1];
    let response = app
        .post_form(&format!("/staff/clips/{id}"), &[("processing_status", "exploded")])
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let response = app
        .post_form(&format!("/staff/clips/{id}"), &[("processing_status", "pending")])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        audit(&app, "clips")[0].2["processing_status"],
        serde_json::json!(["failed", "pending"])
    );
    assert!(app
        .page(&format!("/staff/clips/{id}/delete"))
        .await
        .text
        .contains("comment(s)"));
    app.post_form(&format!("/staff/clips/{id}/delete"), &[]).await;
    assert_eq!(app.count("core_videoclip"), 1);
}

#[actix_web::test]
async fn exercises_list_edit_show_comments_and_delete_with_exact_counts() {
    let (app, _) = staff_app(false).await;
    let coach = quick_user(&app, "cora", "coach");
    let other = quick_user(&app, "otto", "coach");
    let student = quick_user(&app, "stu", "student");
    let scales = exercise_for(&app, coach, "Scales", "aaaaaaaaaaa");
    exercise_for(&app, other, "Arpeggios", "bbbbbbbbbbb");
    let top = comment_on(&app, student, &scales, "first try", None);
    comment_on(&app, coach, &scales, "good", Some(top));

    assert_eq!(row_labels(&app.page("/staff/exercises").await).len(), 2);
    assert_eq!(row_labels(&app.page("/staff/exercises?q=arpeg").await), ["Arpeggios"]);
    assert_eq!(
        row_labels(&app.page(&format!("/staff/exercises?coach={coach}")).await),
        ["Scales"]
    );
    assert_eq!(
        row_labels(&app.page("/staff/exercises?sort=name&dir=asc").await),
        ["Arpeggios", "Scales"]
    );
    let detail = app.page(&format!("/staff/exercises/{}", scales.id)).await;
    assert!(
        detail.text.contains("first try"),
        "an exercise's comments are on its page"
    );

    let response = app
        .post_form(
            &format!("/staff/exercises/{}", scales.id),
            &[("name", ""), ("description", "kept")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let body = response.text().await.expect("body");
    assert!(body.contains("kept"), "typed values are kept");
    let response = app
        .post_form(
            &format!("/staff/exercises/{}", scales.id),
            &[("name", "Major scales"), ("description", "")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        audit(&app, "exercises")[0].2["name"],
        serde_json::json!(["Scales", "Major scales"])
    );

    let preview = app.page(&format!("/staff/exercises/{}/delete", scales.id)).await;
    assert!(preview
        .select_text("ul.consequences li")
        .iter()
        .any(|l| l.contains("2 comment(s)")));
    assert_eq!(metrics(&app, coach), (1, 1));
    app.post_form(&format!("/staff/exercises/{}/delete", scales.id), &[])
        .await;
    assert_eq!(metrics(&app, coach), (0, 0));
    assert_eq!(metrics(&app, student), (0, 0));
    assert_eq!(
        audit(&app, "exercises").last().map(|e| e.0.clone()).as_deref(),
        Some("delete")
    );
}

#[actix_web::test]
async fn comments_list_edit_and_bulk_delete_with_exact_counts() {
    let (app, _) = staff_app(false).await;
    let coach = quick_user(&app, "cora", "coach");
    let student = quick_user(&app, "stu", "student");
    let scales = exercise_for(&app, coach, "Scales", "aaaaaaaaaaa");
    let top = comment_on(&app, student, &scales, "first try", None);
    let reply = comment_on(&app, coach, &scales, "good start", Some(top));
    let other = comment_on(&app, student, &scales, "second try", None);

    assert_eq!(row_labels(&app.page("/staff/comments").await).len(), 3);
    assert_eq!(row_labels(&app.page("/staff/comments?q=second").await), ["second try"]);
    assert_eq!(
        row_labels(&app.page("/staff/comments?kind=reply").await),
        ["good start"]
    );
    assert_eq!(
        row_labels(&app.page(&format!("/staff/comments?author={coach}")).await),
        ["good start"]
    );
    assert_eq!(
        row_labels(&app.page("/staff/comments?sort=author&dir=asc").await)[0],
        "good start"
    );

    let response = app
        .post_form(&format!("/staff/comments/{other}"), &[("text", "")])
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let response = app
        .post_form(&format!("/staff/comments/{other}"), &[("text", "second attempt")])
        .await;
    assert_eq!(response.status().as_u16(), 303);

    let preview = app.page(&format!("/staff/comments/{top}/delete")).await;
    assert!(preview
        .select_text("ul.consequences li")
        .iter()
        .any(|l| l.contains("1 repl")));
    assert_eq!(
        app.page(&format!("/staff/comments/{top}"))
            .await
            .select_text(".related th[scope=row]"),
        ["good start"]
    );

    // Bulk delete of a comment and its own reply: counted once each.
    let (t, r) = (top.to_string(), reply.to_string());
    // First a confirmation page that lists them, and nothing is deleted yet ...
    let confirm = bulk(&app, "comments", "delete", &[&t, &r], &[]).await;
    assert_eq!(confirm.status().as_u16(), 200);
    let body = confirm.text().await.expect("body");
    assert!(
        body.contains("Delete 2 comments?") && body.contains("Yes, delete them"),
        "{body}"
    );
    assert_eq!(app.count("comments_videocomment"), 3);
    // ... then the confirmed delete.
    bulk(&app, "comments", "delete", &[&t, &r], &[("confirmed", "yes")]).await;
    assert_eq!(app.count("comments_videocomment"), 1);
    assert_eq!(metrics(&app, student), (0, 1));
    assert_eq!(metrics(&app, coach), (1, 0));
    let actions: Vec<String> = audit(&app, "comments").into_iter().map(|e| e.0).collect();
    assert_eq!(actions, ["change", "bulk_delete"]);
    // The single delete goes the same way.
    app.post_form(&format!("/staff/comments/{other}/delete"), &[]).await;
    assert_eq!(metrics(&app, student), (0, 0));
}

#[actix_web::test]
async fn jobs_list_paginates_filters_edits_and_retries() {
    let (app, _) = staff_app(false).await;
    for i in 0..55 {
        practika::jobs::queue::enqueue(&mut app.conn(), "cut_clip", serde_json::json!({ "n": i })).expect("job");
    }
    let failed = practika::jobs::queue::enqueue(&mut app.conn(), "process_video", serde_json::json!({})).expect("job");
    diesel::update(jobs_job::table.find(failed))
        .set((
            jobs_job::status.eq("failed"),
            jobs_job::attempts.eq(5),
            jobs_job::last_error.eq(Some("no such file")),
        ))
        .execute(&mut *app.conn())
        .expect("fail");

    let first = app.page("/staff/jobs").await;
    assert_eq!(row_ids(&first).len(), 50);
    assert!(first.text.contains("1–50 of 56"));
    assert_eq!(first.attr("a[rel=next]", "href").as_deref(), Some("/staff/jobs?page=2"));
    let second = app.page("/staff/jobs?page=2").await;
    assert_eq!(row_ids(&second).len(), 6);
    assert!(second.text.contains("51–56 of 56"));
    assert!(app
        .page("/staff/jobs?page=zero")
        .await
        .text
        .contains("is not a page number"));

    assert_eq!(
        row_ids(&app.page("/staff/jobs?status=failed").await),
        [failed.to_string()]
    );
    assert_eq!(
        row_ids(&app.page("/staff/jobs?q=such+file").await),
        [failed.to_string()]
    );
    assert_eq!(
        row_ids(&app.page("/staff/jobs?kind=process_video").await),
        [failed.to_string()]
    );
    assert_eq!(row_ids(&app.page("/staff/jobs?sort=id&dir=asc").await)[0], "1");
    // An unknown filter value is reported, not applied.
    assert!(app
        .page("/staff/jobs?status=exploded")
        .await
        .text
        .contains("not a choice"));

    let response = app
        .post_form(&format!("/staff/jobs/{failed}"), &[("max_attempts", "0")])
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let response = app
        .post_form(&format!("/staff/jobs/{failed}"), &[("max_attempts", "8")])
        .await;
    assert_eq!(response.status().as_u16(), 303);

    bulk(&app, "jobs", "retry", &[&failed.to_string()], &[]).await;
    let job = practika::jobs::queue::find(&mut app.conn(), failed)
        .expect("q")
        .expect("job");
    assert_eq!((job.status.as_str(), job.attempts, job.max_attempts), ("queued", 0, 8));
    assert!(job.run_after <= practika::db::Ts::now());
    let entries = audit(&app, "jobs");
    assert_eq!(
        entries.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
        ["change", "retry"]
    );
    assert_eq!(entries[1].2["status"], serde_json::json!(["failed", "queued"]));

    assert!(app
        .page(&format!("/staff/jobs/{failed}/history"))
        .await
        .text
        .contains("retry"));
    assert_eq!(app.page(&format!("/staff/jobs/{failed}/delete")).await.status, 200);
    app.post_form(&format!("/staff/jobs/{failed}/delete"), &[]).await;
    assert!(practika::jobs::queue::find(&mut app.conn(), failed)
        .expect("q")
        .is_none());
    // Its history outlives it.
    assert_eq!(app.page(&format!("/staff/jobs/{failed}/history")).await.status, 200);
}

#[actix_web::test]
async fn a_failed_csrf_check_changes_nothing() {
    let (app, _) = staff_app(false).await;
    let alice = quick_user(&app, "alice", "student");
    let response = app
        .client
        .post(app.url("/staff/users/bulk"))
        .form(&[("action", "deactivate"), ("ids", &alice.to_string())])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 403);
    assert!(
        accounts::find_auth_user(&mut app.conn(), alice)
            .expect("q")
            .expect("u")
            .is_active
    );
    let _ = location(&response);
}

#[actix_web::test]
async fn deleting_a_video_removes_its_files_unless_another_video_shares_them() {
    let (app, _) = staff_app(false).await;
    let coach = quick_user(&app, "cora", "coach");
    let media = app.media_dir();
    std::fs::create_dir_all(media.join("originals")).expect("media folder");
    std::fs::write(media.join("originals/shared.mp4"), b"x").expect("file");
    std::fs::write(media.join("originals/own.mp4"), b"x").expect("file");
    let mut ids = Vec::new();
    for (path, checksum) in [
        ("originals/shared.mp4", "aa"),
        ("originals/shared.mp4", "aa"),
        ("originals/own.mp4", "bb"),
    ] {
        let id = Id::new();
        let new =
            practika::videos::queries::NewAsset::upload(id, "v.mp4", path.into(), "video/mp4", 1, checksum, coach);
        diesel::insert_into(practika::db::schema::core_videoasset::table)
            .values(&new)
            .execute(&mut *app.conn())
            .expect("asset");
        ids.push(id);
    }
    app.post_form(&format!("/staff/videos/{}/delete", ids[0]), &[]).await;
    assert!(media.join("originals/shared.mp4").is_file(), "still used by the copy");
    // Processed once, its seconds count for the uploader; deleted, they no longer do.
    let done = practika::videos::queries::Processed {
        duration_sec: 7,
        width: 320,
        height: 240,
        frame_rate: Some(15.0),
        poster_path: None,
        renditions: Default::default(),
    };
    practika::videos::queries::set_processed(&mut app.conn(), ids[2], &done).expect("processed");
    let seconds = || {
        accounts::metrics(&mut app.conn(), coach)
            .expect("metrics")
            .total_video_time
    };
    assert_eq!(seconds(), 7);
    app.post_form(&format!("/staff/videos/{}/delete", ids[2]), &[]).await;
    assert_eq!(seconds(), 0);
    assert!(!media.join("originals/own.mp4").exists());
    assert_eq!(app.count("core_videoasset"), 1);
}

#[actix_web::test]
async fn staff_cannot_take_over_staff_or_superuser_accounts() {
    // `boss` is staff but not a superuser.
    let (app, boss) = staff_app(false).await;
    let root = quick_user(&app, "root", "admin");
    diesel::update(auth_user::table.find(root))
        .set((auth_user::is_superuser.eq(true), auth_user::is_staff.eq(true)))
        .execute(&mut *app.conn())
        .expect("superuser");
    let student = quick_user(&app, "plain", "student");

    // The superuser's details are read-only for boss, and the server refuses too.
    let page = app.page(&format!("/staff/users/{root}")).await;
    assert!(page.has("input[name=email][readonly]") || page.has("input[name=email][disabled]"));
    let response = app
        .post_form(
            &format!("/staff/users/{root}"),
            &[
                ("email", "attacker@example.com"),
                ("first_name", ""),
                ("last_name", ""),
                ("role", "admin"),
                ("is_active", "on"),
            ],
        )
        .await;
    assert_ne!(response.status().as_u16(), 303, "refused");
    let email: String = auth_user::table
        .find(root)
        .select(auth_user::email)
        .first(&mut *app.conn())
        .expect("root");
    assert_eq!(email, "root@example.com");
    // Nor can boss change their own account here (role, email) ...
    let response = app
        .post_form(
            &format!("/staff/users/{boss}"),
            &[("email", "boss2@example.com"), ("role", "coach"), ("is_active", "on")],
        )
        .await;
    assert_ne!(response.status().as_u16(), 303);
    // ... but an ordinary account they can, and a new address is not verified.
    let response = app
        .post_form(
            &format!("/staff/users/{student}"),
            &[
                ("email", "new-plain@example.com"),
                ("first_name", "P"),
                ("last_name", ""),
                ("role", "student"),
                ("is_active", "on"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let verified: Option<practika::db::Ts> = practika::db::schema::accounts_profile::table
        .filter(practika::db::schema::accounts_profile::user_id.eq(student))
        .select(practika::db::schema::accounts_profile::email_verified_at)
        .first(&mut *app.conn())
        .expect("profile");
    assert!(verified.is_none());
    // Bulk role changes skip staff accounts for non-superusers.
    let response = app
        .post_form(
            "/staff/users/bulk",
            &[("action", "set_role"), ("role", "student"), ("ids", &root.to_string())],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let page = app.page(&location(&response)).await;
    assert!(page.text.contains("Only superusers can change staff accounts"));
}

#[actix_web::test]
async fn built_in_roles_stay_and_odd_addresses_lead_home() {
    let (app, _) = staff_app(true).await;
    let student_role: i64 = practika::db::schema::accounts_role::table
        .filter(practika::db::schema::accounts_role::name.eq("student"))
        .select(practika::db::schema::accounts_role::id)
        .first(&mut *app.conn())
        .expect("role");
    app.post_form(&format!("/staff/roles/{student_role}/delete"), &[]).await;
    let page = app.page(&format!("/staff/roles/{student_role}")).await;
    assert_eq!(page.status, 200, "the built-in role is still there");
    let response = app
        .post_form(&format!("/staff/roles/{student_role}"), &[("name", "learner")])
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let roles: i64 = practika::db::schema::accounts_role::table
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(roles, 3);

    // Past the last page: the last page, with a notice.
    let page = app.page("/staff/users?page=99").await;
    assert!(page.text.contains("here is the last"));
    assert!(!page.text.contains("4901"));

    // A uuid without dashes redirects to the one address.
    let owner = quick_user(&app, "uploader", "coach");
    let video = add_youtube(&mut app.conn(), "https://www.youtube.com/watch?v=dQw4w9WgXcQ", owner)
        .expect("video")
        .0
        .id;
    let simple = video.0.simple().to_string();
    let response = app.get(&format!("/staff/videos/{simple}/history")).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), format!("/staff/videos/{video}/history"));
}

/// Item 2 of the hardening issue: the admin role (edit and delete every
/// exercise and comment) is given and taken away by superusers only, on
/// the change form and in bulk; every other role by any staff member.
/// Every pair: (staff, superuser) × (each role granted).
#[actix_web::test]
async fn only_superusers_give_or_take_away_the_admin_role() {
    for superuser in [false, true] {
        let (app, _) = staff_app(superuser).await;
        for (n, (from, to)) in [
            ("student", "admin"),
            ("student", "coach"),
            ("coach", "student"),
            ("student", ""),
        ]
        .into_iter()
        .enumerate()
        {
            let target = quick_user(
                &app,
                &format!("target{n}"),
                if from == "coach" { "coach" } else { "student" },
            );
            let response = app
                .post_form(
                    &format!("/staff/users/{target}"),
                    &[
                        ("email", &format!("target{n}@example.com")),
                        ("role", to),
                        ("is_active__shown", "1"),
                        ("is_active", "on"),
                    ],
                )
                .await;
            let allowed = superuser || to != "admin";
            let status = response.status().as_u16();
            let role = accounts::find_auth_user(&mut app.conn(), target)
                .expect("q")
                .expect("u")
                .profile
                .role
                .unwrap_or_default();
            if allowed {
                assert_eq!(status, 303, "superuser={superuser} {from}→{to:?}");
                assert_eq!(role, to, "superuser={superuser} {from}→{to:?}");
            } else {
                assert_eq!(status, 422, "superuser={superuser} {from}→{to:?}");
                let body = response.text().await.expect("body");
                assert!(body.contains("Only superusers can give or take away the admin role"));
                assert_eq!(role, from, "nothing changed");
            }
        }

        // In bulk.
        let a = quick_user(&app, "bulk-a", "student");
        bulk(&app, "users", "set_role", &[&a.to_string()], &[("role", "admin")]).await;
        let role = accounts::find_auth_user(&mut app.conn(), a)
            .expect("q")
            .expect("u")
            .profile
            .role;
        assert_eq!(
            role.as_deref(),
            Some(if superuser { "admin" } else { "student" }),
            "bulk, superuser={superuser}"
        );

        // Taking it away: a non-staff user who holds the admin role.
        let holder = quick_user(&app, "holder", "admin");
        let response = app
            .post_form(
                &format!("/staff/users/{holder}"),
                &[
                    ("email", "holder@example.com"),
                    ("role", "coach"),
                    ("is_active__shown", "1"),
                    ("is_active", "on"),
                ],
            )
            .await;
        assert_eq!(response.status().as_u16(), if superuser { 303 } else { 422 });
        // The form offers only what this staff member may choose.
        let form = app.page(&format!("/staff/users/{a}")).await;
        assert_eq!(form.has("#f-role option[value=admin]"), superuser);
        if !superuser {
            let holder_form = app.page(&format!("/staff/users/{holder}")).await;
            assert!(
                holder_form.has("#f-role[disabled]"),
                "an admin's role is locked for plain staff"
            );
        }
    }
}
