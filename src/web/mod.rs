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

/// The client's address: the connection's, or, when the connection comes
/// from one of `trusted` (a reverse proxy such as nginx, which sets
/// `X-Forwarded-For: $remote_addr`), the last address that proxy put in
/// `X-Forwarded-For`. A header from anyone else is ignored: a client could
/// write any address there.
pub fn client_ip(req: &actix_web::HttpRequest, trusted: &[std::net::IpAddr]) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return String::new();
    };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    // The rightmost entry: the one the proxy itself wrote.
    let mut rightmost = None;
    for value in req.headers().get_all("x-forwarded-for") {
        rightmost = value.to_str().ok().and_then(|v| v.rsplit(',').next()).map(str::trim);
    }
    rightmost
        .and_then(|a| a.parse::<std::net::IpAddr>().ok())
        .unwrap_or(peer)
        .to_string()
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
    use super::{client_ip, safe_next};
    use actix_web::test::TestRequest;

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

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let proxy: std::net::IpAddr = "127.0.0.1".parse().expect("an address");
        let via_proxy = |xff: &str| {
            TestRequest::default()
                .peer_addr("127.0.0.1:5000".parse().expect("an address"))
                .insert_header(("x-forwarded-for", xff))
                .to_http_request()
        };
        assert_eq!(client_ip(&via_proxy("203.0.113.7"), &[proxy]), "203.0.113.7");
        // The last hop is the trusted proxy's; what a client wrote before it is not believed.
        assert_eq!(client_ip(&via_proxy("6.6.6.6, 203.0.113.7"), &[proxy]), "203.0.113.7");
        assert_eq!(client_ip(&via_proxy("not an address"), &[proxy]), "127.0.0.1");
        assert_eq!(client_ip(&via_proxy("203.0.113.7, junk"), &[proxy]), "127.0.0.1");
        assert_eq!(client_ip(&via_proxy("203.0.113.7"), &[]), "127.0.0.1");
        let direct = TestRequest::default()
            .peer_addr("198.51.100.2:5000".parse().expect("an address"))
            .insert_header(("x-forwarded-for", "203.0.113.7"))
            .to_http_request();
        assert_eq!(client_ip(&direct, &[proxy]), "198.51.100.2");
    }
}
