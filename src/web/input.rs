//! Input that no page may receive, refused in one place before any handler
//! runs: a NUL character (`%00`) in the path, the query string or a
//! url-encoded form. PostgreSQL cannot store NUL in text, so without this
//! every search box, form field and login name would be a way to a 500; on
//! SQLite it would be stored and cut strings short elsewhere.

use actix_web::dev::{Payload, ServiceRequest};
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut};
use actix_web::HttpMessage;
use futures_util::StreamExt;

use crate::error::AppError;

/// Url-encoded forms are small; larger ones are refused before buffering.
pub const MAX_FORM_BYTES: usize = 256 * 1024;

pub const NUL_REFUSED: &str = "What you sent contains a NUL character (an invisible “\\0”), which Practika \
    cannot store. Remove it (it often comes from pasting binary text) and try again. Nothing was changed.";

/// Whether `encoded` (a path, query string or form body, percent-encoded)
/// decodes to something with a NUL in it.
pub fn has_nul(encoded: &[u8]) -> bool {
    encoded.contains(&0) || encoded.windows(3).any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

/// Reads a url-encoded body once (for the CSRF token and the NUL check)
/// and hands it back to the request untouched; `None` for other bodies,
/// which are streamed (uploads) and never buffered.
pub async fn buffer_form(req: &mut ServiceRequest) -> Result<Option<Bytes>, AppError> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok(None);
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::BadRequest(format!("could not read the form: {e}")))?;
        if body.len() + chunk.len() > MAX_FORM_BYTES {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    req.set_payload(Payload::from(body.clone()));
    Ok(Some(body))
}

/// 422 when the path, the query or the form carries a NUL.
pub fn refuse_nul(req: &ServiceRequest, form: Option<&[u8]>) -> Result<(), AppError> {
    let path = req.uri().path().as_bytes();
    let query = req.query_string().as_bytes();
    if has_nul(path) || has_nul(query) || form.is_some_and(has_nul) {
        tracing::info!("refused a request with a NUL character");
        return Err(AppError::Unprocessable(NUL_REFUSED.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::has_nul;

    #[test]
    fn finds_encoded_and_raw_nul_only() {
        assert!(has_nul(b"q=a%00b"));
        assert!(has_nul(b"text=%00"));
        assert!(has_nul(b"a\0b"));
        assert!(!has_nul(b"q=100%25"));
        assert!(!has_nul(b"q=%2500"), "an escaped percent sign followed by 00 is text");
        assert!(!has_nul(b"q=a%20b&page=100"));
    }
}
