//! Chromium through chromedriver, and the steps a browser test is written in.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tokio::sync::watch;

use practika::db::Id;
use practika::videos::queries::Asset;

use crate::helpers::{spawn_app, TestApp, GOOD_PASSWORD};
use crate::media_fixtures::{sample_bytes, Sample};

/// axe-core from npm, vendored with its licence (tests/vendor/axe-core).
const AXE: &str = include_str!("../../vendor/axe-core/axe.min.js");

/// The two widths every checked page is photographed at.
pub const WIDTHS: [u32; 2] = [375, 1280];

const INSTALL: &str = "apt-get install chromium chromium-driver";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

fn find_program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return path.is_file().then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One chromedriver process for one test; its browsers end with it.
struct Driver {
    child: Child,
    port: u16,
    chromium: PathBuf,
    sessions: Mutex<Vec<String>>,
}

impl Driver {
    /// `None` when chromedriver or Chromium is missing outside CI (the test
    /// is skipped, saying how to install them); in CI that is a failure.
    fn start(test: &str) -> Option<Driver> {
        let driver = find_program("PRACTIKA_CHROMEDRIVER", &["chromedriver"]);
        let chromium = find_program("PRACTIKA_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]);
        let (Some(driver), Some(chromium)) = (driver, chromium) else {
            let message = format!(
                "browser test {test}: chromedriver or chromium not found. Install them ({INSTALL}) \
                 or point PRACTIKA_CHROMEDRIVER / PRACTIKA_CHROMIUM at them."
            );
            if in_ci() {
                panic!("{message} CI is set, so this is a failure, not a skip.");
            }
            // Straight to the terminal: libtest keeps a passing test's
            // eprintln! to itself, and this must be seen.
            let _ = writeln!(std::io::stderr(), "SKIPPED {message}");
            return None;
        };
        let port = free_port();
        use std::os::unix::process::CommandExt;
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .arg("--log-level=WARNING")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: the browsers it starts go with it.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Driver {
            child,
            port,
            chromium,
            sessions: Mutex::new(Vec::new()),
        })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Ends a session without the async runtime (from `Drop`).
    fn delete_session(&self, id: &str) {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!(
            "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            let _ = stream.read_to_end(&mut Vec::new());
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let sessions = std::mem::take(&mut *self.sessions.lock().unwrap_or_else(|e| e.into_inner()));
        for id in sessions {
            self.delete_session(&id);
        }
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a test found on the way: accessibility violations and script
/// errors, per page, checked at the end.
struct Report {
    dir: PathBuf,
    base: String,
    findings: Mutex<Vec<String>>,
    pages: Mutex<Vec<String>>,
    shots: Mutex<u32>,
}

/// A running app with a worker, a chromedriver, and the report.
/// What [`BrowserApp::attempt_awaiting_review`] made.
pub struct AwaitingReview {
    pub exercise: Id,
    /// The coach's demonstration.
    pub demo: Asset,
    /// The student's video.
    pub attempt: Asset,
    /// The student's comment that carries it.
    pub comment: Id,
}

pub struct BrowserApp {
    pub app: TestApp,
    driver: Driver,
    report: Arc<Report>,
    stop_worker: watch::Sender<bool>,
    worker: Option<actix_web::rt::task::JoinHandle<()>>,
}

impl BrowserApp {
    /// The app on a fresh database, a real worker polling its queue, and
    /// chromedriver. `None`: skipped (chromedriver missing, not in CI).
    pub async fn start(test: &str) -> Option<BrowserApp> {
        let driver = Driver::start(test)?;
        let app = spawn_app().await;
        let worker = app.worker().with_poll_interval(Duration::from_millis(100));
        let (stop_worker, stop) = watch::channel(false);
        let handle = actix_web::rt::spawn(async move { worker.run(stop).await });
        let root = std::env::var_os("PRACTIKA_BROWSER_ARTIFACTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-artifacts"));
        let dir = root.join(format!("{test}-{}", app.backend().name()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("artifacts folder");
        let report = Arc::new(Report {
            dir,
            base: app.address.clone(),
            findings: Mutex::default(),
            pages: Mutex::default(),
            shots: Mutex::new(0),
        });
        Some(BrowserApp {
            app,
            driver,
            report,
            stop_worker,
            worker: Some(handle),
        })
    }

    /// Waits for the background worker to finish processing a video.
    pub async fn wait_for_processing(&self, id: Id) -> Asset {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let asset = self.app.asset(id);
            if asset.status().is_settled() {
                assert_eq!(asset.processing_status, "ready", "{:?}", asset.processing_error);
                return asset;
            }
            assert!(Instant::now() < deadline, "the video {id} was not processed in time");
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The path of the link in the newest email to `address` that
    /// contains `prefix` (emails are sent by the worker, over SMTP).
    pub async fn emailed_link(&self, address: &str, prefix: &str) -> String {
        self.emailed_link_about(address, prefix, "").await
    }

    /// The link in the newest email to `address` that also says `words`
    /// (another email with such a link may come first or after).
    pub async fn emailed_link_about(&self, address: &str, prefix: &str, words: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30 * patience());
        let base = format!("{}{prefix}", crate::helpers::PUBLIC_URL);
        loop {
            let found = self.app.mail.received().into_iter().rev().find(|m| {
                m.recipients.iter().any(|r| r == address) && m.text().contains(&base) && m.text().contains(words)
            });
            if let Some(mail) = found {
                return self.app.path_of(&mail.link(&base));
            }
            assert!(Instant::now() < deadline, "no email to {address} with a {prefix} link");
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A processed upload of `sample` by a user with a client of their own.
    pub async fn processed_video(&self, client: &reqwest::Client, sample: Sample, filename: &str) -> Asset {
        let id = self.app.upload_ok(client, sample_bytes(sample), filename).await;
        self.wait_for_processing(id).await
    }

    /// The studio's starting point, made without the browser: coach "cora"
    /// published "The serve" with a demonstration, and student "stu" posted
    /// an attempt ("My serve", a video of its own), both processed.
    pub async fn attempt_awaiting_review(&self) -> AwaitingReview {
        use practika::comments::queries::{self as comments, Draft};
        use practika::exercises::queries::{self as exercises, Draft as ExerciseDraft};
        let app = &self.app;
        let (coach_id, coach_client) = app.user_client("cora", "coach").await;
        let (student_id, student_client) = app.user_client("stu", "student").await;
        // Both uploads first, then the wait: a client idle through a whole
        // processing finds its pooled connection closed by the server.
        let demo = app
            .upload_ok(&coach_client, sample_bytes(Sample::Player), "Serve.mp4")
            .await;
        let attempt = app
            .upload_ok(&student_client, sample_bytes(Sample::Player), "My serve.mp4")
            .await;
        let demo = self.wait_for_processing(demo).await;
        let attempt = self.wait_for_processing(attempt).await;
        let exercise = exercises::create(
            &mut app.conn(),
            coach_id,
            &ExerciseDraft {
                name: "The serve".into(),
                description: None,
                video_asset_id: demo.id,
            },
        )
        .map_err(|_| "the exercise could not be made")
        .expect("exercise");
        let comment = comments::create(
            &mut app.conn(),
            student_id,
            &exercise,
            &Draft {
                text: Some("My serve".into()),
                video: Some(attempt.id),
                ..Default::default()
            },
        )
        .expect("comment");
        AwaitingReview {
            exercise: exercise.id,
            demo,
            attempt,
            comment: comment.id,
        }
    }

    /// A browser of its own (fresh profile: no cookies) for `who`.
    pub async fn tab(&self, who: &str) -> Tab {
        let profile = tempfile::tempdir().expect("browser profile");
        let args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--use-fake-device-for-media-stream".to_owned(),
            "--use-fake-ui-for-media-stream".to_owned(),
            "--autoplay-policy=no-user-gesture-required".to_owned(),
            "--mute-audio".to_owned(),
            "--window-size=1280,900".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": self.driver.chromium, "args": args },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let capabilities: Capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!("an object"),
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.driver.url())
            .await
            .unwrap_or_else(|e| panic!("cannot start Chromium for {who}: {e}"));
        if let Ok(Some(id)) = client.session_id().await {
            self.driver.sessions.lock().expect("sessions").push(id);
        }
        Tab {
            client,
            who: who.to_owned(),
            report: self.report.clone(),
            _profile: profile,
        }
    }

    /// The findings so far, cleared (for a test of the checks themselves).
    pub fn take_findings(&self) -> Vec<String> {
        std::mem::take(&mut *self.report.findings.lock().expect("findings"))
    }

    /// Closes the browsers, stops the worker, writes the report and fails on
    /// any finding (every page's, not just the first).
    pub async fn finish(mut self, tabs: Vec<Tab>) {
        for tab in tabs {
            let _ = tab.client.close().await;
        }
        self.driver.sessions.lock().expect("sessions").clear();
        let _ = self.stop_worker.send(true);
        if let Some(worker) = self.worker.take() {
            let _ = worker.await;
        }
        let findings = self.report.findings.lock().expect("findings").clone();
        let pages = self.report.pages.lock().expect("pages").clone();
        let text = format!(
            "Pages checked ({}):\n{}\n\nFindings ({}):\n{}\n",
            pages.len(),
            pages.join("\n"),
            findings.len(),
            findings.join("\n")
        );
        std::fs::write(self.report.dir.join("report.txt"), &text).expect("write the report");
        assert!(
            findings.is_empty(),
            "the browser suite found problems (report and screenshots in {}):\n{}",
            self.report.dir.display(),
            findings.join("\n")
        );
    }
}

/// A chromedriver command Fantoccini has no method for.
#[derive(Debug)]
struct Raw {
    path: &'static str,
    body: Value,
}

impl WebDriverCompatibleCommand for Raw {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/{}", session.unwrap_or_default(), self.path))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

/// XPath string literal (quotes in the text included).
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// What the focused element is called, and whether its focus is visible.
const FOCUSED: &str = r#"
const el = document.activeElement;
if (!el || el === document.body) { return { name: "", tag: "body", visible: false }; }
const norm = (s) => (s || "").replace(/\s+/g, " ").trim();
let name = el.getAttribute("aria-label") || "";
if (!name && el.labels && el.labels.length) { name = el.labels[0].textContent; }
if (!name) { name = el.innerText || el.value || el.title || ""; }
const style = getComputedStyle(el);
const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
const shadow = style.boxShadow && style.boxShadow !== "none";
return { name: norm(name), tag: el.tagName.toLowerCase(), visible: outline || shadow };
"#;

/// One person's browser.
pub struct Tab {
    pub client: Client,
    pub who: String,
    report: Arc<Report>,
    _profile: tempfile::TempDir,
}

impl Tab {
    fn finding(&self, text: String) {
        self.report.findings.lock().expect("findings").push(text);
    }

    async fn raw(&self, path: &'static str, body: Value) -> Value {
        self.client
            .issue_cmd(Raw {
                path,
                body: body.clone(),
            })
            .await
            .unwrap_or_else(|e| panic!("{path} {body}: {e}"))
    }

    /// A Chrome DevTools command.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.raw("goog/cdp/execute", json!({ "cmd": cmd, "params": params }))
            .await
    }

    pub async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.report.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("{}: open {url}: {e}", self.who));
    }

    /// The current path with its query.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("{}: script failed: {e}\n{script}", self.who))
    }

    /// Runs an async script: it calls `arguments[arguments.length - 1]`.
    pub async fn js_async(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute_async(script, args)
            .await
            .unwrap_or_else(|e| panic!("{}: script failed: {e}\n{script}", self.who))
    }

    /// Polls a script until it returns true, for up to `seconds` times the
    /// [`patience`] (a passing wait returns as soon as it holds).
    pub async fn wait_until(&self, what: &str, seconds: u64, script: &str) {
        let deadline = Instant::now() + Duration::from_secs(seconds * patience());
        loop {
            if self.js(script, vec![]).await == Value::Bool(true) {
                return;
            }
            if Instant::now() > deadline {
                let path = self.path().await;
                let shot = self.snapshot(&format!("timeout-{}", slug(what))).await;
                panic!(
                    "{}: timed out waiting for {what} on {path} (screenshot {shot})",
                    self.who
                );
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.js("return document.body.innerText;", vec![])
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn wait_for_text(&self, text: &str, seconds: u64) {
        let script = format!(
            "return document.body.innerText.includes({});",
            serde_json::to_string(text).expect("json")
        );
        self.wait_until(&format!("the text “{text}”"), seconds, &script).await;
    }

    pub async fn sees(&self, text: &str) -> bool {
        self.text().await.contains(text)
    }

    /// The first displayed element of an XPath.
    async fn shown(&self, xpath: &str, what: &str) -> Element {
        let deadline = Instant::now() + Duration::from_secs(5 * patience());
        loop {
            let found = self.client.find_all(Locator::XPath(xpath)).await.unwrap_or_default();
            for element in found {
                if element.is_displayed().await.unwrap_or(false) {
                    return element;
                }
            }
            if Instant::now() > deadline {
                let path = self.path().await;
                let shot = self.snapshot(&format!("missing-{}", slug(what))).await;
                panic!("{}: no {what} on {path} (screenshot {shot})", self.who);
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A form control by its label (or `aria-label`).
    pub async fn field(&self, label: &str) -> Element {
        let l = xpath_literal(label);
        let xpath = format!(
            "//*[@id = //label[normalize-space() = {l}]/@for] | //*[@aria-label = {l}][self::input or self::select or self::textarea]"
        );
        self.shown(&xpath, &format!("field “{label}”")).await
    }

    pub async fn fill(&self, label: &str, value: &str) {
        let field = self.field(label).await;
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("type");
    }

    /// Picks an option of a select by its text.
    pub async fn choose(&self, label: &str, option: &str) {
        let field = self.field(label).await;
        field
            .select_by_label(option)
            .await
            .unwrap_or_else(|e| panic!("{}: no option “{option}” in “{label}”: {e}", self.who));
    }

    /// A button (or a disclosure's summary) by what it says or its `aria-label`.
    pub async fn button(&self, name: &str) -> Element {
        let n = xpath_literal(name);
        let xpath = format!(
            "//button[normalize-space() = {n} or @aria-label = {n}] | //summary[normalize-space() = {n}] | //input[@type = 'submit' and @value = {n}]"
        );
        self.shown(&xpath, &format!("button “{name}”")).await
    }

    /// Clicks as a person does, after bringing the element into view at
    /// once (the site scrolls smoothly, and a moving target is missed).
    /// Scrolls the element to the middle and clicks it. A page still
    /// settling (a player or a script filling forms shifts the layout) can
    /// move it between the scroll and the click; then it scrolls and tries
    /// again, as a person would, for a few seconds.
    pub async fn click(&self, element: &Element, what: &str) {
        let arg = serde_json::to_value(element).expect("an element reference");
        let deadline = Instant::now() + Duration::from_secs(2 * patience());
        loop {
            self.js(
                "arguments[0].scrollIntoView({ block: 'center', inline: 'nearest', behavior: 'instant' });",
                vec![arg.clone()],
            )
            .await;
            match element.click().await {
                Ok(()) => return,
                Err(error) => {
                    let moved = error.to_string().contains("not clickable");
                    if !moved || Instant::now() > deadline {
                        let shot = self.snapshot(&format!("click-{}", slug(what))).await;
                        panic!("{}: cannot click {what}: {error} (screenshot {shot})", self.who);
                    }
                }
            }
            actix_web::rt::time::sleep(Duration::from_millis(150)).await;
        }
    }

    pub async fn press_button(&self, name: &str) {
        let button = self.button(name).await;
        self.click(&button, &format!("the button “{name}”")).await;
    }

    pub async fn link(&self, name: &str) -> Element {
        let n = xpath_literal(name);
        self.shown(&format!("//a[normalize-space() = {n}]"), &format!("link “{name}”"))
            .await
    }

    pub async fn follow_link(&self, name: &str) {
        let link = self.link(name).await;
        self.click(&link, &format!("the link “{name}”")).await;
    }

    /// Gives a file input a file, as choosing it in the dialog does.
    pub async fn upload(&self, label: &str, file: &Path) {
        let field = self.field(label).await;
        field
            .send_keys(&file.display().to_string())
            .await
            .unwrap_or_else(|e| panic!("{}: cannot choose {}: {e}", self.who, file.display()));
    }

    /// Uploads go at most this fast (0: no limit), as on a slow connection.
    pub async fn throttle_upload(&self, bytes_per_second: u64) {
        self.cdp("Network.enable", json!({})).await;
        let upload = if bytes_per_second == 0 {
            -1.0
        } else {
            bytes_per_second as f64
        };
        self.cdp(
            "Network.emulateNetworkConditions",
            json!({ "offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": upload }),
        )
        .await;
    }

    /// The browser's time zone, as the operating system would set it.
    pub async fn set_time_zone(&self, zone: &str) {
        self.cdp("Emulation.setTimezoneOverride", json!({ "timezoneId": zone }))
            .await;
    }

    pub async fn log_in(&self, username: &str) {
        self.log_in_with(username, GOOD_PASSWORD).await;
    }

    pub async fn log_in_with(&self, username: &str, password: &str) {
        self.goto("/login").await;
        self.fill("Username", username).await;
        self.fill("Password", password).await;
        self.press_button("Log in").await;
        self.wait_until("the login", 10, "return !location.pathname.startsWith('/login');")
            .await;
    }

    // ------------------------------------------------------------ keyboard

    /// Presses one key (a character, or a [`Key`]) on whatever has focus.
    pub async fn press(&self, key: impl Into<char>) {
        let key = key.into();
        let actions = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client.perform_actions(actions).await.expect("key press");
    }

    pub async fn type_text(&self, text: &str) {
        let mut actions = KeyActions::new("keyboard".to_owned());
        for c in text.chars() {
            actions = actions
                .then(KeyAction::Down { value: c })
                .then(KeyAction::Up { value: c });
        }
        self.client.perform_actions(actions).await.expect("typing");
    }

    /// What has focus: (accessible name, tag, focus visible).
    pub async fn focused(&self) -> (String, String, bool) {
        let value = self.js(FOCUSED, vec![]).await;
        (
            value["name"].as_str().unwrap_or_default().to_owned(),
            value["tag"].as_str().unwrap_or_default().to_owned(),
            value["visible"].as_bool().unwrap_or(false),
        )
    }

    /// Presses Tab until the focused element is called `name`, as a
    /// keyboard user does; every stop on the way must show its focus.
    pub async fn tab_to(&self, name: &str) {
        let tab: char = Key::Tab.into();
        let mut seen = Vec::new();
        for _ in 0..80 {
            self.press(tab).await;
            let (focused, tag, visible) = self.focused().await;
            // A <video>'s own controls (and an embed's) draw their focus
            // inside their shadow tree, where the page's styles do not reach.
            if !matches!(tag.as_str(), "body" | "video" | "iframe") && !visible {
                let path = self.path().await;
                self.finding(format!(
                    "keyboard: focus is not visible on the {tag} “{focused}” ({path}, {})",
                    self.who
                ));
            }
            if focused == name {
                return;
            }
            seen.push(focused);
        }
        let path = self.path().await;
        panic!(
            "{}: Tab never reached “{name}” on {path}; it went through {seen:?}",
            self.who
        );
    }

    /// Tabs to a control and presses Enter on it.
    pub async fn keyboard_activate(&self, name: &str) {
        self.tab_to(name).await;
        self.press(Key::Enter).await;
    }

    /// Moves the focus to the start of the page, as a freshly loaded page has it.
    pub async fn focus_start(&self) {
        self.js(
            "document.activeElement && document.activeElement.blur(); window.focus();",
            vec![],
        )
        .await;
    }

    // ------------------------------------------------------------ checking

    /// Runs axe-core on the page (serious and critical violations become
    /// findings), collects script errors from the console, and takes the
    /// page's screenshots at 375 and 1280 px.
    pub async fn check_page(&self, name: &str) {
        self.wait_until("the page to load", 20, "return document.readyState === 'complete';")
            .await;
        let path = self.path().await;
        self.report
            .pages
            .lock()
            .expect("pages")
            .push(format!("{name} ({path}, {})", self.who));
        self.axe(name, &path).await;
        self.console(name, &path).await;
        self.screenshots(name).await;
    }

    async fn axe(&self, name: &str, path: &str) {
        let loaded = self.js("return typeof window.axe === 'object';", vec![]).await;
        if loaded != Value::Bool(true) {
            self.js(&format!("{AXE}\n;return typeof window.axe;"), vec![]).await;
        }
        let result = self
            .js_async(
                r#"const done = arguments[arguments.length - 1];
                window.axe.run(document, { resultTypes: ["violations"] })
                  .then((r) => done(r.violations.map((v) => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: " + (n.failureSummary || "").replace(/\s+/g, " ")),
                  }))))
                  .catch((e) => done({ error: String(e) }));"#,
                vec![],
            )
            .await;
        if let Some(error) = result.get("error") {
            self.finding(format!("axe could not run on {name} ({path}): {error}"));
            return;
        }
        for violation in result.as_array().cloned().unwrap_or_default() {
            let impact = violation["impact"].as_str().unwrap_or_default();
            if matches!(impact, "serious" | "critical") {
                self.finding(format!(
                    "axe {impact} `{}` on {name} ({path}, {}): {} — {}",
                    violation["id"].as_str().unwrap_or_default(),
                    self.who,
                    violation["help"].as_str().unwrap_or_default(),
                    violation["nodes"]
                ));
            }
        }
    }

    /// Script errors, CSP refusals and failed resources the page logged.
    async fn console(&self, name: &str, path: &str) {
        let logs = self.raw("se/log", json!({ "type": "browser" })).await;
        // The page's own status (an error page's 404) is not a failure of the page.
        let own = format!("{}{path} - Failed to load resource", self.report.base);
        for entry in logs.as_array().cloned().unwrap_or_default() {
            let level = entry["level"].as_str().unwrap_or_default();
            let message = entry["message"].as_str().unwrap_or_default();
            // Media requests the page cancels itself (switching quality) are not errors.
            if level == "SEVERE" && !message.contains("net::ERR_ABORTED") && !message.starts_with(&own) {
                self.finding(format!("console error on {name} ({path}, {}): {message}", self.who));
            }
        }
    }

    /// The whole page at both widths, as `NN-name-375.png` / `-1280.png`.
    pub async fn screenshots(&self, name: &str) {
        let number = {
            let mut shots = self.report.shots.lock().expect("shots");
            *shots += 1;
            *shots
        };
        for width in WIDTHS {
            self.cdp(
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 700 }),
            )
            .await;
            // Let the layout settle at the new width.
            self.js_async(
                "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await;
            // Nothing may make a phone scroll sideways (tables scroll inside their box).
            let wide = self
                .js("return document.documentElement.scrollWidth;", vec![])
                .await
                .as_u64()
                .unwrap_or(0);
            if wide > u64::from(width) {
                let path = self.path().await;
                self.finding(format!(
                    "layout: {name} ({path}, {}) is {wide} px wide at {width} px: it scrolls sideways",
                    self.who
                ));
            }
            let shot = self
                .cdp(
                    "Page.captureScreenshot",
                    json!({ "format": "png", "captureBeyondViewport": true }),
                )
                .await;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(shot["data"].as_str().unwrap_or_default())
                .expect("a PNG screenshot");
            let file = self.report.dir.join(format!("{number:02}-{}-{width}.png", slug(name)));
            std::fs::write(&file, bytes).expect("write a screenshot");
        }
        self.cdp("Emulation.clearDeviceMetricsOverride", json!({})).await;
    }

    /// A screenshot of the viewport, for a failure; returns its path.
    pub async fn snapshot(&self, name: &str) -> String {
        let file = self.report.dir.join(format!("{}-{}.png", slug(&self.who), slug(name)));
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(&file, png);
        }
        // The page's HTML beside it: what a screenshot scrolled elsewhere hides.
        if let Ok(html) = self.client.source().await {
            let _ = std::fs::write(file.with_extension("html"), html);
        }
        file.display().to_string()
    }
}

fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(60).collect()
}

/// How many times longer than its nominal time a wait may take before it
/// fails: the suite shares two cores with ffmpeg jobs and the other tests,
/// and a page that takes 12 s instead of 4 there is slow, not broken (CI once
/// failed the story on one such wait). `PRACTIKA_BROWSER_PATIENCE` sets it
/// (default 3).
fn patience() -> u64 {
    std::env::var("PRACTIKA_BROWSER_PATIENCE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n >= 1)
        .unwrap_or(3)
}
