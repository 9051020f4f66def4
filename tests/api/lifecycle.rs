//! The account lifecycle: login throttling, password reset, email change,
//! settings, activity.

use diesel::prelude::*;
use practika::db::schema::{accounts_profile, auth_user};
use practika::db::Ts;

use crate::helpers::{location, new_client, spawn_app, TestApp, GOOD_PASSWORD, PUBLIC_URL};

const NEW_PASSWORD: &str = "amber-lantern-47";

#[actix_web::test]
async fn ten_failures_lock_a_username_for_the_window() {
    let app = spawn_app().await;
    app.create_user("target", GOOD_PASSWORD, "student");
    app.create_user("bystander", GOOD_PASSWORD, "student");
    for attempt in 0..10 {
        let response = app.login_with(&new_client(), "target", "wrong-password").await;
        assert_eq!(response.status().as_u16(), 422, "attempt {attempt}");
    }
    // Even the right password is refused now, with a clear message.
    let response = app.login_with(&new_client(), "target", GOOD_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 429);
    let body = response.text().await.expect("body");
    assert!(
        body.contains("Too many failed logins") && body.contains("minutes"),
        "{body}"
    );
    assert!(
        app.login_with(&new_client(), "TARGET", GOOD_PASSWORD)
            .await
            .status()
            .as_u16()
            == 429,
        "case does not matter"
    );
    // Other accounts from the same address are not locked (under 50).
    assert_eq!(
        app.login_with(&new_client(), "bystander", GOOD_PASSWORD)
            .await
            .status()
            .as_u16(),
        303
    );

    // After the window the account opens again (the clock is moved by ageing the rows).
    let mut conn = app.conn();
    diesel::update(practika::db::schema::accounts_loginattempt::table)
        .set(
            practika::db::schema::accounts_loginattempt::attempted_at
                .eq(Ts(chrono::Utc::now() - chrono::Duration::minutes(16))),
        )
        .execute(&mut *conn)
        .expect("age attempts");
    drop(conn);
    assert_eq!(
        app.login_with(&new_client(), "target", GOOD_PASSWORD)
            .await
            .status()
            .as_u16(),
        303
    );
}

#[actix_web::test]
async fn fifty_failures_from_one_address_lock_that_address() {
    let app = spawn_app().await;
    app.create_user("innocent", GOOD_PASSWORD, "student");
    for attempt in 0..50 {
        let response = app
            .login_with(&new_client(), &format!("guess{}", attempt % 9), "wrong-password")
            .await;
        assert_eq!(response.status().as_u16(), 422, "attempt {attempt}");
    }
    assert_eq!(
        app.login_with(&new_client(), "innocent", GOOD_PASSWORD)
            .await
            .status()
            .as_u16(),
        429
    );
}

#[actix_web::test]
async fn password_reset_works_once_and_answers_the_same_for_unknown_addresses() {
    let app = spawn_app().await;
    let id = app.create_user("forgetful", GOOD_PASSWORD, "student");
    let other_device = new_client();
    app.login_with(&other_device, "forgetful", GOOD_PASSWORD).await;

    let known = app
        .post_form("/password-reset", &[("email", "Forgetful@example.com")])
        .await;
    let unknown = app
        .post_form("/password-reset", &[("email", "nobody@example.com")])
        .await;
    assert_eq!((known.status().as_u16(), unknown.status().as_u16()), (303, 303));
    assert_eq!(location(&known), location(&unknown));
    assert!(app.page(&location(&known)).await.text.contains("If an account exists"));
    app.run_jobs().await;
    let mail = app.mail.wait_for_mail_to("forgetful@example.com").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.mail.received().len(), 1, "nothing is sent for an unknown address");
    assert!(mail.subject().contains("Reset"));
    let link = app.path_of(&mail.link(&format!("{PUBLIC_URL}/password-reset/")));

    let visitor = new_client();
    assert_eq!(app.page_with(&visitor, &link).await.status, 200);
    let weak = app
        .post_form_with(
            &visitor,
            &link,
            &[("new_password", "forgetful1"), ("new_password_confirm", "forgetful1")],
        )
        .await;
    assert_eq!(weak.status().as_u16(), 422);
    let response = app
        .post_form_with(
            &visitor,
            &link,
            &[("new_password", NEW_PASSWORD), ("new_password_confirm", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/login");
    assert!(practika::accounts::password::verify(
        NEW_PASSWORD,
        &app.stored_password(id)
    ));
    assert_eq!(
        app.get_with(&other_device, "/account").await.status().as_u16(),
        303,
        "other sessions ended"
    );

    // Used: the same link no longer works.
    assert_eq!(app.page_with(&new_client(), &link).await.status, 410);
    let again = app
        .post_form_with(
            &new_client(),
            &link,
            &[
                ("new_password", "violet-ocean-2024"),
                ("new_password_confirm", "violet-ocean-2024"),
            ],
        )
        .await;
    assert_eq!(again.status().as_u16(), 410);
    assert!(practika::accounts::password::verify(
        NEW_PASSWORD,
        &app.stored_password(id)
    ));
}

async fn reset_link(app: &TestApp, email: &str, nth: usize) -> String {
    app.post_form("/password-reset", &[("email", email)]).await;
    app.run_jobs().await;
    let mails = app.mail.wait_for(nth).await;
    app.path_of(&mails[nth - 1].link(&format!("{PUBLIC_URL}/password-reset/")))
}

#[actix_web::test]
async fn a_reset_link_dies_when_the_password_changes_or_the_user_logs_in() {
    let app = spawn_app().await;
    app.create_user("changer", GOOD_PASSWORD, "student");
    let link = reset_link(&app, "changer@example.com", 1).await;
    // The user remembers and changes the password while logged in.
    let user = new_client();
    app.login_with(&user, "changer", GOOD_PASSWORD).await;
    let changed = app.change_password_with(&user, GOOD_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status().as_u16(), 303);
    assert_eq!(
        app.page_with(&new_client(), &link).await.status,
        410,
        "stale after a password change"
    );

    let link = reset_link(&app, "changer@example.com", 2).await;
    assert_eq!(app.page_with(&new_client(), &link).await.status, 200);
    app.login_with(&new_client(), "changer", NEW_PASSWORD).await;
    assert_eq!(
        app.page_with(&new_client(), &link).await.status,
        410,
        "stale after a later login"
    );
}

#[actix_web::test]
async fn changing_the_email_needs_the_new_address_confirmed() {
    let app = spawn_app().await;
    let id = app.create_user("mover", GOOD_PASSWORD, "student");
    app.create_user("squatter", GOOD_PASSWORD, "student");
    app.login("mover", GOOD_PASSWORD).await;

    let refused = app
        .post_form(
            "/account/email",
            &[
                ("new_email", "squatter@example.com"),
                ("current_password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status().as_u16(), 422);
    let refused = app
        .post_form(
            "/account/email",
            &[("new_email", "new@example.com"), ("current_password", "wrong")],
        )
        .await;
    assert_eq!(refused.status().as_u16(), 422);

    let response = app
        .post_form(
            "/account/email",
            &[("new_email", "New@Example.com"), ("current_password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    app.run_jobs().await;
    let mail = app.mail.wait_for_mail_to("new@example.com").await;
    let email: String = auth_user::table
        .find(id)
        .select(auth_user::email)
        .first(&mut *app.conn())
        .expect("user");
    assert_eq!(
        email, "mover@example.com",
        "the old address stays until the new one is confirmed"
    );

    let link = app.path_of(&mail.link(&format!("{PUBLIC_URL}/account/email/confirm/")));
    let confirm = app.page(&link).await;
    assert_eq!(confirm.status, 200, "GET only asks");
    let email: String = auth_user::table
        .find(id)
        .select(auth_user::email)
        .first(&mut *app.conn())
        .expect("user");
    assert_eq!(email, "mover@example.com");
    assert_eq!(app.post_form(&link, &[]).await.status().as_u16(), 303);
    let (email, verified): (String, Option<Ts>) = auth_user::table
        .inner_join(accounts_profile::table)
        .filter(auth_user::id.eq(id))
        .select((auth_user::email, accounts_profile::email_verified_at))
        .first(&mut *app.conn())
        .expect("user");
    assert_eq!(email, "new@example.com");
    assert!(verified.is_some());
    assert_eq!(app.page(&link).await.status, 410, "the link works once");
    let tampered = link.replacen(&id.to_string(), &(id + 1).to_string(), 1);
    assert_eq!(app.page(&tampered).await.status, 410);
}

#[actix_web::test]
async fn settings_are_saved_and_validated() {
    let app = spawn_app().await;
    let id = app.create_user("tuner", GOOD_PASSWORD, "student");
    app.login("tuner", GOOD_PASSWORD).await;
    let page = app.page("/account/settings").await;
    assert_eq!(page.status, 200);
    assert!(
        page.has("input[name=email_notifications][checked]"),
        "notifications are on by default"
    );

    let long_name = "x".repeat(61);
    let bad = app
        .post_form(
            "/account/settings",
            &[("display_name", &long_name), ("playback_speed", "1")],
        )
        .await;
    assert_eq!(bad.status().as_u16(), 422);
    let ok = app
        .post_form(
            "/account/settings",
            &[
                ("display_name", "<b>Tuner</b>"),
                ("playback_speed", "1.5"),
                ("email_notifications", "on"),
            ],
        )
        .await;
    assert_eq!(ok.status().as_u16(), 303);
    let home = app.page("/").await;
    assert_eq!(
        home.select_text(".nav-username"),
        vec!["<b>Tuner</b>"],
        "shown, escaped"
    );
    assert!(!home.text.contains("<b>Tuner</b>"));
    let preferences: practika::db::Json = accounts_profile::table
        .filter(accounts_profile::user_id.eq(id))
        .select(accounts_profile::preferences)
        .first(&mut *app.conn())
        .expect("profile");
    assert_eq!(preferences.0["playback_speed"], 1.5);
    assert_eq!(preferences.0["email_notifications"], true);
}

#[actix_web::test]
async fn the_account_page_shows_role_metrics_and_email_state() {
    let app = spawn_app().await;
    let id = app.create_user("counted", GOOD_PASSWORD, "coach");
    app.login("counted", GOOD_PASSWORD).await;
    let page = app.page("/account").await;
    assert_eq!(page.status, 200);
    let details = page.select_text(".details dd");
    assert!(details.iter().any(|d| d.contains("coach")), "{details:?}");
    assert!(details.iter().any(|d| d.contains("not verified")), "{details:?}");
    assert!(page.has(".metrics"), "metrics are shown");
    // Activity is recorded at login (the session row's trigger), and then
    // without a write on every request.
    let profile = || -> (Option<Ts>, Option<Ts>) {
        accounts_profile::table
            .filter(accounts_profile::user_id.eq(id))
            .select((accounts_profile::first_login_at, accounts_profile::last_activity_at))
            .first(&mut *app.conn())
            .expect("profile")
    };
    let (first_login, activity) = profile();
    assert!(first_login.is_some());
    assert!(activity.is_some(), "logging in is activity");
    assert_eq!(app.page("/account").await.status, 200);
    assert_eq!(
        profile().1,
        activity,
        "the first minute of a session writes nothing more"
    );
}
