//! What every request goes through: request id and logging, security
//! headers, the session, who is logged in, CSRF, page context and flashes.

pub mod assets;
pub mod auth;
pub mod csrf;
pub mod input;
pub mod page;
pub mod paging;
pub mod request;
pub mod time;

use actix_web::http::header;
use actix_web::HttpResponse;

/// A GET route that answers HEAD too (load balancers and uptime checks use
/// HEAD; the body is dropped for it).
pub fn get() -> actix_web::Route {
    actix_web::web::route().guard(actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head()))
}

/// CPU-heavy or blocking work (password hashing, file hashing) off the
/// async executor. Database work goes through `db::run` instead.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> crate::error::AppResult<T> {
    // The request's span goes along, so what `f` logs names the request.
    let span = tracing::Span::current();
    actix_web::rt::task::spawn_blocking(move || span.in_scope(f))
        .await
        .map_err(|e| crate::error::AppError::Unexpected(anyhow::anyhow!("blocking task failed: {e}")))
}

/// POST → 303 → GET.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .finish()
}

/// `next` after login: only a same-site relative path is kept; anything
/// else (another host, `//host`, `/\host`, a scheme) becomes the home page.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(|c| c.is_control() || c == '\\') =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_keeps_only_local_paths() {
        assert_eq!(safe_next(Some("/account?tab=1")), "/account?tab=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "/\tx",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
