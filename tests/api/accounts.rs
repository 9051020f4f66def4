//! Logging in and out, Django password hashes, sessions, the first admin.

use practika::db::schema::auth_user;
use practika::db::Ts;

use crate::helpers::{location, new_client, spawn_app, GOOD_PASSWORD};
use diesel::prelude::*;

const PBKDF2_CORRECT_HORSE: &str =
    "pbkdf2_sha256$870000$cJ8Yq1Lw9ZxS3vFQmT0aNd$1A47pumATaN/Tyx8dbMS2crqm1+0RHkDcO1w2/YvlbA=";
const ARGON2_CORRECT_HORSE: &str =
    "argon2$argon2id$v=19$m=102400,t=2,p=8$wOVjkKShZnqDOBskb2KFnQ$zHYUdvjVS+ZQsVbKZ8zj3bcCKwMyJpRMB8CWAbHcZis";

#[actix_web::test]
async fn login_succeeds_and_records_last_login() {
    let app = spawn_app().await;
    let id = app.create_user("coach_ann", GOOD_PASSWORD, "coach");

    let response = app.login("coach_ann", GOOD_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/");

    let home = app.page("/").await;
    assert_eq!(home.select_text(".nav-username"), vec!["coach_ann"]);
    assert_eq!(home.select_text(".nav-user .badge"), vec!["coach"]);
    assert!(home
        .select_text(".flash-success")
        .iter()
        .any(|t| t.contains("logged in as coach_ann")));
    let last_login: Option<Ts> = auth_user::table
        .find(id)
        .select(auth_user::last_login)
        .first(&mut *app.conn())
        .expect("user");
    assert!(last_login.is_some());
}

#[actix_web::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    app.create_user("student_bo", GOOD_PASSWORD, "student");

    let wrong = app.login("student_bo", "not-the-password").await;
    let wrong_status = wrong.status().as_u16();
    let wrong_body = scraper::Html::parse_document(&wrong.text().await.expect("body"));
    let unknown = app.login("nobody_here", "not-the-password").await;
    let unknown_status = unknown.status().as_u16();
    let unknown_body = scraper::Html::parse_document(&unknown.text().await.expect("body"));

    assert_eq!(wrong_status, 422);
    assert_eq!(unknown_status, 422);
    let message = |html: &scraper::Html| {
        let selector = scraper::Selector::parse(".form-errors").expect("selector");
        html.select(&selector)
            .map(|e| e.text().collect::<String>())
            .collect::<String>()
    };
    assert!(!message(&wrong_body).is_empty());
    assert_eq!(message(&wrong_body), message(&unknown_body));
    // The password typed is never echoed back.
    assert!(!wrong_body.html().contains("not-the-password"));
    // Still anonymous.
    assert_eq!(location(&app.get("/account").await), "/login?next=%2Faccount");
}

#[actix_web::test]
async fn inactive_users_cannot_log_in() {
    let app = spawn_app().await;
    let id = app.create_user("gone_gus", GOOD_PASSWORD, "student");
    diesel::update(auth_user::table.find(id))
        .set(auth_user::is_active.eq(false))
        .execute(&mut *app.conn())
        .expect("deactivate");

    let response = app.login("gone_gus", GOOD_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 422);
    assert_eq!(app.get("/account").await.status().as_u16(), 303);
}

#[actix_web::test]
async fn deactivating_a_user_ends_their_session() {
    let app = spawn_app().await;
    let id = app.create_user("soon_gone", GOOD_PASSWORD, "student");
    app.login("soon_gone", GOOD_PASSWORD).await;
    assert_eq!(app.get("/account").await.status().as_u16(), 200);
    diesel::update(auth_user::table.find(id))
        .set(auth_user::is_active.eq(false))
        .execute(&mut *app.conn())
        .expect("deactivate");
    assert_eq!(app.get("/account").await.status().as_u16(), 303);
}

#[actix_web::test]
async fn django_hashes_log_in_and_are_upgraded_to_argon2id() {
    let app = spawn_app().await;
    for (username, hash) in [
        ("from_pbkdf2", PBKDF2_CORRECT_HORSE),
        ("from_argon2", ARGON2_CORRECT_HORSE),
    ] {
        let id = app.create_user_with_hash(username, hash, "student");
        let client = new_client();
        assert_eq!(
            app.login_with(&client, username, "correct horsf")
                .await
                .status()
                .as_u16(),
            422,
            "{username}"
        );
        assert_eq!(app.stored_password(id), hash, "a failed login changes nothing");

        let response = app.login_with(&client, username, "correct horse").await;
        assert_eq!(response.status().as_u16(), 303, "{username}");
        let upgraded = app.stored_password(id);
        assert!(
            upgraded.starts_with("argon2$argon2id$v=19$m=19456,t=2,p=1$"),
            "{username}: {upgraded}"
        );
        assert_eq!(app.get_with(&client, "/account").await.status().as_u16(), 200);

        // The new hash works, and is not replaced again.
        let again = new_client();
        assert_eq!(
            app.login_with(&again, username, "correct horse")
                .await
                .status()
                .as_u16(),
            303
        );
        assert_eq!(app.stored_password(id), upgraded);
    }
}

#[actix_web::test]
async fn unusable_passwords_never_match() {
    let app = spawn_app().await;
    app.create_user_with_hash("unusable", "!Xk2j3kdf8s9dfu2", "student");
    assert_eq!(app.login("unusable", "").await.status().as_u16(), 422);
    assert_eq!(app.login("unusable", "!Xk2j3kdf8s9dfu2").await.status().as_u16(), 422);
}

#[actix_web::test]
async fn login_renews_the_session() {
    let app = spawn_app().await;
    app.create_user("renew_rita", GOOD_PASSWORD, "student");

    // An anonymous session (say, planted by an attacker) ...
    let before = app.get("/login").await;
    let anonymous_cookie = before
        .cookies()
        .find(|c| c.name() == "practika_session")
        .map(|c| c.value().to_owned())
        .expect("anonymous session cookie");
    let token_before = app.csrf_token_with(&app.client).await;

    let response = app.login("renew_rita", GOOD_PASSWORD).await;
    let logged_in_cookie = response
        .cookies()
        .find(|c| c.name() == "practika_session")
        .map(|c| c.value().to_owned())
        .expect("a new session cookie at login");
    assert_ne!(anonymous_cookie, logged_in_cookie);
    assert_ne!(
        app.csrf_token_with(&app.client).await,
        token_before,
        "the CSRF token changes at login"
    );

    // ... is not logged in by the victim's login.
    let replay = crate::helpers::client_builder().build().expect("client");
    let response = replay
        .get(app.url("/account"))
        .header("cookie", format!("practika_session={anonymous_cookie}"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status().as_u16(), 303);
}

#[actix_web::test]
async fn logout_ends_the_session_and_needs_csrf() {
    let app = spawn_app().await;
    app.create_user("leaving_lu", GOOD_PASSWORD, "student");
    app.login("leaving_lu", GOOD_PASSWORD).await;

    let forged = app
        .client
        .post(app.url("/logout"))
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .expect("POST");
    assert_eq!(forged.status().as_u16(), 403);
    assert_eq!(app.get("/account").await.status().as_u16(), 200, "still logged in");

    let response = app.post_form("/logout", &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/login");
    let page = app.page("/login").await;
    assert!(page.select_text(".flash-info").iter().any(|t| t.contains("logged out")));
    assert_eq!(app.get("/account").await.status().as_u16(), 303);
}

#[actix_web::test]
async fn a_password_change_ends_every_other_session() {
    let app = spawn_app().await;
    let id = app.create_user("two_devices", GOOD_PASSWORD, "student");
    let laptop = new_client();
    let phone = new_client();
    app.login_with(&laptop, "two_devices", GOOD_PASSWORD).await;
    app.login_with(&phone, "two_devices", GOOD_PASSWORD).await;
    assert_eq!(app.get_with(&phone, "/account").await.status().as_u16(), 200);

    // The current password is required, and rules apply, each with its message.
    let refused = app
        .post_form_with(
            &laptop,
            "/account/password",
            &[
                ("current_password", "wrong-password-1"),
                ("new_password", "123"),
                ("new_password_confirm", "1234"),
            ],
        )
        .await;
    assert_eq!(refused.status().as_u16(), 422);
    let body = refused.text().await.expect("body");
    assert!(body.contains("not your current password"));
    assert!(body.contains("at least 10 characters"));
    assert!(body.contains("differ"));
    assert!(practika::accounts::password::verify(
        GOOD_PASSWORD,
        &app.stored_password(id)
    ));

    let changed = app
        .post_form_with(
            &laptop,
            "/account/password",
            &[
                ("current_password", GOOD_PASSWORD),
                ("new_password", "amber-lantern-47"),
                ("new_password_confirm", "amber-lantern-47"),
            ],
        )
        .await;
    assert_eq!(changed.status().as_u16(), 303);
    assert_eq!(
        app.get_with(&laptop, "/account").await.status().as_u16(),
        200,
        "this session stays"
    );
    assert_eq!(
        app.get_with(&phone, "/account").await.status().as_u16(),
        303,
        "the other session ended"
    );
    assert_eq!(
        app.login_with(&new_client(), "two_devices", "amber-lantern-47")
            .await
            .status()
            .as_u16(),
        303
    );
}

#[actix_web::test]
async fn next_is_followed_only_to_local_paths() {
    let app = spawn_app().await;
    app.create_user("wanderer", GOOD_PASSWORD, "student");
    for (next, expected) in [
        ("/account", "/account"),
        ("https://evil.example/phish", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ] {
        let client = new_client();
        let response = app
            .post_form_with(
                &client,
                "/login",
                &[("username", "wanderer"), ("password", GOOD_PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!(response.status().as_u16(), 303);
        assert_eq!(location(&response), expected, "next={next}");
    }
    // The login page carries `next` along, escaped.
    let page = app.page("/login?next=%2Faccount%3Fx%3D%22%3E").await;
    assert_eq!(
        page.attr("input[name=next]", "value").as_deref(),
        Some("/account?x=\">")
    );
    assert!(!page.text.contains("x=\">"));
}

#[actix_web::test]
async fn the_first_admin_setup_link_works_once() {
    let app = spawn_app().await;
    let path = app.setup_path.clone().expect("a setup link while no admin exists");

    assert_eq!(app.page("/setup/not-the-token").await.status, 410);
    let form = app.page(&path).await;
    assert_eq!(form.status, 200);
    assert!(form.has("form input[name=username]"));

    // A form error keeps the link usable.
    let invalid = app
        .post_form(
            &path,
            &[
                ("username", "boss"),
                ("email", "boss@example.com"),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(invalid.status().as_u16(), 422);

    let created = app
        .post_form(
            &path,
            &[
                ("username", "boss"),
                ("email", "boss@example.com"),
                ("password", GOOD_PASSWORD),
                ("password_confirm", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(created.status().as_u16(), 303);
    let home = app.page("/").await;
    assert_eq!(home.select_text(".nav-username"), vec!["boss"]);
    assert!(home.has(".badge-admin"));
    assert!(home.has(".badge-staff"));

    // Used: the link is dead for everyone, GET and POST alike.
    let other = new_client();
    assert_eq!(app.page_with(&other, &path).await.status, 410);
    let again = app
        .post_form_with(
            &other,
            &path,
            &[
                ("username", "boss2"),
                ("email", "b2@example.com"),
                ("password", GOOD_PASSWORD),
                ("password_confirm", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(again.status().as_u16(), 410);
    let admins: i64 = auth_user::table
        .filter(auth_user::is_superuser.eq(true))
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(admins, 1);
}

#[actix_web::test]
async fn createsuperuser_noinput_makes_an_admin_who_can_log_in() {
    let app = spawn_app().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_practika"))
        .args(["createsuperuser", "--noinput"])
        .env("DATABASE_URL", &app.db.url)
        .env("PRACTIKA_DATA_DIR", app.dir.path())
        .env("PRACTIKA_SUPERUSER_USERNAME", "root_admin")
        .env("PRACTIKA_SUPERUSER_EMAIL", "root@example.com")
        .env("PRACTIKA_SUPERUSER_PASSWORD", GOOD_PASSWORD)
        .output()
        .expect("run practika");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!String::from_utf8_lossy(&output.stdout).contains(GOOD_PASSWORD));
    assert_eq!(app.login("root_admin", GOOD_PASSWORD).await.status().as_u16(), 303);
    assert!(app.page("/").await.has(".badge-admin"));

    // A weak password is refused with the rule, and nothing is created.
    let weak = std::process::Command::new(env!("CARGO_BIN_EXE_practika"))
        .args(["createsuperuser", "--noinput"])
        .env("DATABASE_URL", &app.db.url)
        .env("PRACTIKA_DATA_DIR", app.dir.path())
        .env("PRACTIKA_SUPERUSER_USERNAME", "weak_admin")
        .env("PRACTIKA_SUPERUSER_EMAIL", "weak@example.com")
        .env("PRACTIKA_SUPERUSER_PASSWORD", "1234567890")
        .output()
        .expect("run practika");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("digits"));
    let count: i64 = auth_user::table
        .filter(auth_user::username.eq("weak_admin"))
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(count, 0);
}
