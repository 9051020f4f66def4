//! Outgoing email: SMTP (lettre) when `PRACTIKA_SMTP_URL` is set, otherwise
//! `.eml` files in the outbox folder with the message's link logged, so
//! invitations work on a laptop. Every message is text + HTML
//! (multipart/alternative) rendered from `templates/email/<name>/`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use askama::Template;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Settings;

const LIST_UNSUBSCRIBE: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe");
const LIST_UNSUBSCRIBE_POST: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe-Post");

/// A send that takes longer than this has failed (and can be retried).
const SEND_TIMEOUT: Duration = Duration::from_secs(20);

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    /// The last [`Mailer::reachable`] answer and when it was found.
    health: std::sync::Mutex<Option<(std::time::Instant, Result<(), String>)>>,
}

/// How long a mail server check stays true (staff inviting a list of
/// people in a row wait for one check, not one each).
const HEALTH_TTL: Duration = Duration::from_secs(30);
/// A check that takes longer than this counts as the server not answering.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

/// What a mail job needs: the database, the mailer, the site's address and
/// the secret that signs links.
pub struct Outgoing<'a> {
    pub pool: &'a crate::db::Pool,
    pub mailer: &'a Mailer,
    pub public_url: &'a str,
    pub secret: &'a [u8],
}

impl Outgoing<'_> {
    /// Sends a rendered email.
    pub async fn deliver(&self, rendered: Result<Email, askama::Error>) -> Result<(), MailError> {
        match rendered {
            Ok(message) => self.mailer.send(message).await,
            Err(e) => Err(MailError::unrendered(&e)),
        }
    }
}

/// Why a message was not handed over, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailError {
    /// A sentence fit to show to staff.
    pub message: String,
    /// The server refused for good (a 5xx reply: no such mailbox, relaying
    /// denied...), or the message itself cannot be sent (a malformed
    /// address): the same send would fail again. Otherwise (connection
    /// refused, a timeout, a 4xx reply, a full outbox disk) it may pass
    /// later.
    pub permanent: bool,
}

impl MailError {
    pub fn permanent(message: impl Into<String>) -> MailError {
        MailError {
            message: message.into(),
            permanent: true,
        }
    }

    pub fn transient(message: impl Into<String>) -> MailError {
        MailError {
            message: message.into(),
            permanent: false,
        }
    }

    /// A template that does not render fails the same way every time.
    pub fn unrendered(error: &askama::Error) -> MailError {
        MailError::permanent(format!("could not render the email: {error}"))
    }

    /// Classifies lettre's SMTP error: a permanent (5xx) reply, or a
    /// client-side problem with the message, is permanent; anything on the
    /// way (connection, TLS, a 4xx reply, a dropped connection) is not.
    fn from_smtp(error: &lettre::transport::smtp::Error) -> MailError {
        let message = format!("the mail server refused or failed: {error}");
        if error.is_permanent() {
            MailError::permanent(message)
        } else {
            MailError::transient(message)
        }
    }
}

impl std::fmt::Display for MailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A mail error in a job: a permanent one ends the job at once instead of
/// using up its attempts.
impl From<MailError> for crate::jobs::JobError {
    fn from(error: MailError) -> Self {
        if error.permanent {
            crate::jobs::JobError::Permanent(error.message)
        } else {
            crate::jobs::JobError::Retry(error.message)
        }
    }
}

/// A rendered message, ready to send.
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The action link, logged in outbox mode so a developer can click it.
    pub link: String,
    /// A signed one-click unsubscribe URL: sent as `List-Unsubscribe` with
    /// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058), so
    /// mail programs offer their own "Unsubscribe" button.
    pub unsubscribe: Option<String>,
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
        Ok(Mailer {
            transport,
            from,
            health: std::sync::Mutex::new(None),
        })
    }

    /// Whether a message could be handed over right now: the SMTP server
    /// answers (connection, TLS and login, then NOOP), or the outbox folder
    /// can be written. Pages say so instead of promising a delivery that
    /// cannot happen; the queued emails are retried either way.
    pub async fn reachable(&self) -> Result<(), String> {
        if let Ok(cached) = self.health.lock() {
            if let Some((at, answer)) = cached.as_ref() {
                if at.elapsed() < HEALTH_TTL {
                    return answer.clone();
                }
            }
        }
        let answer = match &self.transport {
            Transport::Smtp(smtp) => match tokio::time::timeout(HEALTH_TIMEOUT, smtp.test_connection()).await {
                Ok(Ok(true)) => Ok(()),
                Ok(Ok(false)) => Err("the mail server did not answer a NOOP".to_owned()),
                Ok(Err(e)) => Err(format!("the mail server cannot be reached: {e}")),
                Err(_) => Err(format!(
                    "the mail server did not answer within {} seconds",
                    HEALTH_TIMEOUT.as_secs()
                )),
            },
            Transport::Outbox(dir) => tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| format!("the outbox folder {} cannot be written: {e}", dir.display())),
        };
        if let Ok(mut cached) = self.health.lock() {
            *cached = Some((std::time::Instant::now(), answer.clone()));
        }
        answer
    }

    pub fn describe(&self) -> &'static str {
        match self.transport {
            Transport::Smtp(_) => "SMTP",
            Transport::Outbox(_) => "outbox folder",
        }
    }

    /// Sends one message; the error says what went wrong and whether a
    /// retry can help.
    pub async fn send(&self, email: Email) -> Result<(), MailError> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| MailError::permanent(format!("invalid recipient {}: {e}", email.to)))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.trim());
        if let Some(url) = &email.unsubscribe {
            builder = builder
                .raw_header(HeaderValue::new(LIST_UNSUBSCRIBE, format!("<{url}>")))
                .raw_header(HeaderValue::new(
                    LIST_UNSUBSCRIBE_POST,
                    "List-Unsubscribe=One-Click".to_owned(),
                ));
        }
        let message = builder
            .multipart(MultiPart::alternative_plain_html(email.text, email.html))
            .map_err(|e| MailError::permanent(format!("could not build the message: {e}")))?;
        match &self.transport {
            Transport::Smtp(smtp) => match tokio::time::timeout(SEND_TIMEOUT, smtp.send(message)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(MailError::from_smtp(&e)),
                Err(_) => Err(MailError::transient(format!(
                    "the mail server did not answer within {} seconds",
                    SEND_TIMEOUT.as_secs()
                ))),
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
                written.await.map_err(|e| {
                    MailError::transient(format!("could not write to the outbox {}: {e}", dir.display()))
                })?;
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
                    unsubscribe: None,
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

email!(
    DigestEmail,
    "email/digest/subject.txt",
    "email/digest/body.txt",
    "email/digest/body.html",
    {
        recipient: String,
        frequency: &'static str,
        waiting: i64,
        replies: i64,
        retries: i64,
        summary: String,
        inbox_link: String,
        home_link: String,
        unsubscribe_link: String,
        settings_link: String,
        site: String,
    }
);

email!(
    ExportReadyEmail,
    "email/export_ready/subject.txt",
    "email/export_ready/body.txt",
    "email/export_ready/body.html",
    {
        recipient: String,
        link: String,
        size: String,
        expires: String,
        site: String,
    }
);
