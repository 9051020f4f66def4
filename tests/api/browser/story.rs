//! The whole story in a browser: the first admin, invitations, an exercise
//! with a demonstration, an attempt, feedback with a clip, staff work.

use super::BrowserApp;
use crate::helpers::GOOD_PASSWORD;

#[actix_web::test]
async fn the_whole_story_in_a_browser() {
    let Some(browser) = BrowserApp::start("story").await else {
        return;
    };
    let setup = browser
        .app
        .setup_path
        .clone()
        .expect("a setup link while no admin exists");
    let admin = browser.tab("admin").await;
    admin.goto(&setup).await;
    admin.check_page("setup").await;
    admin.fill("Username", "ada").await;
    admin.fill("Email address", "ada@example.com").await;
    admin.fill("Password", GOOD_PASSWORD).await;
    admin.fill("Password again", GOOD_PASSWORD).await;
    admin.press_button("Create admin and log in").await;
    admin.wait_for_text("Log out", 10).await;
    admin.check_page("home (admin)").await;
    browser.finish(vec![admin]).await;
}
