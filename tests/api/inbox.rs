//! The coach inbox, "try again" and the student's to-do list, for every
//! role: what waits, who sees it, what answers it (a reply by the coach,
//! "seen, no reply needed", rows the Django app writes), and the chain
//! attempt → note → retry → feedback.

use diesel::prelude::*;
use practika::comments::queries::{self as comments, Draft};
use practika::db::schema::{comments_retryrequest, comments_videocomment};
use practika::db::{Id, Ts};
use practika::exercises::queries::{self as exercises, Exercise};

use crate::helpers::{location, Page, TestApp};

pub(crate) fn exercise(app: &TestApp, coach: i32, name: &str) -> Exercise {
    let video = practika::videos::upload::add_youtube(
        &mut app.conn(),
        &format!(
            "https://www.youtube.com/watch?v={:0>11}",
            name.len() * 7 + name.as_bytes()[0] as usize
        ),
        coach,
    )
    .expect("youtube")
    .0
    .id;
    exercises::create(
        &mut app.conn(),
        coach,
        &exercises::Draft {
            name: name.to_owned(),
            description: None,
            video_asset_id: video,
        },
    )
    .expect("exercise")
}

fn post(app: &TestApp, author: i32, on: &Exercise, text: &str, parent: Option<Id>) -> Id {
    comments::create(
        &mut app.conn(),
        author,
        on,
        &Draft {
            text: Some(text.to_owned()),
            parent,
            ..Default::default()
        },
    )
    .expect("comment")
    .id
}

/// The attempts listed, as "student|exercise".
fn listed(page: &Page) -> Vec<String> {
    let students = page.select_text(".inbox-item .inbox-student");
    let exercises = page.select_text(".inbox-item .inbox-exercise");
    students
        .into_iter()
        .zip(exercises)
        .map(|(s, e)| format!("{s}|{e}"))
        .collect()
}

fn nav_count(page: &Page) -> Option<String> {
    page.select_text(".nav-inbox .nav-count").into_iter().next()
}

/// As the Django app writes a comment: its own columns only.
fn django_comment(app: &TestApp, author: i32, on: &Exercise, parent: Option<Id>) -> Id {
    let (id, now) = (Id::new(), Ts::now());
    diesel::insert_into(comments_videocomment::table)
        .values((
            comments_videocomment::id.eq(id),
            comments_videocomment::text.eq(Some("from django")),
            comments_videocomment::created_at.eq(now),
            comments_videocomment::updated_at.eq(now),
            comments_videocomment::author_id.eq(author),
            comments_videocomment::exercise_id.eq(on.id),
            comments_videocomment::video_asset_id.eq(on.video_asset_id),
            comments_videocomment::parent_id.eq(parent),
        ))
        .execute(&mut *app.conn())
        .expect("insert");
    id
}

fn backdate(app: &TestApp, id: Id, days: i64) {
    diesel::update(comments_videocomment::table.find(id))
        .set(comments_videocomment::created_at.eq(Ts(chrono::Utc::now() - chrono::Duration::days(days))))
        .execute(&mut *app.conn())
        .expect("backdate");
}

/// Posts a form shown on `page` (its CSRF token and one-time key) with
/// `fields`.
async fn send(
    app: &TestApp,
    client: &reqwest::Client,
    page: &Page,
    form: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = page
        .attr(&format!("{form} input[name=csrf_token]"), "value")
        .expect("csrf");
    let once = page.attr(&format!("{form} input[name=once]"), "value").expect("once");
    let mut all: Vec<(&str, &str)> = vec![("csrf_token", &csrf), ("once", &once)];
    all.extend_from_slice(fields);
    client.post(app.url(path)).form(&all).send().await.expect("POST")
}

#[actix_web::test]
async fn the_inbox_lists_what_waits_for_each_role() {
    let app = crate::helpers::spawn_app().await;
    let (ann, ann_client) = app.user_client("ann_coach", "coach").await;
    let (bob, bob_client) = app.user_client("bob_coach", "coach").await;
    let (_, admin) = app.user_client("the_admin", "admin").await;
    let (sue, sue_client) = app.user_client("sue_student", "student").await;
    let (tom, _) = app.user_client("tom_student", "student").await;
    let scales = exercise(&app, ann, "Scales");
    let serve = exercise(&app, bob, "Serve");
    let oldest = post(&app, sue, &scales, "first try", None);
    backdate(&app, oldest, 3);
    let toms = post(&app, tom, &scales, "my go", None);
    backdate(&app, toms, 1);
    post(&app, sue, &serve, "serving", None);
    // The coach's own comment on their exercise is not an attempt to answer.
    post(&app, ann, &scales, "Remember to warm up", None);

    // Anonymous: the login page. A student: no inbox, no count.
    let response = app.get("/inbox").await;
    assert_eq!(response.status().as_u16(), 303);
    assert!(location(&response).starts_with("/login"), "{}", location(&response));
    assert_eq!(app.page_with(&sue_client, "/inbox").await.status, 403);
    assert_eq!(nav_count(&app.page_with(&sue_client, "/").await), None);

    // Each coach sees their exercises' attempts, oldest first; admins all.
    let page = app.page_with(&ann_client, "/inbox").await;
    assert_eq!(page.status, 200);
    assert_eq!(listed(&page), ["sue_student|Scales", "tom_student|Scales"]);
    assert_eq!(nav_count(&page).as_deref(), Some("2"));
    assert_eq!(
        page.attr("[data-inbox-total]", "data-inbox-total").as_deref(),
        Some("2")
    );
    let waited = page.select_text(".inbox-waited");
    assert_eq!(waited, ["waiting 3 days", "waiting 24 hours"]);
    assert_eq!(
        listed(&app.page_with(&bob_client, "/inbox").await),
        ["sue_student|Serve"]
    );
    let all = app.page_with(&admin, "/inbox").await;
    assert_eq!(all.select_text(".inbox-item").len(), 3, "{:?}", listed(&all));
    assert_eq!(nav_count(&app.page_with(&admin, "/").await).as_deref(), Some("3"));

    // Filters: by student, by exercise (another coach's shows nothing).
    let by_tom = app.page_with(&ann_client, &format!("/inbox?student={tom}")).await;
    assert_eq!(listed(&by_tom), ["tom_student|Scales"]);
    let options = by_tom.select_text("#inbox-student option");
    assert_eq!(options.len(), 3, "all, and the two students: {options:?}");
    assert!(
        options[1].starts_with("tom_student (1)"),
        "the chosen one first: {options:?}"
    );
    let theirs = app
        .page_with(&ann_client, &format!("/inbox?exercise={}", serve.id))
        .await;
    assert!(listed(&theirs).is_empty());
    let unclear = app.page_with(&ann_client, "/inbox?exercise=nonsense").await;
    assert_eq!(unclear.status, 200);
    assert!(unclear.has(".notice"), "says a filter was left out");
    assert_eq!(listed(&unclear).len(), 2);

    // The student's own reply answers nothing; the coach's does.
    post(&app, tom, &scales, "and another thing", Some(toms));
    assert_eq!(listed(&app.page_with(&ann_client, "/inbox").await).len(), 2);
    let thread = app.page_with(&ann_client, &format!("/exercises/{}", scales.id)).await;
    let response = send(
        &app,
        &ann_client,
        &thread,
        &format!("#comment-{toms} form[data-once]"),
        &format!("/exercises/{}/comments", scales.id),
        &[("parent_id", &toms.to_string()), ("text", "Good, keep the wrist loose")],
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        listed(&app.page_with(&ann_client, "/inbox").await),
        ["sue_student|Scales"]
    );

    // Rows the Django app writes: an attempt waits, the coach's reply answers it.
    let from_django = django_comment(&app, tom, &scales, None);
    let page = app.page_with(&ann_client, "/inbox").await;
    assert_eq!(listed(&page), ["sue_student|Scales", "tom_student|Scales"]);
    assert_eq!(nav_count(&page).as_deref(), Some("2"));
    django_comment(&app, ann, &scales, Some(from_django));
    assert_eq!(
        listed(&app.page_with(&ann_client, "/inbox").await),
        ["sue_student|Scales"]
    );
    // An admin's reply answers too (bob is another coach: his does not).
    post(&app, bob, &scales, "drive-by", Some(oldest));
    assert_eq!(listed(&app.page_with(&ann_client, "/inbox").await).len(), 1);
    let staff = app.create_staff("staffer", crate::helpers::GOOD_PASSWORD);
    django_comment(&app, staff, &scales, Some(oldest));
    let page = app.page_with(&ann_client, "/inbox").await;
    assert!(listed(&page).is_empty());
    assert_eq!(nav_count(&page), None, "no count when nothing waits");
    assert!(page.has(".nav-inbox"), "the link stays");
    assert!(page.has(".empty-state"));
}

#[actix_web::test]
async fn seen_no_reply_needed_takes_an_attempt_out_once() {
    let app = crate::helpers::spawn_app().await;
    let (ann, ann_client) = app.user_client("ann_coach", "coach").await;
    let (_, bob_client) = app.user_client("bob_coach", "coach").await;
    let (sue, sue_client) = app.user_client("sue_student", "student").await;
    let scales = exercise(&app, ann, "Scales");
    let first = post(&app, sue, &scales, "one", None);
    let second = post(&app, sue, &scales, "two", None);
    let page = app.page_with(&ann_client, "/inbox").await;
    let form = format!("#attempt-{first} form");
    let path = format!("/inbox/{first}/seen");

    // Someone else than the exercise's coach: 404, nothing changes.
    for client in [&bob_client, &sue_client] {
        let csrf = app.csrf_token_with(client).await;
        let response = client
            .post(app.url(&path))
            .form(&[("csrf_token", csrf.as_str()), ("back", "/inbox")])
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status().as_u16(), 404);
    }
    // Without the CSRF token: refused.
    let response = ann_client
        .post(app.url(&path))
        .form(&[("back", "/inbox")])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 403);
    // A forged one-time key: a clear message, nothing changes.
    let csrf = page
        .attr(&format!("{form} input[name=csrf_token]"), "value")
        .expect("csrf");
    let response = ann_client
        .post(app.url(&path))
        .form(&[("csrf_token", csrf.as_str()), ("once", "1.2.3"), ("back", "/inbox")])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 303);
    let again = app.page_with(&ann_client, "/inbox").await;
    assert!(again.text.contains("could not be checked"), "the key's problem is said");
    assert_eq!(again.select_text(".inbox-item").len(), 2);

    // The coach, twice with the same form: marked once, the same answer.
    let back = page.attr(&format!("{form} input[name=back]"), "value").expect("back");
    let back_field: &[(&str, &str)] = &[("back", &back)];
    let answers =
        futures_util::future::join_all((0..3).map(|_| send(&app, &ann_client, &page, &form, &path, back_field))).await;
    for response in &answers {
        assert_eq!(response.status().as_u16(), 303);
        assert_eq!(location(response), back);
    }
    let after = app.page_with(&ann_client, "/inbox").await;
    assert!(
        after.text.contains("Marked as seen"),
        "{}",
        after.select_text(".flash").join(" | ")
    );
    assert_eq!(after.select_text(".inbox-item").len(), 1);
    assert!(after.has(&format!("#attempt-{second}")));
    let claims: i64 = practika::db::schema::accounts_formsubmission::table
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(claims, 1, "one claim of the key");
    // A reply later does not change when it was seen.
    let seen_at: Option<Ts> = comments_videocomment::table
        .find(first)
        .select(comments_videocomment::answered_at)
        .first(&mut *app.conn())
        .expect("row");
    assert!(seen_at.is_some());
    // A reply's id is not an attempt: 404.
    let reply = post(&app, sue, &scales, "a reply", Some(second));
    let fresh = app.page_with(&ann_client, "/inbox").await;
    let response = send(
        &app,
        &ann_client,
        &fresh,
        &format!("#attempt-{second} form"),
        &format!("/inbox/{reply}/seen"),
        &[],
    )
    .await;
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(
        app.page_with(&ann_client, "/inbox")
            .await
            .select_text(".inbox-item")
            .len(),
        1
    );
}

/// The open requests in the database for a student.
fn open_requests(app: &TestApp, student: i32) -> Vec<(Id, Option<Id>)> {
    comments_retryrequest::table
        .filter(comments_retryrequest::student_id.eq(student))
        .order(comments_retryrequest::created_at.asc())
        .select((comments_retryrequest::note_id, comments_retryrequest::resolved_by_id))
        .load(&mut *app.conn())
        .expect("requests")
}

#[actix_web::test]
async fn try_again_goes_on_the_to_do_list_and_the_next_attempt_resolves_it() {
    let app = crate::helpers::spawn_app().await;
    let (ann, ann_client) = app.user_client("ann_coach", "coach").await;
    let (_, admin) = app.user_client("the_admin", "admin").await;
    let (sue, sue_client) = app.user_client("sue_student", "student").await;
    let (tom, tom_client) = app.user_client("tom_student", "student").await;
    let scales = exercise(&app, ann, "Scales");
    let attempt = post(&app, sue, &scales, "first try", None);
    let toms = post(&app, tom, &scales, "tom's try", None);
    let thread_path = format!("/exercises/{}", scales.id);
    let post_path = format!("/exercises/{}/comments", scales.id);

    // Only the coach (and admins) see the checkbox; a student who sends it
    // anyway gets a clear message and nothing is stored.
    let coach_view = app.page_with(&ann_client, &thread_path).await;
    assert!(coach_view.has(&format!("#comment-{attempt} form[data-retry]")));
    let tom_view = app.page_with(&tom_client, &thread_path).await;
    assert!(!tom_view.has("input[name=retry]") && !tom_view.has("form[data-retry]"));
    // Without JavaScript the reply form comes in full: the checkbox is there.
    let full = app
        .page_with(&ann_client, &format!("{thread_path}?choose={attempt}"))
        .await;
    assert!(full.has(&format!("#comment-{attempt} input[name=retry]")));
    let response = send(
        &app,
        &tom_client,
        &tom_view,
        &format!("#comment-{attempt} form[data-once]"),
        &post_path,
        &[("parent_id", &attempt.to_string()), ("text", "again!"), ("retry", "1")],
    )
    .await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(response.text().await.expect("body").contains("Only the exercise"));
    assert!(open_requests(&app, sue).is_empty());

    // The coach asks, pinning 0:01–0:02.5 of the demonstration.
    let response = send(
        &app,
        &ann_client,
        &coach_view,
        &format!("#comment-{attempt} form[data-once]"),
        &post_path,
        &[
            ("parent_id", &attempt.to_string()),
            ("text", "Once more, slower in the turn"),
            ("retry", "1"),
            ("range_start", "1"),
            ("range_end", "2.5"),
        ],
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    let requests = open_requests(&app, sue);
    assert_eq!(requests.len(), 1);
    let note = requests[0].0;
    assert_eq!(requests[0].1, None);
    // The reply answered the attempt.
    let inbox = app.page_with(&ann_client, "/inbox").await;
    assert_eq!(listed(&inbox), ["tom_student|Scales"]);

    // Sue's to-do list; not Tom's, not the coach's, not anonymous.
    let home = app.page_with(&sue_client, "/").await;
    assert_eq!(home.select_text(".todo-item .todo-title"), ["Scales"]);
    assert_eq!(home.select_text(".todo-note"), ["Once more, slower in the turn"]);
    assert_eq!(home.select_text(".todo-range"), ["0:01–0:02.5 of the demonstration"]);
    assert_eq!(
        home.attr(".todo-title a", "href"),
        Some(format!("/exercises/{}#comment-{attempt}", scales.id))
    );
    assert!(!app.page_with(&tom_client, "/").await.has(".todo-item"));
    assert!(!app.page_with(&ann_client, "/").await.has(".todo-item"));
    assert!(!app.page("/").await.has(".todo"));
    // The note says it waits.
    let thread = app.page_with(&sue_client, &thread_path).await;
    let label = thread.select_text(&format!("#comment-{note} .chain-ask"));
    assert!(label[0].contains("waiting for the next attempt"), "{label:?}");

    // Tom's new attempt resolves nothing of Sue's; Sue's does.
    post(&app, tom, &scales, "tom again", None);
    assert_eq!(open_requests(&app, sue)[0].1, None);
    let sue_view = app.page_with(&sue_client, &thread_path).await;
    let response = send(
        &app,
        &sue_client,
        &sue_view,
        "details.compose form[data-once]",
        &post_path,
        &[("text", "Slower now")],
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    let resolved = open_requests(&app, sue);
    let retry = resolved[0].1.expect("resolved by the new attempt");
    assert!(
        !app.page_with(&sue_client, "/").await.has(".todo-item"),
        "the to-do list is empty"
    );

    // The retry is in the inbox, linked to the note it answers.
    let inbox = app.page_with(&ann_client, "/inbox").await;
    assert!(inbox.has(&format!("#attempt-{retry}")));
    let link = inbox.select_text(&format!("#attempt-{retry} .chain-link"));
    assert!(link[0].contains("answers your note of"), "{link:?}");
    assert_eq!(
        inbox.attr(&format!("#attempt-{retry} .chain-link a"), "href"),
        Some(format!("/exercises/{}#comment-{note}", scales.id))
    );
    // The thread shows the chain both ways.
    let thread = app.page_with(&tom_client, &thread_path).await;
    assert_eq!(
        thread.attr(&format!("#comment-{retry} > article .chain-retry a"), "href"),
        Some(format!("/exercises/{}#comment-{note}", scales.id))
    );
    assert_eq!(
        thread.attr(&format!("#comment-{note} .chain-ask a"), "href"),
        Some(format!("/exercises/{}#comment-{retry}", scales.id))
    );

    // An admin may ask too; their own attempt cannot be asked about.
    let admin_view = app.page_with(&admin, &thread_path).await;
    let response = send(
        &app,
        &admin,
        &admin_view,
        &format!("#comment-{toms} form[data-once]"),
        &post_path,
        &[
            ("parent_id", &toms.to_string()),
            ("text", "Again please"),
            ("retry", "on"),
        ],
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(open_requests(&app, tom).len(), 1);
    let own = post(&app, ann, &scales, "my own demo take", None);
    let coach_view = app.page_with(&ann_client, &thread_path).await;
    assert!(!coach_view.has(&format!("#comment-{own} input[name=retry]")));
    let response = send(
        &app,
        &ann_client,
        &coach_view,
        &format!("#comment-{own} form[data-once]"),
        &post_path,
        &[
            ("parent_id", &own.to_string()),
            ("text", "note to self"),
            ("retry", "1"),
        ],
    )
    .await;
    assert_eq!(response.status().as_u16(), 422);
    // Deleting the retry opens the request again.
    diesel::delete(comments_videocomment::table.find(retry))
        .execute(&mut *app.conn())
        .expect("delete");
    assert_eq!(open_requests(&app, sue)[0].1, None);
    assert!(app.page_with(&sue_client, "/").await.has(".todo-item"));
    // An attempt the Django app writes resolves it as well.
    let from_django = django_comment(&app, sue, &scales, None);
    assert_eq!(open_requests(&app, sue)[0].1, Some(from_django));
}
