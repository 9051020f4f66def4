//! Login throttling: after too many failed logins for one username, or from
//! one address, within a window, further attempts are refused until the
//! window has passed. Kept in the database, so it holds across app nodes.

use chrono::Duration;
use diesel::prelude::*;

use crate::db::schema::accounts_loginattempt;
use crate::db::{DbConn, Ts};

pub const WINDOW_MINUTES: i64 = 15;
pub const PER_USERNAME: i64 = 10;
pub const PER_ADDRESS: i64 = 50;

fn normalise(username: &str) -> String {
    username.trim().to_lowercase()
}

/// `Some(minutes to wait)` when this attempt must be refused.
pub fn refused_for(conn: &mut DbConn, username: &str, ip: &str) -> QueryResult<Option<i64>> {
    let now = Ts::now();
    let window_start = Ts(now.0 - Duration::minutes(WINDOW_MINUTES));
    let username = normalise(username);
    let mut waits = Vec::new();
    for (column_is_username, key, limit) in [(true, username.as_str(), PER_USERNAME), (false, ip, PER_ADDRESS)] {
        let mut query = accounts_loginattempt::table
            .filter(accounts_loginattempt::attempted_at.gt(window_start))
            .into_boxed();
        query = if column_is_username {
            query.filter(accounts_loginattempt::username.eq(key))
        } else {
            query.filter(accounts_loginattempt::ip.eq(key))
        };
        let times: Vec<Ts> = query
            .select(accounts_loginattempt::attempted_at)
            .order(accounts_loginattempt::attempted_at.desc())
            .limit(limit)
            .load(conn)?;
        if times.len() as i64 >= limit {
            // Free again when the oldest of the last `limit` failures leaves the window.
            if let Some(oldest) = times.last() {
                let free_at = oldest.0 + Duration::minutes(WINDOW_MINUTES);
                waits.push(((free_at - now.0).num_seconds() + 59) / 60);
            }
        }
    }
    Ok(waits.into_iter().max().map(|m| m.max(1)))
}

pub fn record_failure(conn: &mut DbConn, username: &str, ip: &str) -> QueryResult<()> {
    let now = Ts::now();
    // Old rows are useless; drop them as new ones arrive.
    diesel::delete(
        accounts_loginattempt::table.filter(accounts_loginattempt::attempted_at.lt(Ts(now.0 - Duration::days(1)))),
    )
    .execute(conn)?;
    diesel::insert_into(accounts_loginattempt::table)
        .values((
            accounts_loginattempt::username.eq(normalise(username).chars().take(150).collect::<String>()),
            accounts_loginattempt::ip.eq(ip.chars().take(45).collect::<String>()),
            accounts_loginattempt::attempted_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// A successful login forgets the username's failures.
pub fn clear(conn: &mut DbConn, username: &str) -> QueryResult<()> {
    diesel::delete(accounts_loginattempt::table.filter(accounts_loginattempt::username.eq(normalise(username))))
        .execute(conn)
        .map(drop)
}
