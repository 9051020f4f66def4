//! The unsubscribe link's pages.

use askama::Template;

use crate::web::page::PageCtx;

/// What the link found: the question (GET), the answer (POST), or a link
/// that is not genuine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Confirm,
    Done,
    Invalid,
}

#[derive(Template)]
#[template(path = "digest/unsubscribe.html")]
pub struct UnsubscribePage {
    pub ctx: PageCtx,
    pub step: Step,
    /// Whose digests (their display name), for a genuine link.
    pub name: String,
    /// The form's action: the link itself.
    pub action: String,
}
