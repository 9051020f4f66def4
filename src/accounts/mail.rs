//! The account emails: rendering, sending off the request path, and
//! recording how an invitation's delivery went.

use super::invitations::{self, Invitation};
use super::tokens;
use crate::db::{self, DbConn, Pool, Ts};
use crate::email::{EmailChangeEmail, InvitationEmail, Mailer, PasswordResetEmail};

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

/// Whose token an invitation email carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// The one the invitation already holds (just created).
    Stored,
    /// A new one, for a resend: stored once the email has gone out, so the
    /// old link keeps working until then (and for good if sending fails).
    Replacing,
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
    token: Link,
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
    let (id, recorded, raw, expires_at) = (invitation.id, outcome.clone(), raw.to_owned(), invitation.expires_at);
    let stored = db::run(pool, move |c| {
        db::write_transaction(c, |c| {
            let installed = match (&recorded, token) {
                (Ok(()), Link::Replacing) => invitations::install_token(c, id, &raw, expires_at)?,
                _ => true,
            };
            invitations::record_send(c, id, &recorded)?;
            Ok::<_, diesel::result::Error>(installed)
        })
    })
    .await;
    match stored {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            invitation = invitation.id,
            "the invitation was accepted or revoked while its email was sent: the new link does not work"
        ),
        Err(error) => tracing::error!(%error, "could not record the invitation's delivery"),
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

/// The job: a fresh link (only the token's digest is stored, so the link
/// an earlier email carried cannot be sent again) with a fresh expiry,
/// made once per send and stored only when the email is out. Nothing to do
/// once the invitation is accepted or revoked.
pub async fn invitation_job(pool: &Pool, mailer: &Mailer, public_url: &str, invitation_id: i64) -> Result<(), String> {
    let found = db::run(pool, move |c| invitations::find_sendable(c, invitation_id))
        .await
        .map_err(|e| format!("database: {e}"))?;
    let Some(mut invitation) = found else {
        return Ok(());
    };
    let raw = crate::security::random_token(32);
    invitation.expires_at = invitations::expiry_from(Ts::now());
    send_invitation(pool, mailer, public_url, &invitation, &raw, Link::Replacing)
        .await
        .1
}

/// What a mail job needs: the database, the mailer, the site's address and
/// the secret that signs links.
pub struct Outgoing<'a> {
    pub pool: &'a Pool,
    pub mailer: &'a Mailer,
    pub public_url: &'a str,
    pub secret: &'a [u8],
}

fn queue(conn: &mut DbConn, kind: &str, payload: serde_json::Value) -> diesel::QueryResult<i64> {
    crate::jobs::queue::enqueue(conn, kind, payload)
}

/// Queues password reset links for every active account with this address
/// (the response is the same whether or not one exists).
pub fn queue_password_reset(conn: &mut DbConn, email: &str) -> diesel::QueryResult<i64> {
    queue(
        conn,
        crate::jobs::kinds::SEND_PASSWORD_RESET,
        serde_json::json!({ "email": email }),
    )
}

/// Queues the confirmation link for a new address, to that address.
pub fn queue_email_change(conn: &mut DbConn, user_id: i32, new_email: &str) -> diesel::QueryResult<i64> {
    queue(
        conn,
        crate::jobs::kinds::SEND_EMAIL_CHANGE,
        serde_json::json!({ "user_id": user_id, "new_email": new_email }),
    )
}

async fn deliver(out: &Outgoing<'_>, rendered: Result<crate::email::Email, askama::Error>) -> Result<(), String> {
    match rendered {
        Ok(message) => out.mailer.send(message).await,
        Err(e) => Err(format!("could not render the email: {e}")),
    }
}

/// The job: a reset link, made now (it dies with a password change or a
/// later login), for each active account with the address.
pub async fn password_reset_job(out: &Outgoing<'_>, email: String) -> Result<(), String> {
    let users = db::run(out.pool, move |c| super::queries::find_active_by_email(c, &email))
        .await
        .map_err(|e| format!("database: {e}"))?;
    for user in users {
        let token = tokens::make_reset_token(out.secret, user.id, &user.password, user.last_login, Ts::now());
        let link = format!("{}/password-reset/{}/{token}", out.public_url, user.id);
        let rendered = PasswordResetEmail {
            link: link.clone(),
            name: user.clone().into_current().display_name(),
            username: user.username.clone(),
            valid_hours: tokens::RESET_VALID_HOURS,
            site: out.public_url.to_owned(),
        }
        .render(&user.email, &link);
        deliver(out, rendered).await?;
    }
    Ok(())
}

/// The job: a confirmation link bound to the account's current address
/// (so it works once), sent to the new one.
pub async fn email_change_job(out: &Outgoing<'_>, user_id: i32, new_email: String) -> Result<(), String> {
    let user = db::run(out.pool, move |c| super::queries::find_auth_user(c, user_id))
        .await
        .map_err(|e| format!("database: {e}"))?;
    let Some(user) = user.filter(|u| u.is_active && u.email != new_email) else {
        return Ok(());
    };
    let (encoded, token) = tokens::make_email_token(out.secret, user_id, &user.email, &new_email, Ts::now());
    let link = format!("{}/account/email/confirm/{user_id}/{encoded}/{token}", out.public_url);
    let rendered = EmailChangeEmail {
        link: link.clone(),
        name: user.into_current().display_name(),
        valid_hours: tokens::EMAIL_CHANGE_VALID_HOURS,
        site: out.public_url.to_owned(),
    }
    .render(&new_email, &link);
    deliver(out, rendered).await
}
