//! Builds the HTTP application: state, the layers every request passes
//! through, and each area's routes.

use std::net::TcpListener;

use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_session::SessionMiddleware;
use actix_web::cookie::{self, Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};

use crate::accounts::setup::SetupGate;
use crate::config::Settings;
use crate::db::Pool;
use crate::email::Mailer;
use crate::error::AppError;
use crate::{accounts, comments, exercises, health, staff, videos, web as site};

/// Shared by every handler.
pub struct AppState {
    pub settings: Settings,
    pub pool: Pool,
    pub setup: SetupGate,
    pub mailer: Mailer,
}

impl AppState {
    pub fn new(settings: Settings, pool: Pool) -> anyhow::Result<AppState> {
        let mailer = Mailer::from_settings(&settings)?;
        Ok(AppState {
            settings,
            pool,
            setup: SetupGate::default(),
            mailer,
        })
    }
}

pub struct Application {
    server: Server,
    port: u16,
    state: web::Data<AppState>,
}

pub const SESSION_COOKIE: &str = "practika_session";

impl Application {
    /// Binds the listener and builds the server; the database is not
    /// touched here (it may be down: pages then answer 503 until it is back).
    pub fn build(settings: Settings, pool: Pool) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(&settings.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let state = web::Data::new(AppState::new(settings, pool)?);
        let server_state = state.clone();
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
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(AppError::NotFound)
                }))
        })
        .listen(listener)?
        .shutdown_timeout(30)
        .run();
        Ok(Application { server, port, state })
    }

    pub fn port(&self) -> u16 {
        self.port
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
