//! Outgoing email: SMTP (lettre) when `PRACTIKA_SMTP_URL` is set, otherwise
//! `.eml` files in the outbox folder with the message's link logged, so
//! invitations work on a laptop. Every message is text + HTML
//! (multipart/alternative) rendered from `templates/email/<name>/`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use askama::Template;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Settings;

/// A send that takes longer than this has failed (and can be retried).
const SEND_TIMEOUT: Duration = Duration::from_secs(20);

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

/// A rendered message, ready to send.
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The action link, logged in outbox mode so a developer can click it.
    pub link: String,
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Mailer> {
        let from: Mailbox = settings
            .email_from
            .parse()
            .with_context(|| format!("PRACTIKA_EMAIL_FROM is not an address: {}", settings.email_from))?;
        let transport = match &settings.smtp_url {
            // smtps:// is implicit TLS, smtp://...?tls=required is STARTTLS,
            // plain smtp:// is unencrypted (a relay on the same host).
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .context("PRACTIKA_SMTP_URL is not a valid SMTP URL")?
                    .timeout(Some(Duration::from_secs(10)))
                    .build(),
            ),
            None => Transport::Outbox(settings.outbox_dir()),
        };
        Ok(Mailer { transport, from })
    }

    pub fn describe(&self) -> &'static str {
        match self.transport {
            Transport::Smtp(_) => "SMTP",
            Transport::Outbox(_) => "outbox folder",
        }
    }

    /// Sends one message; the error is a sentence fit to show to staff.
    pub async fn send(&self, email: Email) -> Result<(), String> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| format!("invalid recipient {}: {e}", email.to))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.trim())
            .multipart(MultiPart::alternative_plain_html(email.text, email.html))
            .map_err(|e| format!("could not build the message: {e}"))?;
        match &self.transport {
            Transport::Smtp(smtp) => match tokio::time::timeout(SEND_TIMEOUT, smtp.send(message)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(format!("the mail server refused or failed: {e}")),
                Err(_) => Err(format!(
                    "the mail server did not answer within {} seconds",
                    SEND_TIMEOUT.as_secs()
                )),
            },
            Transport::Outbox(dir) => {
                let name = format!(
                    "{}-{}.eml",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S"),
                    uuid::Uuid::new_v4().simple()
                );
                let path = dir.join(name);
                let written = async {
                    tokio::fs::create_dir_all(dir).await?;
                    tokio::fs::write(&path, message.formatted()).await
                };
                written
                    .await
                    .map_err(|e| format!("could not write to the outbox {}: {e}", dir.display()))?;
                tracing::info!(path = %path.display(), to = %email.to, link = %email.link, "email written to the outbox");
                Ok(())
            }
        }
    }
}

/// Declares an email: its data struct and the three templates in
/// `templates/email/<dir>/` (subject.txt, body.txt, body.html), which see
/// the data as `d`.
macro_rules! email {
    ($name:ident, $subject:literal, $text:literal, $html:literal, { $($field:ident : $ty:ty),* $(,)? }) => {
        pub struct $name { $(pub $field: $ty),* }

        impl $name {
            pub fn render(&self, to: &str, link: &str) -> Result<Email, askama::Error> {
                #[derive(Template)]
                #[template(path = $subject)]
                #[allow(dead_code)] // not every subject line uses the data
                struct Subject<'a> { d: &'a $name }
                #[derive(Template)]
                #[template(path = $text)]
                struct Text<'a> { d: &'a $name }
                #[derive(Template)]
                #[template(path = $html)]
                struct Html<'a> { d: &'a $name }
                Ok(Email {
                    to: to.to_owned(),
                    subject: Subject { d: self }.render()?.trim().to_owned(),
                    text: Text { d: self }.render()?,
                    html: Html { d: self }.render()?,
                    link: link.to_owned(),
                })
            }
        }
    };
}

email!(InvitationEmail,
    "email/invitation/subject.txt",
    "email/invitation/body.txt",
    "email/invitation/body.html",
    {
    link: String,
    role: String,
    inviter: Option<String>,
    expires: String,
    site: String,
});

email!(PasswordResetEmail,
    "email/password_reset/subject.txt",
    "email/password_reset/body.txt",
    "email/password_reset/body.html",
    {
    link: String,
    name: String,
    username: String,
    valid_hours: i64,
    site: String,
});

email!(EmailChangeEmail,
    "email/email_change/subject.txt",
    "email/email_change/body.txt",
    "email/email_change/body.html",
    {
    link: String,
    name: String,
    valid_hours: i64,
    site: String,
});

email!(
    CommentEmail,
    "email/comment/subject.txt",
    "email/comment/body.txt",
    "email/comment/body.html",
    {
        recipient: String,
        author: String,
        exercise: String,
        excerpt: String,
        with_video: bool,
        is_reply: bool,
        link: String,
        site: String,
    }
);
