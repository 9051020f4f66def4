//! Accounts: logging in and out, the first admin, the user's own account.

pub mod forms;
pub mod handlers;
pub mod pages;
pub mod password;
pub mod queries;
pub mod setup;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(handlers::home))
        .route("/login", web::get().to(handlers::login_form))
        .route("/login", web::post().to(handlers::login))
        .route("/logout", web::get().to(handlers::logout_confirm))
        .route("/logout", web::post().to(handlers::logout))
        .route("/setup/{token}", web::get().to(handlers::setup_form))
        .route("/setup/{token}", web::post().to(handlers::setup))
        .route("/account", web::get().to(handlers::account))
        .route("/account/password", web::get().to(handlers::password_form))
        .route(
            "/account/password",
            web::post().to(handlers::change_password),
        );
}
