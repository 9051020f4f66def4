//! Who may do what: the one place each rule is written, asked by every
//! handler, loader and staff page that needs it (none compares roles or
//! Django's staff flags itself). The table of every actor × ownership ×
//! action is tested below.

use super::identity::{CurrentUser, Role};
use super::queries::AuthUser;

/// The role whose holders edit and delete every exercise and comment.
pub const ADMIN_ROLE: &str = "admin";

/// Staff pages, and everyone's videos: Django's `is_staff`, or a superuser.
pub fn is_staff(user: &CurrentUser) -> bool {
    user.is_staff || user.is_superuser
}

/// Edits and deletes every exercise and comment: staff, or the admin role.
pub fn is_admin(user: &CurrentUser) -> bool {
    is_staff(user) || user.role == Some(Role::Admin)
}

/// Publishes exercises: coaches and admins.
pub fn can_create_exercise(user: &CurrentUser) -> bool {
    is_admin(user) || user.role == Some(Role::Coach)
}

/// Edits or deletes an exercise made by `created_by`: its coach (while they
/// may still publish), or an admin.
pub fn can_edit_exercise(user: &CurrentUser, created_by: i32) -> bool {
    is_admin(user) || (created_by == user.id && can_create_exercise(user))
}

/// The coach inbox (and its count in the navigation): coaches and admins.
pub fn uses_inbox(user: &CurrentUser) -> bool {
    can_create_exercise(user)
}

/// The inbox holds every waiting attempt, not only those on the user's own
/// exercises: admins.
pub fn sees_every_attempt(user: &CurrentUser) -> bool {
    is_admin(user)
}

/// Gives feedback on an exercise made by `coach`: a reply answers an
/// attempt, "seen, no reply needed" takes one out of the inbox, and a reply
/// may ask for another try. Its coach, and admins. (The triggers of the
/// `coach_inbox` migration apply the same rule to rows the Django app writes.)
pub fn gives_feedback(user: &CurrentUser, coach: i32) -> bool {
    is_admin(user) || user.id == coach
}

/// A student's progress page on an exercise made by `coach` (their attempts
/// over time and their practice log there): the student, the exercise's
/// coach and admins. Nobody else, although every thread is open to everyone
/// logged in: the page gathers one person's record, the practice log is not
/// in any thread, and a coach sees it for their own exercises only.
pub fn can_view_progress(user: &CurrentUser, student: i32, coach: i32) -> bool {
    user.id == student || gives_feedback(user, coach)
}

/// Whether an account could be named as an exercise's coach (staff adding
/// an exercise for someone): active, and a coach, an admin or staff.
pub fn may_publish_as(active: bool, staff: bool, superuser: bool, role: Option<&str>) -> bool {
    let role = role.and_then(Role::parse);
    active && (staff || superuser || matches!(role, Some(Role::Coach | Role::Admin)))
}

/// Who may see a video: its uploader, staff, and everyone logged in once it
/// is `attached` to an exercise or a comment.
pub fn can_view_video(user: &CurrentUser, uploaded_by: Option<i32>, attached: bool) -> bool {
    is_staff(user) || uploaded_by == Some(user.id) || attached
}

/// Who may hear a voice-over: everyone who can see the comment it is on
/// (everyone logged in sees every thread), and, before it is posted with a
/// reply, only its owner and staff.
pub fn can_hear_voiceover(user: &CurrentUser, owner: i32, on_comment: bool) -> bool {
    on_comment || owner == user.id || is_staff(user)
}

/// Who may ask for a reply to be exported as a video: its author.
pub fn can_export_comment(user: &CurrentUser, author: i32) -> bool {
    author == user.id
}

/// Who may download a reply's export, a file made to be shared outside
/// Practika: the people of the conversation, who asked for it (the
/// reply's author, `owner`) and whose attempt it shows (`attempt_owner`,
/// its uploader), and staff. The rest of the thread watches the reply
/// itself, drawings and voice included, in Practika.
pub fn can_download_export(user: &CurrentUser, owner: i32, attempt_owner: Option<i32>) -> bool {
    owner == user.id || attempt_owner == Some(user.id) || is_staff(user)
}

/// Downloads a data export (a ZIP of someone's videos, comments and
/// voice-overs): its owner alone, staff not excepted.
pub fn can_download_data_export(user: &CurrentUser, owner: i32) -> bool {
    user.id == owner
}

/// Renames a video, cuts clips' sources...: its uploader and staff.
pub fn can_edit_video(user: &CurrentUser, uploaded_by: Option<i32>) -> bool {
    is_staff(user) || uploaded_by == Some(user.id)
}

/// Edits or deletes a comment written by `author`: its author, or an admin.
pub fn can_change_comment(user: &CurrentUser, author: i32) -> bool {
    author == user.id || is_admin(user)
}

/// Whether `actor` may give `role` to someone (a role change on the staff
/// pages, a bulk role change, an invitation), or take it away. Only
/// superusers hand out or withdraw the admin role: an admin edits and
/// deletes every exercise and comment, and an accepted admin invitation
/// makes a staff member.
pub fn may_grant_role(actor: &CurrentUser, role: &str) -> bool {
    actor.is_superuser || Role::parse(role) != Some(Role::Admin)
}

/// The message for a refused [`may_grant_role`].
pub const ADMIN_ROLE_REFUSED: &str =
    "Only superusers can give or take away the admin role: admins edit and delete every exercise and comment.";

/// Whether an account with this role is made staff (an admin created or
/// invited as one).
pub fn role_makes_staff(role: &str) -> bool {
    Role::parse(role) == Some(Role::Admin)
}

/// Gives or removes Django's staff flag: superusers only.
pub fn may_grant_staff(actor: &CurrentUser) -> bool {
    actor.is_superuser
}

/// Changes another account on the staff pages (its fields, active or not,
/// deletion): a staff member changes non-staff accounts; only a superuser
/// changes staff ones.
pub fn may_change_user(actor: &CurrentUser, user: &AuthUser) -> bool {
    actor.is_superuser || !(user.is_staff || user.is_superuser)
}

/// Ends all of an account's sessions from the staff pages: someone else's
/// account that the actor may change (their own are ended from "Your
/// sessions").
pub fn may_end_sessions(actor: &CurrentUser, user: &AuthUser) -> bool {
    actor.id != user.id && may_change_user(actor, user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::queries::{ProfileBits, UserRow};
    use crate::db::Ts;

    /// The kinds of people there are, as (name, role, is_staff, is_superuser).
    const ACTORS: [(&str, Option<Role>, bool, bool); 7] = [
        ("no role", None, false, false),
        ("student", Some(Role::Student), false, false),
        ("coach", Some(Role::Coach), false, false),
        ("admin role", Some(Role::Admin), false, false),
        ("staff coach", Some(Role::Coach), true, false),
        ("staff admin", Some(Role::Admin), true, false),
        ("superuser", Some(Role::Admin), true, true),
    ];

    fn actor(id: i32, (_, role, staff, superuser): (&str, Option<Role>, bool, bool)) -> CurrentUser {
        CurrentUser {
            id,
            username: format!("user{id}"),
            first_name: String::new(),
            last_name: String::new(),
            email: String::new(),
            is_staff: staff,
            is_superuser: superuser,
            role,
            last_login: None,
            date_joined: Ts::now(),
            email_verified_at: None,
            onboarding_completed: true,
            preferences: Default::default(),
            inbox_waiting: None,
        }
    }

    fn account(id: i32, (_, role, staff, superuser): (&str, Option<Role>, bool, bool), active: bool) -> AuthUser {
        AuthUser {
            row: UserRow {
                id,
                password: String::new(),
                last_login: None,
                is_superuser: superuser,
                username: format!("user{id}"),
                first_name: String::new(),
                last_name: String::new(),
                email: String::new(),
                is_staff: staff,
                is_active: active,
                date_joined: Ts::now(),
            },
            profile: ProfileBits {
                role: role.map(|r| r.as_str().to_owned()),
                ..Default::default()
            },
        }
    }

    const ME: i32 = 1;
    const SOMEONE: i32 = 2;

    /// Every actor × (own, someone else's) × action, against the rules
    /// written out in words.
    #[test]
    fn the_whole_permission_table() {
        for entry in ACTORS {
            let (name, role, staff_flag, superuser) = entry;
            let user = actor(ME, entry);
            let staff = staff_flag || superuser;
            let admin = staff || role == Some(Role::Admin);
            let coach_or_admin = admin || role == Some(Role::Coach);
            assert_eq!(is_staff(&user), staff, "{name}: staff pages");
            assert_eq!(is_admin(&user), admin, "{name}: admin rights");
            assert_eq!(user.nav().is_staff, staff, "{name}: the staff link");
            assert_eq!(can_create_exercise(&user), coach_or_admin, "{name}: publish");
            for (owner, own) in [(ME, true), (SOMEONE, false)] {
                let whose = if own { "own" } else { "someone else's" };
                assert_eq!(
                    can_edit_exercise(&user, owner),
                    admin || (own && coach_or_admin),
                    "{name}: edit {whose} exercise"
                );
                assert_eq!(
                    can_change_comment(&user, owner),
                    own || admin,
                    "{name}: change {whose} comment"
                );
                assert_eq!(
                    can_edit_video(&user, Some(owner)),
                    own || staff,
                    "{name}: edit {whose} video"
                );
                assert_eq!(can_export_comment(&user, owner), own, "{name}: export {whose} reply");
                for (attempt, mine) in [(Some(ME), true), (Some(3), false), (None, false)] {
                    assert_eq!(
                        can_download_export(&user, owner, attempt),
                        own || mine || staff,
                        "{name}: download the export of {whose} reply (the attempt mine: {mine})"
                    );
                }
                // A progress page: `owner` is the student; the coach is
                // someone else, or the viewer (their own exercise).
                for (coach, coaches) in [(3, false), (ME, true)] {
                    assert_eq!(
                        can_view_progress(&user, owner, coach),
                        own || admin || coaches,
                        "{name}: {whose} progress, coaching the exercise {coaches}"
                    );
                }
                assert_eq!(
                    can_download_data_export(&user, owner),
                    own,
                    "{name}: download {whose} data export"
                );
                for attached in [false, true] {
                    assert_eq!(
                        can_view_video(&user, Some(owner), attached),
                        own || staff || attached,
                        "{name}: view {whose} video, attached {attached}"
                    );
                }
            }
            // A video nobody uploaded (the Django app's): staff, or attached.
            assert_eq!(can_view_video(&user, None, false), staff, "{name}: orphan video");
            assert!(can_view_video(&user, None, true), "{name}: attached orphan");
            assert_eq!(can_edit_video(&user, None), staff, "{name}: edit orphan");
            for granted in ["student", "coach", "admin", "Admin", "assistant"] {
                let is_admin_role = granted.eq_ignore_ascii_case("admin");
                assert_eq!(
                    may_grant_role(&user, granted),
                    superuser || !is_admin_role,
                    "{name}: grant {granted}"
                );
            }
            assert_eq!(may_grant_staff(&user), superuser, "{name}: grant staff");
            for target in ACTORS {
                let target_staff = target.2 || target.3;
                for (id, other) in [(ME, false), (SOMEONE, true)] {
                    let account = account(id, target, true);
                    assert_eq!(
                        may_change_user(&user, &account),
                        superuser || !target_staff,
                        "{name}: change {}",
                        target.0
                    );
                    assert_eq!(
                        may_end_sessions(&user, &account),
                        other && (superuser || !target_staff),
                        "{name}: end the sessions of {} (someone else: {other})",
                        target.0
                    );
                }
            }
        }
    }

    #[test]
    fn who_may_be_named_coach_and_which_roles_make_staff() {
        for (name, role, staff, superuser) in ACTORS {
            let expected = staff || superuser || matches!(role, Some(Role::Coach | Role::Admin));
            let role = role.map(Role::as_str);
            assert_eq!(may_publish_as(true, staff, superuser, role), expected, "{name}");
            assert!(!may_publish_as(false, staff, superuser, role), "{name}, inactive");
        }
        assert!(role_makes_staff("admin"));
        for role in ["student", "coach", "assistant", ""] {
            assert!(!role_makes_staff(role), "{role}");
        }
    }
}
