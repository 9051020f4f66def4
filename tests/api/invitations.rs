//! Invitations: the whole story from an admin's invitation to a coach's
//! first page, and every refusal on the way.

use diesel::prelude::*;
use practika::db::schema::{accounts_betainvitation, accounts_profile, accounts_role, accounts_usermetrics, auth_user};
use practika::db::Ts;

use crate::helpers::{location, new_client, spawn_app, TestApp, GOOD_PASSWORD, PUBLIC_URL};

async fn invite(app: &TestApp, email: &str, role: &str) -> String {
    let response = app
        .post_form("/staff/invitations", &[("emails", email), ("role", role)])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    app.run_jobs().await; // the worker sends the queued email
    let mail = app.mail.wait_for_mail_to(email).await;
    app.path_of(&mail.link(&format!("{PUBLIC_URL}/invite/")))
}

async fn staff_app() -> TestApp {
    let app = spawn_app().await;
    app.create_staff("boss", GOOD_PASSWORD);
    assert_eq!(app.login("boss", GOOD_PASSWORD).await.status().as_u16(), 303);
    app
}

fn accept_fields(username: &str) -> Vec<(&str, &str)> {
    vec![
        ("username", username),
        ("first_name", "Cora"),
        ("last_name", "Coach"),
        ("password", GOOD_PASSWORD),
        ("password_confirm", GOOD_PASSWORD),
    ]
}

fn users_named(app: &TestApp, username: &str) -> i64 {
    auth_user::table
        .filter(auth_user::username.eq(username))
        .count()
        .get_result(&mut *app.conn())
        .expect("count")
}

#[actix_web::test]
async fn an_invited_coach_joins_onboards_and_lands_in_the_library() {
    let app = staff_app().await;
    let response = app
        .post_form(
            "/staff/invitations",
            &[("emails", "Coach@Example.com"), ("role", "coach")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);

    // A real email: to the invited address, text + HTML, with a working link.
    app.run_jobs().await; // the worker sends the queued email
    let mail = app.mail.wait_for_mail_to("coach@example.com").await;
    assert!(
        mail.subject().contains("invited") && mail.subject().contains("coach"),
        "{}",
        mail.subject()
    );
    let link = mail.link(&format!("{PUBLIC_URL}/invite/"));
    assert!(mail.text().contains("expires"));
    assert!(
        mail.html().contains(&format!("href=\"{link}\"")),
        "the HTML part has the same link"
    );
    assert!(mail.html().contains("boss"), "names who invited");
    let path = app.path_of(&link);
    let token = path.trim_start_matches("/invite/");
    assert_eq!(token.len(), 43, "256 random bits, URL-safe");
    // Only a digest is stored.
    let stored: String = accounts_betainvitation::table
        .select(accounts_betainvitation::token)
        .first(&mut *app.conn())
        .expect("row");
    assert_ne!(stored, token);
    assert_eq!(
        app.page_with(&new_client(), &format!("/invite/{stored}")).await.status,
        404,
        "the digest is no key"
    );

    // The staff page shows it as pending and sent once.
    let staff_page = app.page("/staff/invitations").await;
    assert!(staff_page.text.contains("coach@example.com"));
    assert!(staff_page.has(".badge-state-pending"));

    // Opening the link (GET) shows the address and changes nothing.
    let coach = new_client();
    let form = app.page_with(&coach, &path).await;
    assert_eq!(form.status, 200);
    assert!(form
        .select_text(".details dd")
        .contains(&"coach@example.com".to_owned()));
    let accepted: Option<Ts> = accounts_betainvitation::table
        .select(accounts_betainvitation::accepted_at)
        .first(&mut *app.conn())
        .expect("row");
    assert!(accepted.is_none());

    // Submitting creates the account, logs in, starts onboarding.
    let response = app.post_form_with(&coach, &path, &accept_fields("cora")).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/onboarding");
    let (user_id, email, first, last, is_staff): (i32, String, String, String, bool) = auth_user::table
        .filter(auth_user::username.eq("cora"))
        .select((
            auth_user::id,
            auth_user::email,
            auth_user::first_name,
            auth_user::last_name,
            auth_user::is_staff,
        ))
        .first(&mut *app.conn())
        .expect("account");
    assert_eq!(
        (email.as_str(), first.as_str(), last.as_str(), is_staff),
        ("coach@example.com", "Cora", "Coach", false)
    );
    let (role, verified, first_login): (Option<String>, Option<Ts>, Option<Ts>) = accounts_profile::table
        .left_join(accounts_role::table)
        .filter(accounts_profile::user_id.eq(user_id))
        .select((
            accounts_role::name.nullable(),
            accounts_profile::email_verified_at,
            accounts_profile::first_login_at,
        ))
        .first(&mut *app.conn())
        .expect("profile");
    assert_eq!(role.as_deref(), Some("coach"));
    assert!(verified.is_some(), "accepting verifies the address");
    assert!(first_login.is_some());
    let metrics: i64 = accounts_usermetrics::table
        .inner_join(accounts_profile::table)
        .filter(accounts_profile::user_id.eq(user_id))
        .count()
        .get_result(&mut *app.conn())
        .expect("metrics");
    assert_eq!(metrics, 1);
    let (accepted_at, accepted_by): (Option<Ts>, Option<i32>) = accounts_betainvitation::table
        .select((
            accounts_betainvitation::accepted_at,
            accounts_betainvitation::accepted_by_id,
        ))
        .first(&mut *app.conn())
        .expect("row");
    assert!(accepted_at.is_some());
    assert_eq!(accepted_by, Some(user_id));

    // Onboarding: preferences, then the library.
    let onboarding = app.page_with(&coach, "/onboarding").await;
    assert_eq!(onboarding.status, 200);
    assert_eq!(
        onboarding.attr("input[name=display_name]", "value").as_deref(),
        Some("Cora")
    );
    let bad = app
        .post_form_with(
            &coach,
            "/onboarding",
            &[("display_name", "Coach Cora"), ("playback_speed", "9")],
        )
        .await;
    assert_eq!(bad.status().as_u16(), 422);
    let done = app
        .post_form_with(
            &coach,
            "/onboarding",
            &[("display_name", "Coach Cora"), ("playback_speed", "0.75")],
        )
        .await;
    assert_eq!(done.status().as_u16(), 303);
    assert_eq!(location(&done), practika::accounts::lifecycle::LIBRARY_PATH);
    let (completed, preferences): (bool, practika::db::Json) = accounts_profile::table
        .filter(accounts_profile::user_id.eq(user_id))
        .select((accounts_profile::onboarding_completed, accounts_profile::preferences))
        .first(&mut *app.conn())
        .expect("profile");
    assert!(completed);
    assert_eq!(preferences.0["playback_speed"], 0.75);
    assert_eq!(preferences.0["email_notifications"], false, "an unticked box is off");
    let home = app.page_with(&coach, "/").await;
    assert_eq!(home.select_text(".nav-username"), vec!["Coach Cora"]);
    assert_eq!(
        app.get_with(&coach, "/onboarding").await.status().as_u16(),
        303,
        "onboarding is done"
    );

    // The staff page now says who accepted it.
    let staff_page = app.page("/staff/invitations").await;
    assert!(staff_page.has(".badge-state-accepted"));
    assert!(staff_page.text.contains("by cora"));
}

#[actix_web::test]
async fn expired_revoked_reused_and_unknown_links_create_nothing() {
    let app = staff_app().await;
    let expired = invite(&app, "late@example.com", "student").await;
    diesel::update(accounts_betainvitation::table.filter(accounts_betainvitation::email.eq("late@example.com")))
        .set(accounts_betainvitation::expires_at.eq(Ts(chrono::Utc::now() - chrono::Duration::minutes(1))))
        .execute(&mut *app.conn())
        .expect("expire");
    let revoked = invite(&app, "nope@example.com", "student").await;
    let id: i64 = accounts_betainvitation::table
        .filter(accounts_betainvitation::email.eq("nope@example.com"))
        .select(accounts_betainvitation::id)
        .first(&mut *app.conn())
        .expect("id");
    assert_eq!(
        app.post_form(&format!("/staff/invitations/{id}/revoke"), &[])
            .await
            .status()
            .as_u16(),
        303
    );
    let used = invite(&app, "once@example.com", "student").await;
    let first = new_client();
    assert_eq!(
        app.post_form_with(&first, &used, &accept_fields("first_one"))
            .await
            .status()
            .as_u16(),
        303
    );

    for (path, status, title, username) in [
        (expired.as_str(), 410, "expired", "late_user"),
        (revoked.as_str(), 410, "withdrawn", "revoked_user"),
        (used.as_str(), 410, "used", "second_one"),
        ("/invite/not-a-real-token-at-all", 404, "not valid", "unknown_user"),
    ] {
        let visitor = new_client();
        let page = app.page_with(&visitor, path).await;
        assert_eq!(page.status, status, "{path}");
        assert!(
            page.select_text("h1")[0].contains(title),
            "{path}: {:?}",
            page.select_text("h1")
        );
        let response = app.post_form_with(&visitor, path, &accept_fields(username)).await;
        assert_eq!(response.status().as_u16(), status, "{path}");
        assert_eq!(users_named(&app, username), 0, "{path}");
    }
}

#[actix_web::test]
async fn two_simultaneous_acceptances_make_one_account() {
    let app = staff_app().await;
    let path = invite(&app, "twins@example.com", "student").await;
    let (a, b) = (new_client(), new_client());
    // Both browsers have the form open (and a CSRF token) before either submits.
    let (token_a, token_b) = (app.csrf_token_with(&a).await, app.csrf_token_with(&b).await);
    let submit = |client: reqwest::Client, token: String, username: &'static str| {
        let url = app.url(&path);
        async move {
            let mut fields = accept_fields(username);
            fields.push(("csrf_token", &token));
            client
                .post(url)
                .form(&fields)
                .send()
                .await
                .expect("POST")
                .status()
                .as_u16()
        }
    };
    let (status_a, status_b) = tokio::join!(submit(a, token_a, "twin_a"), submit(b, token_b, "twin_b"));
    let mut statuses = [status_a, status_b];
    statuses.sort();
    assert_eq!(statuses, [303, 410]);
    let accounts: i64 = auth_user::table
        .filter(auth_user::email.eq("twins@example.com"))
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(accounts, 1);
}

#[actix_web::test]
async fn accepting_needs_the_csrf_token() {
    let app = staff_app().await;
    let path = invite(&app, "csrf@example.com", "student").await;
    let visitor = new_client();
    app.page_with(&visitor, &path).await;
    let response = visitor
        .post(app.url(&path))
        .form(&accept_fields("sneaky"))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(users_named(&app, "sneaky"), 0);
    // The invitation is still usable.
    assert_eq!(
        app.post_form_with(&visitor, &path, &accept_fields("honest"))
            .await
            .status()
            .as_u16(),
        303
    );
}

#[actix_web::test]
async fn form_errors_keep_the_invitation_open() {
    let app = staff_app().await;
    app.create_user("taken_name", GOOD_PASSWORD, "student");
    let path = invite(&app, "careful@example.com", "student").await;
    let visitor = new_client();
    let mut fields = accept_fields("taken_name");
    let response = app.post_form_with(&visitor, &path, &fields).await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(response.text().await.expect("body").contains("That username is taken"));
    fields[0] = ("username", "careful");
    fields[3] = ("password", "careful1234");
    fields[4] = ("password_confirm", "careful1234");
    let response = app.post_form_with(&visitor, &path, &fields).await;
    assert_eq!(
        response.status().as_u16(),
        422,
        "a password like the username is refused"
    );
    assert_eq!(users_named(&app, "careful"), 0);
    assert_eq!(
        app.post_form_with(&visitor, &path, &accept_fields("careful"))
            .await
            .status()
            .as_u16(),
        303
    );
}

#[actix_web::test]
async fn an_address_that_has_an_account_is_not_invited() {
    let app = staff_app().await;
    app.create_user("existing", GOOD_PASSWORD, "student"); // existing@example.com
    let response = app
        .post_form(
            "/staff/invitations",
            &[("emails", "EXISTING@example.com"), ("role", "coach")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let page = app.page("/staff/invitations").await;
    assert!(page
        .select_text(".flash-warning")
        .iter()
        .any(|t| t.contains("already has an account")));
    let invitations: i64 = accounts_betainvitation::table
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(invitations, 0);

    // And a pending invitation whose address got an account meanwhile says so.
    let path = invite(&app, "later@example.com", "student").await;
    app.create_user("later", GOOD_PASSWORD, "student"); // later@example.com
    let page = app.page_with(&new_client(), &path).await;
    assert_eq!(page.status, 409);
    assert!(page.text.contains("already have an account"));
}

#[actix_web::test]
async fn staff_invite_many_at_once_with_clear_errors() {
    let app = staff_app().await;
    let bad = app
        .post_form(
            "/staff/invitations",
            &[("emails", "ok@example.com, not-an-address"), ("role", "student")],
        )
        .await;
    assert_eq!(bad.status().as_u16(), 422);
    assert!(bad
        .text()
        .await
        .expect("body")
        .contains("not-an-address is not a valid email address"));
    let invitations: i64 = accounts_betainvitation::table
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(invitations, 0, "nothing is created when one address is wrong");

    let response = app
        .post_form(
            "/staff/invitations",
            &[
                ("emails", "a@example.com\nb@example.com; c@example.com a@example.com"),
                ("role", "coach"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    app.run_jobs().await; // the worker sends the queued email
    app.mail.wait_for(3).await;
    let roles: Vec<String> = accounts_betainvitation::table
        .select(accounts_betainvitation::role)
        .load(&mut *app.conn())
        .expect("rows");
    assert_eq!(roles, vec!["coach"; 3]);
}

#[actix_web::test]
async fn a_failed_send_is_kept_visible_and_can_be_resent() {
    let app = crate::helpers::spawn_app_with_smtp_down().await;
    app.create_staff("boss", GOOD_PASSWORD);
    app.login("boss", GOOD_PASSWORD).await;
    let started = std::time::Instant::now();
    let response = app
        .post_form(
            "/staff/invitations",
            &[("emails", "lost@example.com"), ("role", "student")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the request does not wait for the mail server"
    );

    app.run_jobs().await; // the send fails: the job is kept for a retry
    let mut error = None;
    for _ in 0..100 {
        error = accounts_betainvitation::table
            .select(accounts_betainvitation::last_send_error)
            .first::<Option<String>>(&mut *app.conn())
            .expect("row");
        if error.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(error.is_some(), "the failure is recorded");
    let jobs = app.jobs_of("send_invitation");
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        (jobs[0].status.as_str(), jobs[0].attempts),
        ("queued", 1),
        "tried again later, with backoff"
    );
    assert!(jobs[0].last_error.as_deref().is_some_and(|e| e.contains("mail server")));
    let page = app.page("/staff/invitations").await;
    assert!(page.text.contains("Last send failed"));
    // Resending is a bulk action on the list (one row or many).
    assert!(page.has("form[action='/staff/invitations/bulk'] select[name=action] option[value=send]"));
    let sent: i32 = accounts_betainvitation::table
        .select(accounts_betainvitation::send_count)
        .first(&mut *app.conn())
        .expect("row");
    assert_eq!(sent, 0);
}

#[actix_web::test]
async fn resending_replaces_the_link() {
    let app = staff_app().await;
    let old = invite(&app, "again@example.com", "student").await;
    let id: i64 = accounts_betainvitation::table
        .select(accounts_betainvitation::id)
        .first(&mut *app.conn())
        .expect("id");
    assert_eq!(
        app.post_form(&format!("/staff/invitations/{id}/resend"), &[])
            .await
            .status()
            .as_u16(),
        303
    );
    // Until the new email has gone out, the link in hand still works: the
    // job makes the one new link (nothing was renewed by the button).
    assert_eq!(app.page_with(&new_client(), &old).await.status, 200);
    app.run_jobs().await; // the worker sends the queued email
    let mails = app.mail.wait_for(2).await;
    let new = app.path_of(&mails[1].link(&format!("{PUBLIC_URL}/invite/")));
    let stored: String = accounts_betainvitation::table
        .select(accounts_betainvitation::token)
        .first(&mut *app.conn())
        .expect("token");
    assert_eq!(
        stored,
        practika::accounts::invitations::digest(new.trim_start_matches("/invite/")),
        "the emailed link is the stored one"
    );
    assert_ne!(old, new);
    assert_eq!(
        app.page_with(&new_client(), &old).await.status,
        404,
        "the old link is dead"
    );
    assert_eq!(app.page_with(&new_client(), &new).await.status, 200);
    let sent: i32 = accounts_betainvitation::table
        .select(accounts_betainvitation::send_count)
        .first(&mut *app.conn())
        .expect("row");
    assert_eq!(sent, 2);
}

/// What staff are told after inviting: the emails go out when the mail
/// server answers; when it does not, the page says so (and that they wait
/// in the queue) instead of "on their way". The same after a resend.
#[actix_web::test]
async fn the_invite_message_says_whether_the_mail_server_can_be_reached() {
    let flashes = |page: crate::helpers::Page| page.select_text(".flash").join(" | ");

    let working = staff_app().await;
    working
        .post_form(
            "/staff/invitations",
            &[("emails", "up@example.com"), ("role", "student")],
        )
        .await;
    let said = flashes(working.page("/staff/invitations").await);
    assert!(said.contains("Invited as student: up@example.com."), "{said}");
    assert!(said.contains("go out within a minute"), "{said}");

    let down = crate::helpers::spawn_app_with_smtp_down().await;
    down.create_staff("boss", GOOD_PASSWORD);
    down.login("boss", GOOD_PASSWORD).await;
    down.post_form(
        "/staff/invitations",
        &[("emails", "down@example.com"), ("role", "student")],
    )
    .await;
    let page = down.page("/staff/invitations").await;
    assert!(page.has(".flash-warning"), "a warning, not a success");
    let said = flashes(page);
    assert!(said.contains("Invited as student: down@example.com."), "{said}");
    assert!(said.contains("no email can go out right now"), "{said}");
    assert!(said.contains("mail server"), "the reason is given: {said}");
    assert!(
        !said.contains("go out within a minute") && !said.contains("on their way"),
        "{said}"
    );

    let id: i64 = accounts_betainvitation::table
        .select(accounts_betainvitation::id)
        .first(&mut *down.conn())
        .expect("id");
    down.post_form(&format!("/staff/invitations/{id}/resend"), &[]).await;
    let said = flashes(down.page("/staff/invitations").await);
    assert!(said.contains("No email can go out right now"), "{said}");
}

/// The mail server is down: `practika invite` prints a link (its email
/// failed), and staff press "resend". The resend's email fails too, and the
/// printed link still works: a resend replaces a link only by delivering
/// a new one.
#[actix_web::test]
async fn a_resend_that_cannot_be_delivered_leaves_the_printed_link_working() {
    let app = crate::helpers::spawn_app_with_smtp_down().await;
    app.create_staff("boss", GOOD_PASSWORD);
    app.login("boss", GOOD_PASSWORD).await;
    let (invitation, raw) = practika::accounts::invitations::create(
        &mut app.conn(),
        "offline@example.com",
        practika::accounts::invitations::Role::Student,
        None,
    )
    .expect("invitation");
    let printed = format!("/invite/{raw}");
    assert_eq!(
        app.post_form(&format!("/staff/invitations/{}/resend", invitation.id), &[])
            .await
            .status()
            .as_u16(),
        303
    );
    app.run_jobs().await; // the send fails: queued again for later
    let jobs = app.jobs_of("send_invitation");
    assert_eq!((jobs.len(), jobs[0].status.as_str()), (1, "queued"));
    assert_eq!(app.page_with(&new_client(), &printed).await.status, 200);
}

#[actix_web::test]
async fn staff_pages_are_a_404_for_everyone_else() {
    let app = spawn_app().await;
    assert_eq!(app.get("/staff/invitations").await.status().as_u16(), 404);
    app.create_user("coach_c", GOOD_PASSWORD, "coach");
    app.login("coach_c", GOOD_PASSWORD).await;
    assert_eq!(app.get("/staff/invitations").await.status().as_u16(), 404);
    let response = app
        .post_form("/staff/invitations", &[("emails", "x@example.com"), ("role", "admin")])
        .await;
    assert_eq!(response.status().as_u16(), 404);
    let invitations: i64 = accounts_betainvitation::table
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(invitations, 0);
}

#[actix_web::test]
async fn the_invite_command_prints_the_link_and_sends_the_email() {
    let app = spawn_app().await;
    // Async, so that this test's SMTP server keeps answering meanwhile.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_practika"))
        .args(["invite", "cli@example.com", "--role", "coach"])
        .env("DATABASE_URL", &app.db.url)
        .env("PRACTIKA_DATA_DIR", app.dir.path())
        .env("PRACTIKA_SECRET_KEY", "another-secret-key-that-is-long-enough-000")
        .env("PRACTIKA_PUBLIC_URL", PUBLIC_URL)
        .env("PRACTIKA_SMTP_URL", app.mail.url())
        .output()
        .await
        .expect("run practika");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mail = app.mail.wait_for_mail_to("cli@example.com").await;
    let link = mail.link(&format!("{PUBLIC_URL}/invite/"));
    assert!(stdout.contains(&link), "{stdout}");
    assert!(
        stdout.contains("this one stops working"),
        "the CLI warns about resends: {stdout}"
    );
    let page = app.page_with(&new_client(), &app.path_of(&link)).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("coach"));

    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_practika"))
        .args(["invite", "not an address"])
        .env("DATABASE_URL", &app.db.url)
        .env("PRACTIKA_DATA_DIR", app.dir.path())
        .output()
        .expect("run practika");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("valid email address"));
}

#[actix_web::test]
async fn only_superusers_invite_admins() {
    let app = staff_app().await; // boss: staff, not superuser
    let response = app
        .post_form(
            "/staff/invitations",
            &[("emails", "new-admin@example.com"), ("role", "admin")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(response
        .text()
        .await
        .expect("body")
        .contains("Only superusers can invite admins"));
    let invitations: i64 = accounts_betainvitation::table
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(invitations, 0);
}
