//! Exercises: the library, the exercise page with its demonstration player
//! and practice thread, and creating, editing and deleting exercises.

pub mod forms;
pub mod handlers;
pub mod pages;
pub mod queries;
pub mod search;

use actix_web::web;

use crate::web::auth::CurrentUser;
use crate::web::get;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/exercises", get().to(handlers::library))
        .route("/exercises", web::post().to(handlers::create))
        .route("/exercises/new", get().to(handlers::new_form))
        .route("/exercises/{id}", get().to(handlers::show))
        .route("/exercises/{id}/edit", get().to(handlers::edit_form))
        .route("/exercises/{id}/edit", web::post().to(handlers::update))
        .route("/exercises/{id}/delete", get().to(handlers::delete_confirm))
        .route("/exercises/{id}/delete", web::post().to(handlers::delete));
}

/// Admins in the product sense: the admin role, staff or superuser.
pub fn is_admin(user: &CurrentUser) -> bool {
    user.is_staff || user.is_superuser || user.role.as_deref() == Some("admin")
}

/// Coaches and admins publish exercises; students do not.
pub fn can_create(user: &CurrentUser) -> bool {
    is_admin(user) || user.role.as_deref() == Some("coach")
}

/// Only the creator (while still allowed to publish) or an admin.
pub fn can_edit(user: &CurrentUser, exercise: &queries::Exercise) -> bool {
    is_admin(user) || (exercise.created_by_id == user.id && can_create(user))
}
