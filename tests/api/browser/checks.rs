//! The suite's own checks can fail: a page with an image without a text,
//! a button without a name, a script error and an element wider than a
//! phone gets every one of them reported.

use super::BrowserApp;

#[actix_web::test]
async fn the_checks_report_what_a_bad_page_gets_wrong() {
    let Some(browser) = BrowserApp::start("checks").await else {
        return;
    };
    let tab = browser.tab("checker").await;
    tab.goto("/login").await;
    tab.check_page("log in, as it is").await;
    assert_eq!(browser.take_findings(), Vec::<String>::new(), "the real page is clean");

    // Break the page the way a careless change would.
    tab.js(
        "const main = document.querySelector('main');
         const img = document.createElement('img'); img.src = '/static/img/favicon.svg'; main.append(img);
         const button = document.createElement('button'); main.append(button);
         const wide = document.createElement('div'); wide.style.width = '900px'; wide.textContent = 'wide'; main.append(wide);
         setTimeout(() => { throw new Error('broken on purpose'); }, 0);",
        vec![],
    )
    .await;
    tab.wait_until("the error to be thrown", 5, "return true;").await;
    tab.check_page("log in, broken").await;
    let findings = browser.take_findings();
    let has = |what: &str| findings.iter().any(|f| f.contains(what));
    assert!(has("`image-alt`"), "{findings:#?}");
    assert!(has("`button-name`"), "{findings:#?}");
    assert!(has("broken on purpose"), "{findings:#?}");
    assert!(has("scrolls sideways"), "{findings:#?}");
    browser.finish(vec![tab]).await;
}
