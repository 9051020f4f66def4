//! Who is making the request. The `authenticate` layer runs inside the
//! session layer: it ends idle sessions, loads the logged-in user (one query
//! per request, only when the session names a user), checks that the session
//! still matches the user's password (a password change ends every other
//! session, as in Django) and applies the CSRF check to every unsafe method.

use std::future::{ready, Ready};

use actix_session::{Session, SessionExt};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use serde::Serialize;

use crate::accounts::queries::{self, AuthUser, Preferences};
use crate::db;
use crate::error::{AppError, AppResult};
use crate::security;
use crate::startup::AppState;

const SESSION_USER_ID: &str = "uid";
const SESSION_AUTH_HASH: &str = "auth";
const SESSION_LAST_SEEN: &str = "seen";
pub(crate) const SESSION_CSRF: &str = "csrf";

/// How often (seconds) the session's last-seen time is refreshed: often
/// enough for idle expiry, rarely enough not to rewrite the cookie on every
/// response.
const LAST_SEEN_GRANULARITY: i64 = 60;

/// The logged-in user, as handlers see them.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i32,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub role: Option<String>,
    pub last_login: Option<db::Ts>,
    pub date_joined: db::Ts,
    pub email_verified_at: Option<db::Ts>,
    pub onboarding_completed: bool,
    pub preferences: Preferences,
}

impl CurrentUser {
    /// The name shown for this user: their chosen display name, else their
    /// full name, else their username.
    pub fn display_name(&self) -> String {
        queries::display_name(&self.username, &self.first_name, &self.last_name, &self.preferences)
    }

    pub fn nav(&self) -> NavUser {
        NavUser {
            username: self.username.clone(),
            display_name: self.display_name(),
            role: self.role.clone().unwrap_or_else(|| "no role".to_owned()),
            is_staff: self.is_staff || self.is_superuser,
        }
    }
}

/// What the navigation bar shows about the user.
#[derive(Debug, Clone)]
pub struct NavUser {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub is_staff: bool,
}

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

/// Logs `user` in on this session: a fresh session (new cookie, new CSRF
/// token, nothing carried over from before login).
pub fn start_session(session: &Session, secret: &[u8], user: &AuthUser) -> AppResult<()> {
    // clear + renew, not purge: a purged session cannot be written to again
    // in the same request.
    session.clear();
    session.renew();
    put(session, SESSION_USER_ID, user.id)?;
    put(session, SESSION_AUTH_HASH, session_auth_hash(secret, &user.password))?;
    put(session, SESSION_LAST_SEEN, chrono::Utc::now().timestamp())?;
    put(session, SESSION_CSRF, security::random_token(32))
}

/// Logs out: every value in the session is dropped and the cookie replaced
/// (a purge that still lets this response carry a "logged out" flash).
pub fn end_session(session: &Session) {
    session.clear();
    session.renew();
}

/// After the user changed their own password: keeps this session valid
/// (every other one ends because its hash no longer matches).
pub fn refresh_session_hash(session: &Session, secret: &[u8], new_password_hash: &str) -> AppResult<()> {
    session.renew();
    put(session, SESSION_AUTH_HASH, session_auth_hash(secret, new_password_hash))?;
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
    // for a database that is down).
    if crate::health::is_health_path(req.path()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    // Errors become responses here, inside the request context (see
    // `request::request_context`), so their pages carry the request id.
    match identify(&mut req).await {
        Ok(()) => Ok(next.call(req).await?.map_into_left_body()),
        Err(error) => Ok(req.error_response(error).map_into_right_body()),
    }
}

async fn identify(req: &mut ServiceRequest) -> Result<(), AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("application state missing")))?;
    let session = req.get_session();

    if let Some(user_id) = session.get::<i32>(SESSION_USER_ID).unwrap_or(None) {
        let now = chrono::Utc::now().timestamp();
        let last_seen = session.get::<i64>(SESSION_LAST_SEEN).unwrap_or(None).unwrap_or(0);
        let idle_limit = state.settings.session_idle.as_secs() as i64;
        if now - last_seen > idle_limit {
            session.purge();
        } else {
            let stored_hash = session
                .get::<String>(SESSION_AUTH_HASH)
                .unwrap_or(None)
                .unwrap_or_default();
            let activity_due = now - last_seen >= LAST_SEEN_GRANULARITY;
            let user = db::run(&state.pool, move |c| {
                let user = queries::find_auth_user(c, user_id)?;
                if activity_due && user.as_ref().is_some_and(|u| u.is_active) {
                    queries::touch_activity(c, user_id, db::Ts::now())?;
                }
                Ok::<_, diesel::result::Error>(user)
            })
            .await?;
            match user {
                Some(user)
                    if user.is_active
                        && security::constant_time_eq(
                            stored_hash.as_bytes(),
                            session_auth_hash(state.settings.secret_key.bytes(), &user.password).as_bytes(),
                        ) =>
                {
                    if activity_due {
                        put(&session, SESSION_LAST_SEEN, now)?;
                    }
                    let current = user.into_current();
                    super::request::with_current(|info| *info.user.borrow_mut() = Some(current.nav()));
                    req.extensions_mut().insert(current);
                }
                // Deactivated, deleted, or the password changed since this
                // session began: the session ends.
                _ => session.purge(),
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
            Some(user) if user.is_staff || user.is_superuser => Ok(StaffUser(user.clone())),
            _ => Err(AppError::NotFound),
        })
    }
}
