//! The outermost layer: gives each request an id, renders errors from inner
//! layers inside the request's context, adds the security headers and
//! writes the one log line per request.

use std::cell::RefCell;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use rand::RngCore;
use tracing::Instrument;

use super::auth::NavUser;

/// What error pages need to know about the request being served.
#[derive(Debug, Default)]
pub struct RequestInfo {
    pub id: String,
    pub user: RefCell<Option<NavUser>>,
    pub csrf_token: RefCell<String>,
}

tokio::task_local! {
    static REQUEST: RequestInfo;
}

/// Runs `f` with the current request's info (a blank one outside a request).
pub fn with_current<R>(f: impl FnOnce(&RequestInfo) -> R) -> R {
    let mut f = Some(f);
    let mut result = None;
    let _ = REQUEST.try_with(|info| result = f.take().map(|f| f(info)));
    match (result, f) {
        (Some(result), _) => result,
        (None, Some(f)) => f(&RequestInfo::default()),
        (None, None) => unreachable!("the closure ran or is still here"),
    }
}

/// The request id, also kept in the request's extensions for handlers.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The pages' Content-Security-Policy. `media` is where stored media may
/// come from besides this origin: the object storage's origin when players
/// get presigned URLs (`PRACTIKA_MEDIA_URL`).
pub fn content_security_policy(media: Option<&str>) -> String {
    let media = media.map(|origin| format!(" {origin}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; \
         img-src 'self' data: https://i.ytimg.com{media}; media-src 'self' blob:{media}; \
         frame-src https://www.youtube-nocookie.com; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Paths that carry a secret (setup, invitation, reset and confirmation
/// links) are logged without it.
fn redact(path: &str) -> String {
    const SECRET_PREFIXES: &[&str] = &["/setup/", "/invite/", "/password-reset/", "/account/email/confirm/"];
    match SECRET_PREFIXES.iter().find(|prefix| path.starts_with(**prefix)) {
        Some(prefix) if path != "/password-reset/sent" => format!("{prefix}[redacted]"),
        _ => path.to_owned(),
    }
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut raw = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut raw);
    let id = hex::encode(raw);
    let started = Instant::now();
    let method = req.method().clone();
    let path = redact(req.path());
    req.extensions_mut().insert(RequestId(id.clone()));
    let settings = req
        .app_data::<actix_web::web::Data<crate::startup::AppState>>()
        .map(|state| {
            (
                state.settings.secure_cookies(),
                state.settings.server_timing,
                state.content_security_policy.clone(),
            )
        });
    let (secure, server_timing, policy) = settings.unwrap_or_else(|| {
        (
            false,
            false,
            HeaderValue::from_str(&content_security_policy(None)).expect("a valid header"),
        )
    });

    let info = RequestInfo {
        id: id.clone(),
        ..Default::default()
    };
    // Inner layers turn their errors into responses themselves (see
    // `auth::authenticate`), so error pages render with this context in scope.
    // Every log line of the request (handlers, queries on the blocking
    // threads) carries the span's id; the counter adds up its statements.
    let span = tracing::info_span!("request", id = %id);
    let statements = crate::db::stats::StatementCounter::default();
    let mut response = REQUEST
        .scope(info, crate::db::stats::counted(statements.clone(), next.call(req)))
        .instrument(span)
        .await?;

    let headers = response.headers_mut();
    let has_cache_control = headers.contains_key(header::CACHE_CONTROL);
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    let mut set = |name: header::HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "same-origin");
    set(
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        header::HeaderName::from_static("permissions-policy"),
        "camera=(self), microphone=(self), geolocation=()",
    );
    if secure {
        set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    if !has_cache_control {
        set(header::CACHE_CONTROL, "no-cache, private");
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert(header::HeaderName::from_static("x-request-id"), value);
    }
    let (count, db_ms) = (statements.statements(), statements.millis());
    if server_timing {
        let timing = format!("db;desc=\"{count} statements\";dur={db_ms:.2}");
        if let Ok(value) = HeaderValue::from_str(&timing) {
            headers.insert(header::HeaderName::from_static("server-timing"), value);
        }
    }

    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    // The path only: query strings can carry tokens.
    tracing::info!(
        request_id = %id,
        %method,
        %path,
        status,
        duration_ms = format!("{duration_ms:.1}"),
        statements = count,
        db_ms = format!("{db_ms:.1}"),
        "request"
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_in_paths_are_not_logged() {
        assert_eq!(super::redact("/invite/abc123"), "/invite/[redacted]");
        assert_eq!(super::redact("/password-reset/7/1a-ff"), "/password-reset/[redacted]");
        assert_eq!(super::redact("/password-reset/sent"), "/password-reset/sent");
        assert_eq!(super::redact("/account"), "/account");
    }
}
