//! Email to whoever a comment is for: the author of the comment it answers,
//! or else the exercise's coach — if they want such emails. Nobody is told
//! about their own comment. Sent by a worker (queued with the comment).

use crate::accounts::queries::{display_name_of, find_auth_user};
use crate::db::{self, DbConn, Id};
use crate::email::{CommentEmail, Outgoing};
use crate::jobs::registry::payload_id;
use crate::jobs::{JobError, JobKind, Registry};

/// Tell whoever a comment is for: `{"comment_id": uuid}`.
pub const SEND_COMMENT_NOTICE: &str = "send_comment_notice";

pub fn register_jobs(registry: &mut Registry) {
    registry.register(JobKind::new(SEND_COMMENT_NOTICE, |ctx, job| {
        Box::pin(async move { notice_job(&ctx.outgoing()?, payload_id(job, "comment_id")?).await })
    }));
}

/// Queues the notice on the connection that writes the comment, in its
/// transaction.
pub fn queue(conn: &mut DbConn, comment_id: Id) -> diesel::QueryResult<i64> {
    crate::jobs::queue::enqueue(
        conn,
        SEND_COMMENT_NOTICE,
        serde_json::json!({ "comment_id": comment_id.to_string() }),
    )
}

pub async fn notice_job(out: &Outgoing<'_>, comment_id: Id) -> Result<(), JobError> {
    let found = db::run(out.pool, move |c| {
        let Some(comment) = super::queries::find(c, comment_id)? else {
            return Ok(None);
        };
        let Some(exercise) = crate::exercises::queries::find(c, comment.exercise_id)? else {
            return Ok(None);
        };
        let to = match comment.parent_id {
            Some(parent) => super::queries::find(c, parent)?.map(|p| p.author_id),
            None => Some(exercise.created_by_id),
        };
        let recipient = match to {
            Some(id) => find_auth_user(c, id)?,
            None => None,
        };
        let author = display_name_of(c, comment.author_id)?;
        Ok::<_, diesel::result::Error>(recipient.map(|r| (comment, exercise, r.into_current(), author)))
    })
    .await
    .map_err(|e| JobError::Retry(format!("database: {e}")))?;
    // Deleted meanwhile, or nobody to tell.
    let Some((comment, exercise, recipient, author)) = found else {
        return Ok(());
    };
    let wants = recipient.preferences.email_notifications && !recipient.email.is_empty();
    if recipient.id == comment.author_id || !wants {
        return Ok(());
    }
    let text = comment.text.clone().unwrap_or_default();
    let excerpt = if text.chars().count() > 300 {
        format!("{}…", text.chars().take(300).collect::<String>())
    } else {
        text
    };
    let link = format!(
        "{}/exercises/{}#comment-{}",
        out.public_url,
        exercise.id,
        comment.parent_id.unwrap_or(comment.id)
    );
    let rendered = CommentEmail {
        recipient: recipient.display_name(),
        author,
        exercise: exercise.name.clone(),
        excerpt,
        with_video: comment.has_own_video(&exercise),
        is_reply: comment.parent_id.is_some(),
        link: link.clone(),
        site: out.public_url.to_owned(),
    }
    .render(&recipient.email, &link);
    Ok(out.deliver(rendered).await?)
}
