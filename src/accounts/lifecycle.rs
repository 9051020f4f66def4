//! Handlers for the account lifecycle: accepting an invitation, onboarding,
//! settings, changing the email address, resetting a forgotten password.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::forms::{
    email_problem, AcceptForm, EmailChangeForm, FieldErrors, PreferencesForm, ResetRequestForm, SetPasswordForm,
};
use super::invitations::{self, AcceptError, Acceptance, State};
use super::pages::{
    AcceptPage, EmailChangePage, EmailConfirmPage, InviteClosedPage, LinkInvalidPage, PreferencesPage,
    ResetConfirmPage, ResetRequestPage, ResetSentPage,
};
use super::{mail, password, queries, setup, throttle, tokens};
use crate::db::{self, Ts};
use crate::error::{AppError, AppResult};
use crate::startup::AppState;
use crate::web::auth::{self, CurrentUser};
use crate::web::page::{flash, render, render_status, Level, PageCtx};
use crate::web::{blocking, see_other};

/// Where people land once they are set up.
pub const LIBRARY_PATH: &str = "/exercises";

fn invite_closed(ctx: PageCtx, reason: InviteClosed) -> AppResult<HttpResponse> {
    let status = match reason {
        InviteClosed::Unknown => StatusCode::NOT_FOUND,
        InviteClosed::AccountExists => StatusCode::CONFLICT,
        _ => StatusCode::GONE,
    };
    render_status(status, &InviteClosedPage { ctx, reason })
}

/// Why an invitation link cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteClosed {
    Unknown,
    Expired,
    Revoked,
    Used,
    AccountExists,
}

impl InviteClosed {
    pub fn title(self) -> &'static str {
        match self {
            InviteClosed::Unknown => "This invitation link is not valid",
            InviteClosed::Expired => "This invitation has expired",
            InviteClosed::Revoked => "This invitation was withdrawn",
            InviteClosed::Used => "This invitation has been used",
            InviteClosed::AccountExists => "You already have an account",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            InviteClosed::Unknown => "Check that you copied the whole link from the email. If it still does not work, ask whoever invited you to send a new invitation.",
            InviteClosed::Expired => "Invitations are valid for 14 days. Ask whoever invited you to send it again.",
            InviteClosed::Revoked => "Whoever invited you has withdrawn this invitation. If you think that is a mistake, ask them.",
            InviteClosed::Used => "An account has already been created with it. Log in with that account.",
            InviteClosed::AccountExists => "An account with this email address exists already. Log in, or reset your password if you have forgotten it.",
        }
    }
}

fn closed_for(state: State) -> Option<InviteClosed> {
    match state {
        State::Pending => None,
        State::Accepted => Some(InviteClosed::Used),
        State::Revoked => Some(InviteClosed::Revoked),
        State::Expired => Some(InviteClosed::Expired),
    }
}

/// Opening the link changes nothing: it shows who is invited and the form.
pub async fn invite_form(
    ctx: PageCtx,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let raw = token.into_inner();
    let lookup = raw.clone();
    let found = db::run(&state.pool, move |c| {
        let invitation = invitations::find_by_token(c, &lookup)?;
        let taken = match &invitation {
            Some(i) => queries::email_in_use(c, &i.email, None)?,
            None => false,
        };
        Ok::<_, diesel::result::Error>(invitation.map(|i| (i, taken)))
    })
    .await?;
    let Some((invitation, taken)) = found else {
        return invite_closed(ctx, InviteClosed::Unknown);
    };
    if let Some(reason) = closed_for(invitation.state(Ts::now())) {
        return invite_closed(ctx, reason);
    }
    if taken {
        return invite_closed(ctx, InviteClosed::AccountExists);
    }
    render(&AcceptPage {
        ctx,
        email: invitation.email,
        role: invitation.role,
        token: raw,
        form: AcceptForm::default(),
        errors: FieldErrors::default(),
    })
}

pub async fn invite_accept(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    session: Session,
    token: web::Path<String>,
    form: web::Form<AcceptForm>,
) -> AppResult<HttpResponse> {
    let raw = token.into_inner();
    let lookup = raw.clone();
    let Some(invitation) = db::run(&state.pool, move |c| invitations::find_by_token(c, &lookup)).await? else {
        return invite_closed(ctx, InviteClosed::Unknown);
    };
    if let Some(reason) = closed_for(invitation.state(Ts::now())) {
        return invite_closed(ctx, reason);
    }
    let form = form.into_inner();
    let redisplay = |ctx, form: AcceptForm, errors| {
        let form = AcceptForm {
            password: String::new(),
            password_confirm: String::new(),
            ..form
        };
        render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &AcceptPage {
                ctx,
                email: invitation.email.clone(),
                role: invitation.role.clone(),
                token: raw.clone(),
                form,
                errors,
            },
        )
    };
    let accepted = match form.parse(&invitation.email) {
        Ok(accepted) => accepted,
        Err(errors) => return redisplay(ctx, form, errors),
    };
    let password_hash = setup::hash_password(accepted.password.clone()).await?;
    let acceptance = Acceptance {
        username: accepted.username.clone(),
        first_name: accepted.first_name,
        last_name: accepted.last_name,
        password_hash,
    };
    let (pool, token_for_accept) = (state.pool.clone(), raw.clone());
    let outcome = blocking(move || {
        let mut conn = pool.get()?;
        Ok::<_, AppError>(invitations::accept(&mut conn, &token_for_accept, &acceptance))
    })
    .await??;
    let user_id = match outcome {
        Ok(id) => id,
        Err(AcceptError::Unknown) => return invite_closed(ctx, InviteClosed::Unknown),
        Err(AcceptError::NotOpen(state)) => return invite_closed(ctx, closed_for(state).unwrap_or(InviteClosed::Used)),
        Err(AcceptError::AccountExists) => return invite_closed(ctx, InviteClosed::AccountExists),
        Err(AcceptError::UsernameTaken) => {
            let mut errors = FieldErrors::default();
            errors.add("username", "That username is taken; choose another.");
            return redisplay(ctx, form, errors);
        }
        Err(AcceptError::Database(e)) => return Err(e.into()),
    };
    let user = db::run(&state.pool, move |c| {
        queries::record_login(c, user_id, Ts::now())?;
        queries::find_auth_user(c, user_id)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    auth::start_session(&req, &state, &session, &user).await?;
    tracing::info!(user_id, invitation = invitation.id, "invitation accepted");
    flash(
        &req,
        Level::Success,
        "Your account is ready. One more step: choose how Practika works for you.",
    );
    Ok(see_other("/onboarding"))
}

pub async fn onboarding_form(ctx: PageCtx, user: CurrentUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    if user.onboarding_completed {
        return Ok(see_other(LIBRARY_PATH));
    }
    preferences_page(ctx, user, &state, true, None).await
}

pub async fn settings_form(ctx: PageCtx, user: CurrentUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    preferences_page(ctx, user, &state, false, None).await
}

async fn preferences_page(
    ctx: PageCtx,
    user: CurrentUser,
    state: &AppState,
    onboarding: bool,
    shown: Option<(PreferencesForm, FieldErrors)>,
) -> AppResult<HttpResponse> {
    let status = if shown.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let secret = state.settings.secret_key.clone();
    let page = db::run(&state.pool, move |c| {
        PreferencesPage::load(c, ctx, &user, secret.bytes(), onboarding, shown)
    })
    .await?;
    render_status(status, &page)
}

/// Onboarding and settings are the same form; finishing onboarding also
/// marks it completed and moves on to the library. The digest's choice is
/// kept in its own table, in the same transaction.
async fn save_preferences(
    req: HttpRequest,
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    form: PreferencesForm,
    onboarding: bool,
) -> AppResult<HttpResponse> {
    let parsed = form.parse(&user.preferences);
    let digest = form.digest_frequency();
    let (preferences, digest) = match (parsed, digest) {
        (Ok(p), Ok(d)) => (p, d),
        (parsed, digest) => {
            let mut errors = parsed.err().unwrap_or_default();
            if let Err(message) = digest {
                errors.add("digest", message);
            }
            return preferences_page(ctx, user, &state, onboarding, Some((form, errors))).await;
        }
    };
    let user_id = user.id;
    db::run(&state.pool, move |c| {
        db::write_transaction(c, |c| {
            queries::save_preferences(c, user_id, &preferences, onboarding)?;
            if let Some(frequency) = digest {
                crate::digest::queries::set_frequency(c, user_id, frequency, Ts::now())?;
            }
            Ok::<_, diesel::result::Error>(())
        })
    })
    .await?;
    if onboarding {
        flash(&req, Level::Success, "You're all set. Welcome to Practika!");
        Ok(see_other(LIBRARY_PATH))
    } else {
        flash(&req, Level::Success, "Your settings are saved.");
        Ok(see_other("/account/settings"))
    }
}

pub async fn onboarding_save(
    req: HttpRequest,
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<PreferencesForm>,
) -> AppResult<HttpResponse> {
    save_preferences(req, ctx, user, state, form.into_inner(), true).await
}

pub async fn settings_save(
    req: HttpRequest,
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<PreferencesForm>,
) -> AppResult<HttpResponse> {
    save_preferences(req, ctx, user, state, form.into_inner(), false).await
}

pub async fn email_form(ctx: PageCtx, user: CurrentUser) -> AppResult<HttpResponse> {
    render(&EmailChangePage {
        ctx,
        current: user.email,
        form: EmailChangeForm::default(),
        errors: FieldErrors::default(),
    })
}

pub async fn email_change(
    req: HttpRequest,
    ctx: PageCtx,
    user: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<EmailChangeForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let new_email = form.new_email.trim().to_lowercase();
    let user_id = user.id;
    let (stored, in_use) = {
        let lookup = new_email.clone();
        db::run(&state.pool, move |c| {
            let stored = queries::find_auth_user(c, user_id)?
                .map(|u| u.row.password)
                .unwrap_or_default();
            let in_use = queries::email_in_use(c, &lookup, Some(user_id))?;
            Ok::<_, diesel::result::Error>((stored, in_use))
        })
        .await?
    };
    let candidate = form.current_password.clone();
    let password_ok = blocking(move || password::verify(&candidate, &stored)).await?;
    let mut errors = FieldErrors::default();
    if let Some(problem) = email_problem(&new_email) {
        errors.add("new_email", problem);
    } else if new_email == user.email.to_lowercase() {
        errors.add("new_email", "That is already your address.");
    } else if in_use {
        errors.add("new_email", "Another account uses that address.");
    }
    if !password_ok {
        errors.add("current_password", "That is not your current password.");
    }
    if !errors.is_empty() {
        let form = EmailChangeForm {
            current_password: String::new(),
            ..form
        };
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &EmailChangePage {
                ctx,
                current: user.email,
                form,
                errors,
            },
        );
    }
    let (user_id, address) = (user.id, new_email.clone());
    db::run(&state.pool, move |c| mail::queue_email_change(c, user_id, &address)).await?;
    flash(
        &req,
        Level::Info,
        format!(
            "We sent a confirmation link to {new_email}. Until you open it, your account keeps {}.",
            if user.email.is_empty() {
                "no address"
            } else {
                user.email.as_str()
            }
        ),
    );
    Ok(see_other("/account"))
}

type ConfirmPath = web::Path<(i32, String, String)>;

async fn check_email_link(state: &AppState, path: &(i32, String, String)) -> AppResult<Option<(i32, String)>> {
    let (user_id, encoded, token) = path.clone();
    let Some(user) = db::run(&state.pool, move |c| queries::find_auth_user(c, user_id)).await? else {
        return Ok(None);
    };
    let new_email = tokens::check_email_token(
        state.settings.secret_key.bytes(),
        user_id,
        &user.email,
        &encoded,
        &token,
        Ts::now(),
    );
    Ok(new_email.filter(|_| user.is_active).map(|email| (user_id, email)))
}

pub async fn email_confirm_form(
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: ConfirmPath,
) -> AppResult<HttpResponse> {
    match check_email_link(&state, &path).await? {
        Some((_, new_email)) => render(&EmailConfirmPage {
            ctx,
            new_email,
            action: path_string(&path),
        }),
        None => render_status(
            StatusCode::GONE,
            &LinkInvalidPage {
                ctx,
                what: "email confirmation",
                retry: "/account/email",
            },
        ),
    }
}

fn path_string(path: &(i32, String, String)) -> String {
    format!("/account/email/confirm/{}/{}/{}", path.0, path.1, path.2)
}

pub async fn email_confirm(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: ConfirmPath,
) -> AppResult<HttpResponse> {
    let Some((user_id, new_email)) = check_email_link(&state, &path).await? else {
        return render_status(
            StatusCode::GONE,
            &LinkInvalidPage {
                ctx,
                what: "email confirmation",
                retry: "/account/email",
            },
        );
    };
    let address = new_email.clone();
    let changed = db::run(&state.pool, move |c| {
        db::write_transaction(c, |c| {
            if queries::email_in_use(c, &address, Some(user_id))? {
                return Ok(false);
            }
            queries::set_email(c, user_id, &address, Ts::now())?;
            Ok::<_, diesel::result::Error>(true)
        })
    })
    .await?;
    if !changed {
        flash(
            &req,
            Level::Error,
            "Another account has started using that address meanwhile; your address was not changed.",
        );
        return Ok(see_other("/account"));
    }
    tracing::info!(user_id, "email address changed");
    flash(&req, Level::Success, format!("Your email address is now {new_email}."));
    Ok(see_other("/account"))
}

pub async fn reset_request_form(ctx: PageCtx) -> AppResult<HttpResponse> {
    render(&ResetRequestPage {
        ctx,
        form: ResetRequestForm::default(),
        errors: FieldErrors::default(),
    })
}

pub async fn reset_request(
    ctx: PageCtx,
    state: web::Data<AppState>,
    form: web::Form<ResetRequestForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let email = form.email.trim().to_lowercase();
    if let Some(problem) = email_problem(&email) {
        let mut errors = FieldErrors::default();
        errors.add("email", problem);
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ResetRequestPage { ctx, form, errors },
        );
    }
    // The same answer, at the same speed, whether or not the address has an account.
    db::run(&state.pool, move |c| mail::queue_password_reset(c, &email)).await?;
    Ok(see_other("/password-reset/sent"))
}

pub async fn reset_sent(ctx: PageCtx) -> AppResult<HttpResponse> {
    render(&ResetSentPage { ctx })
}

type ResetPath = web::Path<(i32, String)>;

async fn reset_user(state: &AppState, path: &(i32, String)) -> AppResult<Option<queries::AuthUser>> {
    let (user_id, token) = path.clone();
    let user = db::run(&state.pool, move |c| queries::find_auth_user(c, user_id)).await?;
    Ok(user.filter(|u| {
        u.is_active
            && tokens::check_reset_token(
                state.settings.secret_key.bytes(),
                u.id,
                &u.password,
                u.last_login,
                &token,
                Ts::now(),
            )
    }))
}

pub async fn reset_confirm_form(ctx: PageCtx, state: web::Data<AppState>, path: ResetPath) -> AppResult<HttpResponse> {
    match reset_user(&state, &path).await? {
        Some(user) => render(&ResetConfirmPage {
            ctx,
            username: user.username.clone(),
            action: format!("/password-reset/{}/{}", path.0, path.1),
            errors: FieldErrors::default(),
        }),
        None => render_status(
            StatusCode::GONE,
            &LinkInvalidPage {
                ctx,
                what: "password reset",
                retry: "/password-reset",
            },
        ),
    }
}

pub async fn reset_confirm(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: ResetPath,
    form: web::Form<SetPasswordForm>,
) -> AppResult<HttpResponse> {
    let Some(user) = reset_user(&state, &path).await? else {
        return render_status(
            StatusCode::GONE,
            &LinkInvalidPage {
                ctx,
                what: "password reset",
                retry: "/password-reset",
            },
        );
    };
    let errors = form.check(&user.username, &user.email);
    if !errors.is_empty() {
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ResetConfirmPage {
                ctx,
                username: user.username.clone(),
                action: format!("/password-reset/{}/{}", path.0, path.1),
                errors,
            },
        );
    }
    let hash = setup::hash_password(form.new_password.clone()).await?;
    let (user_id, username) = (user.id, user.username.clone());
    // Every session of the account ends (whoever knew the old password is
    // logged out), and the new hash makes this link (and any other) stale.
    db::run(&state.pool, move |c| {
        db::write_transaction(c, |c| {
            queries::set_password(c, user_id, &hash)?;
            super::sessions::delete_all(c, user_id)?;
            throttle::clear(c, &username)
        })
    })
    .await?;
    tracing::info!(user_id, "password reset");
    flash(&req, Level::Success, "Your new password is set. Log in with it.");
    Ok(see_other("/login"))
}
