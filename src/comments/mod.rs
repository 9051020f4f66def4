//! Comments: the practice thread of an exercise — text, attempt videos,
//! clips, pinned time ranges, replies and side-by-side comparison, and the
//! review studio's drawings, voice-overs and exports as a video.

pub mod export;
pub mod forms;
pub mod handlers;
pub mod notify;
pub mod pages;
pub mod queries;
pub mod retry;
pub mod studio;
pub mod voice;

use actix_web::web;

use crate::web::get;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/exercises/{id}/comments", web::post().to(handlers::create))
        .route("/comments/{id}/edit", get().to(handlers::edit_form))
        .route("/comments/{id}/edit", web::post().to(handlers::update))
        .route("/comments/{id}/delete", get().to(handlers::delete_confirm))
        .route("/comments/{id}/delete", web::post().to(handlers::delete))
        .route("/comments/{id}/compare", get().to(handlers::compare))
        .route("/comments/{id}/export", web::post().to(handlers::request_export))
        .route("/exports/{id}/file", get().to(handlers::export_file))
        .route("/exports/{id}/status", get().to(handlers::export_status))
        .route("/voiceovers/{id}/audio", get().to(handlers::voiceover_audio))
        .route("/voiceovers/{id}/status", get().to(handlers::voiceover_status));
}
