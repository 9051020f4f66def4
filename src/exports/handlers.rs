//! Asking for an export (a button on the settings page) and downloading it.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::queries;
use crate::accounts::{permissions, tokens};
use crate::db::{self, Id, Ts};
use crate::error::{AppError, AppResult};
use crate::startup::AppState;
use crate::web::auth::CurrentUser;
use crate::web::page::{flash, Level};
use crate::web::see_other;

/// POST (CSRF-checked like every form): records the request and queues its
/// job; a second click while one is being built starts nothing.
pub async fn request(req: HttpRequest, user: CurrentUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let user_id = user.id;
    let queued = db::run(&state.pool, move |c| queries::request(c, user_id, Ts::now())).await?;
    match queued {
        Some(id) => {
            tracing::info!(export = %id, user = user_id, "data export requested");
            flash(
                &req,
                Level::Success,
                "Your export is being prepared. We will email you a download link when it is ready.",
            );
        }
        None => flash(
            &req,
            Level::Info,
            "Your export is already being prepared. We will email you when it is ready.",
        ),
    }
    Ok(see_other("/account/settings#export"))
}

/// The ZIP, for its owner (logged in), through the link's signature, until
/// it expires. Anyone else gets a 404; an expired link a 410.
pub async fn download(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(Id, String)>,
) -> AppResult<HttpResponse> {
    let (id, token) = path.into_inner();
    let export = db::run(&state.pool, move |c| queries::find(c, id))
        .await?
        .filter(|e| permissions::can_download_data_export(&user, e.user_id))
        .ok_or(AppError::NotFound)?;
    let genuine = tokens::check_export_token(
        state.settings.secret_key.bytes(),
        &export.id.to_string(),
        export.user_id,
        export.expires_at,
        &token,
    );
    if !genuine {
        return Err(AppError::NotFound);
    }
    if export.is_expired(Ts::now()) {
        return Err(AppError::Gone(
            "This download link has expired and the export was deleted. Ask for a new one in your settings.".into(),
        ));
    }
    let stored = export
        .file_path
        .clone()
        .filter(|_| export.status() == super::Status::Ready)
        .ok_or(AppError::NotFound)?;
    let mut response = crate::videos::handlers::serve_file(&req, &state, &stored, "application/zip").await?;
    let name = crate::media::storage::attachment(&super::build::download_name(
        export.ready_at.unwrap_or(export.created_at),
    ));
    if let Ok(value) = header::HeaderValue::from_str(&name) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
