//! The browser suite: Debian's Chromium driven through chromedriver
//! (fantoccini) against a server on 127.0.0.1 with a fresh database, the
//! real worker and the test SMTP server.
//!
//! What a test needs is here, so that later suites (review studio,
//! recording, practice mode) are a few lines each:
//!
//! - [`BrowserApp::start`]: the app, a worker running in the background,
//!   chromedriver, and the report (axe findings, screenshots) checked at the
//!   end. `None` (the test returns) when chromedriver is missing outside CI.
//! - [`BrowserApp::tab`]: a browser of its own (fresh profile, so fresh
//!   cookies) for one person; Chromium has fake camera and microphone.
//! - On a [`Tab`]: `goto`, `fill`, `choose`, `press_button`, `follow_link`
//!   (by what a user reads: labels, button and link text), `log_in`,
//!   `upload`, `throttle_upload`, `keyboard` steps (`tab_to`, `press`) that
//!   check the focus is visible, `check_page` (axe + screenshots at 375 and
//!   1280 px), `js`.
//!
//! Artifacts (screenshots, the axe report) go to
//! `$PRACTIKA_BROWSER_ARTIFACTS` or `target/tmp/browser-artifacts/`.

mod checks;
mod harness;
mod inbox;
mod once;
mod phone;
mod player;
mod progress;
mod recording;
mod resume;
mod story;
mod studio;
mod voice;

pub use harness::*;
