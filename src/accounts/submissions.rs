//! One-time form keys (idempotency keys) for the forms that create rows: a
//! comment, a reply, an exercise. Each form a page shows carries a fresh
//! key (`PageCtx::once_key`, the `m::once` macro); the first request with it
//! claims the key in the same transaction as the row it makes, and keeps
//! where it sent the browser. The same submission again (a double click,
//! ten at once, a browser retrying) finds the key taken and answers the
//! same redirect, storing nothing.
//!
//! A key is `<issued>.<random>.<mac>`: the MAC binds it to the user it was
//! made for, and `issued` makes it expire after [`KEEP`], as long as the
//! claimed keys are kept (the worker deletes older ones), so an old key can
//! never slip past a purged claim.

use std::time::Duration;

use diesel::prelude::*;

use crate::db::schema::accounts_formsubmission;
use crate::db::{self, DbConn, Ts};
use crate::security;

/// How long a form's key is accepted, and its claim kept.
pub const KEEP: Duration = Duration::from_secs(24 * 3600);
/// A key "issued" further in the future than this is not one we made.
const CLOCK_SKEW_SECS: i64 = 300;
const PURPOSE: &str = "practika.form-once";

fn mac(secret: &[u8], user_id: i32, issued: i64, random: &str) -> String {
    let mut mac = security::hmac_hex(secret, PURPOSE, format!("{user_id}.{issued}.{random}").as_bytes());
    mac.truncate(32);
    mac
}

/// A fresh key for one form shown to `user_id`.
pub fn mint(secret: &[u8], user_id: i32, now: Ts) -> String {
    let issued = now.0.timestamp();
    let random = security::random_token(16);
    format!("{issued}.{random}.{}", mac(secret, user_id, issued, &random))
}

/// A checked key: the part that is claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormKey(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyProblem {
    /// Not a key this site made for this user.
    Invalid,
    /// Made more than [`KEEP`] ago.
    Expired,
}

impl KeyProblem {
    /// What the form says (its values are kept; a fresh key comes with it).
    pub fn message(self) -> &'static str {
        match self {
            KeyProblem::Invalid => "This form could not be checked. Please send it again.",
            KeyProblem::Expired => "This form was open for more than a day. Please check it and send it again.",
        }
    }
}

/// The key a form came back with. An empty one (a client that does not
/// send the field) is `None`: such a request is stored as it comes, once
/// per request.
pub fn check(secret: &[u8], user_id: i32, submitted: &str, now: Ts) -> Result<Option<FormKey>, KeyProblem> {
    let submitted = submitted.trim();
    if submitted.is_empty() {
        return Ok(None);
    }
    let mut parts = submitted.split('.');
    let (Some(issued), Some(random), Some(given), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(KeyProblem::Invalid);
    };
    let issued: i64 = issued.parse().map_err(|_| KeyProblem::Invalid)?;
    let expected = mac(secret, user_id, issued, random);
    if random.is_empty() || !security::constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        return Err(KeyProblem::Invalid);
    }
    let age = now.0.timestamp() - issued;
    if age < -CLOCK_SKEW_SECS {
        return Err(KeyProblem::Invalid);
    }
    if age > KEEP.as_secs() as i64 {
        return Err(KeyProblem::Expired);
    }
    Ok(Some(FormKey(random.to_owned())))
}

/// The key of a form that came back as `draft`: a bad one turns the draft
/// into field errors (under `field`) with the form's values kept.
pub fn check_form<T>(
    secret: &[u8],
    user_id: i32,
    submitted: &str,
    field: &'static str,
    draft: &mut Result<T, super::forms::FieldErrors>,
) -> Option<FormKey> {
    match check(secret, user_id, submitted, Ts::now()) {
        Ok(key) => key,
        Err(problem) => {
            let mut errors = match std::mem::replace(draft, Err(Default::default())) {
                Ok(_) => Default::default(),
                Err(errors) => errors,
            };
            errors.add(field, problem.message());
            *draft = Err(errors);
            None
        }
    }
}

/// What a submission came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Once<T> {
    /// This request made it.
    First(T),
    /// An earlier request with the same key made it; it sent the browser here.
    Repeat(String),
}

/// Runs `make` once per key: it writes the rows and returns its value and
/// where the answer sends the browser. All in one transaction with the
/// claim of the key, so a failure leaves the key free, and a concurrent
/// request with the same key waits for this one (PostgreSQL's unique index,
/// SQLite's one writer) and then answers as it did. Without a key, `make`
/// runs as it is.
pub fn once<T, E, F>(conn: &mut DbConn, user_id: i32, key: Option<&FormKey>, make: F) -> Result<Once<T>, E>
where
    F: FnOnce(&mut DbConn) -> Result<(T, String), E>,
    E: From<diesel::result::Error>,
{
    let Some(FormKey(key)) = key else {
        return make(conn).map(|(value, _)| Once::First(value));
    };
    db::write_transaction(conn, |c| {
        let now = Ts::now();
        let claimed = crate::for_each_backend!(&mut *c, |inner| {
            diesel::insert_into(accounts_formsubmission::table)
                .values((
                    accounts_formsubmission::user_id.eq(user_id),
                    accounts_formsubmission::form_key.eq(key),
                    accounts_formsubmission::created_at.eq(now),
                ))
                .on_conflict((accounts_formsubmission::user_id, accounts_formsubmission::form_key))
                .do_nothing()
                .execute(inner)
        })?;
        let mine = accounts_formsubmission::table
            .filter(accounts_formsubmission::user_id.eq(user_id))
            .filter(accounts_formsubmission::form_key.eq(key));
        if claimed == 0 {
            let answer: String = mine.select(accounts_formsubmission::answer).first(c)?;
            return Ok(Once::Repeat(answer));
        }
        let (value, answer) = make(c)?;
        diesel::update(mine)
            .set(accounts_formsubmission::answer.eq(&answer))
            .execute(c)?;
        Ok(Once::First(value))
    })
}

/// Deletes claims older than [`KEEP`] (their keys are refused by now).
pub fn purge_expired(conn: &mut DbConn, now: Ts) -> QueryResult<usize> {
    let before = Ts(now.0 - chrono::Duration::from_std(KEEP).unwrap_or(chrono::Duration::zero()));
    diesel::delete(accounts_formsubmission::table.filter(accounts_formsubmission::created_at.lt(before))).execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"a-test-secret-that-is-long-enough-to-use";

    #[test]
    fn a_key_works_for_its_user_for_a_day() {
        let now = Ts::now();
        let key = mint(SECRET, 7, now);
        let checked = check(SECRET, 7, &key, now).expect("valid").expect("a key");
        assert_eq!(check(SECRET, 7, &key, now), Ok(Some(checked)), "the same key each time");
        assert_ne!(mint(SECRET, 7, now), key, "each form gets its own");
        assert_eq!(
            check(SECRET, 8, &key, now),
            Err(KeyProblem::Invalid),
            "bound to the user"
        );
        assert_eq!(
            check(b"another-secret-that-is-long-enough-too", 7, &key, now),
            Err(KeyProblem::Invalid)
        );
        let later = Ts(now.0 + chrono::Duration::hours(25));
        assert_eq!(check(SECRET, 7, &key, later), Err(KeyProblem::Expired));
        let earlier = Ts(now.0 - chrono::Duration::hours(1));
        assert_eq!(
            check(SECRET, 7, &key, earlier),
            Err(KeyProblem::Invalid),
            "not from the future"
        );
        assert_eq!(check(SECRET, 7, "", now), Ok(None));
        for forged in ["x", "1.2", "1.2.3.4", &key.replace('.', ","), &format!("{key}0")] {
            assert_eq!(check(SECRET, 7, forged, now), Err(KeyProblem::Invalid), "{forged}");
        }
        // The time cannot be moved without the MAC failing.
        let (issued, rest) = key.split_once('.').expect("dot");
        let moved = format!("{}.{rest}", issued.parse::<i64>().expect("secs") + 3600);
        assert_eq!(check(SECRET, 7, &moved, now), Err(KeyProblem::Invalid));
    }
}
