//! The one-click unsubscribe link of the digests: GET asks, POST (a
//! person's click, or a mail program's RFC 8058 one-click POST) turns the
//! digests off. The link's signature authenticates it: no login, and no
//! CSRF token (`web::csrf::SIGNED_PATHS`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::pages::{Step, UnsubscribePage};
use super::{queries, Frequency};
use crate::accounts::tokens;
use crate::db::{self, Ts};
use crate::error::AppResult;
use crate::startup::AppState;
use crate::web::page::{render_status, PageCtx};

/// The user a genuine link names, with their display name.
async fn genuine(state: &AppState, user_id: i32, token: &str) -> AppResult<Option<String>> {
    if !tokens::check_unsubscribe_token(state.settings.secret_key.bytes(), user_id, token) {
        return Ok(None);
    }
    let found = db::run(&state.pool, move |c| {
        crate::accounts::queries::find_auth_user(c, user_id)
    })
    .await?;
    Ok(found.map(|user| user.into_current().display_name()))
}

fn page(ctx: PageCtx, step: Step, name: String, path: &(i32, String)) -> AppResult<HttpResponse> {
    let status = if step == Step::Invalid {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    let action = format!("/unsubscribe/{}/{}", path.0, path.1);
    render_status(
        status,
        &UnsubscribePage {
            ctx,
            step,
            name,
            action,
        },
    )
}

pub async fn confirm(
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<(i32, String)>,
) -> AppResult<HttpResponse> {
    let path = path.into_inner();
    match genuine(&state, path.0, &path.1).await? {
        Some(name) => page(ctx, Step::Confirm, name, &path),
        None => page(ctx, Step::Invalid, String::new(), &path),
    }
}

pub async fn unsubscribe(
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<(i32, String)>,
) -> AppResult<HttpResponse> {
    let path = path.into_inner();
    let Some(name) = genuine(&state, path.0, &path.1).await? else {
        return page(ctx, Step::Invalid, String::new(), &path);
    };
    let user_id = path.0;
    db::run(&state.pool, move |c| {
        queries::set_frequency(c, user_id, Frequency::Off, Ts::now())
    })
    .await?;
    tracing::info!(user = user_id, "unsubscribed from email digests");
    page(ctx, Step::Done, name, &path)
}
