//! The account emails: rendering, sending off the request path, and
//! recording how an invitation's delivery went.

use super::invitations::{self, Invitation};
use super::tokens;
use crate::db::{self, DbConn, Pool, Ts};
use crate::email::{EmailChangeEmail, InvitationEmail, MailError, Mailer, Outgoing, PasswordResetEmail};
use crate::jobs::registry::{payload_i64, payload_text};
use crate::jobs::{JobError, JobKind, Registry};

/// Send (or resend) an invitation email with a fresh link:
/// `{"invitation_id": integer}`.
pub const SEND_INVITATION: &str = "send_invitation";
/// Password reset links for an address: `{"email": text}`.
pub const SEND_PASSWORD_RESET: &str = "send_password_reset";
/// Confirm a new address: `{"user_id": integer, "new_email": text}`.
pub const SEND_EMAIL_CHANGE: &str = "send_email_change";

/// The account emails' job kinds. A permanent mail error (a 5xx reply, a
/// malformed address) fails the job at once; others are retried.
pub fn register_jobs(registry: &mut Registry) {
    registry
        .register(JobKind::new(SEND_INVITATION, |ctx, job| {
            Box::pin(async move {
                let id = payload_i64(job, "invitation_id")?;
                let out = ctx.outgoing()?;
                invitation_job(out.pool, out.mailer, out.public_url, id).await
            })
        }))
        .register(JobKind::new(SEND_PASSWORD_RESET, |ctx, job| {
            Box::pin(async move {
                let email = payload_text(job, "email")?;
                password_reset_job(&ctx.outgoing()?, email).await
            })
        }))
        .register(JobKind::new(SEND_EMAIL_CHANGE, |ctx, job| {
            Box::pin(async move {
                let user_id = i32::try_from(payload_i64(job, "user_id")?)
                    .map_err(|_| JobError::Permanent("user_id out of range".to_owned()))?;
                let new_email = payload_text(job, "new_email")?;
                email_change_job(&ctx.outgoing()?, user_id, new_email).await
            })
        }));
}

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
) -> (String, Result<(), MailError>) {
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
        Err(e) => Err(MailError::unrendered(&e)),
    };
    if let Err(error) = &outcome {
        tracing::warn!(invitation = invitation.id, %error, permanent = error.permanent, "invitation email not sent");
    }
    let recorded = outcome.clone().map_err(|e| e.message);
    let (id, raw, expires_at) = (invitation.id, raw.to_owned(), invitation.expires_at);
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
        SEND_INVITATION,
        serde_json::json!({ "invitation_id": invitation_id }),
    )
}

/// The job: a fresh link (only the token's digest is stored, so the link
/// an earlier email carried cannot be sent again) with a fresh expiry,
/// made once per send and stored only when the email is out. Nothing to do
/// once the invitation is accepted or revoked.
pub async fn invitation_job(
    pool: &Pool,
    mailer: &Mailer,
    public_url: &str,
    invitation_id: i64,
) -> Result<(), JobError> {
    let found = db::run(pool, move |c| invitations::find_sendable(c, invitation_id))
        .await
        .map_err(|e| JobError::Retry(format!("database: {e}")))?;
    let Some(mut invitation) = found else {
        return Ok(());
    };
    let raw = crate::security::random_token(32);
    invitation.expires_at = invitations::expiry_from(Ts::now());
    Ok(
        send_invitation(pool, mailer, public_url, &invitation, &raw, Link::Replacing)
            .await
            .1?,
    )
}

fn queue(conn: &mut DbConn, kind: &str, payload: serde_json::Value) -> diesel::QueryResult<i64> {
    crate::jobs::queue::enqueue(conn, kind, payload)
}

/// Queues password reset links for every active account with this address
/// (the response is the same whether or not one exists).
pub fn queue_password_reset(conn: &mut DbConn, email: &str) -> diesel::QueryResult<i64> {
    queue(conn, SEND_PASSWORD_RESET, serde_json::json!({ "email": email }))
}

/// Queues the confirmation link for a new address, to that address.
pub fn queue_email_change(conn: &mut DbConn, user_id: i32, new_email: &str) -> diesel::QueryResult<i64> {
    queue(
        conn,
        SEND_EMAIL_CHANGE,
        serde_json::json!({ "user_id": user_id, "new_email": new_email }),
    )
}

/// The job: a reset link, made now (it dies with a password change or a
/// later login), for each active account with the address.
pub async fn password_reset_job(out: &Outgoing<'_>, email: String) -> Result<(), JobError> {
    let users = db::run(out.pool, move |c| super::queries::find_active_by_email(c, &email))
        .await
        .map_err(|e| JobError::Retry(format!("database: {e}")))?;
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
        out.deliver(rendered).await?;
    }
    Ok(())
}

/// The job: a confirmation link bound to the account's current address
/// (so it works once), sent to the new one.
pub async fn email_change_job(out: &Outgoing<'_>, user_id: i32, new_email: String) -> Result<(), JobError> {
    let user = db::run(out.pool, move |c| super::queries::find_auth_user(c, user_id))
        .await
        .map_err(|e| JobError::Retry(format!("database: {e}")))?;
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
    Ok(out.deliver(rendered).await?)
}
