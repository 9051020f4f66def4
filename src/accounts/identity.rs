//! Who is logged in: the user as every handler and page sees them, with
//! their role as a type. `web::auth` extracts it from the request; the rules
//! about what it may do are in `permissions`.

use super::queries::{self, Preferences};
use crate::db::Ts;

/// The roles the code gives meaning to (`accounts_role.name`). Other role
/// names (made by hand in the Django admin) carry no rights: they read as
/// no role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Student,
    Coach,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Student, Role::Coach, Role::Admin];

    pub fn parse(value: &str) -> Option<Role> {
        match value.trim().to_ascii_lowercase().as_str() {
            "student" => Some(Role::Student),
            "coach" => Some(Role::Coach),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Student => "student",
            Role::Coach => "coach",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The logged-in user, as handlers see them.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i32,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// Django's flags: staff pages, and every right (superuser).
    pub is_staff: bool,
    pub is_superuser: bool,
    pub role: Option<Role>,
    pub last_login: Option<Ts>,
    pub date_joined: Ts,
    pub email_verified_at: Option<Ts>,
    pub onboarding_completed: bool,
    pub preferences: Preferences,
    /// For coaches and admins: how many attempts wait in their inbox (up to
    /// `inbox::queries::NAV_CAP`), counted with the session lookup.
    pub inbox_waiting: Option<i64>,
}

impl CurrentUser {
    /// The name shown for this user: their chosen display name, else their
    /// full name, else their username.
    pub fn display_name(&self) -> String {
        queries::display_name(&self.username, &self.first_name, &self.last_name, &self.preferences)
    }

    pub fn nav(&self) -> NavUser {
        NavUser {
            username: self.username.clone(),
            display_name: self.display_name(),
            role: self.role.map_or("no role", Role::as_str).to_owned(),
            is_staff: super::permissions::is_staff(self),
            inbox: self.inbox_waiting.map(|n| {
                if n >= crate::inbox::queries::NAV_CAP {
                    format!("{}+", crate::inbox::queries::NAV_CAP - 1)
                } else {
                    n.to_string()
                }
            }),
        }
    }
}

/// What the navigation bar shows about the user.
#[derive(Debug, Clone)]
pub struct NavUser {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub is_staff: bool,
    /// The inbox link's count ("12", "99+"); `None`: no inbox link.
    pub inbox: Option<String>,
}
