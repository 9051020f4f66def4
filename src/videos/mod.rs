//! Videos: upload (or a YouTube link), processing into a poster and
//! renditions by a background job, playback with HTTP ranges, clips.

pub mod forms;
pub mod handlers;
pub mod jobs;
pub mod pages;
pub mod processing;
pub mod queries;
pub mod quota;
pub mod tus;
pub mod upload;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    tus::routes(cfg);
    // A scope per prefix: a request elsewhere is not matched against every
    // video pattern (each a regular expression) on its way to its own route.
    cfg.service(
        web::scope("/videos")
            .route("", web::get().to(handlers::list))
            .route("", web::post().to(handlers::upload))
            .route("/new", web::get().to(handlers::new_form))
            .route("/youtube", web::post().to(handlers::add_youtube))
            .route("/{id}", web::get().to(handlers::show))
            .route("/{id}/status", web::get().to(handlers::status))
            .route("/{id}/title", web::post().to(handlers::rename))
            .route("/{id}/media/{variant}", web::get().to(handlers::media))
            .route("/{id}/media/{variant}", web::head().to(handlers::media))
            .route("/{id}/poster", web::get().to(handlers::poster))
            .route("/{id}/poster", web::head().to(handlers::poster))
            .route("/{id}/clips", web::post().to(handlers::create_clip)),
    )
    .service(
        web::scope("/clips")
            .route("/{id}", web::get().to(handlers::show_clip))
            .route("/{id}/status", web::get().to(handlers::clip_status))
            .route("/{id}/media", web::get().to(handlers::clip_media))
            .route("/{id}/media", web::head().to(handlers::clip_media)),
    );
}

/// `core_videoasset.video_type`.
pub const TYPE_UPLOAD: &str = "upload";
pub const TYPE_YOUTUBE: &str = "youtube";

/// `processing_status` of videos and clips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Processing,
    Ready,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Processing => "processing",
            Status::Ready => "ready",
            Status::Failed => "failed",
        }
    }

    /// Unknown values (data from elsewhere) read as pending.
    pub fn parse(value: &str) -> Status {
        match value {
            "processing" => Status::Processing,
            "ready" => Status::Ready,
            "failed" => Status::Failed,
            _ => Status::Pending,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Pending => "Waiting to be processed",
            Status::Processing => "Processing",
            Status::Ready => "Ready",
            Status::Failed => "Processing failed",
        }
    }

    /// The label, knowing whether the last attempt failed: a pending video
    /// or clip with an error is being retried, and says so (instead of
    /// "Waiting to be processed" through five attempts).
    pub fn label_after(self, last_error: Option<&str>) -> &'static str {
        match (self, last_error) {
            (Status::Pending, Some(_)) => "Processing failed; trying again shortly",
            (status, _) => status.label(),
        }
    }

    /// Whether the status can still change without anyone doing anything.
    pub fn is_settled(self) -> bool {
        matches!(self, Status::Ready | Status::Failed)
    }
}

/// What decides who may see a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub uploaded_by_id: Option<i32>,
    /// Used by an exercise or a comment.
    pub attached: bool,
}

/// `clip_hash`: SHA-256 (hex) of `"{video id}:{start ms}:{end ms}"`, the video
/// id in its hyphenated form. The same cut of the same video is one clip.
pub fn clip_hash(video_id: crate::db::Id, start_ms: i64, end_ms: i64) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(format!("{video_id}:{start_ms}:{end_ms}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Id;

    #[test]
    fn clip_hash_is_the_sha256_of_id_and_milliseconds() -> Result<(), uuid::Error> {
        let id: Id = "5c7a1f56-6c53-4b8e-9f4a-0a4f6f6b8e01".parse()?;
        assert_eq!(
            clip_hash(id, 1500, 3000),
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                "5c7a1f56-6c53-4b8e-9f4a-0a4f6f6b8e01:1500:3000"
            ))
        );
        assert_ne!(clip_hash(id, 1500, 3000), clip_hash(id, 1500, 3001));
        Ok(())
    }
}
