//! The one error type of the web layer. Handlers return [`AppResult`]; every
//! error becomes a friendly page inside the site layout, with the request id
//! so that a user's report can be matched to the log line.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::web::page::{self, ErrorPage};

pub type AppResult<T> = Result<T, AppError>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// Not logged in: redirect to the login page, then back to `next`.
    #[error("login required")]
    LoginRequired { next: String },
    #[error("CSRF check failed: {0}")]
    Csrf(&'static str),
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Well-formed, but not something Practika can accept (422).
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    #[error("payload too large")]
    PayloadTooLarge,
    /// Was here and is gone for good (an expired download link): 410.
    #[error("gone: {0}")]
    Gone(String),
    /// The database (or another dependency) cannot be reached right now.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        match error {
            diesel::result::Error::NotFound => AppError::NotFound,
            other => AppError::Unexpected(other.into()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> Self {
        AppError::Unexpected(anyhow::anyhow!("template: {error}"))
    }
}

impl AppError {
    fn title_and_message(&self) -> (&'static str, String) {
        match self {
            AppError::NotFound => (
                "Page not found",
                "There is nothing at this address. It may have been removed, or the link may be mistyped.".into(),
            ),
            AppError::Forbidden => ("Not allowed", "Your account is not allowed to do this.".into()),
            AppError::LoginRequired { .. } => ("Please log in", "You need to log in to see this page.".into()),
            AppError::Csrf(_) => (
                "Form expired",
                "This form could not be accepted: it was sent from another site, or it is too old. \
                 Go back, reload the page and try again. Nothing was changed."
                    .into(),
            ),
            AppError::BadRequest(message) => ("Bad request", message.clone()),
            AppError::Unprocessable(message) => ("Not accepted", message.clone()),
            AppError::PayloadTooLarge => ("Too large", "What you sent is larger than this server accepts.".into()),
            AppError::Gone(message) => ("No longer here", message.clone()),
            AppError::Unavailable(_) => (
                "Temporarily unavailable",
                "Practika cannot reach its database right now. Please try again in a minute.".into(),
            ),
            AppError::Unexpected(_) => (
                "Something went wrong",
                "An unexpected error stopped this request. It has been logged; please try again.".into(),
            ),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::Csrf(_) => StatusCode::FORBIDDEN,
            AppError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Gone(_) => StatusCode::GONE,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            AppError::LoginRequired { next } => {
                let location = format!(
                    "/login?next={}",
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, location))
                    .finish();
            }
            AppError::Unexpected(error) => {
                tracing::error!(error = format!("{error:#}"), "request failed")
            }
            AppError::Unavailable(cause) => tracing::warn!(%cause, "dependency unavailable"),
            AppError::Csrf(reason) => tracing::warn!(reason, "CSRF check refused a request"),
            _ => {}
        }
        let (title, message) = self.title_and_message();
        let body = ErrorPage {
            ctx: page::PageCtx::for_error(),
            status: status.as_u16(),
            title,
            message,
        }
        .to_html();
        let mut response = HttpResponse::build(status);
        if let AppError::Unavailable(_) = self {
            response.insert_header((header::RETRY_AFTER, "30"));
        }
        response.content_type("text/html; charset=utf-8").body(body)
    }
}
