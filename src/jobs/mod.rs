//! Background work in the database: a queue of jobs (`queue`) that workers
//! (`worker`) claim, run and finish. Jobs survive restarts; a worker that
//! dies loses its claim when its lease runs out, and another worker takes
//! the job again. What each kind of job does is registered by the area it
//! belongs to (`registry`); this module imports none of them.
//!
//! A job is queued with [`queue::enqueue`] on the caller's connection, in
//! the transaction that writes the row it is about, so that a crash cannot
//! keep one without the other.

pub mod queue;
pub mod registry;
pub mod worker;

pub use queue::{Job, JobStatus};
pub use registry::{Chore, JobKind, Registry};
pub use worker::{JobContext, JobError, Worker};

#[cfg(test)]
mod tests {
    /// The queue and the worker know no area: each registers its kinds.
    #[test]
    fn jobs_imports_no_area() {
        let sources = [
            ("mod.rs", include_str!("mod.rs")),
            ("queue.rs", include_str!("queue.rs")),
            ("registry.rs", include_str!("registry.rs")),
            ("worker.rs", include_str!("worker.rs")),
        ];
        for area in [
            "accounts",
            "comments",
            "digest",
            "exercises",
            "exports",
            "staff",
            "videos",
        ] {
            let import = format!("crate::{area}");
            for (file, source) in sources {
                assert!(!source.contains(&import), "src/jobs/{file} uses {import}");
            }
        }
    }
}
