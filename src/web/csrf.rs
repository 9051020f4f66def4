//! CSRF protection for every unsafe request, in one place rather than in
//! each form handler.
//!
//! 1. Cross-origin requests are refused: an `Origin` header must be this
//!    site's, and without one `Sec-Fetch-Site: cross-site` is refused.
//! 2. The request must carry the session's token: in the `X-CSRF-Token`
//!    header (scripts), the `csrf_token` field of a url-encoded form, or —
//!    for multipart forms, whose body is a stream of files that is never
//!    buffered — the `csrf_token` query parameter of the form's action.
//!    Compared in constant time. A failure is a 403 page and the handler
//!    never runs, so nothing changes.
//!
//! The one exception is [`SIGNED_PATHS`]: links whose URL carries an HMAC
//! made with the secret key for one user and one purpose (the digests'
//! one-click unsubscribe). A mail program POSTs them from its own servers,
//! without the user's cookies (RFC 8058); the signature, checked by the
//! handler, is what authenticates them, and a forger cannot make one.

use actix_web::dev::ServiceRequest;
use actix_web::http::{header, Method};

use crate::config::Settings;
use crate::error::AppError;
use crate::security;

pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "x-csrf-token";

/// Paths authenticated by the signature in them (see the module's comment).
pub const SIGNED_PATHS: &[&str] = &["/unsubscribe/"];

fn is_signed(path: &str) -> bool {
    SIGNED_PATHS.iter().any(|prefix| path.starts_with(prefix))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

fn same_origin(req: &ServiceRequest, settings: &Settings) -> bool {
    let headers = req.headers();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let info = req.connection_info();
        let own = format!("{}://{}", info.scheme(), info.host());
        return origin == settings.public_origin() || origin == own;
    }
    !matches!(
        headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
        Some("cross-site") | Some("same-site")
    )
}

fn query_token(req: &ServiceRequest) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(key, _)| key == FIELD)
        .map(|(_, value)| value.into_owned())
}

/// Checks an unsafe request's origin and token. `form` is its url-encoded
/// body, if it has one (read once by the caller, `input::buffer_form`).
pub fn verify(req: &ServiceRequest, settings: &Settings, expected: &str, form: Option<&[u8]>) -> Result<(), AppError> {
    if is_safe(req.method()) || is_signed(req.path()) {
        return Ok(());
    }
    if !same_origin(req, settings) {
        return Err(AppError::Csrf("cross-origin request"));
    }
    let supplied = if let Some(token) = req.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        Some(token.to_owned())
    } else if let Some(body) = form {
        url::form_urlencoded::parse(body)
            .find(|(key, _)| key == FIELD)
            .map(|(_, value)| value.into_owned())
    } else {
        query_token(req)
    };

    match supplied {
        Some(token) if !expected.is_empty() && security::constant_time_eq(token.as_bytes(), expected.as_bytes()) => {
            Ok(())
        }
        Some(_) => Err(AppError::Csrf("wrong token")),
        None => Err(AppError::Csrf("missing token")),
    }
}
