//! HTTP handlers of the accounts area: thin, the work is in queries,
//! forms and password.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::forms::{password_problems, ChangePasswordForm, FieldErrors, LoginForm, NewAdminForm};
use super::pages::{
    AccountPage, HomePage, LoginPage, LogoutPage, PasswordPage, SessionView, SetupClosedPage, SetupPage,
};
use super::setup::{self, CreateAdminError};
use super::{password, queries, sessions, throttle};
use crate::db::{self, Ts};
use crate::error::{AppError, AppResult};
use crate::startup::AppState;
use crate::web::auth::{self, CurrentSession, CurrentUser, MaybeUser};
use crate::web::page::{flash, render, render_status, Level, PageCtx};
use crate::web::{blocking, safe_next, see_other};

const LOGIN_FAILED: &str = "That username and password do not match an active account. Check both and try again.";

pub async fn home(ctx: PageCtx, user: MaybeUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let page = match user.0 {
        Some(user) => db::run(&state.pool, move |c| HomePage::load(c, ctx, user)).await?,
        None => HomePage {
            ctx,
            user: None,
            todo: Vec::new(),
            practice: Default::default(),
        },
    };
    render(&page)
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_form(ctx: PageCtx, user: MaybeUser, query: web::Query<NextQuery>) -> AppResult<HttpResponse> {
    let next = safe_next(query.next.as_deref());
    if user.0.is_some() {
        return Ok(see_other(&next));
    }
    render(&LoginPage {
        ctx,
        form: LoginForm::default(),
        next,
        error: None,
    })
}

pub async fn login(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<LoginForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let next = safe_next(form.next.as_deref());
    let username = form.username.trim().to_owned();
    // The connection's address (or a trusted proxy's word for it), not a
    // header a client could forge.
    let ip = crate::web::client_ip(&req, &state.settings.trusted_proxies);
    let (found, refused_for) = {
        let (username, ip) = (username.clone(), ip.clone());
        db::run(&state.pool, move |c| {
            let wait = throttle::refused_for(c, &username, &ip)?;
            let user = if wait.is_none() {
                queries::find_by_username(c, &username)?
            } else {
                None
            };
            Ok::<_, diesel::result::Error>((user, wait))
        })
        .await?
    };
    if let Some(minutes) = refused_for {
        tracing::warn!("login throttled");
        let form = LoginForm {
            password: String::new(),
            ..form
        };
        let error = format!(
            "Too many failed logins for this account or from your network. Try again in {minutes} minute{}, \
             or reset your password.",
            if minutes == 1 { "" } else { "s" }
        );
        return render_status(
            StatusCode::TOO_MANY_REQUESTS,
            &LoginPage {
                ctx,
                form,
                next,
                error: Some(error),
            },
        );
    }
    let candidate = form.password.clone();
    let verified = match found {
        Some(user) => {
            let stored = user.password.clone();
            let ok = blocking(move || password::verify(&candidate, &stored)).await?;
            (ok && user.is_active).then_some(user)
        }
        None => {
            blocking(move || password::dummy_verify(&candidate)).await?;
            None
        }
    };
    let Some(mut user) = verified else {
        tracing::info!("login refused");
        let (username, ip) = (username.clone(), ip.clone());
        db::run(&state.pool, move |c| throttle::record_failure(c, &username, &ip)).await?;
        let form = LoginForm {
            password: String::new(),
            ..form
        };
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &LoginPage {
                ctx,
                form,
                next,
                error: Some(LOGIN_FAILED.to_owned()),
            },
        );
    };

    if password::needs_rehash(&user.password) {
        // Django-made (or older) hash: replace it now that the password is known.
        let upgraded = setup::hash_password(form.password.clone()).await?;
        let (id, hash) = (user.id, upgraded.clone());
        db::run(&state.pool, move |c| queries::set_password(c, id, &hash)).await?;
        user.row.password = upgraded;
    }
    let user_id = user.id;
    let login_name = username.clone();
    db::run(&state.pool, move |c| {
        queries::record_login(c, user_id, Ts::now())?;
        throttle::clear(c, &login_name)
    })
    .await?;
    auth::start_session(&req, &state, &session, &user).await?;
    // Shown on the account page: "last login" would only show this one.
    auth::put(&session, PREVIOUS_LOGIN, user.last_login.map(|t| t.0.timestamp()))?;
    tracing::info!(user_id, "logged in");
    flash(
        &req,
        Level::Success,
        format!("You are logged in as {}.", user.clone().into_current().display_name()),
    );
    Ok(see_other(&next))
}

pub async fn logout_confirm(ctx: PageCtx, user: MaybeUser) -> AppResult<HttpResponse> {
    if user.0.is_none() {
        return Ok(see_other("/"));
    }
    render(&LogoutPage { ctx })
}

pub async fn logout(req: HttpRequest, state: web::Data<AppState>, session: Session) -> AppResult<HttpResponse> {
    auth::end_session(&state, &session).await?;
    flash(&req, Level::Info, "You have logged out.");
    Ok(see_other("/login"))
}

fn setup_closed(ctx: PageCtx) -> AppResult<HttpResponse> {
    render_status(StatusCode::GONE, &SetupClosedPage { ctx })
}

pub async fn setup_form(ctx: PageCtx, state: web::Data<AppState>, token: web::Path<String>) -> AppResult<HttpResponse> {
    let token = token.into_inner();
    let admin_exists = db::run(&state.pool, queries::superuser_exists).await?;
    if admin_exists || !state.setup.matches(&token) {
        return setup_closed(ctx);
    }
    render(&SetupPage {
        ctx,
        form: NewAdminForm::default(),
        errors: FieldErrors::default(),
        token,
    })
}

pub async fn setup(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    session: Session,
    token: web::Path<String>,
    form: web::Form<NewAdminForm>,
) -> AppResult<HttpResponse> {
    let token = token.into_inner();
    if !state.setup.matches(&token) {
        return setup_closed(ctx);
    }
    let form = form.into_inner();
    let admin = match form.parse() {
        Ok(admin) => admin,
        Err(errors) => {
            let form = NewAdminForm {
                password: String::new(),
                password_confirm: String::new(),
                ..form
            };
            return render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SetupPage {
                    ctx,
                    form,
                    errors,
                    token,
                },
            );
        }
    };
    // Only one request can take the token; it goes back if creation fails
    // for a reason the user can fix.
    if !state.setup.take(&token) {
        return setup_closed(ctx);
    }
    let hash = setup::hash_password(admin.password.clone()).await?;
    let username = admin.username.clone();
    let created = {
        let pool = state.pool.clone();
        actix_web::rt::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            Ok::<_, AppError>(setup::create_admin(&mut conn, &admin, hash, true))
        })
        .await
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("setup task failed: {e}")))??
    };
    let user_id = match created {
        Ok(id) => id,
        Err(CreateAdminError::AdminExists) => return setup_closed(ctx),
        Err(CreateAdminError::User(queries::CreateUserError::UsernameTaken)) => {
            state.setup.restore(token.clone());
            let mut errors = FieldErrors::default();
            errors.add("username", "That username is taken.");
            let form = NewAdminForm {
                password: String::new(),
                password_confirm: String::new(),
                ..form
            };
            return render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SetupPage {
                    ctx,
                    form,
                    errors,
                    token,
                },
            );
        }
        Err(CreateAdminError::User(queries::CreateUserError::Database(e))) => {
            state.setup.restore(token);
            return Err(e.into());
        }
    };
    let user = db::run(&state.pool, move |c| queries::find_auth_user(c, user_id))
        .await?
        .ok_or(AppError::NotFound)?;
    db::run(&state.pool, move |c| queries::record_login(c, user_id, Ts::now())).await?;
    auth::start_session(&req, &state, &session, &user).await?;
    tracing::info!(user_id, %username, "first admin created through the setup link");
    flash(
        &req,
        Level::Success,
        format!("Welcome, {username}. Your admin account is ready."),
    );
    Ok(see_other("/"))
}

const PREVIOUS_LOGIN: &str = "prev_login";

pub async fn account(
    ctx: PageCtx,
    user: CurrentUser,
    current: CurrentSession,
    session: Session,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let (user_id, zone) = (user.id, user.preferences.time_zone);
    let (metrics, sessions, practice) = db::run(&state.pool, move |c| {
        let metrics = queries::metrics(c, user_id)?;
        let sessions = sessions::list(c, user_id, Ts::now())?;
        let practice = crate::practice::pages::summary_of(c, user_id, None, zone)?;
        Ok::<_, diesel::result::Error>((metrics, sessions, practice))
    })
    .await?;
    let mut sessions: Vec<SessionView> = sessions.iter().map(|row| SessionView::new(row, current)).collect();
    // This one first, then the others by when they were last used.
    sessions.sort_by_key(|s| !s.is_current);
    let previous_login = session
        .get::<Option<i64>>(PREVIOUS_LOGIN)
        .ok()
        .flatten()
        .flatten()
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map(Ts);
    render(&AccountPage {
        ctx,
        user,
        metrics,
        practice,
        previous_login,
        sessions,
    })
}

#[derive(serde::Deserialize)]
pub struct TimeZoneForm {
    #[serde(default)]
    time_zone: String,
}

/// The zone the browser reports (static/js/timezone.js), recorded only
/// while the user has none: 204 either way, 422 for a name that is not a
/// zone. A choice made in the settings is never replaced.
pub async fn fill_time_zone(
    user: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<TimeZoneForm>,
) -> AppResult<HttpResponse> {
    let Some(zone) = crate::web::time::parse_zone(&form.time_zone) else {
        return Ok(HttpResponse::UnprocessableEntity()
            .content_type("text/plain; charset=utf-8")
            .body("Unknown time zone."));
    };
    let user_id = user.id;
    let recorded = db::run(&state.pool, move |c| queries::fill_time_zone(c, user_id, zone)).await?;
    if recorded {
        tracing::info!(user_id, zone = zone.name(), "time zone taken from the browser");
    }
    Ok(HttpResponse::NoContent().finish())
}

/// "End" on one of the sessions listed on the account page (only the
/// user's own; this one ends with "Log out").
pub async fn end_one_session(
    req: HttpRequest,
    user: CurrentUser,
    current: CurrentSession,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    if id == current.id {
        flash(&req, Level::Info, "To end this session, log out.");
        return Ok(see_other("/account#sessions"));
    }
    let user_id = user.id;
    let ended = db::run(&state.pool, move |c| sessions::delete_one(c, user_id, id)).await?;
    if ended {
        tracing::info!(user_id, session = id, "session ended from the account page");
        flash(&req, Level::Success, "That session has ended: it is logged out.");
    } else {
        flash(&req, Level::Info, "That session had already ended.");
    }
    Ok(see_other("/account#sessions"))
}

/// "End all other sessions" on the account page.
pub async fn end_other_sessions(
    req: HttpRequest,
    user: CurrentUser,
    current: CurrentSession,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let user_id = user.id;
    let ended = db::run(&state.pool, move |c| sessions::delete_others(c, user_id, current.id)).await?;
    tracing::info!(user_id, ended, "other sessions ended from the account page");
    flash(
        &req,
        Level::Success,
        match ended {
            0 => "There was no other session.".to_owned(),
            1 => "Your other session has ended.".to_owned(),
            n => format!("Your {n} other sessions have ended."),
        },
    );
    Ok(see_other("/account#sessions"))
}

pub async fn password_form(ctx: PageCtx, _user: CurrentUser) -> AppResult<HttpResponse> {
    render(&PasswordPage {
        ctx,
        form: ChangePasswordForm::default(),
        errors: FieldErrors::default(),
    })
}

pub async fn change_password(
    req: HttpRequest,
    ctx: PageCtx,
    user: CurrentUser,
    this_session: CurrentSession,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<ChangePasswordForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let user_id = user.id;
    let stored = db::run(&state.pool, move |c| queries::find_auth_user(c, user_id))
        .await?
        .ok_or(AppError::NotFound)?
        .row
        .password;
    let current = form.current_password.clone();
    let current_ok = blocking(move || password::verify(&current, &stored)).await?;

    let mut errors = FieldErrors::default();
    if !current_ok {
        errors.add("current_password", "That is not your current password.");
    }
    for problem in password_problems(&form.new_password, &user.username, &user.email) {
        errors.add("new_password", problem);
    }
    if form.new_password != form.new_password_confirm {
        errors.add("new_password_confirm", "The two new passwords differ.");
    }
    if !errors.is_empty() {
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &PasswordPage {
                ctx,
                form: ChangePasswordForm::default(),
                errors,
            },
        );
    }
    let hash = setup::hash_password(form.new_password).await?;
    // This session carries on under the new password; every other one ends
    // with the old password, in the same transaction.
    let auth_hash = auth::session_auth_hash(state.settings.secret_key.bytes(), &hash);
    let ended = db::run(&state.pool, move |c| {
        db::write_transaction(c, |c| {
            queries::set_password(c, user_id, &hash)?;
            sessions::keep_only(c, user_id, this_session.id, &auth_hash)
        })
    })
    .await?;
    auth::renew_cookie(&session)?;
    tracing::info!(user_id, other_sessions_ended = ended, "password changed");
    flash(
        &req,
        Level::Success,
        "Your password has been changed. You have been logged out everywhere else.",
    );
    Ok(see_other("/account"))
}
