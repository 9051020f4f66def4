//! The account emails: rendering, sending off the request path, and
//! recording how an invitation's delivery went.

use super::invitations::{self, Invitation};
use super::tokens;
use crate::db::{self, DbConn, Pool, Ts};
use crate::email::{EmailChangeEmail, InvitationEmail, Mailer, PasswordResetEmail};
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
pub async fn send_invitation(
    pool: &Pool,
    mailer: &Mailer,
    public_url: &str,
    invitation: &Invitation,
    raw: &str,
) -> (String, Result<(), String>) {
    let link = format!("{public_url}/invite/{raw}");
    let inviter = match invitation.invited_by_id {
        Some(id) => db::run(pool, move |c| super::queries::display_name_of(c, id))
            .await
            .ok(),
        None => None,
    };
    let rendered = InvitationEmail {
        link: link.clone(),
        role: with_article(&invitation.role),
        inviter,
        expires: expires_label(invitation.expires_at),
        site: public_url.to_owned(),
    }
    .render(&invitation.email, &link);
    let outcome = match rendered {
        Ok(email) => mailer.send(email).await,
        Err(e) => Err(format!("could not render the email: {e}")),
    };
    if let Err(error) = &outcome {
        tracing::warn!(invitation = invitation.id, %error, "invitation email not sent");
    }
    let (id, recorded) = (invitation.id, outcome.clone());
    if let Err(error) = db::run(pool, move |c| invitations::record_send(c, id, &recorded)).await {
        tracing::error!(%error, "could not record the invitation's delivery");
    }
    (link, outcome)
}

/// Queues the invitation's email: a worker sends it, retrying with backoff
/// when the mail server fails, so a slow or failing server never holds up a
/// request and a crash loses nothing.
pub fn queue_invitation(conn: &mut DbConn, invitation_id: i64) -> diesel::QueryResult<i64> {
    crate::jobs::queue::enqueue(
        conn,
        crate::jobs::kinds::SEND_INVITATION,
        serde_json::json!({ "invitation_id": invitation_id }),
    )
}

/// The job: a fresh link (only the token's digest is stored, so a link can
/// only be sent when it is made) and the email. Nothing to do once the
/// invitation is accepted or revoked.
pub async fn invitation_job(pool: &Pool, mailer: &Mailer, public_url: &str, invitation_id: i64) -> Result<(), String> {
    let renewed = db::run(pool, move |c| invitations::renew_token(c, invitation_id))
        .await
        .map_err(|e| format!("database: {e}"))?;
    match renewed {
        Some((invitation, raw)) => send_invitation(pool, mailer, public_url, &invitation, &raw).await.1,
        None => Ok(()),
    }
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
