//! Exercises: the library, the exercise page with its demonstration player
//! and practice thread, and creating, editing and deleting exercises.

pub mod forms;
pub mod handlers;
pub mod pages;
pub mod queries;
pub mod search;

use actix_web::web;

use crate::web::get;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/exercises", get().to(handlers::library))
        .route("/exercises", web::post().to(handlers::create))
        .route("/exercises/new", get().to(handlers::new_form))
        .route("/exercises/{id}", get().to(handlers::show))
        .route("/exercises/{id}/choices", get().to(handlers::choices))
        .route("/exercises/{id}/edit", get().to(handlers::edit_form))
        .route("/exercises/{id}/edit", web::post().to(handlers::update))
        .route("/exercises/{id}/delete", get().to(handlers::delete_confirm))
        .route("/exercises/{id}/delete", web::post().to(handlers::delete));
}
