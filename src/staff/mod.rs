//! Staff pages (`/staff/...`): for staff members only; a 404 for everyone
//! else (every handler takes the `StaffUser` extractor). One generic
//! mechanism — list with search, filters, sorting and pages; change form;
//! delete with its consequences; bulk actions; history — serves every
//! model in `models/`, and every change leaves an audit entry written in
//! the same transaction.

pub mod adding;
pub mod audit;
pub mod dashboard;
pub mod handlers;
pub mod log;
pub mod model;
pub mod models;
pub mod pages;
pub mod settings;

use actix_web::web;

use crate::web::get;

pub fn routes(cfg: &mut web::ServiceConfig) {
    // One scope: a request elsewhere is not matched against every staff
    // pattern (each a regular expression) on its way to its own route.
    cfg.service(
        web::scope("/staff")
            .route("", get().to(handlers::dashboard))
            .route("/invitations", web::post().to(handlers::invite))
            // Before `/staff/{model}`: the log is not a model.
            .route("/audit", get().to(log::audit_log))
            .route("/settings", get().to(settings::show))
            .route("/settings", web::post().to(settings::save))
            .route("/{model}", get().to(handlers::list))
            .route("/{model}/bulk", web::post().to(handlers::bulk))
            // Before `/staff/{model}/{id}`: "add" is not an id.
            .route("/{model}/add", get().to(adding::add_form))
            .route("/{model}/add", web::post().to(adding::add))
            .route("/{model}/{id}", get().to(handlers::change))
            .route("/{model}/{id}", web::post().to(handlers::save))
            .route("/{model}/{id}/delete", get().to(handlers::delete_preview))
            .route("/{model}/{id}/delete", web::post().to(handlers::delete))
            .route("/{model}/{id}/history", get().to(handlers::history))
            .route(
                "/{model}/{id}/actions/{action}",
                web::post().to(handlers::object_action),
            )
            .route(
                "/invitations/{id}/{action}",
                web::post().to(handlers::invitation_action),
            ),
    );
}
