//! What every page template receives (`ctx`), flash messages, and rendering.

use std::future::Future;
use std::pin::Pin;

use actix_session::SessionExt;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use askama::Template;
use serde::{Deserialize, Serialize};

use super::auth::{put, CurrentUser, NavUser, SESSION_CSRF};
use super::request::{self, RequestId};
use crate::error::{AppError, AppResult};
use crate::security;

const SESSION_FLASHES: &str = "flash";

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Success,
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    pub level: Level,
    pub text: String,
}

impl Flash {
    pub fn css_class(&self) -> &'static str {
        match self.level {
            Level::Success => "flash-success",
            Level::Info => "flash-info",
            Level::Warning => "flash-warning",
            Level::Error => "flash-error",
        }
    }

    /// Errors interrupt screen readers; the rest wait their turn.
    pub fn aria_role(&self) -> &'static str {
        match self.level {
            Level::Error => "alert",
            _ => "status",
        }
    }
}

/// Queues a message for the next page this session sees.
pub fn flash(req: &HttpRequest, level: Level, text: impl Into<String>) {
    flash_on(&req.get_session(), level, text)
}

/// The same, for code that holds the session (middleware).
pub fn flash_on(session: &actix_session::Session, level: Level, text: impl Into<String>) {
    let mut queued: Vec<Flash> = session.get(SESSION_FLASHES).unwrap_or(None).unwrap_or_default();
    queued.push(Flash {
        level,
        text: text.into(),
    });
    let _ = put(session, SESSION_FLASHES, queued);
}

/// The context of every page: who is logged in, the CSRF token for its
/// forms, the flashes to show, the request id.
pub struct PageCtx {
    pub user: Option<NavUser>,
    pub csrf_token: String,
    pub flashes: Vec<Flash>,
    pub request_id: String,
    pub path: String,
    /// The viewer's time zone preference; `None` until their browser said it.
    pub zone: Option<chrono_tz::Tz>,
    /// Makes the one-time keys of the logged-in user's forms.
    once: Option<(i32, crate::config::SecretKey)>,
}

impl PageCtx {
    /// For error pages, rendered where only the request's task-local info is known.
    pub fn for_error() -> PageCtx {
        request::with_current(|info| PageCtx {
            user: info.user.borrow().clone(),
            csrf_token: info.csrf_token.borrow().clone(),
            flashes: Vec::new(),
            request_id: info.id.clone(),
            path: String::new(),
            zone: None,
            once: None,
        })
    }

    /// A fresh one-time key for a form that creates something (see
    /// `accounts::submissions`); each call makes another, so each form on
    /// a page has its own. Empty for anonymous visitors.
    pub fn once_key(&self) -> String {
        match &self.once {
            Some((user_id, secret)) => {
                crate::accounts::submissions::mint(secret.bytes(), *user_id, crate::db::Ts::now())
            }
            None => String::new(),
        }
    }

    /// A time in the viewer's zone (UTC until it is known), relative in
    /// the text and exact in the title: see the `when` macro.
    pub fn when(&self, at: impl Moment) -> super::time::When {
        super::time::when(&at.moment(), self.zone.unwrap_or(chrono_tz::UTC), chrono::Utc::now())
    }

    /// A time the staff pages pass as text, if it is one.
    pub fn when_text(&self, text: &str) -> Option<super::time::When> {
        super::time::parse_shown(text).map(|at| self.when(at))
    }

    /// Whether the page should ask the browser for its time zone.
    pub fn zone_unset(&self) -> bool {
        self.user.is_some() && self.zone.is_none() && !self.csrf_token.is_empty()
    }

    /// `aria-current="page"` for the navigation link to the current page.
    pub fn current(&self, prefix: &str) -> &'static str {
        let here = if prefix == "/" {
            self.path == "/"
        } else {
            self.path.starts_with(prefix)
        };
        if here {
            "page"
        } else {
            "false"
        }
    }

    pub fn asset(&self, name: &str) -> String {
        super::assets::url(name)
    }
}

impl FromRequest for PageCtx {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let user = req.extensions().get::<CurrentUser>().map(CurrentUser::nav);
        let zone = req
            .extensions()
            .get::<CurrentUser>()
            .and_then(|u| u.preferences.time_zone);
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        let path = req.path().to_owned();
        let once = req.extensions().get::<CurrentUser>().map(|u| u.id).and_then(|id| {
            req.app_data::<actix_web::web::Data<crate::startup::AppState>>()
                .map(|state| (id, state.settings.secret_key.clone()))
        });
        let req = req.clone();
        Box::pin(async move {
            let csrf_token = match session.get::<String>(SESSION_CSRF).unwrap_or(None) {
                Some(token) => token,
                None => {
                    let token = security::random_token(32);
                    put(&session, SESSION_CSRF, &token)?;
                    token
                }
            };
            // Read, not yet removed: they count as seen only once a page
            // shows them (`consume_shown_flashes`), not when a handler that
            // asked for the context redirects to the login page instead.
            let flashes: Vec<Flash> = session.get(SESSION_FLASHES).unwrap_or(None).unwrap_or_default();
            if !flashes.is_empty() {
                req.extensions_mut().insert(FlashesShown(flashes.len()));
            }
            Ok(PageCtx {
                user,
                csrf_token,
                flashes,
                request_id,
                path,
                zone,
                once,
            })
        })
    }
}

/// A `Ts` however deeply a template borrows it.
pub trait Moment {
    fn moment(&self) -> crate::db::Ts;
}

impl Moment for crate::db::Ts {
    fn moment(&self) -> crate::db::Ts {
        *self
    }
}

impl<T: Moment + ?Sized> Moment for &T {
    fn moment(&self) -> crate::db::Ts {
        (**self).moment()
    }
}

/// How many queued flashes a page context took (the oldest ones).
#[derive(Debug, Clone, Copy)]
struct FlashesShown(usize);

/// After the response: the flashes a page showed leave the queue. A
/// redirect, an error page (the login redirect of a page that needs a user,
/// say) or a JSON answer showed none, so they wait for the next page.
pub fn consume_shown_flashes(req: &HttpRequest, status: StatusCode, is_page: bool) {
    let Some(FlashesShown(shown)) = req.extensions().get::<FlashesShown>().copied() else {
        return;
    };
    if status.is_redirection() || !is_page {
        return;
    }
    let session = req.get_session();
    let mut queued: Vec<Flash> = session.get(SESSION_FLASHES).unwrap_or(None).unwrap_or_default();
    queued.drain(..shown.min(queued.len()));
    if queued.is_empty() {
        session.remove(SESSION_FLASHES);
    } else {
        let _ = put(&session, SESSION_FLASHES, queued);
    }
}

/// 200 with the page.
pub fn render(page: &impl Template) -> AppResult<HttpResponse> {
    render_status(StatusCode::OK, page)
}

/// The page with another status (422 for a form with errors, ...).
pub fn render_status(status: StatusCode, page: &impl Template) -> AppResult<HttpResponse> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub ctx: PageCtx,
    pub status: u16,
    pub title: &'static str,
    pub message: String,
}

impl ErrorPage {
    pub fn to_html(&self) -> String {
        self.render().unwrap_or_else(|error| {
            tracing::error!(%error, "rendering the error page failed");
            format!("<!doctype html><title>{0}</title><h1>{0}</h1>", self.status)
        })
    }
}
