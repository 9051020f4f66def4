//! "Export my data" (issue 14, part 6): a user asks, on their settings
//! page, for a ZIP of their videos (the originals), comments, the replies
//! to them, drawings, voice-overs (the sound files) and practice log, with
//! JSON beside the media. A job builds it (`build`), streaming into a
//! temporary file under the media root that is renamed into place when
//! complete, and an email announces it with a link that only its owner,
//! logged in, can use, for [`KEEP_DAYS`] days; then the worker removes it.
//! One request at a time: a second one while the first is being built is
//! refused by the database (a partial unique index), whatever the race.

pub mod build;
pub mod handlers;
pub mod practice;
pub mod queries;

use actix_web::web;

use crate::web::get;

/// How long a built export can be downloaded before it is removed.
pub const KEEP_DAYS: i64 = 7;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/account/export", web::post().to(handlers::request))
        .route("/data-exports/{id}/{token}", get().to(handlers::download));
}

/// Where an export is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Ready,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Ready => "ready",
            Status::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Status {
        match value {
            "ready" => Status::Ready,
            "failed" => Status::Failed,
            _ => Status::Pending,
        }
    }
}

pub fn register_jobs(registry: &mut crate::jobs::Registry) {
    build::register_jobs(registry);
}
