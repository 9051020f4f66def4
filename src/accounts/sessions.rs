//! Server-side sessions: who is logged in lives in the database
//! (`accounts_session`), and the cookie carries only a random id, so that
//! logging out, a password change, a reset, a deactivation or staff end a
//! session on the server, for every copy of its cookie.
//!
//! Cost per request: one indexed SELECT (the session by its key's hash,
//! joined with the user, profile and role that the request needs anyway),
//! and at most once a minute an UPDATE of "last seen" (a trigger carries
//! it to the profile's `last_activity_at`). Anonymous visitors have no row:
//! their CSRF token and flash messages stay in the encrypted cookie.
//!
//! Why not actix-session's `SessionStore` for this: it loads the session in
//! a query of its own (the user would be a second one), and it would store
//! a row for every anonymous visitor whose login page carries a CSRF token,
//! so a bot could fill the table. The cookie part of actix-session stays.

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::queries::{self, profile_columns, AuthUser, UserRow};
use crate::db::schema::{accounts_profile, accounts_role, accounts_session, auth_user};
use crate::db::{DbConn, Ts};

/// "Last seen" (and with it the idle expiry) is written at most this often.
pub const SEEN_GRANULARITY_SECS: i64 = 60;
const USER_AGENT_MAX: usize = 300;
const IP_MAX: usize = 45;

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = accounts_session)]
pub struct SessionRow {
    pub id: i64,
    pub key_hash: String,
    pub user_id: i32,
    pub auth_hash: String,
    pub user_agent: String,
    pub ip_address: String,
    pub created_at: Ts,
    pub last_seen_at: Ts,
    pub expires_at: Ts,
}

impl SessionRow {
    /// Whether "last seen" is old enough to be written again.
    pub fn seen_due(&self, now: Ts) -> bool {
        (now.0 - self.last_seen_at.0).num_seconds() >= SEEN_GRANULARITY_SECS
    }

    /// "Firefox on Linux": what the account page shows of the user agent.
    pub fn browser(&self) -> String {
        describe_user_agent(&self.user_agent)
    }
}

/// The session key as stored: its SHA-256, never the key itself.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Where a new session comes from, as the account page will show it.
pub struct Origin {
    pub user_agent: String,
    pub ip_address: String,
}

impl Origin {
    pub fn new(user_agent: &str, ip_address: &str) -> Origin {
        let clean = |s: &str, max: usize| s.chars().filter(|c| !c.is_control()).take(max).collect::<String>();
        Origin {
            user_agent: clean(user_agent, USER_AGENT_MAX),
            ip_address: clean(ip_address, IP_MAX),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = accounts_session)]
struct NewSession<'a> {
    key_hash: &'a str,
    user_id: i32,
    auth_hash: &'a str,
    user_agent: &'a str,
    ip_address: &'a str,
    created_at: Ts,
    last_seen_at: Ts,
    expires_at: Ts,
}

fn after(now: Ts, idle: std::time::Duration) -> Ts {
    let delta = chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::days(14));
    Ts(now.0.checked_add_signed(delta).unwrap_or(now.0))
}

/// Starts a session for `user_id`; returns its row id.
pub fn create(
    conn: &mut DbConn,
    key_hash: &str,
    user_id: i32,
    auth_hash: &str,
    origin: &Origin,
    idle: std::time::Duration,
) -> QueryResult<i64> {
    let now = Ts::now();
    diesel::insert_into(accounts_session::table)
        .values(NewSession {
            key_hash,
            user_id,
            auth_hash,
            user_agent: &origin.user_agent,
            ip_address: &origin.ip_address,
            created_at: now,
            last_seen_at: now,
            expires_at: after(now, idle),
        })
        .returning(accounts_session::id)
        .get_result(conn)
}

/// The live session with this key's hash and its user: the one query an
/// authenticated request costs.
pub fn find_live(conn: &mut DbConn, key_hash: &str, now: Ts) -> QueryResult<Option<(SessionRow, AuthUser)>> {
    // Every request runs it: on the inner connection (see `db::direct`),
    // built in each arm, as `as_select` is typed by the backend.
    let found: Option<(SessionRow, UserRow, queries::ProfileParts)> = crate::db::direct!(conn, |c| {
        accounts_session::table
            .inner_join(auth_user::table)
            .left_join(accounts_profile::table.on(accounts_profile::user_id.eq(auth_user::id)))
            .left_join(accounts_role::table.on(accounts_profile::role_id.eq(accounts_role::id.nullable())))
            .filter(accounts_session::key_hash.eq(key_hash))
            .filter(accounts_session::expires_at.gt(now))
            .select((SessionRow::as_select(), UserRow::as_select(), profile_columns!()))
            .first(c)
            .optional()
    })?;
    Ok(found.map(|(session, user, (role, verified, onboarded, preferences))| {
        (
            session,
            queries::assemble((user, role, verified, onboarded, preferences)),
        )
    }))
}

/// Records activity: last seen now, and the idle expiry pushed back.
pub fn touch(conn: &mut DbConn, id: i64, now: Ts, idle: std::time::Duration) -> QueryResult<()> {
    diesel::update(accounts_session::table.find(id))
        .set((
            accounts_session::last_seen_at.eq(now),
            accounts_session::expires_at.eq(after(now, idle)),
        ))
        .execute(conn)
        .map(drop)
}

/// Logout: the session with this key ends.
pub fn delete_by_key(conn: &mut DbConn, key_hash: &str) -> QueryResult<usize> {
    diesel::delete(accounts_session::table.filter(accounts_session::key_hash.eq(key_hash))).execute(conn)
}

/// Ends one of the user's sessions (only theirs); `false` if there was none.
pub fn delete_one(conn: &mut DbConn, user_id: i32, id: i64) -> QueryResult<bool> {
    diesel::delete(
        accounts_session::table
            .filter(accounts_session::id.eq(id))
            .filter(accounts_session::user_id.eq(user_id)),
    )
    .execute(conn)
    .map(|n| n == 1)
}

/// Ends every session of the user but `keep` (the one making the request).
pub fn delete_others(conn: &mut DbConn, user_id: i32, keep: i64) -> QueryResult<usize> {
    diesel::delete(
        accounts_session::table
            .filter(accounts_session::user_id.eq(user_id))
            .filter(accounts_session::id.ne(keep)),
    )
    .execute(conn)
}

/// Ends every session of the user (a reset, a deactivation, staff).
pub fn delete_all(conn: &mut DbConn, user_id: i32) -> QueryResult<usize> {
    diesel::delete(accounts_session::table.filter(accounts_session::user_id.eq(user_id))).execute(conn)
}

/// After the user's own password change: this session carries on under the
/// new password, every other one ends.
pub fn keep_only(conn: &mut DbConn, user_id: i32, keep: i64, auth_hash: &str) -> QueryResult<usize> {
    diesel::update(accounts_session::table.find(keep))
        .set(accounts_session::auth_hash.eq(auth_hash))
        .execute(conn)?;
    delete_others(conn, user_id, keep)
}

/// The user's live sessions, most recently seen first.
pub fn list(conn: &mut DbConn, user_id: i32, now: Ts) -> QueryResult<Vec<SessionRow>> {
    accounts_session::table
        .filter(accounts_session::user_id.eq(user_id))
        .filter(accounts_session::expires_at.gt(now))
        .order((accounts_session::last_seen_at.desc(), accounts_session::id.desc()))
        .select(SessionRow::as_select())
        .load(conn)
}

/// How many live sessions the user has (the staff page).
pub fn count_live(conn: &mut DbConn, user_id: i32, now: Ts) -> QueryResult<i64> {
    accounts_session::table
        .filter(accounts_session::user_id.eq(user_id))
        .filter(accounts_session::expires_at.gt(now))
        .count()
        .get_result(conn)
}

/// The periodic clean-up: expired rows go (an index on `expires_at`).
pub fn purge_expired(conn: &mut DbConn, now: Ts) -> QueryResult<usize> {
    diesel::delete(accounts_session::table.filter(accounts_session::expires_at.le(now))).execute(conn)
}

/// A short description of a user agent for people: the browser and the
/// system, from the well-known tokens (order matters: Edge and Opera say
/// "Chrome" too, Chrome says "Safari").
pub fn describe_user_agent(agent: &str) -> String {
    if agent.trim().is_empty() {
        return "Unknown browser".to_owned();
    }
    const BROWSERS: &[(&str, &str)] = &[
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ];
    const SYSTEMS: &[(&str, &str)] = &[
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ];
    let browser = BROWSERS
        .iter()
        .find(|(token, _)| agent.contains(token))
        .map(|(_, name)| *name);
    let system = SYSTEMS
        .iter()
        .find(|(token, _)| agent.contains(token))
        .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => format!("A browser on {s}"),
        (None, None) => agent.split_whitespace().next().unwrap_or("Unknown browser").to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_read_as_browser_and_system() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(describe_user_agent(firefox), "Firefox on Linux");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                    Chrome/120.0 Safari/537.36 Edg/120.0";
        assert_eq!(describe_user_agent(edge), "Edge on Windows");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(describe_user_agent(iphone), "Safari on iPhone");
        assert_eq!(describe_user_agent(""), "Unknown browser");
        assert_eq!(describe_user_agent("reqwest/0.12"), "reqwest/0.12");
    }

    #[test]
    fn origins_are_cut_to_their_columns() {
        let origin = Origin::new(&format!("a\u{0}b{}", "x".repeat(400)), "203.0.113.9");
        assert_eq!(origin.user_agent.chars().count(), USER_AGENT_MAX);
        assert!(origin.user_agent.starts_with("ab"));
        assert_eq!(origin.ip_address, "203.0.113.9");
    }
}
