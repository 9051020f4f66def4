//! A form marked `data-once` is sent once: a double click submits it once
//! and disables its button; shown again from the back-forward cache, the
//! button works again. (The server stores one row per key anyway: see
//! `double_submit.rs`.)

use super::BrowserApp;
use crate::helpers::GOOD_PASSWORD;

#[actix_web::test]
async fn a_double_click_sends_the_comment_once_and_the_button_comes_back() {
    let Some(browser) = BrowserApp::start("once").await else {
        return;
    };
    let app = &browser.app;
    let coach = app.create_user("once_coach_b", GOOD_PASSWORD, "coach");
    app.create_user("once_student_b", GOOD_PASSWORD, "student");
    let video =
        practika::videos::upload::add_youtube(&mut app.conn(), "https://www.youtube.com/watch?v=dQw4w9WgXcQ", coach)
            .expect("youtube")
            .0
            .id;
    let draft = practika::exercises::queries::Draft {
        name: "Click once".to_owned(),
        description: None,
        video_asset_id: video,
    };
    let exercise = practika::exercises::queries::create(&mut app.conn(), coach, &draft).expect("exercise");
    let tab = browser.tab("student").await;
    tab.log_in("once_student_b").await;
    tab.goto(&format!("/exercises/{}", exercise.id)).await;

    // Two clicks in a row: the second submit is dropped, and the button is
    // disabled. (The test's own listener, after the page's, counts the
    // submits that went through and keeps the page from leaving.)
    let clicked = tab
        .js_async(
            "const done = arguments[arguments.length - 1];
             let sent = 0;
             document.addEventListener('submit', (e) => { if (!e.defaultPrevented) { sent += 1; } e.preventDefault(); });
             const form = document.querySelector('form[data-once]');
             form.closest('details').open = true;
             form.querySelector('textarea[name=text]').value = 'Clicked twice';
             const button = form.querySelector('button[type=submit]');
             button.click();
             button.click();
             setTimeout(() => {
               const disabled = button.disabled;
               window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
               done({ sent, disabled, after: button.disabled });
             }, 50);",
            vec![],
        )
        .await;
    assert_eq!(clicked["sent"], 1, "{clicked}");
    assert_eq!(clicked["disabled"], true, "{clicked}");
    assert_eq!(clicked["after"], false, "shown again, the button works: {clicked}");

    // For real: the comment is posted once.
    tab.goto(&format!("/exercises/{}", exercise.id)).await;
    tab.js(
        "const form = document.querySelector('form[data-once]');
         form.closest('details').open = true;
         form.querySelector('textarea[name=text]').value = 'Posted once';
         const button = form.querySelector('button[type=submit]');
         button.click(); button.click();",
        vec![],
    )
    .await;
    tab.wait_for_text("Your comment is posted.", 10).await;
    assert_eq!(app.count("comments_videocomment"), 1);
    browser.finish(vec![tab]).await;
}
