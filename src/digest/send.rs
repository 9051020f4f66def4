//! The digest job: one per period, walking every active user in batches.

use std::time::Duration;

use super::queries::{self, Digest};
use super::Period;
use crate::accounts::tokens;
use crate::db::{self, DbConn, Ts};
use crate::email::{DigestEmail, Outgoing};
use crate::jobs::registry::payload_text;
use crate::jobs::{Chore, JobError, JobKind, Registry};

/// Send a period's digests: `{"period": "d2026-12-03"}`.
pub const SEND_DIGESTS: &str = "send_digests";
/// Users looked at per batch (each batch costs at most eight statements).
pub const BATCH: i64 = 200;
/// How often each worker checks whether a period has begun.
const QUEUE_EVERY: Duration = Duration::from_secs(10 * 60);

pub fn register_jobs(registry: &mut Registry) {
    registry.register(JobKind::new(SEND_DIGESTS, |ctx, job| {
        Box::pin(async move {
            let key = payload_text(job, "period")?;
            let period =
                Period::parse(&key).ok_or_else(|| JobError::Permanent(format!("not a digest period: {key:?}")))?;
            send_period(&ctx.outgoing()?, &period, BATCH).await.map(drop)
        })
    }));
    registry.chore(Chore {
        name: "queue email digests",
        every: QUEUE_EVERY,
        run: |ctx| {
            Box::pin(
                async move { crate::jobs::worker::blocking(&ctx.pool, |c| queries::queue_due(c, Ts::now())).await },
            )
        },
    });
    registry.chore(Chore {
        name: "prune digest records",
        every: Duration::from_secs(24 * 3600),
        run: |ctx| {
            Box::pin(async move { crate::jobs::worker::blocking(&ctx.pool, |c| queries::prune(c, Ts::now())).await })
        },
    });
}

/// Queues a period's job (on the caller's connection, in its transaction).
pub fn queue(conn: &mut DbConn, period: &str) -> diesel::QueryResult<i64> {
    crate::jobs::queue::enqueue(conn, SEND_DIGESTS, serde_json::json!({ "period": period }))
}

/// The signed one-click unsubscribe link of a user's digests.
pub fn unsubscribe_link(public_url: &str, secret: &[u8], user_id: i32) -> String {
    format!(
        "{public_url}/unsubscribe/{user_id}/{}",
        tokens::unsubscribe_token(secret, user_id)
    )
}

/// Sends every due digest of `period`, `batch` users at a time; returns
/// how many were sent. A digest whose email fails for a reason that may
/// pass (the mail server is away) gives its claim back and ends the run
/// with a retry, which skips the digests sent already.
pub async fn send_period(out: &Outgoing<'_>, period: &Period, batch: i64) -> Result<usize, JobError> {
    let key = period.key();
    let mut after = 0;
    let mut sent = 0;
    loop {
        let (this, period_now) = (period.clone(), period.clone());
        let found = db::run(out.pool, move |c| queries::batch(c, &this, after, batch))
            .await
            .map_err(|e| JobError::Retry(format!("database: {e}")))?;
        let Some(last_id) = found.last_id else {
            return Ok(sent);
        };
        after = last_id;
        if found.digests.is_empty() {
            continue;
        }
        let users: Vec<i32> = found.digests.iter().map(|d| d.user.id).collect();
        let claim_key = key.clone();
        let claimed = db::run(out.pool, move |c| queries::claim(c, &claim_key, &users, Ts::now()))
            .await
            .map_err(|e| JobError::Retry(format!("database: {e}")))?;
        for digest in found.digests.iter().filter(|d| claimed.contains(&d.user.id)) {
            let rendered = render(out, &period_now, digest);
            if let Err(error) = out.deliver(rendered).await {
                if error.permanent {
                    // The same email would fail again (a refused address):
                    // this period's digest is over for them.
                    tracing::warn!(user = digest.user.id, %error, "digest not delivered");
                    continue;
                }
                let (release_key, user) = (key.clone(), digest.user.id);
                db::run(out.pool, move |c| queries::release(c, &release_key, user))
                    .await
                    .map_err(|e| JobError::Retry(format!("database: {e}")))?;
                return Err(error.into());
            }
            sent += 1;
        }
    }
}

fn render(out: &Outgoing<'_>, period: &Period, digest: &Digest) -> Result<crate::email::Email, askama::Error> {
    let site = out.public_url;
    let unsubscribe = unsubscribe_link(site, out.secret, digest.user.id);
    let email = DigestEmail {
        recipient: digest.user.display_name(),
        frequency: period.frequency.as_str(),
        waiting: digest.waiting.unwrap_or(0),
        replies: digest.replies,
        retries: digest.retries,
        summary: digest.summary(),
        inbox_link: format!("{site}/inbox"),
        home_link: format!("{site}/"),
        unsubscribe_link: unsubscribe.clone(),
        settings_link: format!("{site}/account/settings"),
        site: site.to_owned(),
    }
    .render(&digest.user.email, &format!("{site}/"))?;
    Ok(crate::email::Email {
        unsubscribe: Some(unsubscribe),
        ..email
    })
}
