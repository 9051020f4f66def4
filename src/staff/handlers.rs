//! Staff handlers: thin and generic; each model's work is in `models/`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::audit::{self, Entry};
use super::model::{Input, StaffError, StaffModel};
use super::pages::{
    BulkConfirmPage, ChangePage, DashboardPage, DeletePage, HistoryPage, InviteSection, ListPage, NavItem,
};
use super::{dashboard, models};
use crate::accounts::forms::{FieldErrors, InviteForm};
use crate::accounts::invitations::{self, InviteError, Role};
use crate::accounts::mail;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::startup::AppState;
use crate::web::auth::StaffUser;
use crate::web::page::{flash, render, render_status, Level, PageCtx};
use crate::web::see_other;

/// The most ids one bulk action takes (a page holds 50).
const BULK_MAX: usize = 500;

pub(super) fn nav() -> Vec<NavItem> {
    models::ALL
        .iter()
        .map(|m| NavItem {
            slug: m.slug(),
            label: m.plural(),
        })
        .collect()
}

pub(super) fn model(slug: &str) -> AppResult<&'static dyn StaffModel> {
    models::find(slug).ok_or(AppError::NotFound)
}

impl From<StaffError> for AppError {
    fn from(error: StaffError) -> Self {
        match error {
            StaffError::NotFound => AppError::NotFound,
            StaffError::Database(e) => e.into(),
            StaffError::Unexpected(e) => AppError::Unexpected(e),
            StaffError::Refused(message) => AppError::BadRequest(message),
            StaffError::Invalid(_) => AppError::BadRequest("invalid form".into()),
        }
    }
}

pub async fn dashboard(ctx: PageCtx, _staff: StaffUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let ffmpeg_missing = !crate::media::Tools::from_settings(&state.settings).available().await;
    let (counts, recent, failed_jobs) = db::run(&state.pool, dashboard::summary).await?;
    let media_dir = state.settings.media_dir();
    let free = crate::web::blocking(move || crate::media::disk::free_bytes(&media_dir)).await?;
    render(&DashboardPage {
        ctx,
        nav: nav(),
        counts,
        recent,
        failed_jobs,
        ffmpeg_missing,
        disk: dashboard::disk_space(&state.settings, free),
    })
}

async fn list_page(
    ctx: PageCtx,
    state: &AppState,
    model: &'static dyn StaffModel,
    query: &str,
    invite: Option<InviteSection>,
) -> AppResult<ListPage> {
    let input = Input::parse(query.as_bytes());
    db::run(&state.pool, move |c| ListPage::load(c, ctx, model, &input, invite)).await
}

fn invite_section(form: InviteForm, errors: FieldErrors) -> InviteSection {
    InviteSection {
        form,
        errors,
        roles: Role::ALL,
    }
}

pub async fn list(
    req: HttpRequest,
    ctx: PageCtx,
    _staff: StaffUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> AppResult<HttpResponse> {
    let model = model(&slug)?;
    let invite = (model.slug() == "invitations").then(|| {
        invite_section(
            InviteForm {
                emails: String::new(),
                role: Role::Student.as_str().to_owned(),
            },
            FieldErrors::default(),
        )
    });
    render(&list_page(ctx, &state, model, req.query_string(), invite).await?)
}

/// Invites one or many addresses (the form on the invitations list).
pub async fn invite(
    req: HttpRequest,
    ctx: PageCtx,
    staff: StaffUser,
    state: web::Data<AppState>,
    form: web::Form<InviteForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let parsed = form.parse().and_then(|(emails, role)| {
        // An accepted admin invitation makes a staff member: only superusers grant that.
        if !crate::accounts::permissions::may_grant_role(&staff.0, role.as_str()) {
            let mut errors = FieldErrors::default();
            errors.add("role", "Only superusers can invite admins: admins get staff rights.");
            Err(errors)
        } else {
            Ok((emails, role))
        }
    });
    let (emails, role) = match parsed {
        Ok(parsed) => parsed,
        Err(errors) => {
            let model = model("invitations")?;
            let page = list_page(ctx, &state, model, "", Some(invite_section(form, errors))).await?;
            return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let inviter = staff.0.id;
    let results = db::run(&state.pool, move |c| {
        let mut results = Vec::new();
        for email in emails {
            let outcome = db::write_transaction(c, |c| {
                let created = invitations::create(c, &email, role, Some(inviter))?;
                // The email's job commits with the invitation, or neither does.
                mail::queue_invitation(c, created.0.id)?;
                audit::record(
                    c,
                    inviter,
                    &[
                        Entry::new("create", "invitations", created.0.id, &created.0.email).change(
                            "role",
                            serde_json::Value::Null,
                            role.as_str(),
                        ),
                    ],
                )?;
                Ok::<_, InviteError>(created)
            });
            results.push(match outcome {
                Ok(created) => Ok(created),
                Err(InviteError::Database(e)) => return Err(e),
                Err(refused) => Err(refused.to_string()),
            });
        }
        Ok(results)
    })
    .await?;
    let mut sent = Vec::new();
    for result in results {
        match result {
            Ok((invitation, _)) => sent.push(invitation.email.clone()),
            Err(reason) => flash(&req, Level::Warning, format!("Not invited: {reason}.")),
        }
    }
    if !sent.is_empty() {
        let invited = format!("Invited as {}: {}.", role.as_str(), sent.join(", "));
        flash_delivery(&req, &state, invited).await;
    }
    Ok(see_other("/staff/invitations"))
}

/// The message after queueing invitation emails: what was done, and then
/// either that the emails are going out or, when the mail server cannot be
/// reached right now, that they wait in the queue (never a promise of a
/// delivery that cannot happen).
async fn flash_delivery(req: &HttpRequest, state: &AppState, done: String) {
    match state.mailer.reachable().await {
        Ok(()) => flash(
            req,
            Level::Success,
            format!("{done} The emails are queued and go out within a minute."),
        ),
        Err(problem) => flash(
            req,
            Level::Warning,
            format!(
                "{done} But no email can go out right now: {problem}. The emails wait in the queue and are \
                 retried automatically (see Jobs); the invitations work as soon as they arrive."
            ),
        ),
    }
}

/// One invitation's resend or revoke button: the bulk action on one row.
pub async fn invitation_action(
    req: HttpRequest,
    staff: StaffUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (id, action) = path.into_inner();
    let action = match action.as_str() {
        "resend" => "send",
        "revoke" => "revoke",
        _ => return Err(AppError::NotFound),
    };
    run_bulk(
        &req,
        &staff,
        &state,
        model("invitations")?,
        action,
        vec![id],
        Input::default(),
    )
    .await?;
    Ok(see_other("/staff/invitations"))
}

pub async fn bulk(
    req: HttpRequest,
    ctx: PageCtx,
    staff: StaffUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let model = model(&slug)?;
    let input = Input::parse(&body);
    let back = input
        .get("back")
        .filter(|b| b.starts_with(&format!("/staff/{}", model.slug())))
        .map(|b| crate::web::safe_next(Some(b)))
        .unwrap_or_else(|| format!("/staff/{}", model.slug()));
    let action = input.text("action");
    let ids = input.all("ids");
    if action.is_empty() || !model.bulk_actions().iter().any(|a| a.key == action) {
        flash(&req, Level::Error, "Choose an action.");
    } else if ids.is_empty() {
        flash(
            &req,
            Level::Error,
            format!("Select the {} to act on.", model.plural().to_lowercase()),
        );
    } else if ids.len() > BULK_MAX {
        flash(&req, Level::Error, format!("Select at most {BULK_MAX} at a time."));
    } else if action == "delete" && input.get("confirmed") != Some("yes") {
        // Deleting asks first, as deleting one does.
        let (actor, lookup) = (staff.0.clone(), ids.clone());
        let items = db::run(&state.pool, move |c| {
            let mut items = Vec::new();
            for id in &lookup {
                let name = match model.detail(c, id, &actor) {
                    Ok(detail) => detail.repr,
                    Err(_) => continue,
                };
                let lines = model.delete_preview(c, id).unwrap_or_default();
                items.push((name, lines));
            }
            Ok::<_, diesel::result::Error>(items)
        })
        .await?;
        return render(&BulkConfirmPage {
            ctx,
            nav: nav(),
            slug: model.slug(),
            title: model.plural(),
            action,
            back,
            ids,
            items,
        });
    } else {
        run_bulk(&req, &staff, &state, model, &action, ids, input).await?;
    }
    Ok(see_other(&back))
}

async fn run_bulk(
    req: &HttpRequest,
    staff: &StaffUser,
    state: &web::Data<AppState>,
    model: &'static dyn StaffModel,
    action: &str,
    ids: Vec<String>,
    input: Input,
) -> AppResult<()> {
    let actor = staff.0.clone();
    let action_owned = action.to_owned();
    let result = db::run(&state.pool, move |c| {
        db::write_transaction(c, |c| {
            let outcome = model.bulk(c, &action_owned, &ids, &actor, &input)?;
            audit::record(c, actor.id, &outcome.entries)?;
            Ok::<_, StaffError>(outcome)
        })
        .map(Ok)
        .or_else(|e| match e {
            StaffError::Refused(message) => Ok(Err(message)),
            other => Err(other),
        })
    })
    .await?;
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(message) => {
            flash(req, Level::Error, message);
            return Ok(());
        }
    };
    let label = model
        .bulk_actions()
        .iter()
        .find(|a| a.key == action)
        .map_or(action, |a| a.label)
        .trim_end_matches('…');
    let done = outcome.entries.len();
    let names: Vec<&str> = outcome.entries.iter().map(|e| e.object_repr.as_str()).collect();
    if done > 0 {
        flash(
            req,
            Level::Success,
            format!("{label}: done for {done} ({}).", names.join(", ")),
        );
    } else if outcome.skipped.is_empty() {
        flash(req, Level::Info, format!("{label}: nothing needed changing."));
    }
    for skipped in outcome.skipped {
        flash(req, Level::Warning, skipped);
    }
    // The bulk action queued its emails in its own transaction.
    if !outcome.mails.is_empty() {
        if let Err(problem) = state.mailer.reachable().await {
            flash(
                req,
                Level::Warning,
                format!(
                    "No email can go out right now: {problem}. The emails wait in the queue and are retried \
                     automatically (see Jobs); until one arrives, the link sent before keeps working."
                ),
            );
        }
    }
    Ok(())
}

async fn change_page(
    ctx: PageCtx,
    staff: &StaffUser,
    state: &AppState,
    model: &'static dyn StaffModel,
    id: String,
    errors: FieldErrors,
    typed: Option<Input>,
) -> AppResult<ChangePage> {
    let actor = staff.0.clone();
    db::run(&state.pool, move |c| {
        ChangePage::load(c, ctx, model, &actor, id, errors, typed)
    })
    .await
}

/// One of an object's own buttons (ending a user's sessions), in one
/// transaction with its audit entry.
pub async fn object_action(
    req: HttpRequest,
    staff: StaffUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> AppResult<HttpResponse> {
    let (slug, id, key) = path.into_inner();
    let model = model(&slug)?;
    let (actor, lookup) = (staff.0.clone(), id.clone());
    let result = db::run(&state.pool, move |c| {
        let result = db::write_transaction(c, |c| {
            let (entry, message) = model.run_object_action(c, &lookup, &key, &actor)?;
            audit::record(c, actor.id, std::slice::from_ref(&entry))?;
            Ok::<_, StaffError>(message)
        });
        match result {
            Err(StaffError::Refused(message)) => Ok(Err(message)),
            other => other.map(Ok),
        }
    })
    .await?;
    match result {
        Ok(message) => flash(&req, Level::Success, message),
        Err(message) => flash(&req, Level::Error, message),
    }
    Ok(see_other(&super::model::href(model.slug(), &id)))
}

pub async fn change(
    ctx: PageCtx,
    staff: StaffUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (model, id) = match object(path.into_inner(), "")? {
        Ok(found) => found,
        Err(redirect) => return Ok(redirect),
    };
    render(&change_page(ctx, &staff, &state, model, id, FieldErrors::default(), None).await?)
}

pub async fn save(
    req: HttpRequest,
    ctx: PageCtx,
    staff: StaffUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (slug, id) = path.into_inner();
    let model = model(&slug)?;
    let input = Input::parse(&body);
    let actor = staff.0.clone();
    let (lookup, typed) = (id.clone(), input.clone());
    let saved = db::run(&state.pool, move |c| {
        let result = db::write_transaction(c, |c| {
            let entry = model.save(c, &lookup, &actor, &typed)?;
            if !entry.changes.is_empty() {
                audit::record(c, actor.id, std::slice::from_ref(&entry))?;
            }
            Ok::<_, StaffError>(entry)
        });
        match result {
            Err(StaffError::Invalid(errors)) => Ok(Err(errors)),
            other => other.map(Ok),
        }
    })
    .await?;
    match saved {
        Ok(entry) => {
            if entry.changes.is_empty() {
                flash(&req, Level::Info, format!("{}: nothing changed.", entry.object_repr));
            } else {
                let fields: Vec<&str> = entry.changes.iter().map(|(f, ..)| f.as_str()).collect();
                flash(
                    &req,
                    Level::Success,
                    format!("Saved {} (changed: {}).", entry.object_repr, fields.join(", ")),
                );
            }
            Ok(see_other(&super::model::href(model.slug(), &id)))
        }
        Err(errors) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &change_page(ctx, &staff, &state, model, id, errors, Some(input)).await?,
        ),
    }
}

pub async fn delete_preview(
    ctx: PageCtx,
    staff: StaffUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (model, id) = match object(path.into_inner(), "/delete")? {
        Ok(found) => found,
        Err(redirect) => return Ok(redirect),
    };
    let (actor, lookup) = (staff.0.clone(), id.clone());
    let (repr, consequences) = db::run(&state.pool, move |c| {
        let repr = model.detail(c, &lookup, &actor)?.repr;
        Ok::<_, StaffError>((repr, model.delete_preview(c, &lookup)?))
    })
    .await?;
    render(&DeletePage {
        ctx,
        nav: nav(),
        slug: model.slug(),
        title: model.plural(),
        singular: model.singular(),
        id,
        repr,
        consequences,
    })
}

pub async fn delete(
    req: HttpRequest,
    staff: StaffUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (slug, id) = path.into_inner();
    let model = model(&slug)?;
    let (actor, lookup) = (staff.0.clone(), id.clone());
    let deleted = db::run(&state.pool, move |c| {
        let result = db::write_transaction(c, |c| {
            let files = model.stored_files(c, &lookup)?;
            let entry = model.delete(c, &lookup, &actor)?;
            audit::record(c, actor.id, std::slice::from_ref(&entry))?;
            Ok::<_, StaffError>((entry, files))
        });
        match result {
            Err(StaffError::Refused(message)) => Ok(Err(message)),
            other => other.map(Ok),
        }
    })
    .await?;
    match deleted {
        Ok((entry, files)) => {
            if !files.is_empty() {
                let storage = state.storage.clone();
                crate::web::blocking(move || remove_files(&storage, &files)).await?;
            }
            flash(
                &req,
                Level::Success,
                format!("Deleted {} {}.", model.singular(), entry.object_repr),
            );
            Ok(see_other(&format!("/staff/{}", model.slug())))
        }
        Err(message) => {
            flash(&req, Level::Error, message);
            Ok(see_other(&super::model::href(model.slug(), &id)))
        }
    }
}

/// Removes files a committed delete left unused. A file that cannot be
/// removed is logged: the rows are gone either way.
fn remove_files(storage: &crate::media::Storage, files: &[String]) {
    for relative in files {
        // Rendition folders are per video: gone once empty.
        if let Err(error) = storage.remove(relative) {
            tracing::warn!(%error, path = %relative, "could not remove a deleted video's file");
        }
    }
}

pub async fn history(
    ctx: PageCtx,
    staff: StaffUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (model, id) = match object(path.into_inner(), "/history")? {
        Ok(found) => found,
        Err(redirect) => return Ok(redirect),
    };
    let (actor, lookup) = (staff.0.clone(), id.clone());
    let (repr, entries) = db::run(&state.pool, move |c| {
        let entries = audit::history(c, model.slug(), &lookup)?;
        // A deleted object keeps its history: its name comes from the log.
        let repr = match model.detail(c, &lookup, &actor) {
            Ok(detail) => detail.repr,
            Err(StaffError::NotFound) if !entries.is_empty() => entries[0].object_repr.clone(),
            Err(e) => return Err(e),
        };
        Ok::<_, StaffError>((repr, entries))
    })
    .await?;
    render(&HistoryPage {
        ctx,
        nav: nav(),
        slug: model.slug(),
        title: model.plural(),
        id,
        repr,
        entries,
    })
}

/// The model and object id of `/staff/{model}/{id}{page}`. A uuid written
/// another way (no dashes, capitals) names the same object: the answer is
/// then a redirect to its one address, so that its history is found too.
fn object(
    (slug, id): (String, String),
    page: &str,
) -> AppResult<Result<(&'static dyn StaffModel, String), HttpResponse>> {
    let model = model(&slug)?;
    let canonical = id
        .parse::<crate::db::Id>()
        .ok()
        .map(|parsed| parsed.to_string())
        .filter(|c| *c != id);
    Ok(match canonical {
        Some(canonical) => Err(see_other(&format!("/staff/{slug}/{canonical}{page}"))),
        None => Ok((model, id)),
    })
}
