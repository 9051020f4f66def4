//! Staff pages, the tools an admin expects: "add" forms for users and
//! exercises, each invitation's own Resend and Revoke buttons, an object's
//! action buttons, and the searchable audit log.

use diesel::prelude::*;
use practika::db::schema::{accounts_betainvitation, auth_user, exercises_exercise, staff_auditentry};
use practika::db::{Id, Json, Ts};

use crate::helpers::{location, new_client, GOOD_PASSWORD};
use crate::staff::{audit, exercise_for, quick_user, staff_app};

#[actix_web::test]
async fn staff_add_a_user_with_a_first_password_and_only_superusers_add_admins() {
    let (app, _) = staff_app(false).await;
    let list = app.page("/staff/users").await;
    assert_eq!(
        list.attr("a[href='/staff/users/add']", "class").as_deref(),
        Some("btn btn-primary")
    );
    let form = app.page("/staff/users/add").await;
    assert_eq!(form.status, 200);
    assert!(form.has("input#f-username") && form.has("input#f-password[type=password]"));
    assert!(
        !form.has("select#f-role option[value=admin]"),
        "a staff member who is not a superuser is not offered the admin role"
    );

    let fields = |username: &'static str, role: &'static str, password: &'static str| {
        vec![
            ("username", username),
            ("email", "New.Person@Example.com"),
            ("first_name", "Nina"),
            ("last_name", "New"),
            ("role", role),
            ("password", password),
            ("password_confirm", password),
        ]
    };
    // Bad input: every problem said, what was typed kept (never the password), nothing made.
    let response = app
        .post_form("/staff/users/add", &fields("no spaces allowed", "student", "short"))
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let page = scraper::Html::parse_document(&response.text().await.expect("body"));
    let value = |css: &str| {
        page.select(&scraper::Selector::parse(css).expect("selector"))
            .next()
            .and_then(|e| e.value().attr("value").map(str::to_owned))
    };
    assert_eq!(value("#f-username").as_deref(), Some("no spaces allowed"));
    assert_eq!(
        value("#f-password").as_deref(),
        Some(""),
        "passwords are not shown again"
    );
    assert!(page
        .select(&scraper::Selector::parse("#f-username-error").expect("s"))
        .next()
        .is_some());
    assert!(page
        .select(&scraper::Selector::parse("#f-password-error").expect("s"))
        .next()
        .is_some());
    let response = app
        .post_form("/staff/users/add", &fields("nina", "admin", GOOD_PASSWORD))
        .await;
    assert_eq!(
        response.status().as_u16(),
        422,
        "admins get staff rights: superusers only"
    );
    let users = || -> i64 { auth_user::table.count().get_result(&mut *app.conn()).expect("count") };
    assert_eq!(users(), 1);

    let response = app
        .post_form("/staff/users/add", &fields("nina", "coach", GOOD_PASSWORD))
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let to = location(&response);
    assert!(to.starts_with("/staff/users/"), "{to}");
    let (id, email, staff): (i32, String, bool) = auth_user::table
        .filter(auth_user::username.eq("nina"))
        .select((auth_user::id, auth_user::email, auth_user::is_staff))
        .first(&mut *app.conn())
        .expect("the new user");
    assert_eq!((email.as_str(), staff), ("new.person@example.com", false));
    assert_eq!(to, format!("/staff/users/{id}"));
    let entries = audit(&app, "users");
    assert_eq!(entries.last().map(|e| e.0.as_str()), Some("create"));
    assert_eq!(entries.last().map(|e| e.2["role"][1].clone()), Some("coach".into()));
    // They log in with it.
    let client = new_client();
    assert_eq!(
        app.login_with(&client, "nina", GOOD_PASSWORD).await.status().as_u16(),
        303
    );
    // The same username again: said on the field.
    let response = app
        .post_form("/staff/users/add", &fields("nina", "student", GOOD_PASSWORD))
        .await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(response.text().await.expect("body").contains("This username is taken."));

    // Models whose objects are made elsewhere have no add page.
    assert_eq!(app.get("/staff/videos/add").await.status().as_u16(), 404);
    assert_eq!(app.post_form("/staff/clips/add", &[]).await.status().as_u16(), 404);
}

#[actix_web::test]
async fn a_superuser_adds_an_admin_and_an_exercise_for_a_coach() {
    let (app, _) = staff_app(true).await;
    let form = app.page("/staff/users/add").await;
    assert!(form.has("select#f-role option[value=admin]"));
    let response = app
        .post_form(
            "/staff/users/add",
            &[
                ("username", "ada2"),
                ("email", "ada2@example.com"),
                ("role", "admin"),
                ("password", GOOD_PASSWORD),
                ("password_confirm", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let staff: bool = auth_user::table
        .filter(auth_user::username.eq("ada2"))
        .select(auth_user::is_staff)
        .first(&mut *app.conn())
        .expect("admin");
    assert!(staff, "as an accepted admin invitation");

    let coach = quick_user(&app, "cora", "coach");
    quick_user(&app, "stu", "student");
    let existing = exercise_for(&app, coach, "Scales", "aaaaaaaaaaa");
    let list = app.page("/staff/exercises").await;
    assert!(list.has("a[href='/staff/exercises/add']"));
    let form = app.page("/staff/exercises/add").await;
    assert!(
        form.has(&format!(
            "select#f-video_id option[value='{}']",
            existing.video_asset_id
        )),
        "the newest videos are offered"
    );
    let post = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.post_form("/staff/exercises/add", &borrowed).await
        }
    };
    let exercises = || -> i64 {
        exercises_exercise::table
            .count()
            .get_result(&mut *app.conn())
            .expect("count")
    };
    // A student cannot publish; an unknown name is said; nothing made.
    for (coach_name, message) in [
        ("stu", "No active coach or admin is called “stu”."),
        ("nobody", "called “nobody”"),
    ] {
        let response = post(vec![
            ("name", "Arpeggios".into()),
            ("coach", coach_name.into()),
            ("youtube_url", "https://youtu.be/bbbbbbbbbbb".into()),
        ])
        .await;
        assert_eq!(response.status().as_u16(), 422);
        assert!(response.text().await.expect("body").contains(message));
    }
    let response = post(vec![
        ("name", "Scales".into()),
        ("coach", "cora".into()),
        ("video_id", existing.video_asset_id.to_string()),
    ])
    .await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(response
        .text()
        .await
        .expect("body")
        .contains("This coach already has an exercise with this name."));
    let response = post(vec![("name", "Arpeggios".into()), ("coach", "cora".into())]).await;
    assert_eq!(response.status().as_u16(), 422, "a video is needed");
    assert_eq!(exercises(), 1);

    let response = post(vec![
        ("name", "Arpeggios".into()),
        ("description", "Up and down.".into()),
        ("coach", "cora".into()),
        ("youtube_url", "https://youtu.be/bbbbbbbbbbb".into()),
    ])
    .await;
    assert_eq!(response.status().as_u16(), 303);
    let (id, creator): (Id, i32) = exercises_exercise::table
        .filter(exercises_exercise::name.eq("Arpeggios"))
        .select((exercises_exercise::id, exercises_exercise::created_by_id))
        .first(&mut *app.conn())
        .expect("the exercise");
    assert_eq!(creator, coach, "published as the coach");
    assert_eq!(location(&response), format!("/staff/exercises/{id}"));
    let entries = audit(&app, "exercises");
    assert_eq!(
        entries.last().map(|e| (e.0.clone(), e.2["coach"][1].clone())),
        Some(("create".into(), "cora".into()))
    );
    assert_eq!(
        practika::accounts::queries::metrics(&mut app.conn(), coach)
            .expect("m")
            .exercises_created,
        2
    );
}

#[actix_web::test]
async fn each_invitation_row_has_its_own_resend_and_revoke() {
    let (app, _) = staff_app(false).await;
    for email in ["one@example.com", "two@example.com"] {
        let response = app
            .post_form("/staff/invitations", &[("emails", email), ("role", "student")])
            .await;
        assert_eq!(response.status().as_u16(), 303);
    }
    app.run_jobs().await;
    let ids: Vec<(i64, String)> = accounts_betainvitation::table
        .order(accounts_betainvitation::email.asc())
        .select((accounts_betainvitation::id, accounts_betainvitation::email))
        .load(&mut *app.conn())
        .expect("invitations");
    let page = app.page("/staff/invitations").await;
    for (id, email) in &ids {
        let resend = format!("button[formaction='/staff/invitations/{id}/resend']");
        let revoke = format!("button[formaction='/staff/invitations/{id}/revoke']");
        assert!(page.has(&resend) && page.has(&revoke), "{email}");
        let name = page.select_text(&resend);
        assert_eq!(
            name,
            [format!("Resend {email}")],
            "the visible text starts the accessible name"
        );
    }
    // They sit in the list's form, whose token they carry.
    assert!(page.has("form.bulk-form input[name=csrf_token] ~ div button[formaction]"));

    // Revoke the first: its row loses both buttons; the second keeps them.
    let (first, _) = &ids[0];
    let token = app.csrf_token_with(&app.client).await;
    let response = app
        .client
        .post(app.url(&format!("/staff/invitations/{first}/revoke")))
        .form(&[("csrf_token", token.as_str()), ("back", "/staff/invitations")])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 303);
    let page = app.page("/staff/invitations").await;
    assert!(!page.has(&format!("button[formaction='/staff/invitations/{first}/resend']")));
    assert!(page.has(&format!("button[formaction='/staff/invitations/{}/resend']", ids[1].0)));
    let actions: Vec<String> = audit(&app, "invitations").into_iter().map(|e| e.0).collect();
    assert_eq!(actions, ["create", "create", "revoke"]);
}

#[actix_web::test]
async fn the_audit_log_is_searched_by_staff_member_model_date_and_words_and_paged_by_seeking() {
    let (app, boss) = staff_app(false).await;
    let other = quick_user(&app, "helper", "admin");
    app.make_staff(other);
    let insert = |actor: i32, object_type: &str, repr: &str, at: &str| {
        diesel::insert_into(staff_auditentry::table)
            .values((
                staff_auditentry::actor_id.eq(Some(actor)),
                staff_auditentry::action.eq("change"),
                staff_auditentry::object_type.eq(object_type),
                staff_auditentry::object_id.eq("1"),
                staff_auditentry::object_repr.eq(repr),
                staff_auditentry::changes.eq(Json(serde_json::json!({}))),
                staff_auditentry::created_at.eq(Ts(chrono::DateTime::parse_from_rfc3339(at)
                    .expect("time")
                    .with_timezone(&chrono::Utc))),
            ))
            .execute(&mut *app.conn())
            .expect("entry");
    };
    insert(boss, "users", "alice", "2026-03-01T10:00:00Z");
    insert(other, "videos", "Scales video", "2026-03-02T10:00:00Z");
    insert(boss, "videos", "Arpeggio video", "2026-03-03T10:00:00Z");
    for n in 0..60 {
        insert(other, "exercises", &format!("exercise {n}"), "2026-04-01T10:00:00Z");
    }
    let objects = |path: &str| {
        let app = &app;
        let path = path.to_owned();
        async move {
            app.page(&path)
                .await
                .select_text("table.audit tbody td[data-label=Object] a")
        }
    };
    let all = app.page("/staff/audit").await;
    assert_eq!(all.status, 200);
    assert!(all.has(
        "select#log-actor option[value='{boss}']"
            .replace("{boss}", &boss.to_string())
            .as_str()
    ));
    assert_eq!(all.select_text("table.audit tbody tr").len(), 50, "a page");
    assert_eq!(
        objects("/staff/audit?model=videos").await,
        ["Arpeggio video", "Scales video"]
    );
    assert_eq!(
        objects(&format!("/staff/audit?model=videos&actor={other}")).await,
        ["Scales video"]
    );
    assert_eq!(objects("/staff/audit?q=ARPEGGIO").await, ["Arpeggio video"]);
    assert_eq!(
        objects("/staff/audit?from=2026-03-02&to=2026-03-02").await,
        ["Scales video"]
    );
    // Bad input is said and left out, never an error page.
    let bad = app.page("/staff/audit?from=yesterday&model=nope").await;
    assert_eq!(bad.status, 200);
    assert!(bad.text.contains("“yesterday” is not a date") && bad.text.contains("“nope” is not one of"));

    // The next page seeks from the last entry shown, keeping the search.
    let first = app.page(&format!("/staff/audit?actor={other}")).await;
    let next = first.attr("a[rel=next]", "href").expect("older entries");
    assert!(
        next.starts_with(&format!("/staff/audit?actor={other}&before=")),
        "{next}"
    );
    let second = app.page(&next).await;
    let rest = second.select_text("table.audit tbody td[data-label=Object] a");
    assert_eq!(rest.len(), 11, "61 entries: 50, then 11");
    assert_eq!(rest.last().map(String::as_str), Some("Scales video"));
    assert!(second.attr("a[rel=next]", "href").is_none());
    assert!(second.text.contains("Newest entries"));
    // Each object's history links to its model's part of the log.
    let history = app.page(&format!("/staff/users/{boss}/history")).await;
    assert_eq!(history.status, 200);
    assert!(history.has("a[href='/staff/audit?model=users']"));
}

#[actix_web::test]
async fn a_video_is_reprocessed_from_its_own_staff_page() {
    let (app, _) = staff_app(false).await;
    let coach = quick_user(&app, "cora", "coach");
    let id = Id::new();
    let mut new =
        practika::videos::queries::NewAsset::upload(id, "lesson.mp4", "x/y.mp4".into(), "video/mp4", 10, "00", coach);
    new.processing_status = "failed".into();
    diesel::insert_into(practika::db::schema::core_videoasset::table)
        .values(&new)
        .execute(&mut *app.conn())
        .expect("upload row");
    let page = app.page(&format!("/staff/videos/{id}")).await;
    assert!(page.has("form input[name=action][value=reprocess]"));
    let response = app
        .post_form(
            "/staff/videos/bulk",
            &[
                ("action", "reprocess"),
                ("ids", &id.to_string()),
                ("back", &format!("/staff/videos/{id}")),
            ],
        )
        .await;
    assert_eq!(location(&response), format!("/staff/videos/{id}"), "back to the video");
    assert_eq!(app.asset(id).processing_status, "pending");
    assert_eq!(app.jobs_of("process_video").len(), 1);
}
