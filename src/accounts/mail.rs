//! The account emails: rendering, sending off the request path, and
//! recording how an invitation's delivery went.

use super::invitations::{self, Invitation};
use super::tokens;
use crate::db::{self, Ts};
use crate::email::{EmailChangeEmail, InvitationEmail, PasswordResetEmail};
use crate::startup::AppState;

/// "a coach", "an admin".
fn with_article(role: &str) -> String {
    let article = if role.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {role}")
}

fn expires_label(at: Ts) -> String {
    at.0.format("%-d %B %Y").to_string()
}

/// Sends an invitation with the raw token's link and records the outcome on
/// the invitation (sent count, last error), so a failure stays visible and
/// can be resent. Returns the link and the outcome.
pub async fn send_invitation(state: &AppState, invitation: &Invitation, raw: &str) -> (String, Result<(), String>) {
    let link = format!("{}/invite/{raw}", state.settings.public_url);
    let inviter = match invitation.invited_by_id {
        Some(id) => db::run(&state.pool, move |c| super::queries::find_auth_user(c, id))
            .await
            .ok()
            .flatten()
            .map(|u| u.into_current().display_name()),
        None => None,
    };
    let rendered = InvitationEmail {
        link: link.clone(),
        role: with_article(&invitation.role),
        inviter,
        expires: expires_label(invitation.expires_at),
        site: state.settings.public_url.clone(),
    }
    .render(&invitation.email, &link);
    let outcome = match rendered {
        Ok(email) => state.mailer.send(email).await,
        Err(e) => Err(format!("could not render the email: {e}")),
    };
    if let Err(error) = &outcome {
        tracing::warn!(invitation = invitation.id, %error, "invitation email not sent");
    }
    let (id, recorded) = (invitation.id, outcome.clone());
    if let Err(error) = db::run(&state.pool, move |c| invitations::record_send(c, id, &recorded)).await {
        tracing::error!(%error, "could not record the invitation's delivery");
    }
    (link, outcome)
}

/// Sends in the background: a slow or failing mail server never holds up
/// the request.
pub fn spawn_invitation(state: actix_web::web::Data<AppState>, invitation: Invitation, raw: String) {
    actix_web::rt::spawn(async move {
        // The outcome is logged and recorded on the invitation.
        let (_link, _outcome) = send_invitation(&state, &invitation, &raw).await;
    });
}

/// Password reset links for every active account with this address, sent
/// in the background (the response is the same whether or not one exists).
pub fn spawn_password_reset(state: actix_web::web::Data<AppState>, email: String) {
    actix_web::rt::spawn(async move {
        let lookup = email.clone();
        let users = match db::run(&state.pool, move |c| super::queries::find_active_by_email(c, &lookup)).await {
            Ok(users) => users,
            Err(error) => {
                tracing::error!(%error, "password reset lookup failed");
                return;
            }
        };
        for user in users {
            let token = tokens::make_reset_token(
                state.settings.secret_key.bytes(),
                user.id,
                &user.password,
                user.last_login,
                Ts::now(),
            );
            let link = format!("{}/password-reset/{}/{token}", state.settings.public_url, user.id);
            let rendered = PasswordResetEmail {
                link: link.clone(),
                name: user.clone().into_current().display_name(),
                username: user.username.clone(),
                valid_hours: tokens::RESET_VALID_HOURS,
                site: state.settings.public_url.clone(),
            }
            .render(&user.email, &link);
            let outcome = match rendered {
                Ok(message) => state.mailer.send(message).await,
                Err(e) => Err(e.to_string()),
            };
            if let Err(error) = outcome {
                tracing::warn!(user_id = user.id, %error, "password reset email not sent");
            }
        }
    });
}

/// The confirmation link for a new address, sent to that address.
pub fn spawn_email_change(state: actix_web::web::Data<AppState>, user_id: i32, name: String, old: String, new: String) {
    actix_web::rt::spawn(async move {
        let (encoded, token) =
            tokens::make_email_token(state.settings.secret_key.bytes(), user_id, &old, &new, Ts::now());
        let link = format!(
            "{}/account/email/confirm/{user_id}/{encoded}/{token}",
            state.settings.public_url
        );
        let rendered = EmailChangeEmail {
            link: link.clone(),
            name,
            valid_hours: tokens::EMAIL_CHANGE_VALID_HOURS,
            site: state.settings.public_url.clone(),
        }
        .render(&new, &link);
        let outcome = match rendered {
            Ok(message) => state.mailer.send(message).await,
            Err(e) => Err(e.to_string()),
        };
        if let Err(error) = outcome {
            tracing::warn!(user_id, %error, "email change confirmation not sent");
        }
    });
}
