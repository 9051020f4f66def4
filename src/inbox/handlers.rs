//! Inbox handlers: thin; who may see and change what is in
//! `accounts::permissions`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::pages::{InboxPage, InboxQuery};
use super::queries;
use crate::accounts::permissions;
use crate::accounts::submissions::{self, Once};
use crate::comments;
use crate::db::{self, Id, Ts};
use crate::error::{AppError, AppResult};
use crate::startup::AppState;
use crate::web::auth::CurrentUser;
use crate::web::page::{flash, render, Level, PageCtx};
use crate::web::{safe_next, see_other};

pub async fn inbox(
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<InboxQuery>,
) -> AppResult<HttpResponse> {
    if !permissions::uses_inbox(&user) {
        return Err(AppError::Forbidden);
    }
    let query = query.into_inner();
    let page = db::run(&state.pool, move |c| InboxPage::load(c, ctx, &user, &query)).await?;
    render(&page)
}

#[derive(Deserialize)]
pub struct SeenForm {
    #[serde(default)]
    once: String,
    /// The inbox page to come back to.
    #[serde(default)]
    back: String,
}

/// "Seen, no reply needed": the attempt leaves the inbox, once per form key.
pub async fn seen(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
    form: web::Form<SeenForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let back = match safe_next(Some(form.back.as_str())) {
        path if path.starts_with("/inbox") => path,
        _ => "/inbox".to_owned(),
    };
    let key = match submissions::check(state.settings.secret_key.bytes(), user.id, &form.once, Ts::now()) {
        Ok(key) => key,
        Err(problem) => {
            flash(&req, Level::Error, problem.message());
            return Ok(see_other(&back));
        }
    };
    let (author, answer) = (user.id, back.clone());
    let outcome = db::run(&state.pool, move |c| {
        let Some(attempt) = comments::queries::find(c, id)?.filter(|a| a.parent_id.is_none()) else {
            return Ok(None);
        };
        let coach = crate::exercises::queries::find(c, attempt.exercise_id)?.map(|e| e.created_by_id);
        if !coach.is_some_and(|coach| permissions::gives_feedback(&user, coach)) {
            return Ok(None);
        }
        submissions::once(c, author, key.as_ref(), |c| {
            let marked = queries::mark_seen(c, id, Ts::now())?;
            Ok::<_, diesel::result::Error>((marked, answer))
        })
        .map(Some)
    })
    .await?;
    let message = match outcome {
        // Not an attempt, or not on an exercise this user coaches.
        None => return Err(AppError::NotFound),
        Some(Once::First(true) | Once::Repeat(_)) => (Level::Success, "Marked as seen: it left your inbox."),
        Some(Once::First(false)) => (Level::Info, "That attempt was already answered or marked as seen."),
    };
    flash(&req, message.0, message.1);
    Ok(see_other(&back))
}
