//! The first admin: a one-time setup link printed at start while no admin
//! exists, and the same creation for `practika createsuperuser`.

use std::sync::Mutex;

use super::forms::NewAdmin;
use super::password;
use super::queries::{self, CreateUserError, NewUser};
use crate::db::{self, DbConn};
use crate::security;

/// The setup link's token. It is random per process, compared in constant
/// time, taken (never to work again) by the request that uses it, and
/// refused anyway once any admin exists — so a second node's link is dead
/// as soon as the first admin has been made anywhere.
pub struct SetupGate {
    token: Mutex<Option<String>>,
}

impl Default for SetupGate {
    fn default() -> Self {
        SetupGate {
            token: Mutex::new(Some(security::random_token(24))),
        }
    }
}

impl SetupGate {
    pub fn token(&self) -> Option<String> {
        self.token.lock().ok().and_then(|t| t.clone())
    }

    pub fn matches(&self, candidate: &str) -> bool {
        self.token()
            .is_some_and(|t| security::constant_time_eq(t.as_bytes(), candidate.as_bytes()))
    }

    /// Takes the token if `candidate` is it: only one caller ever gets `true`.
    pub fn take(&self, candidate: &str) -> bool {
        let Ok(mut guard) = self.token.lock() else {
            return false;
        };
        let matches = guard
            .as_deref()
            .is_some_and(|t| security::constant_time_eq(t.as_bytes(), candidate.as_bytes()));
        if matches {
            *guard = None;
        }
        matches
    }

    /// Puts a taken token back (the creation it was taken for failed).
    pub fn restore(&self, token: String) {
        if let Ok(mut guard) = self.token.lock() {
            *guard = Some(token);
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CreateAdminError {
    #[error("an admin exists already")]
    AdminExists,
    #[error(transparent)]
    User(#[from] CreateUserError),
}

impl From<diesel::result::Error> for CreateAdminError {
    fn from(error: diesel::result::Error) -> Self {
        CreateAdminError::User(CreateUserError::Database(error))
    }
}

/// Creates a superuser (staff, role admin). With `only_if_first`, refuses
/// when an admin exists — checked in the same write transaction.
pub fn create_admin(
    conn: &mut DbConn,
    admin: &NewAdmin,
    password_hash: String,
    only_if_first: bool,
) -> Result<i32, CreateAdminError> {
    db::write_transaction(conn, |c| {
        if only_if_first && queries::superuser_exists(c)? {
            return Err(CreateAdminError::AdminExists);
        }
        let user_id = queries::create_user(
            c,
            &NewUser {
                username: admin.username.clone(),
                email: admin.email.clone(),
                first_name: String::new(),
                last_name: String::new(),
                password_hash,
                is_staff: true,
                is_superuser: true,
                role: "admin".to_owned(),
                email_verified_at: None,
            },
        )?;
        Ok(user_id)
    })
}

/// Hashes a password on a blocking thread.
pub async fn hash_password(plain: String) -> crate::error::AppResult<String> {
    Ok(crate::web::blocking(move || password::hash(&plain)).await??)
}
