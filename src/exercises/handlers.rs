//! Exercise handlers: thin; rules live in `exercises` (permissions),
//! `forms` and `queries`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::forms::{ExerciseForm, LibraryQuery, VideoChoice};
use super::pages::{CardView, DeleteExercisePage, ExerciseFormPage, ExercisePage, LibraryPage, Pager};
use super::queries::{self, Draft, Exercise, Filter, SaveError, PAGE_SIZE};
use crate::accounts::forms::FieldErrors;
use crate::accounts::permissions;
use crate::accounts::submissions::{self, Once};
use crate::comments;
use crate::comments::pages::{CommentForm, VideoOption};
use crate::db::{self, Id};
use crate::error::{AppError, AppResult};
use crate::startup::AppState;
use crate::videos;
use crate::videos::pages::VideoView;
use crate::web::auth::CurrentUser;
use crate::web::page::{flash, render, render_status, Level, PageCtx};
use crate::web::see_other;

pub async fn library(
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<LibraryQuery>,
) -> AppResult<HttpResponse> {
    let filter = Filter {
        search: query.search(),
        coach: query.coach(),
        page: query.page(),
    };
    let lookup = filter.clone();
    let ((cards, total), coaches) = db::run(&state.pool, move |c| {
        Ok::<_, diesel::result::Error>((queries::list(c, &lookup)?, queries::coaches(c)?))
    })
    .await?;
    let mut base = String::new();
    if let Some(q) = &filter.search {
        base.push_str(&format!(
            "q={}&",
            url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        ));
    }
    if let Some(coach) = filter.coach {
        base.push_str(&format!("coach={coach}&"));
    }
    render(&LibraryPage {
        ctx,
        cards: cards.iter().map(CardView::new).collect(),
        pager: Pager::new(filter.page, PAGE_SIZE, total, base),
        search: filter.search.clone().unwrap_or_default(),
        coach: filter.coach,
        coaches,
        can_create: permissions::can_create_exercise(&user),
        filtered: filter.search.is_some() || filter.coach.is_some(),
    })
}

/// The author's own videos, newest first, for choosing one.
pub async fn video_options(state: &AppState, user_id: i32) -> AppResult<Vec<VideoOption>> {
    let videos = db::run(&state.pool, move |c| videos::queries::list(c, user_id, false, 0, 200)).await?;
    Ok(videos.iter().map(|(asset, _)| VideoOption::of_asset(asset)).collect())
}

async fn form_page(
    ctx: PageCtx,
    state: &AppState,
    user: &CurrentUser,
    exercise: Option<Exercise>,
    form: ExerciseForm,
    errors: FieldErrors,
) -> AppResult<ExerciseFormPage> {
    Ok(ExerciseFormPage {
        ctx,
        exercise,
        form,
        errors,
        videos: video_options(state, user.id).await?,
        max_upload_mb: state.settings.max_upload_bytes / 1024 / 1024,
    })
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
    let exercise = editable(&state, &user, id.into_inner()).await?;
    let form = ExerciseForm::from_draft(&Draft {
        name: exercise.name.clone(),
        description: exercise.description.clone(),
        video_asset_id: exercise.video_asset_id,
    });
    let page = form_page(ctx, &state, &user, Some(exercise), form, FieldErrors::default()).await?;
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
    let exercise_id = exercise.id;
    let comments = db::run(&state.pool, move |c| queries::comment_count(c, exercise_id)).await?;
    render(&DeleteExercisePage {
        ctx,
        exercise,
        comments,
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
}

pub async fn show(
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<Id>,
    query: web::Query<ThreadQuery>,
) -> AppResult<HttpResponse> {
    let page0 = query
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| *p >= 1)
        .map_or(0, |p| p - 1);
    let page = exercise_page(
        ctx,
        &state,
        &user,
        id.into_inner(),
        page0,
        CommentForm::default(),
        FieldErrors::default(),
    )
    .await?;
    render(&page)
}

/// The exercise page, also shown again (422) when a comment has errors.
pub async fn exercise_page(
    ctx: PageCtx,
    state: &AppState,
    user: &CurrentUser,
    id: Id,
    page0: i64,
    form: CommentForm,
    errors: FieldErrors,
) -> AppResult<ExercisePage> {
    let (exercise, coach) = db::run(&state.pool, move |c| queries::find_with_coach(c, id))
        .await?
        .ok_or(AppError::NotFound)?;
    let video_id = exercise.video_asset_id;
    let asset = db::run(&state.pool, move |c| videos::queries::find_asset(c, video_id))
        .await?
        .ok_or(AppError::NotFound)?;
    let thread = comments::handlers::thread_view(state, user, &exercise, page0).await?;
    let user_id = user.id;
    let clips = db::run(&state.pool, move |c| {
        comments::queries::clip_choices_described(c, id, user_id)
    })
    .await?;
    Ok(ExercisePage {
        can_edit: permissions::can_edit_exercise(user, exercise.created_by_id),
        own_exercise: exercise.created_by_id == user.id,
        video: VideoView::new(&asset, None),
        coach,
        entries: thread.0,
        pager: Pager::new(page0, comments::queries::PAGE_SIZE, thread.1, String::new()),
        form,
        errors,
        videos: video_options(state, user.id).await?,
        clips: clips.iter().map(VideoOption::of_clip).collect(),
        max_upload_mb: state.settings.max_upload_bytes / 1024 / 1024,
        speeds: speed_choices(user.preferences.playback_speed),
        exercise,
        ctx,
    })
}

/// The player's speed choices, the user's default selected.
pub fn speed_choices(default: f64) -> Vec<(String, String, bool)> {
    crate::accounts::queries::PLAYBACK_SPEEDS
        .iter()
        .map(|s| (s.to_string(), format!("{s}×"), (*s - default).abs() < f64::EPSILON))
        .collect()
}
