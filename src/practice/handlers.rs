//! Thin handlers: who may see a progress page is
//! `accounts::permissions::can_view_progress`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::forms::ReportForm;
use super::pages::{today_in, PracticePage, ProgressPage, ProgressQuery};
use super::queries::{self, LogError, Refusal};
use crate::db::{self, Id, Ts};
use crate::error::{AppError, AppResult};
use crate::startup::AppState;
use crate::web::auth::CurrentUser;
use crate::web::page::{render, PageCtx};
use crate::web::see_other;

/// `/exercises/{id}/progress`: the viewer's own.
pub async fn own_progress(user: CurrentUser, id: web::Path<Id>) -> HttpResponse {
    see_other(&super::progress_url(id.into_inner(), user.id))
}

pub async fn progress(
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(Id, i32)>,
    query: web::Query<ProgressQuery>,
) -> AppResult<HttpResponse> {
    let (exercise, student) = path.into_inner();
    let query = query.into_inner();
    let page = db::run(&state.pool, move |c| {
        ProgressPage::load(c, ctx, &user, exercise, student, &query)
    })
    .await?
    .ok_or(AppError::Forbidden)?;
    render(&page)
}

/// The two attempts chosen on a progress page (`from`, `to`).
#[derive(Deserialize)]
pub struct ChosenQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// "Compare the chosen attempts": the comparison view of the two, the
/// earlier (`from`) on the left. The comparison checks they are of one
/// thread.
pub async fn compare_chosen(
    _user: CurrentUser,
    path: web::Path<(Id, i32)>,
    query: web::Query<ChosenQuery>,
) -> AppResult<HttpResponse> {
    let (exercise, student) = path.into_inner();
    let (from, to) = match (query.from.trim().parse::<Id>(), query.to.trim().parse::<Id>()) {
        (Ok(from), Ok(to)) if from != to => (from, to),
        _ => {
            return Err(AppError::BadRequest(format!(
                "Choose two different attempts to compare, on the progress page ({}).",
                super::progress_url(exercise, student)
            )))
        }
    };
    Ok(see_other(&format!("/comments/{to}/compare?with={from}")))
}

pub async fn practice(
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let page = db::run(&state.pool, move |c| PracticePage::load(c, ctx, &user, id)).await?;
    render(&page)
}

fn refused(status: StatusCode, errors: Vec<String>) -> HttpResponse {
    HttpResponse::build(status).json(serde_json::json!({ "ok": false, "errors": errors }))
}

/// A practice session's running totals (url-encoded, CSRF checked before
/// this runs): 200 with the stored totals; 422 with the reasons for a report
/// out of bounds, 404 for an unknown exercise, 429 past the day's sessions.
/// Nothing is changed by a refused report.
pub async fn log_session(
    user: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<ReportForm>,
) -> AppResult<HttpResponse> {
    let report = match form.parse() {
        Ok(report) => report,
        Err(errors) => return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, errors)),
    };
    let day = today_in(user.preferences.time_zone).format("%Y-%m-%d").to_string();
    let outcome = db::run(&state.pool, move |c| {
        match queries::log(c, user.id, &day, &report, Ts::now()) {
            Ok(session) => Ok(Ok(session)),
            Err(LogError::Db(e)) => Err(e),
            Err(LogError::Refused(refusal)) => Ok(Err(refusal)),
        }
    })
    .await?;
    Ok(match outcome {
        Err(Refusal::NoExercise) => refused(StatusCode::NOT_FOUND, vec!["There is no such exercise.".to_owned()]),
        Ok(session) => HttpResponse::Ok().json(serde_json::json!({
            "ok": true,
            "session": session.client_id.to_string(),
            "seconds": session.seconds,
            "loops": session.loops,
            "max_speed": session.max_speed,
            "day": session.day,
        })),
        Err(Refusal::OtherExercise) => refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["This session belongs to another exercise.".to_owned()],
        ),
        Err(Refusal::TooLong { allowed }) => refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![format!(
                "seconds is more than the time since the session started (at most {allowed} now)"
            )],
        ),
        Err(Refusal::TooMany) => refused(
            StatusCode::TOO_MANY_REQUESTS,
            vec![format!(
                "At most {} practice sessions a day are logged.",
                queries::SESSIONS_PER_DAY
            )],
        ),
    })
}
