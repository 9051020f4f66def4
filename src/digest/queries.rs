//! The digests' tables: each user's choice, the digests sent, the periods
//! queued; and what one batch of users' digests hold, in a fixed number of
//! statements whatever the batch's size.

use std::collections::HashMap;

use diesel::prelude::*;

use super::{Frequency, Period};
use crate::accounts::permissions;
use crate::accounts::queries::active_users_after;
use crate::db::schema::{comments_retryrequest, comments_videocomment, digest_preference, digest_run, digest_sent};
use crate::db::{DbConn, Ts};
use crate::web::auth::CurrentUser;

/// A user's choice ([`Frequency::DEFAULT`] without a row).
pub fn frequency_of(conn: &mut DbConn, user_id: i32) -> QueryResult<Frequency> {
    digest_preference::table
        .find(user_id)
        .select(digest_preference::frequency)
        .first::<String>(conn)
        .optional()
        .map(|found| {
            found
                .as_deref()
                .and_then(Frequency::parse)
                .unwrap_or(Frequency::DEFAULT)
        })
}

/// Records a user's choice (the settings form, an unsubscribe link).
pub fn set_frequency(conn: &mut DbConn, user_id: i32, frequency: Frequency, now: Ts) -> QueryResult<()> {
    crate::for_each_backend!(conn, |c| diesel::insert_into(digest_preference::table)
        .values((
            digest_preference::user_id.eq(user_id),
            digest_preference::frequency.eq(frequency.as_str()),
            digest_preference::updated_at.eq(now),
        ))
        .on_conflict(digest_preference::user_id)
        .do_update()
        .set((
            digest_preference::frequency.eq(frequency.as_str()),
            digest_preference::updated_at.eq(now),
        ))
        .execute(c))
    .map(drop)
}

/// Queues the job of each period that has begun and has none yet: the
/// period's `digest_run` row and its job in one transaction, so that every
/// worker's chore may try and one job is queued. Returns how many.
pub fn queue_due(conn: &mut DbConn, now: Ts) -> QueryResult<usize> {
    let mut queued = 0;
    for frequency in [Frequency::Daily, Frequency::Weekly] {
        let Some(period) = Period::current(frequency, now) else {
            continue;
        };
        let key = period.key();
        queued += crate::db::write_transaction(conn, |c| {
            let inserted = crate::for_each_backend!(&mut *c, |inner| diesel::insert_into(digest_run::table)
                .values((
                    digest_run::period.eq(&key),
                    digest_run::job_id.eq(None::<i64>),
                    digest_run::created_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(inner))?;
            if inserted == 0 {
                return Ok::<_, diesel::result::Error>(0);
            }
            let job = super::send::queue(c, &key)?;
            diesel::update(digest_run::table.find(&key))
                .set(digest_run::job_id.eq(Some(job)))
                .execute(c)?;
            Ok(1)
        })?;
    }
    Ok(queued)
}

/// What one user's digest holds.
#[derive(Debug, Clone)]
pub struct Digest {
    pub user: CurrentUser,
    /// Attempts waiting in their inbox; `None`: they have no inbox.
    pub waiting: Option<i64>,
    /// Replies by others to their comments since their last digest.
    pub replies: i64,
    /// Requests to try again made since their last digest, still open.
    pub retries: i64,
}

impl Digest {
    pub fn is_empty(&self) -> bool {
        self.waiting.unwrap_or(0) == 0 && self.replies == 0 && self.retries == 0
    }

    /// The subject's summary: "3 attempts wait for your feedback", "2 new
    /// replies, 1 request to try again".
    pub fn summary(&self) -> String {
        let plural = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut parts = Vec::new();
        if let Some(n) = self.waiting.filter(|n| *n > 0) {
            parts.push(plural(
                n,
                "attempt waits for your feedback",
                "attempts wait for your feedback",
            ));
        }
        if self.replies > 0 {
            parts.push(plural(self.replies, "new reply", "new replies"));
        }
        if self.retries > 0 {
            parts.push(plural(self.retries, "request to try again", "requests to try again"));
        }
        parts.join(", ")
    }
}

/// One batch of users: the digests due (not empty, not sent for this
/// period yet), and the last user id looked at (`None`: no users left).
pub struct Batch {
    pub digests: Vec<Digest>,
    pub last_id: Option<i32>,
}

/// The digests of `period` for the next `limit` active users after id
/// `after`, in at most seven statements: the users with their profiles,
/// their choices, their digests since the period's floor, the inbox counts
/// of the coaches (one grouped statement) and of all (admins, if any), the
/// replies and the requests since the earliest "last digest" of the batch
/// (each user's own is applied in memory).
pub fn batch(conn: &mut DbConn, period: &Period, after: i32, limit: i64) -> QueryResult<Batch> {
    let users = active_users_after(conn, after, limit)?;
    let Some(last_id) = users.last().map(|u| u.id) else {
        return Ok(Batch {
            digests: Vec::new(),
            last_id: None,
        });
    };
    let ids: Vec<i32> = users.iter().map(|u| u.id).collect();
    let chosen: HashMap<i32, Frequency> = digest_preference::table
        .filter(digest_preference::user_id.eq_any(&ids))
        .select((digest_preference::user_id, digest_preference::frequency))
        .load::<(i32, String)>(conn)?
        .into_iter()
        .filter_map(|(id, f)| Frequency::parse(&f).map(|f| (id, f)))
        .collect();
    let floor = period.floor();
    let key = period.key();
    let mut last_sent: HashMap<i32, Ts> = HashMap::new();
    let mut done: Vec<i32> = Vec::new();
    let sent: Vec<(i32, String, Ts)> = digest_sent::table
        .filter(digest_sent::user_id.eq_any(&ids))
        .filter(digest_sent::sent_at.ge(floor))
        .select((digest_sent::user_id, digest_sent::period, digest_sent::sent_at))
        .load(conn)?;
    for (user, sent_period, at) in sent {
        if sent_period == key {
            done.push(user);
        }
        let latest = last_sent.entry(user).or_insert(at);
        if at.0 > latest.0 {
            *latest = at;
        }
    }
    let due: Vec<CurrentUser> = users
        .into_iter()
        .filter(|u| !u.email.trim().is_empty() && !done.contains(&u.id))
        .filter(|u| chosen.get(&u.id).copied().unwrap_or(Frequency::DEFAULT) == period.frequency)
        .map(|u| u.into_current())
        .collect();
    if due.is_empty() {
        return Ok(Batch {
            digests: Vec::new(),
            last_id: Some(last_id),
        });
    }
    let since = |user: i32| last_sent.get(&user).copied().filter(|t| t.0 > floor.0).unwrap_or(floor);
    let earliest = due.iter().map(|u| since(u.id)).min_by_key(|t| t.0).unwrap_or(floor);
    let due_ids: Vec<i32> = due.iter().map(|u| u.id).collect();

    let coaches: Vec<i32> = due
        .iter()
        .filter(|u| permissions::uses_inbox(u) && !permissions::sees_every_attempt(u))
        .map(|u| u.id)
        .collect();
    let by_coach = if coaches.is_empty() {
        HashMap::new()
    } else {
        crate::inbox::queries::waiting_by_coach(conn, &coaches)?
    };
    let everyone = if due.iter().any(permissions::sees_every_attempt) {
        crate::inbox::queries::count_query(crate::inbox::queries::Filter::default()).get_result::<i64>(conn)?
    } else {
        0
    };

    let parent = diesel::alias!(comments_videocomment as parent);
    let replies: Vec<(i32, Ts)> = comments_videocomment::table
        .inner_join(parent.on(comments_videocomment::parent_id.eq(parent.field(comments_videocomment::id).nullable())))
        .filter(parent.field(comments_videocomment::author_id).eq_any(&due_ids))
        .filter(comments_videocomment::author_id.ne(parent.field(comments_videocomment::author_id)))
        .filter(comments_videocomment::created_at.gt(earliest))
        .select((
            parent.field(comments_videocomment::author_id),
            comments_videocomment::created_at,
        ))
        .load(conn)?;
    let retries: Vec<(i32, Ts)> = comments_retryrequest::table
        .filter(comments_retryrequest::student_id.eq_any(&due_ids))
        .filter(comments_retryrequest::resolved_by_id.is_null())
        .filter(comments_retryrequest::created_at.gt(earliest))
        .select((comments_retryrequest::student_id, comments_retryrequest::created_at))
        .load(conn)?;
    let count_since = |rows: &[(i32, Ts)], user: i32| {
        let from = since(user);
        rows.iter().filter(|(u, at)| *u == user && at.0 > from.0).count() as i64
    };

    let digests = due
        .into_iter()
        .map(|user| {
            let waiting = if permissions::sees_every_attempt(&user) {
                Some(everyone)
            } else if permissions::uses_inbox(&user) {
                Some(by_coach.get(&user.id).copied().unwrap_or(0))
            } else {
                None
            };
            Digest {
                waiting,
                replies: count_since(&replies, user.id),
                retries: count_since(&retries, user.id),
                user,
            }
        })
        .filter(|d| !d.is_empty())
        .collect();
    Ok(Batch {
        digests,
        last_id: Some(last_id),
    })
}

/// Claims these users' digests of `period` (one statement): the users
/// whose claim is new, to be sent now. A user claimed already (another
/// worker, an earlier run of the job) is left out.
pub fn claim(conn: &mut DbConn, period: &str, users: &[i32], at: Ts) -> QueryResult<Vec<i32>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<_> = users
        .iter()
        .map(|user| {
            (
                digest_sent::user_id.eq(*user),
                digest_sent::period.eq(period),
                digest_sent::sent_at.eq(at),
            )
        })
        .collect();
    crate::for_each_backend!(conn, |c| diesel::insert_into(digest_sent::table)
        .values(rows)
        .on_conflict((digest_sent::user_id, digest_sent::period))
        .do_nothing()
        .returning(digest_sent::user_id)
        .get_results(c))
}

/// Gives a claim back: its email could not be handed over (the mail
/// server is away), so that the job's next run sends it.
pub fn release(conn: &mut DbConn, period: &str, user: i32) -> QueryResult<()> {
    diesel::delete(
        digest_sent::table
            .filter(digest_sent::user_id.eq(user))
            .filter(digest_sent::period.eq(period)),
    )
    .execute(conn)
    .map(drop)
}

/// Records older than this go: far older than any period's floor.
pub const KEEP_DAYS: i64 = 35;

pub fn prune(conn: &mut DbConn, now: Ts) -> QueryResult<usize> {
    let before = Ts(now.0 - chrono::Duration::days(KEEP_DAYS));
    let sent = diesel::delete(digest_sent::table.filter(digest_sent::sent_at.lt(before))).execute(conn)?;
    let runs = diesel::delete(digest_run::table.filter(digest_run::created_at.lt(before))).execute(conn)?;
    Ok(sent + runs)
}
