//! The coach inbox: the attempts on a coach's exercises (every exercise's
//! for admins) that wait for feedback, oldest first, and "seen, no reply
//! needed". Its count is in the navigation (`web::auth` asks
//! `queries::nav_count` with the session lookup).

pub mod handlers;
pub mod pages;
pub mod queries;

use actix_web::web;

use crate::web::get;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/inbox", get().to(handlers::inbox))
        .route("/inbox/{id}/seen", web::post().to(handlers::seen));
}
