//! Who is making the request. The `authenticate` layer runs inside the
//! cookie layer (actix-session, an encrypted cookie): it looks the
//! cookie's session key up in the server-side sessions
//! (`accounts::sessions`, one query joined with the user), checks that the
//! session still matches the user's password and that the user is active,
//! and applies the CSRF and input checks to the request.

use std::future::{ready, Ready};

use actix_session::{Session, SessionExt};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use serde::Serialize;

use crate::accounts::permissions;
use crate::accounts::queries::AuthUser;
use crate::accounts::sessions::{self, Origin};
use crate::db::{self, Ts};
use crate::error::{AppError, AppResult};
use crate::security;
use crate::startup::AppState;

/// The random key of the server-side session (only its hash is stored).
const SESSION_KEY: &str = "sid";
/// Rewritten when "last seen" is, so that the cookie's own lifetime
/// follows activity as the server's idle limit does.
const SESSION_SEEN: &str = "seen";
pub(crate) const SESSION_CSRF: &str = "csrf";

/// The server-side session of a logged-in request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentSession {
    pub id: i64,
}

impl FromRequest for CurrentSession {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.extensions().get::<CurrentSession>() {
            Some(session) => Ok(*session),
            None => Err(AppError::LoginRequired {
                next: path_and_query(req),
            }),
        })
    }
}

/// The logged-in user: an `accounts` type, extracted here.
pub use crate::accounts::identity::{CurrentUser, NavUser};

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.extensions().get::<CurrentUser>() {
            Some(user) => Ok(user.clone()),
            None => Err(AppError::LoginRequired {
                next: path_and_query(req),
            }),
        })
    }
}

/// The user if someone is logged in.
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequest for MaybeUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(MaybeUser(req.extensions().get::<CurrentUser>().cloned())))
    }
}

fn path_and_query(req: &HttpRequest) -> String {
    match req.uri().query() {
        Some(query) => format!("{}?{}", req.path(), query),
        None => req.path().to_owned(),
    }
}

/// Binds a session to the user's current password hash.
pub fn session_auth_hash(secret: &[u8], password_hash: &str) -> String {
    security::hmac_hex(secret, "practika.session-auth", password_hash.as_bytes())
}

/// Where the request comes from, as the account page shows a session.
fn origin(req: &HttpRequest, trusted: &[std::net::IpAddr]) -> Origin {
    let agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // The connection's address (or a trusted proxy's word for it), not a
    // header a client could forge.
    let ip = super::client_ip(req, trusted);
    Origin::new(agent, &ip)
}

/// Logs `user` in: a new server-side session under a new random key, a
/// fresh cookie and CSRF token, nothing carried over from before (a
/// session this browser had before ends).
pub async fn start_session(req: &HttpRequest, state: &AppState, session: &Session, user: &AuthUser) -> AppResult<()> {
    let previous = session.get::<String>(SESSION_KEY).ok().flatten();
    let key = security::random_token(32);
    let hash = sessions::key_hash(&key);
    let auth_hash = session_auth_hash(state.settings.secret_key.bytes(), &user.password);
    let (user_id, origin, idle) = (
        user.id,
        origin(req, &state.settings.trusted_proxies),
        state.settings.session_idle,
    );
    db::run(&state.pool, move |c| {
        db::write_transaction(c, |c| {
            if let Some(previous) = previous {
                sessions::delete_by_key(c, &sessions::key_hash(&previous))?;
            }
            sessions::create(c, &hash, user_id, &auth_hash, &origin, idle)
        })
    })
    .await?;
    // clear + renew, not purge: a purged session cannot be written to again
    // in the same request.
    session.clear();
    session.renew();
    put(session, SESSION_KEY, key)?;
    put(session, SESSION_CSRF, security::random_token(32))
}

/// Logs out: the server-side session ends (every copy of the cookie with
/// it), every value in the cookie is dropped and the cookie replaced (so
/// this response can still carry a "logged out" flash).
pub async fn end_session(state: &AppState, session: &Session) -> AppResult<()> {
    if let Some(key) = session.get::<String>(SESSION_KEY).ok().flatten() {
        let hash = sessions::key_hash(&key);
        db::run(&state.pool, move |c| sessions::delete_by_key(c, &hash)).await?;
    }
    session.clear();
    session.renew();
    Ok(())
}

/// A new cookie and CSRF token for the same session (after a password
/// change: a page open elsewhere in this browser posts no stale form).
pub fn renew_cookie(session: &Session) -> AppResult<()> {
    session.renew();
    put(session, SESSION_CSRF, security::random_token(32))
}

pub fn put(session: &Session, key: &str, value: impl Serialize) -> AppResult<()> {
    session
        .insert(key, value)
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("session: {e}")))
}

pub async fn authenticate(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    // Health checks answer for the process alone: no session lookup, no
    // database (a load balancer's probe carrying a cookie must not wait
    // for a database that is down), and their own JSON.
    if crate::health::is_health_path(req.path()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    // Errors become responses here, inside the request context (see
    // `request::request_context`), so their pages carry the request id.
    match identify(&mut req).await {
        Ok(()) => {
            let response = next.call(req).await?;
            // Only a page shows flashes: not an error page, a redirect or JSON.
            let is_page = response.response().error().is_none()
                && response
                    .headers()
                    .get(actix_web::http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|t| t.starts_with("text/html"));
            super::page::consume_shown_flashes(response.request(), response.status(), is_page);
            Ok(response.map_into_left_body())
        }
        Err(error) => Ok(req.error_response(error).map_into_right_body()),
    }
}

/// Static files do not depend on who asks: no session lookup for them.
fn needs_identity(path: &str) -> bool {
    !path.starts_with("/static/") && path != "/favicon.ico"
}

/// What the session lookup found.
enum Lookup {
    Live {
        session: CurrentSession,
        user: Box<CurrentUser>,
        seen: bool,
    },
    /// The key names no live session: logged out, ended elsewhere, expired,
    /// or the user was deactivated or changed their password.
    Ended,
}

async fn identify(req: &mut ServiceRequest) -> Result<(), AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("application state missing")))?;
    let session = req.get_session();

    let key = session.get::<String>(SESSION_KEY).unwrap_or(None);
    if let Some(key) = key.filter(|_| needs_identity(req.path())) {
        let (hash, now, idle) = (sessions::key_hash(&key), Ts::now(), state.settings.session_idle);
        let secret = state.settings.secret_key.clone();
        let lookup = db::run(&state.pool, move |c| {
            let Some((row, user)) = sessions::find_live(c, &hash, now)? else {
                return Ok::<_, diesel::result::Error>(Lookup::Ended);
            };
            let current_hash = session_auth_hash(secret.bytes(), &user.password);
            if !user.is_active || !security::constant_time_eq(row.auth_hash.as_bytes(), current_hash.as_bytes()) {
                // Deactivated, or the password changed (the Django app may
                // have changed it): the session ends for good.
                sessions::delete_one(c, row.user_id, row.id)?;
                return Ok(Lookup::Ended);
            }
            let seen = row.seen_due(now);
            if seen {
                sessions::touch(c, row.id, now, idle)?;
            }
            let mut user = user.into_current();
            // The navigation shows coaches and admins their inbox's count:
            // one indexed statement, on their pages only.
            if permissions::uses_inbox(&user) {
                user.inbox_waiting = Some(crate::inbox::queries::nav_count(c, &user)?);
            }
            Ok(Lookup::Live {
                session: CurrentSession { id: row.id },
                user: Box::new(user),
                seen,
            })
        })
        .await?;
        match lookup {
            Lookup::Live {
                session: live,
                user,
                seen,
            } => {
                if seen {
                    put(&session, SESSION_SEEN, Ts::now().0.timestamp() / 60)?;
                }
                let current = *user;
                super::request::with_current(|info| *info.user.borrow_mut() = Some(current.nav()));
                req.extensions_mut().insert(current);
                req.extensions_mut().insert(live);
            }
            Lookup::Ended => {
                // Anonymous from here on; the CSRF token stays, so a form
                // this browser has open still posts (to the login page).
                session.remove(SESSION_KEY);
                session.remove(SESSION_SEEN);
                super::page::flash_on(
                    &session,
                    super::page::Level::Info,
                    "Your session has ended. Please log in again.",
                );
            }
        }
    }
    let csrf_token = session.get::<String>(SESSION_CSRF).unwrap_or(None).unwrap_or_default();
    super::request::with_current(|info| *info.csrf_token.borrow_mut() = csrf_token.clone());
    let form = super::input::buffer_form(req).await?;
    super::csrf::verify(req, &state.settings, &csrf_token, form.as_deref())?;
    super::input::refuse_nul(req, form.as_deref())
}

/// A staff member (is_staff or superuser). For anyone else — anonymous
/// visitors included — staff URLs do not exist: 404, not 403, so their
/// existence is not revealed.
#[derive(Debug, Clone)]
pub struct StaffUser(pub CurrentUser);

impl FromRequest for StaffUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.extensions().get::<CurrentUser>() {
            Some(user) if permissions::is_staff(user) => Ok(StaffUser(user.clone())),
            _ => Err(AppError::NotFound),
        })
    }
}
