//! The practice loop in Chromium: a student's attempt waits in the coach's
//! inbox; the coach asks for another try on part of it; the request is on
//! the student's to-do list; the retry resolves it and waits in the inbox
//! linked to the note; the coach marks it seen. Each page is checked with
//! axe and photographed at 375 and 1280 px.

use super::BrowserApp;
use crate::helpers::GOOD_PASSWORD;

#[actix_web::test]
async fn attempt_inbox_try_again_retry_resolved() {
    let Some(browser) = BrowserApp::start("inbox").await else {
        return;
    };
    let app = &browser.app;
    let coach = app.create_user("loop_coach", GOOD_PASSWORD, "coach");
    app.create_user("loop_student", GOOD_PASSWORD, "student");
    let video =
        practika::videos::upload::add_youtube(&mut app.conn(), "https://www.youtube.com/watch?v=dQw4w9WgXcQ", coach)
            .expect("youtube")
            .0
            .id;
    let draft = practika::exercises::queries::Draft {
        name: "Arpeggios in C".to_owned(),
        description: Some("Up and down, two octaves.".to_owned()),
        video_asset_id: video,
    };
    let exercise = practika::exercises::queries::create(&mut app.conn(), coach, &draft).expect("exercise");
    let thread = format!("/exercises/{}", exercise.id);

    // The student's attempt.
    let student = browser.tab("student").await;
    student.log_in("loop_student").await;
    student.goto(&thread).await;
    // An empty thread shows the form open.
    student.fill("Comment", "My first go at the arpeggios").await;
    student.press_button("Post").await;
    student.wait_for_text("Your comment is posted.", 10).await;

    // It waits in the coach's inbox; the navigation counts it.
    let tab = browser.tab("coach").await;
    tab.log_in("loop_coach").await;
    tab.goto("/").await;
    tab.wait_for_text("1 attempt waits for your feedback", 10).await;
    tab.check_page("coach's home with the inbox").await;
    tab.follow_link("Open the inbox").await;
    tab.wait_for_text("loop_student on Arpeggios in C", 10).await;
    assert!(tab.sees("waiting 1 minute").await, "how long it waited");
    tab.check_page("inbox").await;

    // The coach asks for another try.
    tab.follow_link("Open and reply").await;
    tab.press_button("Reply").await;
    tab.fill("Your reply", "Keep the thumb under, and once more from the top")
        .await;
    let retry = tab.field("Ask for another try").await;
    tab.click(&retry, "the “Ask for another try” box").await;
    tab.press_button("Post reply").await;
    tab.wait_for_text("Your reply is posted.", 10).await;
    tab.wait_for_text("waiting for the next attempt", 5).await;
    tab.goto("/inbox").await;
    tab.wait_for_text("All caught up", 10).await;
    tab.check_page("inbox, empty").await;

    // The student's to-do list, then the retry from it.
    student.goto("/").await;
    student.wait_for_text("To do: try again", 10).await;
    assert!(student.sees("Keep the thumb under").await);
    student.check_page("student's home with the to-do list").await;
    student.follow_link("Arpeggios in C").await;
    student.press_button("Post your attempt").await;
    student.fill("Comment", "Second go, thumb under").await;
    student.press_button("Post").await;
    student.wait_for_text("Your comment is posted.", 10).await;
    student.wait_for_text("answers the note of", 5).await;
    student.check_page("thread with the chain").await;
    student.goto("/").await;
    student.wait_for_text("Welcome", 10).await;
    assert!(!student.sees("To do: try again").await, "resolved: off the list");

    // The retry waits in the inbox, linked to the note it answers.
    tab.goto("/inbox").await;
    tab.wait_for_text("answers your note of", 10).await;
    tab.check_page("inbox with a retry").await;
    tab.press_button("Seen, no reply needed").await;
    tab.wait_for_text("Marked as seen", 10).await;
    tab.wait_for_text("All caught up", 5).await;
    tab.goto(&thread).await;
    tab.wait_for_text("answered by", 10).await;
    browser.finish(vec![student, tab]).await;
}
