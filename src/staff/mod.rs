//! Staff pages (`/staff/...`): for staff members only; a 404 for everyone
//! else. Invitations live here: invite one or many people, resend, revoke.

pub mod handlers;
pub mod pages;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/staff/invitations", crate::web::get().to(handlers::invitations))
        .route("/staff/invitations", web::post().to(handlers::invite))
        .route("/staff/invitations/{id}/resend", web::post().to(handlers::resend))
        .route("/staff/invitations/{id}/revoke", web::post().to(handlers::revoke));
}
