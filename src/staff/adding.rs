//! The staff "add" pages (`/staff/{model}/add`): a model's empty form, and
//! the object made from it with its audit entry in one transaction.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::audit;
use super::handlers::{model, nav};
use super::model::{Field, Input, InputKind, StaffError, StaffModel};
use super::pages::AddPage;
use crate::accounts::forms::FieldErrors;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::startup::AppState;
use crate::web::auth::StaffUser;
use crate::web::page::{flash, render, render_status, Level, PageCtx};
use crate::web::see_other;

/// The model, if the staff pages add its objects (404 otherwise).
fn addable(slug: &str) -> AppResult<&'static dyn StaffModel> {
    let model = model(slug)?;
    if model.can_add() {
        Ok(model)
    } else {
        Err(AppError::NotFound)
    }
}

async fn add_page(
    ctx: PageCtx,
    staff: &StaffUser,
    state: &AppState,
    model: &'static dyn StaffModel,
    typed: Option<&Input>,
    errors: FieldErrors,
) -> AppResult<AddPage> {
    let actor = staff.0.clone();
    let mut fields: Vec<Field> = db::run(&state.pool, move |c| model.add_fields(c, &actor)).await?;
    if let Some(typed) = typed {
        for field in fields.iter_mut().filter(|f| !f.readonly) {
            field.value = match field.kind {
                InputKind::Password => String::new(),
                InputKind::Checkbox => typed.checkbox(field.name).unwrap_or(false).to_string(),
                _ => typed.get(field.name).unwrap_or_default().to_owned(),
            };
        }
    }
    Ok(AddPage {
        ctx,
        nav: nav(),
        slug: model.slug(),
        title: model.plural(),
        singular: model.singular(),
        lead: model.add_lead(),
        fields,
        errors,
    })
}

pub async fn add_form(
    ctx: PageCtx,
    staff: StaffUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> AppResult<HttpResponse> {
    let model = addable(&slug)?;
    render(&add_page(ctx, &staff, &state, model, None, FieldErrors::default()).await?)
}

pub async fn add(
    req: HttpRequest,
    ctx: PageCtx,
    staff: StaffUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let model = addable(&slug)?;
    let input = Input::parse(&body);
    let (actor, typed) = (staff.0.clone(), input.clone());
    let created = db::run(&state.pool, move |c| {
        let result = db::write_transaction(c, |c| {
            let (id, entry) = model.create(c, &actor, &typed)?;
            audit::record(c, actor.id, std::slice::from_ref(&entry))?;
            Ok::<_, StaffError>((id, entry))
        });
        match result {
            Ok(made) => Ok(Ok(made)),
            Err(StaffError::Invalid(errors)) => Ok(Err(errors)),
            Err(other) => Err(other),
        }
    })
    .await?;
    match created {
        Ok((id, entry)) => {
            flash(
                &req,
                Level::Success,
                format!("Added the {} {}.", model.singular(), entry.object_repr),
            );
            Ok(see_other(&super::model::href(model.slug(), &id)))
        }
        Err(errors) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &add_page(ctx, &staff, &state, model, Some(&input), errors).await?,
        ),
    }
}
