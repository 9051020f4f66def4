//! Accounts: logging in and out, the first admin, invitations and
//! onboarding, the user's own account, email and password recovery.

pub mod forms;
pub mod handlers;
pub mod identity;
pub mod invitations;
pub mod lifecycle;
pub mod mail;
pub mod pages;
pub mod password;
pub mod permissions;
pub mod queries;
pub mod sessions;
pub mod setup;
pub mod submissions;
pub mod throttle;
pub mod tokens;

use actix_web::web;

use crate::web::get;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", get().to(handlers::home))
        .route("/login", get().to(handlers::login_form))
        .route("/login", web::post().to(handlers::login))
        .route("/logout", get().to(handlers::logout_confirm))
        .route("/logout", web::post().to(handlers::logout))
        .route("/setup/{token}", get().to(handlers::setup_form))
        .route("/setup/{token}", web::post().to(handlers::setup))
        .route("/account", get().to(handlers::account))
        .route(
            "/account/sessions/others/end",
            web::post().to(handlers::end_other_sessions),
        )
        .route("/account/sessions/{id}/end", web::post().to(handlers::end_one_session))
        .route("/account/password", get().to(handlers::password_form))
        .route("/account/password", web::post().to(handlers::change_password))
        .route("/account/settings", get().to(lifecycle::settings_form))
        .route("/account/settings", web::post().to(lifecycle::settings_save))
        .route("/account/time-zone", web::post().to(handlers::fill_time_zone))
        .route("/account/email", get().to(lifecycle::email_form))
        .route("/account/email", web::post().to(lifecycle::email_change))
        .route(
            "/account/email/confirm/{user}/{address}/{token}",
            get().to(lifecycle::email_confirm_form),
        )
        .route(
            "/account/email/confirm/{user}/{address}/{token}",
            web::post().to(lifecycle::email_confirm),
        )
        .route("/invite/{token}", get().to(lifecycle::invite_form))
        .route("/invite/{token}", web::post().to(lifecycle::invite_accept))
        .route("/onboarding", get().to(lifecycle::onboarding_form))
        .route("/onboarding", web::post().to(lifecycle::onboarding_save))
        .route("/password-reset", get().to(lifecycle::reset_request_form))
        .route("/password-reset", web::post().to(lifecycle::reset_request))
        .route("/password-reset/sent", get().to(lifecycle::reset_sent))
        .route(
            "/password-reset/{user}/{token}",
            get().to(lifecycle::reset_confirm_form),
        )
        .route(
            "/password-reset/{user}/{token}",
            web::post().to(lifecycle::reset_confirm),
        );
}

/// The accounts' background work: the account emails, the hourly purge of
/// sessions past their idle limit (never used again: the lookup ignores
/// them) and of one-time form keys past theirs.
pub fn register_jobs(registry: &mut crate::jobs::Registry) {
    mail::register_jobs(registry);
    registry.chore(crate::jobs::Chore {
        name: "purge expired sessions",
        every: std::time::Duration::from_secs(3600),
        run: |ctx| {
            Box::pin(async move {
                crate::jobs::worker::blocking(&ctx.pool, |c| sessions::purge_expired(c, crate::db::Ts::now())).await
            })
        },
    });
    registry.chore(crate::jobs::Chore {
        name: "purge expired form keys",
        every: std::time::Duration::from_secs(3600),
        run: |ctx| {
            Box::pin(async move {
                crate::jobs::worker::blocking(&ctx.pool, |c| submissions::purge_expired(c, crate::db::Ts::now())).await
            })
        },
    });
}
