//! Progress over time and practice mode (issue 14, parts 3 and 4).
//!
//! - The progress page of a student on an exercise
//!   (`/exercises/{id}/progress/{student}`): the timeline of their attempts
//!   with posters, dates, the coach's notes and the requests to try again
//!   that each attempt resolved; one click compares the first and the latest
//!   attempt (or any two) in the comparison view; their practice log there.
//! - Practice mode on the demonstration (`/exercises/{id}/practice`,
//!   `static/js/practice.js` on the shared player): an A–B loop with a speed
//!   ramp, mirroring, a count-in and a timer, logged to
//!   `exercises_practicesession` (`POST /practice/sessions`).

pub mod forms;
pub mod handlers;
pub mod pages;
pub mod queries;
pub mod summary;

use actix_web::web;

use crate::db::Id;
use crate::web::get;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/exercises/{id}/progress", get().to(handlers::own_progress))
        .route("/exercises/{id}/progress/{student}", get().to(handlers::progress))
        .route(
            "/exercises/{id}/progress/{student}/compare",
            get().to(handlers::compare_chosen),
        )
        .route("/exercises/{id}/practice", get().to(handlers::practice))
        .route("/practice/sessions", web::post().to(handlers::log_session));
}

/// A student's progress page on an exercise.
pub fn progress_url(exercise: Id, student: i32) -> String {
    format!("/exercises/{exercise}/progress/{student}")
}
