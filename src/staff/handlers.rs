//! Staff handlers: thin; the work is in `accounts::invitations`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::pages::{InvitationRow, InvitationsPage};
use crate::accounts::forms::{FieldErrors, InviteForm};
use crate::accounts::invitations::{self, InviteError, Role};
use crate::accounts::mail;
use crate::db::{self, Ts};
use crate::error::AppResult;
use crate::startup::AppState;
use crate::web::auth::StaffUser;
use crate::web::page::{flash, render, render_status, Level, PageCtx};
use crate::web::see_other;

async fn rows(state: &AppState) -> AppResult<Vec<InvitationRow>> {
    let now = Ts::now();
    let listed = db::run(&state.pool, invitations::list).await?;
    Ok(listed
        .into_iter()
        .map(|(invitation, invited_by, accepted_by)| InvitationRow {
            state: invitation.state(now),
            invitation,
            invited_by,
            accepted_by,
        })
        .collect())
}

pub async fn invitations(ctx: PageCtx, _staff: StaffUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let rows = rows(&state).await?;
    let form = InviteForm {
        emails: String::new(),
        role: Role::Student.as_str().to_owned(),
    };
    render(&InvitationsPage {
        ctx,
        rows,
        form,
        errors: FieldErrors::default(),
        roles: Role::ALL,
    })
}

pub async fn invite(
    req: HttpRequest,
    ctx: PageCtx,
    staff: StaffUser,
    state: web::Data<AppState>,
    form: web::Form<InviteForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let (emails, role) = match form.parse() {
        Ok(parsed) => parsed,
        Err(errors) => {
            let rows = rows(&state).await?;
            return render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &InvitationsPage {
                    ctx,
                    rows,
                    form,
                    errors,
                    roles: Role::ALL,
                },
            );
        }
    };
    let inviter = staff.0.id;
    let results = db::run(&state.pool, move |c| {
        let mut results = Vec::new();
        for email in emails {
            results.push(match invitations::create(c, &email, role, Some(inviter)) {
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
            Ok((invitation, raw)) => {
                sent.push(invitation.email.clone());
                mail::spawn_invitation(state.clone(), invitation, raw);
            }
            Err(reason) => flash(&req, Level::Warning, format!("Not invited: {reason}.")),
        }
    }
    if !sent.is_empty() {
        flash(
            &req,
            Level::Success,
            format!(
                "Invited as {}: {}. The emails are on their way.",
                role.as_str(),
                sent.join(", ")
            ),
        );
    }
    Ok(see_other("/staff/invitations"))
}

pub async fn resend(
    req: HttpRequest,
    _staff: StaffUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    match db::run(&state.pool, move |c| invitations::renew_token(c, id)).await? {
        Some((invitation, raw)) => {
            flash(
                &req,
                Level::Success,
                format!(
                    "A new invitation link is on its way to {}; the previous link no longer works.",
                    invitation.email
                ),
            );
            mail::spawn_invitation(state.clone(), invitation, raw);
        }
        None => flash(
            &req,
            Level::Error,
            "That invitation was accepted or revoked, so it cannot be sent again.",
        ),
    }
    Ok(see_other("/staff/invitations"))
}

pub async fn revoke(
    req: HttpRequest,
    _staff: StaffUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (revoked, invitation) = db::run(&state.pool, move |c| {
        let invitation = invitations::find(c, id)?;
        Ok::<_, diesel::result::Error>((invitations::revoke(c, id)?, invitation))
    })
    .await?;
    if revoked {
        flash(
            &req,
            Level::Success,
            format!(
                "The invitation to {} is revoked; its link no longer works.",
                invitation.email
            ),
        );
    } else {
        flash(&req, Level::Error, "Only a pending invitation can be revoked.");
    }
    Ok(see_other("/staff/invitations"))
}
