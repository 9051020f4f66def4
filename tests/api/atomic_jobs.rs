//! A job is stored in the same transaction as the row it is about (a
//! failure between the two leaves neither), the worker finds every kind in
//! the areas' registry, and a mail error that cannot pass is not retried.

use diesel::prelude::*;
use practika::accounts::invitations::{self, Role};
use practika::accounts::mail;
use practika::db::schema::{accounts_betainvitation, comments_videocomment, jobs_job, staff_auditentry};
use practika::db::{Backend, Id};
use practika::jobs::worker::Outcome;
use practika::jobs::Job;

use crate::helpers::{exec, spawn_app, spawn_app_with_smtp_down, TestApp, GOOD_PASSWORD};

/// Makes every insert into `jobs_job` fail, as a crash between the row and
/// its job would: whatever was written in the same transaction must go too.
fn break_job_inserts(app: &TestApp) {
    let sql = match app.backend() {
        Backend::Sqlite => {
            "CREATE TRIGGER refuse_jobs BEFORE INSERT ON jobs_job BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        }
        Backend::Postgres => {
            "CREATE FUNCTION refuse_jobs() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ \
             LANGUAGE plpgsql; \
             CREATE TRIGGER refuse_jobs BEFORE INSERT ON jobs_job FOR EACH ROW EXECUTE FUNCTION refuse_jobs();"
        }
    };
    exec(&mut app.conn(), sql);
}

fn mend_job_inserts(app: &TestApp) {
    let sql = match app.backend() {
        Backend::Sqlite => "DROP TRIGGER refuse_jobs;",
        Backend::Postgres => "DROP TRIGGER refuse_jobs ON jobs_job; DROP FUNCTION refuse_jobs();",
    };
    exec(&mut app.conn(), sql);
}

fn jobs(app: &TestApp, kind: &str) -> Vec<Job> {
    jobs_job::table
        .filter(jobs_job::kind.eq(kind))
        .order(jobs_job::id.asc())
        .load(&mut *app.conn())
        .expect("jobs")
}

fn comment_ids(app: &TestApp) -> Vec<Id> {
    comments_videocomment::table
        .select(comments_videocomment::id)
        .load(&mut *app.conn())
        .expect("comments")
}

fn comments_made(app: &TestApp, user_id: i32) -> i32 {
    use practika::db::schema::{accounts_profile, accounts_usermetrics};
    accounts_usermetrics::table
        .inner_join(accounts_profile::table)
        .filter(accounts_profile::user_id.eq(user_id))
        .select(accounts_usermetrics::comments_made)
        .first(&mut *app.conn())
        .expect("metrics")
}

/// An exercise by a coach, on a YouTube link (no ffmpeg needed).
async fn exercise(app: &TestApp, coach: &reqwest::Client, coach_id: i32) -> Id {
    let video =
        practika::videos::upload::add_youtube(&mut app.conn(), "https://www.youtube.com/watch?v=dQw4w9WgXcQ", coach_id)
            .expect("youtube")
            .0
            .id;
    let response = app
        .post_form_with(
            coach,
            "/exercises",
            &[("name", "Atomic scales"), ("video_id", &video.to_string())],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    use practika::db::schema::exercises_exercise;
    exercises_exercise::table
        .select(exercises_exercise::id)
        .first(&mut *app.conn())
        .expect("exercise")
}

#[actix_web::test]
async fn a_comment_exists_exactly_when_its_notice_job_does() {
    let app = spawn_app().await;
    let (coach_id, coach) = app.user_client("atomic_coach", "coach").await;
    let (student_id, student) = app.user_client("atomic_student", "student").await;
    let exercise = exercise(&app, &coach, coach_id).await;
    let path = format!("/exercises/{exercise}/comments");

    // The job cannot be stored: the comment is not stored either, nor counted.
    break_job_inserts(&app);
    let response = app.post_form_with(&student, &path, &[("text", "Lost?")]).await;
    assert_eq!(response.status().as_u16(), 500);
    assert!(comment_ids(&app).is_empty(), "no comment without its notice");
    assert_eq!(comments_made(&app, student_id), 0, "the counter rolled back too");
    assert!(jobs(&app, practika::comments::notify::SEND_COMMENT_NOTICE).is_empty());

    // Once jobs can be stored, one post stores one comment and its notice.
    mend_job_inserts(&app);
    let response = app.post_form_with(&student, &path, &[("text", "Found.")]).await;
    assert_eq!(response.status().as_u16(), 303);
    let comments = comment_ids(&app);
    let notices = jobs(&app, practika::comments::notify::SEND_COMMENT_NOTICE);
    assert_eq!(comments.len(), 1);
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].payload.0["comment_id"], comments[0].to_string());
    assert_eq!(comments_made(&app, student_id), 1);
}

#[actix_web::test]
async fn an_invitation_and_a_resend_are_stored_with_their_email_jobs_or_not_at_all() {
    let app = spawn_app().await;
    app.create_staff("atomic_boss", GOOD_PASSWORD);
    assert_eq!(app.login("atomic_boss", GOOD_PASSWORD).await.status().as_u16(), 303);
    let invitation_count = |app: &TestApp| -> i64 {
        accounts_betainvitation::table
            .count()
            .get_result(&mut *app.conn())
            .expect("count")
    };
    let audit_actions = |app: &TestApp| -> Vec<String> {
        staff_auditentry::table
            .order(staff_auditentry::id.asc())
            .select(staff_auditentry::action)
            .load(&mut *app.conn())
            .expect("audit")
    };

    break_job_inserts(&app);
    let response = app
        .post_form(
            "/staff/invitations",
            &[("emails", "lost@example.com"), ("role", "student")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 500);
    assert_eq!(invitation_count(&app), 0, "no invitation without its email");
    assert!(audit_actions(&app).is_empty(), "nor its audit entry");

    mend_job_inserts(&app);
    let response = app
        .post_form(
            "/staff/invitations",
            &[("emails", "kept@example.com"), ("role", "student")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(invitation_count(&app), 1);
    let sends = jobs(&app, mail::SEND_INVITATION);
    assert_eq!(sends.len(), 1);
    let id: i64 = accounts_betainvitation::table
        .select(accounts_betainvitation::id)
        .first(&mut *app.conn())
        .expect("invitation");
    assert_eq!(sends[0].payload.0["invitation_id"], id);
    assert_eq!(audit_actions(&app), vec!["create"]);

    // A resend whose job cannot be stored records no "send" either.
    break_job_inserts(&app);
    let resend = format!("/staff/invitations/{id}/resend");
    let response = app.post_form(&resend, &[]).await;
    assert_eq!(response.status().as_u16(), 500);
    assert_eq!(jobs(&app, mail::SEND_INVITATION).len(), 1);
    assert_eq!(audit_actions(&app), vec!["create"]);
    mend_job_inserts(&app);
    let response = app.post_form(&resend, &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(jobs(&app, mail::SEND_INVITATION).len(), 2);
    assert_eq!(audit_actions(&app), vec!["create", "send"]);
}

/// The kinds the areas queue, each registered once; `jobs/` imports none
/// of the areas (checked in `jobs::tests`).
#[test]
fn every_kind_the_areas_queue_is_registered() {
    let registry = practika::startup::job_registry();
    let mut names: Vec<&str> = registry.kind_names().collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            practika::videos::jobs::CUT_CLIP,
            practika::videos::jobs::PROCESS_VIDEO,
            practika::videos::jobs::REVALIDATE_VIDEO,
            practika::comments::notify::SEND_COMMENT_NOTICE,
            practika::comments::voice::PROCESS_VOICEOVER,
            practika::comments::export::EXPORT_REPLY,
            practika::digest::send::SEND_DIGESTS,
            practika::exports::build::BUILD_EXPORT,
            practika::exports::build::SEND_EXPORT_READY,
            mail::SEND_EMAIL_CHANGE,
            mail::SEND_INVITATION,
            mail::SEND_PASSWORD_RESET,
        ]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
    assert!(registry.chores().iter().any(|c| c.name.contains("sessions")));
    assert!(registry.chores().iter().any(|c| c.name.contains("voice-overs")));
    assert!(registry.chores().iter().any(|c| c.name.contains("digests")));
    assert!(registry.chores().iter().any(|c| c.name.contains("exports")));
}

fn queue_invitation(app: &TestApp, email: &str) -> i64 {
    let mut conn = app.conn();
    let (invitation, _) = invitations::create(&mut conn, email, Role::Student, None).expect("invitation");
    mail::queue_invitation(&mut conn, invitation.id).expect("queue");
    invitation.id
}

fn invitation_error(app: &TestApp, id: i64) -> Option<String> {
    accounts_betainvitation::table
        .find(id)
        .select(accounts_betainvitation::last_send_error)
        .first(&mut *app.conn())
        .expect("invitation")
}

#[actix_web::test]
async fn a_refused_address_fails_at_once_and_a_busy_server_is_retried() {
    let app = spawn_app().await;
    app.mail.refuse("gone@example.com", "550 5.1.1 no such user here");
    app.mail
        .refuse("busy@example.com", "451 4.3.0 mailbox busy, try again later");

    // 5xx: permanent. One try, failed for good, the reason shown to staff.
    let gone = queue_invitation(&app, "gone@example.com");
    let report = app.worker().run_once().await.expect("worker").expect("a job");
    assert!(
        matches!(&report.outcome, Outcome::Failed(m) if m.contains("no such user")),
        "{:?}",
        report.outcome
    );
    let job = jobs(&app, mail::SEND_INVITATION).pop().expect("job");
    assert_eq!((job.status.as_str(), job.attempts), ("failed", 1));
    assert_eq!(app.mail.refused_tries("gone@example.com"), 1);
    assert!(invitation_error(&app, gone).is_some_and(|e| e.contains("no such user")));
    app.make_jobs_due();
    assert!(
        app.worker().run_once().await.expect("worker").is_none(),
        "not tried again"
    );
    assert_eq!(app.mail.refused_tries("gone@example.com"), 1);

    // 4xx: transient. Queued again with backoff, attempts left.
    queue_invitation(&app, "busy@example.com");
    let report = app.worker().run_once().await.expect("worker").expect("a job");
    assert!(matches!(report.outcome, Outcome::Retrying(_)), "{:?}", report.outcome);
    let job = jobs(&app, mail::SEND_INVITATION).pop().expect("job");
    assert_eq!((job.status.as_str(), job.attempts), ("queued", 1));
    app.make_jobs_due();
    let report = app.worker().run_once().await.expect("worker").expect("again");
    assert!(matches!(report.outcome, Outcome::Retrying(_)), "{:?}", report.outcome);
    assert_eq!(app.mail.refused_tries("busy@example.com"), 2);
}

#[actix_web::test]
async fn a_mail_server_that_is_down_is_retried() {
    let app = spawn_app_with_smtp_down().await;
    queue_invitation(&app, "patient@example.com");
    let report = app.worker().run_once().await.expect("worker").expect("a job");
    assert!(matches!(report.outcome, Outcome::Retrying(_)), "{:?}", report.outcome);
    let job = jobs(&app, mail::SEND_INVITATION).pop().expect("job");
    assert_eq!((job.status.as_str(), job.attempts), ("queued", 1));
}

#[actix_web::test]
async fn a_malformed_address_is_a_permanent_error_and_a_closed_port_a_transient_one() {
    let app = spawn_app_with_smtp_down().await;
    let mailer = practika::email::Mailer::from_settings(&app.settings).expect("mailer");
    let email = |to: &str| practika::email::Email {
        to: to.to_owned(),
        subject: "Hello".to_owned(),
        text: "Hi".to_owned(),
        html: "<p>Hi</p>".to_owned(),
        link: String::new(),
        unsubscribe: None,
    };
    let malformed = mailer.send(email("not an address")).await.expect_err("refused");
    assert!(malformed.permanent, "{malformed}");
    let refused = mailer.send(email("fine@example.com")).await.expect_err("no server");
    assert!(!refused.permanent, "connection refused may pass: {refused}");
}
