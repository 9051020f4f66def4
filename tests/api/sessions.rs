//! Server-side sessions: a copy of the cookie dies with its session;
//! logout, a password change or reset, a deactivation and staff end
//! sessions on the server; "Your sessions" lists and ends them; expired
//! rows are purged; anonymous visitors leave no row; the table holds only
//! hashes of the cookie's key.

use std::collections::HashMap;

use diesel::prelude::*;
use practika::db::schema::{accounts_profile, accounts_session, auth_user, staff_auditentry};
use practika::db::{Json, Ts};

use crate::helpers::{location, new_client, spawn_app, Page, TestApp, GOOD_PASSWORD, PUBLIC_URL};

const NEW_PASSWORD: &str = "amber-lantern-47";

/// A client that presents a fixed cookie header and keeps no cookies (a
/// copy of someone's cookie, replayed).
fn replay_client() -> reqwest::Client {
    crate::helpers::client_builder().build().expect("client")
}

/// A logged-in client whose requests say `agent`.
async fn logged_in_as(app: &TestApp, username: &str, agent: &str) -> reqwest::Client {
    let client = crate::helpers::client_builder()
        .cookie_store(true)
        .user_agent(agent)
        .build()
        .expect("client");
    let response = app.login_with(&client, username, GOOD_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303, "login {username}");
    client
}

fn session_cookie(response: &reqwest::Response) -> String {
    response
        .cookies()
        .find(|c| c.name() == practika::startup::SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .expect("a session cookie")
}

/// What the encrypted cookie holds, decrypted with the app's own key.
fn cookie_state(app: &TestApp, value: &str) -> HashMap<String, String> {
    use actix_web::cookie::{Cookie, CookieJar};
    let key = practika::startup::session_key(&app.settings);
    let mut jar = CookieJar::new();
    // The header value is percent-encoded, as actix-session sets it.
    let cookie = Cookie::parse_encoded(format!("{}={value}", practika::startup::SESSION_COOKIE))
        .expect("a cookie")
        .into_owned();
    jar.add_original(cookie);
    let plain = jar
        .private(&key)
        .get(practika::startup::SESSION_COOKIE)
        .expect("the cookie decrypts")
        .value()
        .to_owned();
    serde_json::from_str(&plain).expect("session state")
}

fn rows_of(app: &TestApp, user_id: i32) -> i64 {
    accounts_session::table
        .filter(accounts_session::user_id.eq(user_id))
        .count()
        .get_result(&mut *app.conn())
        .expect("count")
}

fn all_rows(app: &TestApp) -> i64 {
    accounts_session::table
        .count()
        .get_result(&mut *app.conn())
        .expect("count")
}

async fn status_of(app: &TestApp, client: &reqwest::Client, path: &str) -> u16 {
    app.get_with(client, path).await.status().as_u16()
}

#[actix_web::test]
async fn a_copy_of_the_cookie_dies_at_logout_and_cannot_post_forms() {
    let app = spawn_app().await;
    let id = app.create_user("copied", GOOD_PASSWORD, "student");
    let response = app.login("copied", GOOD_PASSWORD).await;
    let stolen = session_cookie(&response);
    // The thief also has a form open, with its CSRF token.
    let token = app
        .page("/account/settings")
        .await
        .attr("input[name=csrf_token]", "value")
        .expect("token");
    let thief = replay_client();
    let with_cookie = |path: &str| {
        thief
            .get(app.url(path))
            .header("cookie", format!("{}={stolen}", practika::startup::SESSION_COOKIE))
    };
    assert_eq!(
        with_cookie("/account").send().await.expect("GET").status().as_u16(),
        200
    );

    assert_eq!(app.post_form("/logout", &[]).await.status().as_u16(), 303);
    assert_eq!(rows_of(&app, id), 0, "logout deletes the session row");

    let response = with_cookie("/account").send().await.expect("GET");
    assert_eq!(response.status().as_u16(), 303, "the copy is logged out too");
    assert!(location(&response).starts_with("/login"));
    let posted = thief
        .post(app.url("/account/settings"))
        .header("cookie", format!("{}={stolen}", practika::startup::SESSION_COOKIE))
        .form(&[
            ("csrf_token", token.as_str()),
            ("display_name", "Hijacked"),
            ("playback_speed", "1"),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(posted.status().as_u16(), 303);
    assert!(location(&posted).starts_with("/login"));
    let preferences: Json = accounts_profile::table
        .filter(accounts_profile::user_id.eq(id))
        .select(accounts_profile::preferences)
        .first(&mut *app.conn())
        .expect("profile");
    assert!(
        preferences.0.get("display_name").is_none(),
        "nothing changed: {preferences:?}"
    );
}

#[actix_web::test]
async fn the_cookie_holds_a_random_key_and_the_table_only_its_hash() {
    let app = spawn_app().await;
    let id = app.create_user("hashed", GOOD_PASSWORD, "student");
    let response = app.login("hashed", GOOD_PASSWORD).await;
    let state = cookie_state(&app, &session_cookie(&response));
    let key: String = serde_json::from_str(&state["sid"]).expect("the session key");
    assert!(key.len() >= 40, "256 random bits: {key}");
    assert!(
        !state.contains_key("uid"),
        "who is logged in is decided on the server: {state:?}"
    );
    let (stored, user_id): (String, i32) = accounts_session::table
        .select((accounts_session::key_hash, accounts_session::user_id))
        .first(&mut *app.conn())
        .expect("row");
    assert_eq!(user_id, id);
    assert_eq!(stored, practika::accounts::sessions::key_hash(&key));
    assert_ne!(stored, key, "the key itself is never stored");
}

#[actix_web::test]
async fn anonymous_visitors_leave_no_session_row() {
    let app = spawn_app().await;
    for _ in 0..20 {
        let visitor = new_client();
        let page = app.page_with(&visitor, "/login").await;
        assert!(
            page.attr("input[name=csrf_token]", "value").is_some(),
            "the form still works"
        );
        // A failed login posts the form, with its flash and CSRF in the cookie.
        app.login_with(&visitor, "nobody", "wrong-password-1").await;
    }
    assert_eq!(all_rows(&app), 0);
}

#[actix_web::test]
async fn logging_in_again_replaces_the_session_of_that_browser() {
    let app = spawn_app().await;
    let ann = app.create_user("ann", GOOD_PASSWORD, "student");
    let bob = app.create_user("bob", GOOD_PASSWORD, "student");
    app.login("ann", GOOD_PASSWORD).await;
    app.login("bob", GOOD_PASSWORD).await;
    assert_eq!((rows_of(&app, ann), rows_of(&app, bob)), (0, 1));
    let page = app.page("/account").await;
    assert!(page.select_text(".details dd").iter().any(|d| d == "bob"));
}

#[actix_web::test]
async fn your_sessions_lists_them_ends_one_and_ends_all_the_others() {
    let app = spawn_app().await;
    let id = app.create_user("many", GOOD_PASSWORD, "student");
    let laptop = logged_in_as(
        &app,
        "many",
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    )
    .await;
    let phone = logged_in_as(
        &app,
        "many",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) \
         Version/17.0 Mobile/15E148 Safari/604.1",
    )
    .await;
    let tablet = logged_in_as(
        &app,
        "many",
        "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    )
    .await;
    assert_eq!(rows_of(&app, id), 3);

    let page = app.page_with(&laptop, "/account").await;
    let browsers = page.select_text("#sessions tbody th");
    assert_eq!(browsers.len(), 3, "{browsers:?}");
    assert!(
        browsers[0].starts_with("Firefox on Linux"),
        "this session first: {browsers:?}"
    );
    assert!(browsers[0].contains("this session"));
    assert!(browsers.iter().any(|b| b == "Safari on iPhone"), "{browsers:?}");
    assert!(browsers.iter().any(|b| b == "Chrome on Android"), "{browsers:?}");
    assert!(page.select_text("#sessions tbody td").iter().any(|t| t == "127.0.0.1"));
    // Only the other sessions have an End button.
    let ends: Vec<String> = {
        let selector = scraper::Selector::parse("#sessions tbody form").expect("selector");
        page.html
            .select(&selector)
            .filter_map(|f| f.value().attr("action").map(str::to_owned))
            .collect()
    };
    assert_eq!(ends.len(), 2);

    // End the phone's session: the phone is logged out, the rest carry on.
    let phone_row: i64 = accounts_session::table
        .filter(accounts_session::user_agent.like("%iPhone%"))
        .select(accounts_session::id)
        .first(&mut *app.conn())
        .expect("phone row");
    let response = app
        .post_form_with(&laptop, &format!("/account/sessions/{phone_row}/end"), &[])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(status_of(&app, &phone, "/account").await, 303);
    assert_eq!(status_of(&app, &tablet, "/account").await, 200);
    assert_eq!(status_of(&app, &laptop, "/account").await, 200);
    let login_page = app.page_with(&phone, "/login").await;
    let flashes = login_page.select_text(".flash");
    assert!(
        flashes.iter().any(|f| f.contains("session has ended")),
        "the phone is told why: {flashes:?} {}",
        login_page.status
    );

    // Someone else's session cannot be ended from here.
    let other = app.create_user("stranger", GOOD_PASSWORD, "student");
    let stranger = logged_in_as(&app, "stranger", "curl/8").await;
    let stranger_row: i64 = accounts_session::table
        .filter(accounts_session::user_id.eq(other))
        .select(accounts_session::id)
        .first(&mut *app.conn())
        .expect("row");
    app.post_form_with(&laptop, &format!("/account/sessions/{stranger_row}/end"), &[])
        .await;
    assert_eq!(status_of(&app, &stranger, "/account").await, 200);

    // End all the others: only this one is left.
    let response = app.post_form_with(&laptop, "/account/sessions/others/end", &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    let page = app.page_with(&laptop, "/account").await;
    assert_eq!(page.status, 200);
    assert!(page.select_text(".flash").iter().any(|f| f.contains("other session")));
    assert_eq!(status_of(&app, &tablet, "/account").await, 303);
    assert_eq!(rows_of(&app, id), 1);
    assert!(
        !page.has("form[action='/account/sessions/others/end']"),
        "nothing else to end"
    );
}

#[actix_web::test]
async fn a_password_change_keeps_this_session_and_ends_the_others_on_the_server() {
    let app = spawn_app().await;
    let id = app.create_user("changing", GOOD_PASSWORD, "student");
    let laptop = logged_in_as(&app, "changing", "laptop").await;
    let _phone = logged_in_as(&app, "changing", "phone").await;
    let response = app.change_password_with(&laptop, GOOD_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(rows_of(&app, id), 1, "the other row is gone at once");
    assert_eq!(status_of(&app, &laptop, "/account").await, 200);
}

#[actix_web::test]
async fn a_password_reset_ends_every_session() {
    let app = spawn_app().await;
    let id = app.create_user("forgetful", GOOD_PASSWORD, "student");
    let first = logged_in_as(&app, "forgetful", "one").await;
    let second = logged_in_as(&app, "forgetful", "two").await;
    app.post_form_with(&new_client(), "/password-reset", &[("email", "forgetful@example.com")])
        .await;
    app.run_jobs().await;
    let mail = app.mail.wait_for_mail_to("forgetful@example.com").await;
    let link = app.path_of(&mail.link(&format!("{PUBLIC_URL}/password-reset/")));
    let visitor = new_client();
    let response = app
        .post_form_with(
            &visitor,
            &link,
            &[("new_password", NEW_PASSWORD), ("new_password_confirm", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(rows_of(&app, id), 0);
    assert_eq!(status_of(&app, &first, "/account").await, 303);
    assert_eq!(status_of(&app, &second, "/account").await, 303);
}

#[actix_web::test]
async fn deactivation_by_staff_or_by_the_django_app_ends_sessions() {
    let app = spawn_app().await;
    let boss = app.create_staff("boss", GOOD_PASSWORD);
    let staff = logged_in_as(&app, "boss", "staff").await;
    let quitter = app.create_user("quitter", GOOD_PASSWORD, "student");
    let client = logged_in_as(&app, "quitter", "quitter").await;
    let response = app
        .post_form_with(
            &staff,
            &format!("/staff/users/{quitter}"),
            &[
                ("email", "quitter@example.com"),
                ("role", "student"),
                ("is_active__shown", "1"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(rows_of(&app, quitter), 0, "deactivating deletes the rows");
    assert_eq!(status_of(&app, &client, "/account").await, 303);

    // In bulk too.
    let bulk_target = app.create_user("bulked", GOOD_PASSWORD, "student");
    let bulked = logged_in_as(&app, "bulked", "bulked").await;
    app.post_form_with(
        &staff,
        "/staff/users/bulk",
        &[("action", "deactivate"), ("ids", &bulk_target.to_string())],
    )
    .await;
    assert_eq!(rows_of(&app, bulk_target), 0);
    assert_eq!(status_of(&app, &bulked, "/account").await, 303);

    // The Django app deactivates by writing the column: the session ends at
    // its next request, and its row goes then.
    let django_side = app.create_user("django_side", GOOD_PASSWORD, "student");
    let client = logged_in_as(&app, "django_side", "d").await;
    diesel::update(auth_user::table.find(django_side))
        .set(auth_user::is_active.eq(false))
        .execute(&mut *app.conn())
        .expect("deactivate");
    assert_eq!(status_of(&app, &client, "/account").await, 303);
    assert_eq!(rows_of(&app, django_side), 0);
    let _ = boss;
}

#[actix_web::test]
async fn staff_end_all_of_a_users_sessions_and_it_is_audited() {
    let app = spawn_app().await;
    let boss = app.create_staff("boss", GOOD_PASSWORD);
    let staff = logged_in_as(&app, "boss", "staff").await;
    let target = app.create_user("lost_phone", GOOD_PASSWORD, "student");
    let one = logged_in_as(&app, "lost_phone", "one").await;
    let two = logged_in_as(&app, "lost_phone", "two").await;

    let form = app.page_with(&staff, &format!("/staff/users/{target}")).await;
    let action = format!("/staff/users/{target}/actions/end_sessions");
    assert!(
        form.has(&format!("form[action='{action}'] button")),
        "the button is there"
    );
    assert!(form.text.contains("in 2 sessions"));
    let response = app.post_form_with(&staff, &action, &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), format!("/staff/users/{target}"));
    assert_eq!(rows_of(&app, target), 0);
    assert_eq!(status_of(&app, &one, "/account").await, 303);
    assert_eq!(status_of(&app, &two, "/account").await, 303);
    let flashes = app.page_with(&staff, &format!("/staff/users/{target}")).await;
    assert!(flashes
        .select_text(".flash")
        .iter()
        .any(|f| f.contains("Ended 2 sessions")));
    let (action_done, changes, actor): (String, Json, Option<i32>) = staff_auditentry::table
        .order(staff_auditentry::id.desc())
        .select((
            staff_auditentry::action,
            staff_auditentry::changes,
            staff_auditentry::actor_id,
        ))
        .first(&mut *app.conn())
        .expect("audit entry");
    assert_eq!(action_done, "end_sessions");
    assert_eq!(changes.0["sessions"], serde_json::json!([2, 0]));
    assert_eq!(actor, Some(boss));

    // Plain staff cannot log a superuser out; nobody ends their own here.
    let chief = app.create_user("chief", GOOD_PASSWORD, "admin");
    diesel::update(auth_user::table.find(chief))
        .set((auth_user::is_superuser.eq(true), auth_user::is_staff.eq(true)))
        .execute(&mut *app.conn())
        .expect("superuser");
    let chief_client = logged_in_as(&app, "chief", "chief").await;
    let form = app.page_with(&staff, &format!("/staff/users/{chief}")).await;
    assert!(!form.has("form[action$='/actions/end_sessions']"));
    app.post_form_with(&staff, &format!("/staff/users/{chief}/actions/end_sessions"), &[])
        .await;
    assert_eq!(status_of(&app, &chief_client, "/account").await, 200);
    app.post_form_with(&staff, &format!("/staff/users/{boss}/actions/end_sessions"), &[])
        .await;
    assert_eq!(status_of(&app, &staff, "/account").await, 200);
}

#[actix_web::test]
async fn idle_sessions_end_and_the_periodic_job_removes_them() {
    let app = spawn_app().await;
    let id = app.create_user("idle", GOOD_PASSWORD, "student");
    let idle = logged_in_as(&app, "idle", "idle").await;
    let other = app.create_user("busy", GOOD_PASSWORD, "student");
    let busy = logged_in_as(&app, "busy", "busy").await;
    // Two weeks pass for one of them.
    let long_ago = Ts(Ts::now().0 - chrono::Duration::days(15));
    diesel::update(accounts_session::table.filter(accounts_session::user_id.eq(id)))
        .set((
            accounts_session::last_seen_at.eq(long_ago),
            accounts_session::expires_at.eq(Ts(long_ago.0 + chrono::Duration::days(14))),
        ))
        .execute(&mut *app.conn())
        .expect("age the session");
    assert_eq!(status_of(&app, &idle, "/account").await, 303, "expired: logged out");
    assert_eq!(rows_of(&app, id), 1, "still in the table until the clean-up");
    app.worker().housekeeping().await;
    assert_eq!(rows_of(&app, id), 0);
    assert_eq!(rows_of(&app, other), 1, "a live session stays");
    assert_eq!(status_of(&app, &busy, "/account").await, 200);
}

#[actix_web::test]
async fn last_seen_is_written_at_most_once_a_minute() {
    let app = spawn_app().await;
    let id = app.create_user("seen", GOOD_PASSWORD, "student");
    let client = logged_in_as(&app, "seen", "seen").await;
    let seen = || -> (Ts, Ts) {
        accounts_session::table
            .filter(accounts_session::user_id.eq(id))
            .select((accounts_session::last_seen_at, accounts_session::expires_at))
            .first(&mut *app.conn())
            .expect("row")
    };
    let at_login = seen();
    for _ in 0..5 {
        assert_eq!(status_of(&app, &client, "/account").await, 200);
    }
    assert_eq!(seen(), at_login, "no write per request");

    // A minute later, the next request writes last seen (and, by the
    // trigger, the profile's last activity) once, and pushes the expiry.
    let earlier = Ts(Ts::now().0 - chrono::Duration::seconds(90));
    diesel::update(accounts_session::table.filter(accounts_session::user_id.eq(id)))
        .set(accounts_session::last_seen_at.eq(earlier))
        .execute(&mut *app.conn())
        .expect("age");
    let page: Page = app.page_with(&client, "/account").await;
    assert_eq!(page.status, 200);
    let (last_seen, expires) = seen();
    assert!(last_seen > earlier && expires > at_login.1);
    let activity: Option<Ts> = accounts_profile::table
        .filter(accounts_profile::user_id.eq(id))
        .select(accounts_profile::last_activity_at)
        .first(&mut *app.conn())
        .expect("profile");
    assert_eq!(activity, Some(last_seen));
}
