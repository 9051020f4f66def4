//! Who may do what with accounts and roles: the one place each rule is
//! written, asked by every handler that needs it.

use crate::web::auth::CurrentUser;

/// The role whose holders edit and delete every exercise and comment.
pub const ADMIN_ROLE: &str = "admin";

/// Whether `actor` may give `role` to someone (a role change on the staff
/// pages, a bulk role change, an invitation), or take it away. Only
/// superusers hand out or withdraw the admin role: an admin edits and
/// deletes every exercise and comment, and an accepted admin invitation
/// makes a staff member.
pub fn may_grant_role(actor: &CurrentUser, role: &str) -> bool {
    actor.is_superuser || role != ADMIN_ROLE
}

/// The message for a refused [`may_grant_role`].
pub const ADMIN_ROLE_REFUSED: &str =
    "Only superusers can give or take away the admin role: admins edit and delete every exercise and comment.";
