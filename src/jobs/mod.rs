//! Background work in the database: a queue of jobs (`queue`) that workers
//! (`worker`) claim, run and finish. Jobs survive restarts; a worker that
//! dies loses its claim when its lease runs out, and another worker takes
//! the job again.

pub mod queue;
pub mod worker;

pub use queue::{Job, JobStatus};
pub use worker::{JobError, Worker};

/// The kinds of job, as stored in `jobs_job.kind`.
pub mod kinds {
    /// Probe an upload, make its poster and renditions: `{"asset_id": uuid}`.
    pub const PROCESS_VIDEO: &str = "process_video";
    /// Cut a clip: `{"clip_id": uuid}`.
    pub const CUT_CLIP: &str = "cut_clip";
    /// Check a stored file still exists and matches its checksum:
    /// `{"asset_id": uuid}`.
    pub const REVALIDATE_VIDEO: &str = "revalidate_video";
    /// Send (or resend) an invitation email with a fresh link:
    /// `{"invitation_id": integer}`.
    pub const SEND_INVITATION: &str = "send_invitation";
    /// Password reset links for an address: `{"email": text}`.
    pub const SEND_PASSWORD_RESET: &str = "send_password_reset";
    /// Confirm a new address: `{"user_id": integer, "new_email": text}`.
    pub const SEND_EMAIL_CHANGE: &str = "send_email_change";
    /// Tell whoever a comment is for: `{"comment_id": uuid}`.
    pub const SEND_COMMENT_NOTICE: &str = "send_comment_notice";
}
