//! Email digests over the real (loopback) SMTP server: nothing is sent when
//! there is nothing to say; each role gets its counts with the RFC 8058
//! headers; the one-click unsubscribe link works without a login, refuses
//! a forged or tampered signature, and stops the digests; a period's digest
//! goes out at most once, whatever runs twice; and the job's statements
//! grow with its batches, not with its users.

use diesel::prelude::*;
use practika::comments::queries::{self as comments, Comment, Draft};
use practika::db::schema::{digest_preference, digest_sent, jobs_job};
use practika::db::stats::{counted, StatementCounter};
use practika::db::{Id, Ts};
use practika::digest::{queries as digest, send, Frequency, Period};
use practika::exercises::queries::Exercise;

use crate::inbox::exercise;

use crate::helpers::{new_client, TestApp, PUBLIC_URL};
use crate::mail::Received;

fn post(app: &TestApp, author: i32, on: &Exercise, text: &str, parent: Option<Id>, retry: Option<Comment>) -> Comment {
    comments::create(
        &mut app.conn(),
        author,
        on,
        &Draft {
            text: Some(text.to_owned()),
            parent,
            retry,
            ..Default::default()
        },
    )
    .expect("comment")
}

/// Queues the digest jobs of the periods `now` is in and runs them.
async fn run_digests(app: &TestApp, now: Ts) -> usize {
    let queued = digest::queue_due(&mut app.conn(), now).expect("queue digests");
    app.run_jobs().await;
    queued
}

fn header(mail: &Received, name: &str) -> Option<String> {
    mail.parsed().header_raw(name).map(|v| v.trim().to_owned())
}

fn to(mails: &[Received], address: &str) -> Vec<Received> {
    mails
        .iter()
        .filter(|m| m.recipients.iter().any(|r| r == address))
        .cloned()
        .collect()
}

/// The digests received (comments also send their own notices).
fn digests(app: &TestApp) -> Vec<Received> {
    app.mail
        .received()
        .into_iter()
        .filter(|m| m.subject().ends_with("Practika digest"))
        .collect()
}

fn sent_rows(app: &TestApp) -> Vec<(i32, String)> {
    digest_sent::table
        .select((digest_sent::user_id, digest_sent::period))
        .order((digest_sent::user_id.asc(), digest_sent::period.asc()))
        .load(&mut *app.conn())
        .expect("digest_sent")
}

fn in_days(days: i64) -> Ts {
    Ts(Ts::now().0 + chrono::Duration::days(days))
}

#[actix_web::test]
async fn a_digest_with_nothing_in_it_is_not_sent() {
    let app = crate::helpers::spawn_app().await;
    let coach = app.create_user("quiet_coach", "pw-quiet-coach-1", "coach");
    let student = app.create_user("quiet_student", "pw-quiet-student-1", "student");
    let scales = exercise(&app, coach, "Scales");
    // The coach saw the only attempt ("no reply needed"), and the student
    // wrote more on it: an empty inbox, and no reply by anyone else.
    let attempt = post(&app, student, &scales, "my try", None, None);
    assert!(practika::inbox::queries::mark_seen(&mut app.conn(), attempt.id, Ts::now()).expect("seen"));
    post(&app, student, &scales, "and a note to self", Some(attempt.id), None);

    assert_eq!(run_digests(&app, Ts::now()).await, 2, "the daily and the weekly job");
    assert_eq!(run_digests(&app, Ts::now()).await, 0, "each queued once");
    let jobs: Vec<String> = jobs_job::table
        .filter(jobs_job::kind.eq(send::SEND_DIGESTS))
        .select(jobs_job::status)
        .load(&mut *app.conn())
        .expect("jobs");
    assert_eq!(jobs, vec!["done", "done"]);
    assert!(digests(&app).is_empty(), "nothing to say, nothing sent");
    assert!(sent_rows(&app).is_empty());
}

#[actix_web::test]
async fn each_role_gets_its_counts_with_the_unsubscribe_headers() {
    let app = crate::helpers::spawn_app().await;
    let ann = app.create_user("ann_coach", "pw-ann-coach-1", "coach");
    let bob = app.create_user("bob_coach", "pw-bob-coach-1", "coach");
    let admin = app.create_user("the_admin", "pw-the-admin-1", "admin");
    let sue = app.create_user("sue_student", "pw-sue-student-1", "student");
    let tom = app.create_user("tom_student", "pw-tom-student-1", "student");
    let scales = exercise(&app, ann, "Scales");
    let arpeggios = exercise(&app, ann, "Arpeggios");
    let sues = post(&app, sue, &scales, "first try", None, None);
    post(&app, tom, &scales, "my go", None, None);
    post(&app, tom, &arpeggios, "and this", None, None);
    // Ann answers Sue and asks for another try: Sue's attempt leaves the
    // inbox, Sue has a reply and a request.
    post(&app, ann, &scales, "Again, slower", Some(sues.id), Some(sues.clone()));
    // Sue reads her digest daily; the others keep the default (weekly).
    digest::set_frequency(&mut app.conn(), sue, Frequency::Daily, Ts::now()).expect("daily");

    run_digests(&app, Ts::now()).await;
    let mails = digests(&app);
    let address = |name: &str| format!("{name}@example.com");
    let subjects = |name: &str| {
        to(&mails, &address(name))
            .iter()
            .map(Received::subject)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        subjects("ann_coach"),
        vec!["2 attempts wait for your feedback — your weekly Practika digest"]
    );
    assert_eq!(
        subjects("the_admin"),
        vec!["2 attempts wait for your feedback — your weekly Practika digest"],
        "admins: every waiting attempt"
    );
    assert_eq!(
        subjects("sue_student"),
        vec!["1 new reply, 1 request to try again — your daily Practika digest"]
    );
    assert!(subjects("bob_coach").is_empty(), "an empty inbox: no digest");
    assert!(subjects("tom_student").is_empty(), "nothing new: no digest");
    assert_eq!(mails.len(), 3);

    for (name, id) in [("ann_coach", ann), ("the_admin", admin), ("sue_student", sue)] {
        let mail = &to(&mails, &address(name))[0];
        let link = mail.link(&format!("{PUBLIC_URL}/unsubscribe/{id}/"));
        assert_eq!(header(mail, "List-Unsubscribe"), Some(format!("<{link}>")), "{name}");
        assert_eq!(
            header(mail, "List-Unsubscribe-Post").as_deref(),
            Some("List-Unsubscribe=One-Click"),
            "{name}"
        );
        assert!(mail.html().contains(&link), "{name}: the link in the HTML part too");
    }
    let ann_text = to(&mails, &address("ann_coach"))[0].text();
    assert!(ann_text.contains("2 attempts wait for your feedback"), "{ann_text}");
    assert!(ann_text.contains(&format!("{PUBLIC_URL}/inbox")), "{ann_text}");
    let sue_text = to(&mails, &address("sue_student"))[0].text();
    assert!(sue_text.contains("1 new reply to your comments"), "{sue_text}");
    assert!(sue_text.contains("1 request to try again"), "{sue_text}");
    assert!(
        !sue_text.contains("for your feedback"),
        "students have no inbox: {sue_text}"
    );
    let _ = (bob, tom);

    // Tomorrow's daily digest: nothing new for Sue since this one.
    let tomorrow = Period::current(Frequency::Daily, in_days(1)).expect("daily");
    send::queue(&mut app.conn(), &tomorrow.key()).expect("queue");
    app.run_jobs().await;
    assert_eq!(
        digests(&app).len(),
        3,
        "the reply and the request were in the last digest"
    );
    // A new reply after it is in the next one (tomorrow's, sent later in
    // the day: the morning's had nothing in it, so none was recorded).
    post(&app, ann, &scales, "And mind the thumb", Some(sues.id), None);
    send::queue(&mut app.conn(), &tomorrow.key()).expect("queue");
    app.run_jobs().await;
    let latest = to(&digests(&app), &address("sue_student"));
    assert_eq!(latest.len(), 2);
    assert_eq!(latest[1].subject(), "1 new reply — your daily Practika digest");
}

#[actix_web::test]
async fn the_unsubscribe_link_works_without_a_login_and_refuses_forgeries() {
    let app = crate::helpers::spawn_app().await;
    let coach = app.create_user("una_coach", "pw-una-coach-1", "coach");
    let student = app.create_user("sam_student", "pw-sam-student-1", "student");
    let other = app.create_user("oli_student", "pw-oli-student-1", "student");
    let scales = exercise(&app, coach, "Scales");
    post(&app, student, &scales, "try one", None, None);
    run_digests(&app, Ts::now()).await;
    let mail = to(&digests(&app), "una_coach@example.com").remove(0);
    let link = mail.link(&format!("{PUBLIC_URL}/unsubscribe/"));
    let path = app.path_of(&link);
    let token = path.rsplit('/').next().expect("token").to_owned();

    // A stranger's browser (no session) sees the question, and nothing changes yet.
    let stranger = new_client();
    let page = app.page_with(&stranger, &path).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.attr("form[method=post]", "action").as_deref(), Some(path.as_str()));
    assert_eq!(
        digest::frequency_of(&mut app.conn(), coach).expect("f"),
        Frequency::Weekly
    );

    // Forged and tampered links: refused, GET and POST, changing nothing.
    let mut flipped = token.clone();
    let last = if token.ends_with('0') { "1" } else { "0" };
    flipped.replace_range(token.len() - 1.., last);
    for bad in [
        format!("/unsubscribe/{coach}/{flipped}"),
        format!("/unsubscribe/{other}/{token}"),
        format!("/unsubscribe/{coach}/not-a-token"),
    ] {
        assert_eq!(app.page_with(&stranger, &bad).await.status, 404, "{bad}");
        let response = stranger
            .post(app.url(&bad))
            .form(&[("List-Unsubscribe", "One-Click")])
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status().as_u16(), 404, "{bad}");
    }
    let rows: i64 = digest_preference::table
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(rows, 0, "no forged link changed anything");

    // The mail program's one-click POST (RFC 8058): no cookie, no CSRF
    // token, from another origin.
    let response = stranger
        .post(app.url(&path))
        .header("Origin", "https://mail.example.net")
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(digest::frequency_of(&mut app.conn(), coach).expect("f"), Frequency::Off);
    // The settings page shows it off.
    let client = new_client();
    assert_eq!(
        app.login_with(&client, "una_coach", "pw-una-coach-1")
            .await
            .status()
            .as_u16(),
        303
    );
    let settings = app.page_with(&client, "/account/settings").await;
    assert_eq!(
        settings.attr("#digest option[selected]", "value").as_deref(),
        Some("off")
    );

    // More waits for the coach, a week later: no digest for them.
    post(&app, other, &scales, "try two", None, None);
    let before = digests(&app).len();
    run_digests(&app, in_days(7)).await;
    assert_eq!(digests(&app).len(), before, "unsubscribed: nothing sent");
    let coach_digests = sent_rows(&app).into_iter().filter(|(user, _)| *user == coach).count();
    assert_eq!(coach_digests, 1, "only the one before unsubscribing");
}

#[actix_web::test]
async fn a_periods_digest_goes_out_at_most_once() {
    let app = crate::helpers::spawn_app().await;
    let coach = app.create_user("once_coach", "pw-once-coach-1", "coach");
    let student = app.create_user("once_student", "pw-once-student-1", "student");
    let crashed = app.create_user("crash_coach", "pw-crash-coach-1", "coach");
    let scales = exercise(&app, coach, "Scales");
    let serve = exercise(&app, crashed, "Serve");
    post(&app, student, &scales, "an attempt", None, None);
    post(&app, student, &serve, "another", None, None);
    let period = Period::current(Frequency::Weekly, Ts::now()).expect("weekly");
    // A worker claimed crash_coach's digest and died before sending it:
    // at most once means it is not sent again.
    digest::claim(&mut app.conn(), &period.key(), &[crashed], Ts::now()).expect("claim");

    // The period's job queued twice (a retry after a crash), run by two
    // workers at once, and then once more.
    for _ in 0..2 {
        send::queue(&mut app.conn(), &period.key()).expect("queue");
    }
    let (one, two) = (app.worker(), app.worker());
    let (a, b) = tokio::join!(one.run_once(), two.run_once());
    assert!(a.expect("worker").is_some() && b.expect("worker").is_some());
    send::queue(&mut app.conn(), &period.key()).expect("queue");
    app.run_jobs().await;
    let mails = digests(&app);
    assert_eq!(
        to(&mails, "once_coach@example.com").len(),
        1,
        "one digest, however often the job ran"
    );
    assert!(to(&mails, "crash_coach@example.com").is_empty());
    assert_eq!(mails.len(), 1);
    assert_eq!(
        sent_rows(&app),
        vec![(coach, period.key()), (crashed, period.key())],
        "one row per user and period"
    );
    // Next week, the coach hears again (the attempt still waits).
    run_digests(&app, in_days(7)).await;
    assert_eq!(to(&digests(&app), "once_coach@example.com").len(), 2);
}

#[actix_web::test]
async fn a_mail_server_failure_gives_the_claim_back_for_the_retry() {
    let app = crate::helpers::spawn_app().await;
    let coach = app.create_user("retry_coach", "pw-retry-coach-1", "coach");
    let student = app.create_user("retry_student", "pw-retry-student-1", "student");
    let scales = exercise(&app, coach, "Scales");
    post(&app, student, &scales, "an attempt", None, None);
    app.run_jobs().await;
    app.mail.refuse("retry_coach@example.com", "451 4.3.0 try again later");
    let period = Period::current(Frequency::Weekly, Ts::now()).expect("weekly");
    send::queue(&mut app.conn(), &period.key()).expect("queue");
    app.run_jobs().await;
    assert!(sent_rows(&app).is_empty(), "the claim was given back");
    let job = &app.jobs_of(send::SEND_DIGESTS)[0];
    assert_eq!(job.status, "queued", "retried later: {:?}", job.last_error);
    assert_eq!(app.mail.refused_tries("retry_coach@example.com"), 1);
    let _ = coach;
}

#[actix_web::test]
async fn the_digest_job_costs_statements_per_batch_not_per_user() {
    let app = crate::helpers::spawn_app().await;
    let coach = app.create_user("batch_coach", "pw-batch-coach-1", "coach");
    let scales = exercise(&app, coach, "Scales");
    let students = 120;
    let now = Ts::now();
    let rows: Vec<_> = (0..students)
        .map(|i| {
            use practika::db::schema::auth_user;
            (
                auth_user::password.eq("!"),
                auth_user::is_superuser.eq(false),
                auth_user::username.eq(format!("batch_student_{i}")),
                auth_user::first_name.eq(""),
                auth_user::last_name.eq(""),
                auth_user::email.eq(format!("batch_student_{i}@example.com")),
                auth_user::is_staff.eq(false),
                auth_user::is_active.eq(true),
                auth_user::date_joined.eq(now),
            )
        })
        .collect();
    let ids: Vec<i32> = practika::for_each_backend!(&mut *app.conn(), |c| {
        diesel::insert_into(practika::db::schema::auth_user::table)
            .values(&rows)
            .returning(practika::db::schema::auth_user::id)
            .get_results(c)
    })
    .expect("students");
    // Each student's attempt has the coach's reply: 120 digests of one reply.
    for id in &ids {
        let attempt = post(&app, *id, &scales, "attempt", None, None);
        post(&app, coach, &scales, "reply", Some(attempt.id), None);
    }
    let period = Period::current(Frequency::Weekly, Ts::now()).expect("weekly");
    let worker = app.worker();
    let out = worker.context().outgoing().expect("mail");
    let counter = StatementCounter::default();
    let sent = counted(counter.clone(), send::send_period(&out, &period, 50))
        .await
        .expect("digests");
    assert_eq!(sent, students);
    assert_eq!(digests(&app).len(), students);
    // 121 users: three batches of 50 and the empty one that ends the walk,
    // each at most 7 statements, and one claim per batch.
    let statements = counter.statements();
    println!("the digests of {students} students: {statements} statements in batches of 50");
    assert!(statements <= 3 * 8 + 1, "{statements} statements");
}
