//! Beta invitations: creation, the emailed link, atomic acceptance.
//!
//! The link carries 256 random bits; the database keeps only their SHA-256
//! (so neither a leaked database nor the timing of an index lookup gives a
//! usable token). Rows made by the Django app keep their raw token and are
//! still found, then compared in constant time.

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::queries::{self, CreateUserError, NewUser};
use crate::db::schema::{accounts_betainvitation, auth_user};
use crate::db::{self, DbConn, Ts};
use crate::security;

pub const VALID_DAYS: i64 = 14;

pub use super::identity::Role;

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = accounts_betainvitation)]
pub struct Invitation {
    pub id: i64,
    pub email: String,
    pub token: String,
    pub accepted_at: Option<Ts>,
    pub role: String,
    pub invited_by_id: Option<i32>,
    pub accepted_by_id: Option<i32>,
    pub created_at: Ts,
    pub expires_at: Ts,
    pub revoked_at: Option<Ts>,
    pub last_sent_at: Option<Ts>,
    pub send_count: i32,
    pub last_send_error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl State {
    pub fn label(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Accepted => "accepted",
            State::Revoked => "revoked",
            State::Expired => "expired",
        }
    }
}

impl Invitation {
    pub fn state(&self, now: Ts) -> State {
        if self.accepted_at.is_some() {
            State::Accepted
        } else if self.revoked_at.is_some() {
            State::Revoked
        } else if self.expires_at <= now {
            State::Expired
        } else {
            State::Pending
        }
    }

    /// Rows Practika made hold the token's digest, and only the raw token
    /// opens them (the digest itself must not); rows the Django app made
    /// hold the raw token.
    fn matches(&self, raw: &str) -> bool {
        if is_digest(&self.token) {
            security::constant_time_eq(self.token.as_bytes(), digest(raw).as_bytes())
        } else {
            security::constant_time_eq(self.token.as_bytes(), raw.as_bytes())
        }
    }
}

fn is_digest(stored: &str) -> bool {
    stored.len() == 64 && stored.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What the database stores for a token.
pub fn digest(raw: &str) -> String {
    hex::encode(Sha256::digest(raw.as_bytes()))
}

pub fn find_by_token(conn: &mut DbConn, raw: &str) -> QueryResult<Option<Invitation>> {
    if raw.is_empty() || raw.len() > 64 {
        return Ok(None);
    }
    let found: Option<Invitation> = accounts_betainvitation::table
        .filter(
            accounts_betainvitation::token
                .eq(digest(raw))
                .or(accounts_betainvitation::token.eq(raw)),
        )
        .select(Invitation::as_select())
        .first(conn)
        .optional()?;
    Ok(found.filter(|invitation| invitation.matches(raw)))
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Invitation> {
    accounts_betainvitation::table
        .find(id)
        .select(Invitation::as_select())
        .first(conn)
}

/// An invitation with the usernames of who sent it and who accepted it.
pub type Listed = (Invitation, Option<String>, Option<String>);

/// Invitations, newest first, with the inviter's and accepter's usernames.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<Listed>> {
    let invitations: Vec<Invitation> = accounts_betainvitation::table
        .order(accounts_betainvitation::created_at.desc())
        .select(Invitation::as_select())
        .load(conn)?;
    let ids: Vec<i32> = invitations
        .iter()
        .flat_map(|i| [i.invited_by_id, i.accepted_by_id])
        .flatten()
        .collect();
    let names: Vec<(i32, String)> = auth_user::table
        .filter(auth_user::id.eq_any(ids))
        .select((auth_user::id, auth_user::username))
        .load(conn)?;
    let name = |id: Option<i32>| id.and_then(|id| names.iter().find(|(i, _)| *i == id).map(|(_, n)| n.clone()));
    Ok(invitations
        .into_iter()
        .map(|i| {
            let (by, accepted) = (name(i.invited_by_id), name(i.accepted_by_id));
            (i, by, accepted)
        })
        .collect())
}

#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    #[error("{0} already has an account")]
    AccountExists(String),
    #[error("{0} already has a pending invitation; resend it instead")]
    AlreadyPending(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

#[derive(Insertable)]
#[diesel(table_name = accounts_betainvitation)]
struct NewInvitation<'a> {
    email: &'a str,
    token: String,
    accepted_at: Option<Ts>,
    role: &'a str,
    invited_by_id: Option<i32>,
    accepted_by_id: Option<i32>,
    created_at: Ts,
    expires_at: Ts,
    revoked_at: Option<Ts>,
    last_sent_at: Option<Ts>,
    send_count: i32,
    last_send_error: Option<String>,
}

/// Invites `email` (already checked) with a fresh token; returns the
/// invitation and the raw token for the link. An expired or revoked
/// invitation to the same address is renewed in place (the address is
/// unique in the table).
pub fn create(
    conn: &mut DbConn,
    email: &str,
    role: Role,
    invited_by: Option<i32>,
) -> Result<(Invitation, String), InviteError> {
    let email = email.trim().to_lowercase();
    db::write_transaction(conn, |c| {
        if queries::email_in_use(c, &email, None)? {
            return Err(InviteError::AccountExists(email.clone()));
        }
        let now = Ts::now();
        let raw = security::random_token(32);
        let expires_at = expiry_from(now);
        let existing: Option<Invitation> = accounts_betainvitation::table
            .filter(accounts_betainvitation::email.eq(&email))
            .select(Invitation::as_select())
            .first(c)
            .optional()?;
        let id = match existing {
            Some(old) if old.state(now) == State::Pending => return Err(InviteError::AlreadyPending(email.clone())),
            Some(old) if old.state(now) == State::Accepted => return Err(InviteError::AccountExists(email.clone())),
            Some(old) => {
                diesel::update(accounts_betainvitation::table.find(old.id))
                    .set((
                        accounts_betainvitation::token.eq(digest(&raw)),
                        accounts_betainvitation::role.eq(role.as_str()),
                        accounts_betainvitation::invited_by_id.eq(invited_by),
                        accounts_betainvitation::created_at.eq(now),
                        accounts_betainvitation::expires_at.eq(expires_at),
                        accounts_betainvitation::revoked_at.eq(None::<Ts>),
                        accounts_betainvitation::last_sent_at.eq(None::<Ts>),
                        accounts_betainvitation::send_count.eq(0),
                        accounts_betainvitation::last_send_error.eq(None::<String>),
                    ))
                    .execute(c)?;
                old.id
            }
            None => diesel::insert_into(accounts_betainvitation::table)
                .values(NewInvitation {
                    email: &email,
                    token: digest(&raw),
                    accepted_at: None,
                    role: role.as_str(),
                    invited_by_id: invited_by,
                    accepted_by_id: None,
                    created_at: now,
                    expires_at,
                    revoked_at: None,
                    last_sent_at: None,
                    send_count: 0,
                    last_send_error: None,
                })
                .returning(accounts_betainvitation::id)
                .get_result(c)?,
        };
        Ok((find(c, id)?, raw))
    })
}

/// An invitation that can still be (re)sent: not accepted, not revoked
/// (an expired one gets a fresh expiry when it is sent again).
pub fn find_sendable(conn: &mut DbConn, id: i64) -> QueryResult<Option<Invitation>> {
    let found = accounts_betainvitation::table
        .find(id)
        .select(Invitation::as_select())
        .first(conn)
        .optional()?;
    Ok(found.filter(|i| !matches!(i.state(Ts::now()), State::Accepted | State::Revoked)))
}

/// A resend's new link takes over once its email has gone out: the token's
/// digest and the expiry the email announced. Only the digest is stored,
/// so the old link dies here (and not before). `false` if the invitation
/// was accepted or revoked meanwhile.
pub fn install_token(conn: &mut DbConn, id: i64, raw: &str, expires_at: Ts) -> QueryResult<bool> {
    let changed = diesel::update(
        accounts_betainvitation::table
            .find(id)
            .filter(accounts_betainvitation::accepted_at.is_null())
            .filter(accounts_betainvitation::revoked_at.is_null()),
    )
    .set((
        accounts_betainvitation::token.eq(digest(raw)),
        accounts_betainvitation::expires_at.eq(expires_at),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// The expiry of an invitation (re)sent now.
pub fn expiry_from(now: Ts) -> Ts {
    Ts(now.0 + chrono::Duration::days(VALID_DAYS))
}

pub fn record_send(conn: &mut DbConn, id: i64, outcome: &Result<(), String>) -> QueryResult<()> {
    let target = accounts_betainvitation::table.find(id);
    match outcome {
        Ok(()) => diesel::update(target)
            .set((
                accounts_betainvitation::last_sent_at.eq(Some(Ts::now())),
                accounts_betainvitation::send_count.eq(accounts_betainvitation::send_count + 1),
                accounts_betainvitation::last_send_error.eq(None::<String>),
            ))
            .execute(conn)?,
        Err(error) => diesel::update(target)
            .set(accounts_betainvitation::last_send_error.eq(Some(error.as_str())))
            .execute(conn)?,
    };
    Ok(())
}

/// Revokes a pending invitation; returns false if it was not pending.
pub fn revoke(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    let changed = diesel::update(
        accounts_betainvitation::table
            .find(id)
            .filter(accounts_betainvitation::accepted_at.is_null())
            .filter(accounts_betainvitation::revoked_at.is_null()),
    )
    .set(accounts_betainvitation::revoked_at.eq(Some(Ts::now())))
    .execute(conn)?;
    Ok(changed == 1)
}

/// What the person accepting chose.
pub struct Acceptance {
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub password_hash: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("unknown invitation")]
    Unknown,
    #[error("invitation not open: {0:?}")]
    NotOpen(State),
    #[error("the address already has an account")]
    AccountExists,
    #[error("username taken")]
    UsernameTaken,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<CreateUserError> for AcceptError {
    fn from(error: CreateUserError) -> Self {
        match error {
            CreateUserError::UsernameTaken => AcceptError::UsernameTaken,
            CreateUserError::Database(e) => AcceptError::Database(e),
        }
    }
}

/// Consumes the invitation and creates the account, all or nothing: of two
/// simultaneous acceptances exactly one creates an account.
pub fn accept(conn: &mut DbConn, raw: &str, acceptance: &Acceptance) -> Result<i32, AcceptError> {
    db::write_transaction(conn, |c| {
        let invitation = find_by_token(c, raw)?.ok_or(AcceptError::Unknown)?;
        let now = Ts::now();
        match invitation.state(now) {
            State::Pending => {}
            other => return Err(AcceptError::NotOpen(other)),
        }
        if queries::email_in_use(c, &invitation.email, None)? {
            return Err(AcceptError::AccountExists);
        }
        // The claim: only one transaction can move accepted_at from NULL.
        let claimed = diesel::update(
            accounts_betainvitation::table
                .find(invitation.id)
                .filter(accounts_betainvitation::accepted_at.is_null())
                .filter(accounts_betainvitation::revoked_at.is_null())
                .filter(accounts_betainvitation::expires_at.gt(now)),
        )
        .set(accounts_betainvitation::accepted_at.eq(Some(now)))
        .execute(c)?;
        if claimed != 1 {
            return Err(AcceptError::NotOpen(State::Accepted));
        }
        let role = Role::parse(&invitation.role).unwrap_or(Role::Student);
        let user_id = queries::create_user(
            c,
            &NewUser {
                username: acceptance.username.clone(),
                email: invitation.email.clone(),
                first_name: acceptance.first_name.clone(),
                last_name: acceptance.last_name.clone(),
                password_hash: acceptance.password_hash.clone(),
                is_staff: role == Role::Admin,
                is_superuser: false,
                role: role.as_str().to_owned(),
                email_verified_at: Some(now),
            },
        )?;
        diesel::update(accounts_betainvitation::table.find(invitation.id))
            .set(accounts_betainvitation::accepted_by_id.eq(Some(user_id)))
            .execute(c)?;
        Ok(user_id)
    })
}
