//! Exercise handlers: thin; rules live in `exercises` (permissions),
//! `forms` and `queries`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::forms::{ExerciseForm, LibraryQuery, VideoChoice};
use super::pages::{Choices, Compose, DeleteExercisePage, ExerciseFormPage, ExercisePage, LibraryPage};
use super::queries::{self, Draft, Exercise, SaveError};
use crate::accounts::forms::FieldErrors;
use crate::accounts::permissions;
use crate::accounts::submissions::{self, Once};
use crate::comments::pages::CommentForm;
use crate::db::{self, Id};
use crate::error::{AppError, AppResult};
use crate::startup::AppState;
use crate::videos;
use crate::web::auth::CurrentUser;
use crate::web::page::{flash, render, render_status, Level, PageCtx};
use crate::web::paging::Start;
use crate::web::see_other;

pub async fn library(
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<LibraryQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let page = db::run(&state.pool, move |c| LibraryPage::load(c, ctx, &user, &query)).await?;
    render(&page)
}

fn max_upload_mb(state: &AppState) -> u64 {
    state.settings.max_upload_bytes / 1024 / 1024
}

async fn form_page(
    ctx: PageCtx,
    state: &AppState,
    user: &CurrentUser,
    exercise: Option<Exercise>,
    form: ExerciseForm,
    errors: FieldErrors,
) -> AppResult<ExerciseFormPage> {
    let (user, mb) = (user.clone(), max_upload_mb(state));
    db::run(&state.pool, move |c| {
        ExerciseFormPage::load(c, ctx, &user, exercise, form, errors, mb)
    })
    .await
}

pub async fn new_form(ctx: PageCtx, user: CurrentUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    if !permissions::can_create_exercise(&user) {
        return Err(AppError::Forbidden);
    }
    let page = form_page(
        ctx,
        &state,
        &user,
        None,
        ExerciseForm::default(),
        FieldErrors::default(),
    )
    .await?;
    render(&page)
}

/// The checked video for an exercise: the one it has (kept as it is, even
/// when an admin edits a coach's exercise), one the user uploaded (admins:
/// any they can see), or a YouTube link, added to their videos if new.
async fn resolve_video(
    state: &AppState,
    user: &CurrentUser,
    choice: VideoChoice,
    current: Option<Id>,
) -> AppResult<Result<Id, FieldErrors>> {
    match choice {
        VideoChoice::Existing(id) if Some(id) == current => Ok(Ok(id)),
        VideoChoice::Existing(id) => {
            let found = db::run(&state.pool, move |c| videos::queries::find_with_access(c, id)).await?;
            match found {
                Some((asset, access))
                    if access.uploaded_by_id == Some(user.id)
                        || (permissions::is_admin(user)
                            && permissions::can_view_video(user, access.uploaded_by_id, access.attached)) =>
                {
                    Ok(Ok(asset.id))
                }
                _ => {
                    let mut errors = FieldErrors::default();
                    errors.add("video", "Choose one of your own videos.");
                    Ok(Err(errors))
                }
            }
        }
        VideoChoice::Youtube(url) => {
            let user_id = user.id;
            let (asset, _) = db::run(&state.pool, move |c| videos::upload::add_youtube(c, &url, user_id)).await?;
            Ok(Ok(asset.id))
        }
    }
}

async fn save(
    req: HttpRequest,
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    existing: Option<Exercise>,
    form: ExerciseForm,
) -> AppResult<HttpResponse> {
    let parsed = form.parse();
    let mut draft = match parsed {
        Ok((name, description, choice)) => {
            match resolve_video(&state, &user, choice, existing.as_ref().map(|e| e.video_asset_id)).await? {
                Ok(video_asset_id) => Ok(Draft {
                    name,
                    description,
                    video_asset_id,
                }),
                Err(errors) => Err(errors),
            }
        }
        Err(errors) => Err(errors),
    };
    // A new exercise is published once per form, however often it is sent.
    let key = match existing {
        None => submissions::check_form(
            state.settings.secret_key.bytes(),
            user.id,
            &form.once,
            "name",
            &mut draft,
        ),
        Some(_) => None,
    };
    let draft = match draft {
        Ok(draft) => draft,
        Err(errors) => {
            let page = form_page(ctx, &state, &user, existing, form, errors).await?;
            return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let (creator, target, to_save) = (user.id, existing.clone(), draft.clone());
    let saved = db::run(&state.pool, move |c| {
        Ok::<_, diesel::result::Error>(match &target {
            Some(exercise) => queries::update(c, exercise, &to_save).map(|()| format!("/exercises/{}", exercise.id)),
            None => submissions::once(c, creator, key.as_ref(), |c| {
                let url = format!("/exercises/{}", queries::create(c, creator, &to_save)?.id);
                Ok::<_, SaveError>((url.clone(), url))
            })
            .map(|once| match once {
                Once::First(url) | Once::Repeat(url) => url,
            }),
        })
    })
    .await?;
    match saved {
        Ok(url) => {
            let message = if existing.is_some() {
                "The exercise is saved."
            } else {
                "The exercise is published."
            };
            flash(&req, Level::Success, message);
            Ok(see_other(&url))
        }
        Err(SaveError::NameTaken) => {
            let mut errors = FieldErrors::default();
            errors.add("name", "You already have an exercise with this name; choose another.");
            let page = form_page(ctx, &state, &user, existing, form, errors).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(SaveError::Database(e)) => Err(e.into()),
    }
}

pub async fn create(
    req: HttpRequest,
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<ExerciseForm>,
) -> AppResult<HttpResponse> {
    if !permissions::can_create_exercise(&user) {
        return Err(AppError::Forbidden);
    }
    save(req, ctx, user, state, None, form.into_inner()).await
}

/// The exercise if it exists (404 otherwise).
pub async fn load(state: &AppState, id: Id) -> AppResult<Exercise> {
    db::run(&state.pool, move |c| queries::find(c, id))
        .await?
        .ok_or(AppError::NotFound)
}

/// The exercise if this user may change it (403 if they may only see it).
async fn editable(state: &AppState, user: &CurrentUser, id: Id) -> AppResult<Exercise> {
    let exercise = load(state, id).await?;
    if permissions::can_edit_exercise(user, exercise.created_by_id) {
        Ok(exercise)
    } else {
        Err(AppError::Forbidden)
    }
}

pub async fn edit_form(
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> AppResult<HttpResponse> {
    let (id, mb) = (id.into_inner(), max_upload_mb(&state));
    let page = db::run(&state.pool, move |c| ExerciseFormPage::load_edit(c, ctx, &user, id, mb)).await?;
    render(&page)
}

pub async fn update(
    req: HttpRequest,
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
    form: web::Form<ExerciseForm>,
) -> AppResult<HttpResponse> {
    let exercise = editable(&state, &user, id.into_inner()).await?;
    save(req, ctx, user, state, Some(exercise), form.into_inner()).await
}

pub async fn delete_confirm(
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> AppResult<HttpResponse> {
    let exercise = editable(&state, &user, id.into_inner()).await?;
    render(&DeleteExercisePage {
        ctx,
        comments: exercise.comment_count,
        exercise,
    })
}

pub async fn delete(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> AppResult<HttpResponse> {
    let exercise = editable(&state, &user, id.into_inner()).await?;
    let name = exercise.name.clone();
    let removed = db::run(&state.pool, move |c| queries::delete(c, &exercise)).await?;
    tracing::info!(user_id = user.id, comments = removed, "exercise deleted");
    flash(
        &req,
        Level::Success,
        format!(
            "“{name}” is deleted, with its {removed} comment{}.",
            if removed == 1 { "" } else { "s" }
        ),
    );
    Ok(see_other("/exercises"))
}

#[derive(serde::Deserialize)]
pub struct ThreadQuery {
    page: Option<String>,
    after: Option<String>,
    before: Option<String>,
    /// Show the forms' choices in the page, with this form open.
    choose: Option<String>,
}

pub async fn show(
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
    query: web::Query<ThreadQuery>,
) -> AppResult<HttpResponse> {
    let start = Start::parse(query.page.as_deref(), query.after.as_deref(), query.before.as_deref());
    let compose = Compose::empty(max_upload_mb(&state), query.choose.as_deref());
    let page = load_page(ctx, &state, &user, id.into_inner(), start, compose).await?;
    render(&page)
}

/// The exercise page shown again (422) when a comment has errors, with
/// the choices in the page.
pub async fn exercise_page(
    ctx: PageCtx,
    state: &AppState,
    user: &CurrentUser,
    id: Id,
    start: Start,
    form: CommentForm,
    errors: FieldErrors,
) -> AppResult<ExercisePage> {
    let compose = Compose::again(form, errors, max_upload_mb(state));
    load_page(ctx, state, user, id, start, compose).await
}

/// The exercise page through its one loader.
async fn load_page(
    ctx: PageCtx,
    state: &AppState,
    user: &CurrentUser,
    id: Id,
    start: Start,
    compose: Compose,
) -> AppResult<ExercisePage> {
    let user = user.clone();
    db::run(&state.pool, move |c| {
        ExercisePage::load(c, ctx, &user, id, start, compose)
    })
    .await
}

/// The exercise page forms' video and clip choices, as JSON, fetched when
/// a form opens (the same queries, so the same permissions, as when they
/// are in the page).
pub async fn choices(user: CurrentUser, state: web::Data<AppState>, id: web::Path<Id>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let choices = db::run(&state.pool, move |c| Choices::load_for(c, &user, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-store"))
        .json(choices))
}
