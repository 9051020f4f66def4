//! Page structs of the accounts area, one per template.

use askama::Template;

use super::forms::{
    AcceptForm, ChangePasswordForm, EmailChangeForm, FieldErrors, LoginForm, NewAdminForm, PreferencesForm,
    ResetRequestForm,
};
use super::identity::Role;
use super::lifecycle::InviteClosed;
use super::queries::Metrics;
use crate::exports::Status;
use crate::web::auth::CurrentUser;
use crate::web::page::PageCtx;

#[derive(Template)]
#[template(path = "accounts/login.html")]
pub struct LoginPage {
    pub ctx: PageCtx,
    pub form: LoginForm,
    pub next: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts/logout.html")]
pub struct LogoutPage {
    pub ctx: PageCtx,
}

#[derive(Template)]
#[template(path = "accounts/setup.html")]
pub struct SetupPage {
    pub ctx: PageCtx,
    pub form: NewAdminForm,
    pub errors: FieldErrors,
    pub token: String,
}

#[derive(Template)]
#[template(path = "accounts/setup_closed.html")]
pub struct SetupClosedPage {
    pub ctx: PageCtx,
}

#[derive(Template)]
#[template(path = "accounts/account.html")]
pub struct AccountPage {
    pub ctx: PageCtx,
    pub user: CurrentUser,
    pub metrics: Metrics,
    /// Practice mode's log: time, speeds, streaks (the last year).
    pub practice: crate::practice::summary::Summary,
    /// The login before this session's, if known.
    pub previous_login: Option<crate::db::Ts>,
    /// The user's live sessions, this one first among equals.
    pub sessions: Vec<SessionView>,
}

/// One row of "Your sessions".
pub struct SessionView {
    pub id: i64,
    pub browser: String,
    pub address: String,
    pub started: crate::db::Ts,
    pub last_seen: crate::db::Ts,
    pub is_current: bool,
}

impl SessionView {
    pub fn new(row: &super::sessions::SessionRow, current: crate::web::auth::CurrentSession) -> SessionView {
        SessionView {
            id: row.id,
            browser: row.browser(),
            address: if row.ip_address.is_empty() {
                "unknown address".to_owned()
            } else {
                row.ip_address.clone()
            },
            started: row.created_at,
            last_seen: row.last_seen_at,
            is_current: row.id == current.id,
        }
    }
}

#[derive(Template)]
#[template(path = "accounts/password.html")]
pub struct PasswordPage {
    pub ctx: PageCtx,
    pub form: ChangePasswordForm,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub ctx: PageCtx,
    pub user: Option<CurrentUser>,
    /// The requests to try again that wait for the user's next attempt.
    pub todo: Vec<TodoView>,
    /// Practice mode's log of the last year: streak, time this week.
    pub practice: crate::practice::summary::Summary,
}

/// An open "try again" on the to-do list.
pub struct TodoView {
    pub exercise: String,
    pub coach: String,
    pub note: Option<String>,
    /// The range the note pins, and of what.
    pub range: Option<String>,
    pub asked_at: crate::db::Ts,
    /// The attempt and the note in the thread.
    pub url: String,
    /// The student's progress page on the exercise.
    pub progress_url: String,
}

impl HomePage {
    /// The home page of a logged-in user: the to-do list in one statement
    /// (coaches and admins have their inbox's count from the navigation),
    /// and their practice log's summary in one more.
    pub fn load(conn: &mut crate::db::DbConn, ctx: PageCtx, user: CurrentUser) -> diesel::QueryResult<Self> {
        let todo = crate::comments::retry::todo(conn, user.id)?
            .into_iter()
            .map(|t| TodoView {
                progress_url: crate::practice::progress_url(t.request.exercise_id, user.id),
                url: format!("/exercises/{}#comment-{}", t.request.exercise_id, t.request.attempt_id),
                exercise: t.exercise_name,
                coach: t.coach,
                note: crate::inbox::pages::short(t.note.text.as_deref()),
                range: t.note.range_start.zip(t.note.range_end).map(|(a, b)| {
                    let of = if t.note.range_video_id.is_some() {
                        "of your attempt"
                    } else {
                        "of the demonstration"
                    };
                    format!(
                        "{}–{} {of}",
                        crate::videos::pages::clock(a),
                        crate::videos::pages::clock(b)
                    )
                }),
                asked_at: t.request.created_at,
            })
            .collect();
        let practice = crate::practice::pages::summary_of(conn, user.id, None, user.preferences.time_zone)?;
        Ok(HomePage {
            ctx,
            user: Some(user),
            todo,
            practice,
        })
    }
}

#[derive(Template)]
#[template(path = "accounts/accept.html")]
pub struct AcceptPage {
    pub ctx: PageCtx,
    pub email: String,
    pub role: String,
    pub token: String,
    pub form: AcceptForm,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "accounts/invite_closed.html")]
pub struct InviteClosedPage {
    pub ctx: PageCtx,
    pub reason: InviteClosed,
}

/// Onboarding (first time) and settings (later): the same choices. The
/// settings also offer "Export my data" and show the latest export.
#[derive(Template)]
#[template(path = "accounts/preferences.html")]
pub struct PreferencesPage {
    pub ctx: PageCtx,
    pub form: PreferencesForm,
    pub errors: FieldErrors,
    pub onboarding: bool,
    pub export: Option<ExportView>,
}

/// The user's latest data export, as the settings page shows it.
pub struct ExportView {
    pub status: Status,
    pub requested: crate::db::Ts,
    pub expires: crate::db::Ts,
    /// The download link, while it is ready.
    pub download: Option<String>,
    pub size: String,
}

impl PreferencesPage {
    /// While an export is being built, the button is not offered.
    pub fn export_pending(&self) -> bool {
        self.export.as_ref().is_some_and(|e| e.status == Status::Pending)
    }

    /// The page's one loader: the digest choice (from the digests' table)
    /// and, on the settings page, the latest export; `shown` is a form sent
    /// back with its errors (its values stay as typed).
    pub fn load(
        conn: &mut crate::db::DbConn,
        ctx: PageCtx,
        user: &CurrentUser,
        secret: &[u8],
        onboarding: bool,
        shown: Option<(PreferencesForm, FieldErrors)>,
    ) -> diesel::QueryResult<PreferencesPage> {
        let (form, errors) = match shown {
            Some(shown) => shown,
            None => {
                let mut form = PreferencesForm::from_preferences(&user.preferences);
                if onboarding && form.display_name.is_empty() {
                    form.display_name = user.first_name.clone();
                }
                form.digest = crate::digest::queries::frequency_of(conn, user.id)?.as_str().to_owned();
                (form, FieldErrors::default())
            }
        };
        let export = if onboarding {
            None
        } else {
            let now = crate::db::Ts::now();
            crate::exports::queries::latest(conn, user.id)?
                .filter(|e| !e.is_expired(now))
                .map(|e| ExportView {
                    status: e.status(),
                    requested: e.created_at,
                    expires: e.expires_at,
                    download: (e.status() == Status::Ready).then(|| crate::exports::build::download_path(&e, secret)),
                    size: crate::videos::handlers::mib(u64::try_from(e.size_bytes.unwrap_or(0)).unwrap_or(0)),
                })
        };
        Ok(PreferencesPage {
            ctx,
            form,
            errors,
            onboarding,
            export,
        })
    }
}

#[derive(Template)]
#[template(path = "accounts/email_change.html")]
pub struct EmailChangePage {
    pub ctx: PageCtx,
    pub current: String,
    pub form: EmailChangeForm,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "accounts/email_confirm.html")]
pub struct EmailConfirmPage {
    pub ctx: PageCtx,
    pub new_email: String,
    pub action: String,
}

#[derive(Template)]
#[template(path = "accounts/link_invalid.html")]
pub struct LinkInvalidPage {
    pub ctx: PageCtx,
    pub what: &'static str,
    pub retry: &'static str,
}

#[derive(Template)]
#[template(path = "accounts/reset_request.html")]
pub struct ResetRequestPage {
    pub ctx: PageCtx,
    pub form: ResetRequestForm,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "accounts/reset_sent.html")]
pub struct ResetSentPage {
    pub ctx: PageCtx,
}

#[derive(Template)]
#[template(path = "accounts/reset_confirm.html")]
pub struct ResetConfirmPage {
    pub ctx: PageCtx,
    pub username: String,
    pub action: String,
    pub errors: FieldErrors,
}
