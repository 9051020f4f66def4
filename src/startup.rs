//! Builds the HTTP application: state, the layers every request passes
//! through, and each area's routes.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_session::SessionMiddleware;
use actix_web::cookie::{self, Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};

use crate::accounts::setup::SetupGate;
use crate::config::{default_node_id, Settings};
use crate::db::Pool;
use crate::email::Mailer;
use crate::error::AppError;
use crate::media::storage::{sweep_uploads, STALE_UPLOAD_AFTER};
use crate::videos::upload::UploadSlots;
use crate::{accounts, comments, digest, exercises, exports, health, inbox, practice, staff, videos, web as site};

/// Shared by every handler.
pub struct AppState {
    pub settings: Settings,
    pub pool: Pool,
    pub setup: SetupGate,
    pub mailer: Mailer,
    /// Uploads in progress on this node.
    pub uploads: Arc<UploadSlots>,
    /// This node's id, in the names of its temporary upload files.
    pub node_id: String,
    /// The running SHA-256 of resumable uploads this process receives.
    pub tus_hashes: crate::videos::tus::Hashes,
    /// Where media live: the local folder or a bucket.
    pub storage: crate::media::Storage,
    /// Every page's Content-Security-Policy (it names the bucket's origin).
    pub content_security_policy: actix_web::http::header::HeaderValue,
}

impl AppState {
    pub fn new(settings: Settings, pool: Pool) -> anyhow::Result<AppState> {
        let mailer = Mailer::from_settings(&settings)?;
        let port = settings
            .bind
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse().ok())
            .unwrap_or(0);
        let storage = crate::media::Storage::from_settings(&settings)?;
        let origin = settings.media_s3.as_ref().map(crate::config::S3Config::origin);
        let content_security_policy = actix_web::http::header::HeaderValue::from_str(
            &crate::web::request::content_security_policy(origin.as_deref()),
        )?;
        Ok(AppState {
            storage,
            content_security_policy,
            node_id: settings.node_id.clone().unwrap_or_else(|| default_node_id(port)),
            uploads: Arc::new(UploadSlots::new(settings.uploads_per_user, settings.uploads_per_node)),
            settings,
            pool,
            setup: SetupGate::default(),
            mailer,
            tus_hashes: Default::default(),
        })
    }
}

/// Every area's job kinds and chores, for the workers.
pub fn job_registry() -> crate::jobs::Registry {
    let mut registry = crate::jobs::Registry::default();
    videos::jobs::register_jobs(&mut registry);
    accounts::register_jobs(&mut registry);
    comments::notify::register_jobs(&mut registry);
    comments::voice::register_jobs(&mut registry);
    comments::export::register_jobs(&mut registry);
    digest::register_jobs(&mut registry);
    exports::register_jobs(&mut registry);
    registry
}

/// A job worker on `pool` that runs every area's jobs.
pub fn worker(pool: Pool, settings: &Settings, name: impl Into<String>) -> crate::jobs::Worker {
    static REGISTRY: std::sync::OnceLock<Arc<crate::jobs::Registry>> = std::sync::OnceLock::new();
    let registry = REGISTRY.get_or_init(|| Arc::new(job_registry())).clone();
    crate::jobs::Worker::new(crate::jobs::JobContext::new(pool, settings), registry, name)
}

/// How often the upload folders are swept for what nodes that are gone left.
const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);

/// Removes what a crash of this node left of uploads at once, and what
/// other nodes left once stale (`media::storage::sweep_uploads`).
fn sweep(settings: &Settings, node: &str) {
    let removed = sweep_uploads(
        &settings.upload_tmp_dir(),
        &settings.media_dir().join("originals"),
        node,
        STALE_UPLOAD_AFTER,
    );
    if removed > 0 {
        tracing::info!(removed, node, "removed partial uploads that a crash left behind");
    }
}

pub struct Application {
    server: Server,
    port: u16,
    local_addr: std::net::SocketAddr,
    http_workers: usize,
    state: web::Data<AppState>,
}

pub const SESSION_COOKIE: &str = "practika_session";

impl Application {
    /// Binds the listener and builds the server; the database is not
    /// touched here (it may be down: pages then answer 503 until it is back).
    pub fn build(settings: Settings, pool: Pool) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(&settings.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.bind))?;
        let local_addr = listener.local_addr()?;
        let port = local_addr.port();
        let mut state = AppState::new(settings, pool)?;
        if state.settings.node_id.is_none() {
            state.node_id = default_node_id(port);
        }
        // This node has just started: none of its partial uploads is in use.
        sweep(&state.settings, &state.node_id);
        let state = web::Data::new(state);
        let sweeper = state.clone();
        actix_web::rt::spawn(async move {
            let mut every = actix_web::rt::time::interval(SWEEP_EVERY);
            every.tick().await;
            loop {
                every.tick().await;
                let (settings, node) = (sweeper.settings.clone(), sweeper.node_id.clone());
                let _ = actix_web::rt::task::spawn_blocking(move || sweep(&settings, &node)).await;
            }
        });
        let server_state = state.clone();
        let blocking_threads = state.settings.blocking_threads;
        // One HTTP worker thread per core (actix's default, made explicit
        // so that the start-up log can say how many there are).
        let http_workers = std::thread::available_parallelism().map_or(1, usize::from);
        let server = HttpServer::new(move || {
            let state = server_state.clone();
            let settings = &state.settings;
            let session = SessionMiddleware::builder(CookieSessionStore::default(), session_key(settings))
                .cookie_name(SESSION_COOKIE.to_owned())
                .cookie_secure(settings.secure_cookies())
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Lax)
                .cookie_content_security(CookieContentSecurity::Private)
                .session_lifecycle(
                    PersistentSession::default()
                        .session_ttl(cookie::time::Duration::seconds(settings.session_idle.as_secs() as i64)),
                )
                .build();
            App::new()
                .app_data(state)
                .app_data(web::FormConfig::default().limit(256 * 1024).error_handler(|error, _| {
                    AppError::BadRequest(format!("The form could not be read: {error}")).into()
                }))
                // Uploads are streamed field by field (see videos::upload),
                // never buffered: this only sizes the parser's header
                // buffer. The size limit is PRACTIKA_MAX_UPLOAD_MB, checked
                // as the bytes arrive.
                .app_data(actix_multipart::MultipartConfig::default().buffer_limit(256 * 1024))
                .app_data(web::QueryConfig::default().error_handler(|error, _| {
                    AppError::BadRequest(format!("The address has a malformed query: {error}")).into()
                }))
                .app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
                // Innermost first: the user and CSRF need the session, which
                // needs the request context around it.
                .wrap(from_fn(site::auth::authenticate))
                .wrap(session)
                .wrap(from_fn(site::request::request_context))
                .configure(health::routes)
                .configure(site::assets::routes)
                .configure(accounts::routes)
                .configure(staff::routes)
                .configure(videos::routes)
                .configure(exercises::routes)
                .configure(comments::routes)
                .configure(inbox::routes)
                .configure(practice::routes)
                .configure(digest::routes)
                .configure(exports::routes)
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(AppError::NotFound)
                }))
        })
        .workers(http_workers)
        .listen(listener)?
        .shutdown_timeout(30);
        let server = match blocking_threads {
            Some(threads) => server.worker_max_blocking_threads(threads),
            None => server,
        }
        .run();
        Ok(Application {
            server,
            port,
            local_addr,
            http_workers,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address it listens on (the real port when bound to port 0).
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.local_addr
    }

    /// Threads that answer HTTP requests (not background job workers).
    pub fn http_workers(&self) -> usize {
        self.http_workers
    }

    /// The path of the first-admin setup page (valid while no admin exists).
    pub fn setup_path(&self) -> Option<String> {
        self.state.setup.token().map(|token| format!("/setup/{token}"))
    }

    /// Serves until SIGINT/SIGTERM, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The cookie key (encryption + signing) derived from the secret key.
pub fn session_key(settings: &Settings) -> Key {
    let material = crate::security::hmac_hex(settings.secret_key.bytes(), "practika.session-cookie", b"");
    Key::derive_from(material.as_bytes())
}
