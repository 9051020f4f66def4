//! `spawn_app()` and the helpers the tests share.

use std::sync::Arc;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use practika::accounts::{password, queries};
use practika::config::Settings;
use practika::db::{self, Backend, DbConn, Pool};
use practika::startup::Application;
use scraper::{Html, Selector};

use crate::mail::MailServer;

pub const PG_ENV: &str = "PRACTIKA_TEST_DATABASE_URL";
pub const GOOD_PASSWORD: &str = "violet-harbour-91";
pub const PUBLIC_URL: &str = "http://practika.test";

/// A database for one test: an SQLite file in the test's folder, or a fresh
/// PostgreSQL database dropped when the test ends.
pub struct TestDb {
    pub url: String,
    pg_drop: Option<(String, String)>,
}

impl TestDb {
    pub fn create(dir: &std::path::Path) -> TestDb {
        match std::env::var(PG_ENV).ok().filter(|v| !v.is_empty()) {
            Some(admin_url) => {
                let name = format!("practika_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(&admin_url)
                    .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is unreachable: {e}"));
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                TestDb {
                    url: with_database(&admin_url, &name),
                    pg_drop: Some((admin_url, name)),
                }
            }
            None => TestDb {
                url: format!("sqlite://{}", dir.join("practika.db").display()),
                pg_drop: None,
            },
        }
    }

    pub fn backend(&self) -> Backend {
        Backend::from_url(&self.url)
    }

    /// A URL this test does not own (nothing is dropped at the end).
    pub fn pointing_at(url: &str) -> TestDb {
        TestDb {
            url: url.to_owned(),
            pg_drop: None,
        }
    }

    /// Takes ownership of a PostgreSQL database made by the test itself.
    pub fn owning(url: &str) -> TestDb {
        let pg_drop = match (Backend::from_url(url), std::env::var(PG_ENV)) {
            (Backend::Postgres, Ok(admin)) => {
                let name = url::Url::parse(url)
                    .ok()
                    .map(|u| u.path().trim_start_matches('/').to_owned());
                name.map(|name| (admin, name))
            }
            _ => None,
        };
        TestDb {
            url: url.to_owned(),
            pg_drop,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg_drop.take() {
            if let Ok(mut admin) = PgConnection::establish(&admin_url) {
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("PostgreSQL URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

pub fn test_settings(database_url: &str, data_dir: &std::path::Path, smtp_url: &str) -> Settings {
    test_settings_with(database_url, data_dir, smtp_url, &[])
}

/// Test settings with more variables (`extra` wins over the defaults).
pub fn test_settings_with(
    database_url: &str,
    data_dir: &std::path::Path,
    smtp_url: &str,
    extra: &[(&str, &str)],
) -> Settings {
    let mut vars: Vec<(String, String)> = extra.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    vars.extend([
        ("DATABASE_URL".to_owned(), database_url.to_owned()),
        ("PRACTIKA_BIND".to_owned(), "127.0.0.1:0".to_owned()),
        ("PRACTIKA_DATA_DIR".to_owned(), data_dir.display().to_string()),
        (
            "PRACTIKA_SECRET_KEY".to_owned(),
            "test-secret-key-that-is-long-enough-0123456789".to_owned(),
        ),
        ("PRACTIKA_SMTP_URL".to_owned(), smtp_url.to_owned()),
        ("PRACTIKA_PUBLIC_URL".to_owned(), PUBLIC_URL.to_owned()),
    ]);
    Settings::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())).expect("test settings")
}

pub struct TestApp {
    pub address: String,
    pub mail: MailServer,
    pub client: reqwest::Client,
    pub pool: Pool,
    pub setup_path: Option<String>,
    pub db: Arc<TestDb>,
    pub dir: Arc<tempfile::TempDir>,
    /// What the server runs with (workers in tests are built from it).
    pub settings: Settings,
}

/// How every test client starts: no redirects followed, and idle pooled
/// connections dropped after a second. The server closes an idle keep-alive
/// connection after 5 s; a client that reuses one at that instant gets
/// "connection closed before message completed" (hyper's IncompleteMessage),
/// which on a loaded machine made polling tests fail now and then.
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(std::time::Duration::from_secs(1))
}

pub fn new_client() -> reqwest::Client {
    client_builder().cookie_store(true).build().expect("HTTP client")
}

/// A migrated database and a running server on a free port.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// The same, with more configuration variables.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDb::create(dir.path());
    let mut conn = db::establish(&db.url).expect("connect to the test database");
    db::migrations::run(&mut conn).expect("migrate the test database");
    drop(conn);
    spawn_app_on_with(Arc::new(db), Arc::new(dir), extra).await
}

/// A server on an existing (maybe unmigrated, maybe unreachable) database.
pub async fn spawn_app_on(db: Arc<TestDb>, dir: Arc<tempfile::TempDir>) -> TestApp {
    spawn_app_on_with(db, dir, &[]).await
}

pub async fn spawn_app_on_with(db: Arc<TestDb>, dir: Arc<tempfile::TempDir>, extra: &[(&str, &str)]) -> TestApp {
    let mail = MailServer::start().await;
    let url = mail.url();
    spawn_app_with_mail(db, dir, mail, &url, extra).await
}

/// With a given SMTP URL (one that fails, say).
pub async fn spawn_app_with_mail(
    db: Arc<TestDb>,
    dir: Arc<tempfile::TempDir>,
    mail: MailServer,
    smtp_url: &str,
    extra: &[(&str, &str)],
) -> TestApp {
    let settings = test_settings_with(&db.url, dir.path(), smtp_url, extra);
    let pool = Pool::new(&db.url);
    let app = Application::build(settings.clone(), pool.clone()).expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let setup_path = app.setup_path();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address,
        mail,
        client: new_client(),
        pool,
        setup_path,
        db,
        dir,
        settings,
    }
}

/// A migrated database and a running server whose mail server is down
/// (its SMTP URL names a port nobody listens on).
pub async fn spawn_app_with_smtp_down() -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("dir"));
    let db = TestDb::create(dir.path());
    let mut conn = db::establish(&db.url).expect("connect");
    db::migrations::run(&mut conn).expect("migrate");
    drop(conn);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    spawn_app_with_mail(
        Arc::new(db),
        dir,
        MailServer::default(),
        &format!("smtp://127.0.0.1:{closed}"),
        &[],
    )
    .await
}

pub struct Page {
    pub status: u16,
    pub html: Html,
    pub text: String,
}

impl Page {
    pub fn select_text(&self, css: &str) -> Vec<String> {
        let selector = Selector::parse(css).expect("valid selector");
        self.html
            .select(&selector)
            .map(|e| e.text().collect::<String>().trim().to_owned())
            .collect()
    }

    pub fn has(&self, css: &str) -> bool {
        let selector = Selector::parse(css).expect("valid selector");
        self.html.select(&selector).next().is_some()
    }

    pub fn attr(&self, css: &str, attr: &str) -> Option<String> {
        let selector = Selector::parse(css).expect("valid selector");
        self.html
            .select(&selector)
            .next()
            .and_then(|e| e.value().attr(attr))
            .map(str::to_owned)
    }

    /// The attribute on every element that matches (and has it).
    pub fn attrs(&self, css: &str, attr: &str) -> Vec<String> {
        let selector = Selector::parse(css).expect("valid selector");
        self.html
            .select(&selector)
            .filter_map(|e| e.value().attr(attr))
            .map(str::to_owned)
            .collect()
    }
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get_with(&self, client: &reqwest::Client, path: &str) -> reqwest::Response {
        client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.get_with(&self.client, path).await
    }

    pub async fn page_with(&self, client: &reqwest::Client, path: &str) -> Page {
        let response = self.get_with(client, path).await;
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        Page {
            status,
            html: Html::parse_document(&text),
            text,
        }
    }

    pub async fn page(&self, path: &str) -> Page {
        self.page_with(&self.client, path).await
    }

    /// The CSRF token this client's session holds (read from a page's form).
    pub async fn csrf_token_with(&self, client: &reqwest::Client) -> String {
        self.page_with(client, "/login")
            .await
            .attr("input[name=csrf_token]", "value")
            .or(self
                .page_with(client, "/account/password")
                .await
                .attr("input[name=csrf_token]", "value"))
            .expect("a form with a CSRF token")
    }

    /// Posts a form with this client's CSRF token added.
    pub async fn post_form_with(
        &self,
        client: &reqwest::Client,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = self.csrf_token_with(client).await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", &token));
        client.post(self.url(path)).form(&form).send().await.expect("POST")
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.post_form_with(&self.client, path, fields).await
    }

    pub async fn login_with(&self, client: &reqwest::Client, username: &str, password: &str) -> reqwest::Response {
        self.post_form_with(client, "/login", &[("username", username), ("password", password)])
            .await
    }

    /// Changes the logged-in user's password through the account form.
    pub async fn change_password_with(&self, client: &reqwest::Client, current: &str, new: &str) -> reqwest::Response {
        self.post_form_with(
            client,
            "/account/password",
            &[
                ("current_password", current),
                ("new_password", new),
                ("new_password_confirm", new),
            ],
        )
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.login_with(&self.client, username, password).await
    }

    pub fn conn(&self) -> diesel::r2d2::PooledConnection<db::Manager> {
        self.pool.get().expect("database connection")
    }

    /// A user made directly in the database, with an argon2 hash of `password`.
    pub fn create_user(&self, username: &str, password_plain: &str, role: &'static str) -> i32 {
        let hash = password::hash(password_plain).expect("hash");
        self.create_user_with_hash(username, &hash, role)
    }

    /// A staff member (role admin).
    pub fn create_staff(&self, username: &str, password_plain: &str) -> i32 {
        use practika::db::schema::auth_user;
        let id = self.create_user(username, password_plain, "admin");
        diesel::update(auth_user::table.find(id))
            .set(auth_user::is_staff.eq(true))
            .execute(&mut *self.conn())
            .expect("make staff");
        id
    }

    /// The path of a link in an email ("http://practika.test/x" → "/x").
    pub fn path_of(&self, link: &str) -> String {
        link.strip_prefix(PUBLIC_URL).unwrap_or(link).to_owned()
    }

    pub fn create_user_with_hash(&self, username: &str, hash: &str, role: &'static str) -> i32 {
        queries::create_user(
            &mut self.conn(),
            &queries::NewUser {
                username: username.to_owned(),
                email: format!("{username}@example.com"),
                first_name: String::new(),
                last_name: String::new(),
                password_hash: hash.to_owned(),
                is_staff: false,
                is_superuser: false,
                role: role.to_owned(),
                email_verified_at: None,
            },
        )
        .expect("create user")
    }

    pub fn stored_password(&self, user_id: i32) -> String {
        use practika::db::schema::auth_user;
        auth_user::table
            .find(user_id)
            .select(auth_user::password)
            .first(&mut *self.conn())
            .expect("user")
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }
}

/// Runs SQL on a fresh connection to the test database.
pub fn exec(conn: &mut DbConn, sql: &str) {
    conn.batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
}
