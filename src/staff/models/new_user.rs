//! Adding a user from the staff pages, as Django's admin does: the account
//! an invitation would have made, with a first password the admin chooses
//! and passes on (the person changes it on their account page). Inviting
//! by email stays the usual way in; this is for the person at the desk.

use diesel::prelude::*;

use crate::accounts::forms::{FieldErrors, NewAdminForm};
use crate::accounts::password;
use crate::accounts::permissions;
use crate::accounts::queries::{self, CreateUserError, NewUser};
use crate::db::DbConn;
use crate::staff::audit::Entry;
use crate::staff::model::{Field, Input, InputKind, StaffError, StaffResult};
use crate::web::auth::CurrentUser;

const NAME_MAX: usize = 150;

pub fn fields(conn: &mut DbConn, actor: &CurrentUser) -> QueryResult<Vec<Field>> {
    let roles = super::users::roles(conn)?
        .into_iter()
        .filter(|(_, name)| permissions::may_grant_role(actor, name))
        .map(|(_, name)| (name.clone(), name))
        .collect();
    Ok(vec![
        Field::new("username", "Username", InputKind::Text, "")
            .hint("What they log in with: letters, digits and @ . + - _ only."),
        Field::new("email", "Email address", InputKind::Email, ""),
        Field::new("first_name", "First name", InputKind::Text, ""),
        Field::new("last_name", "Last name", InputKind::Text, ""),
        Field::new("role", "Role", InputKind::Select(roles), "student").hint(
            if permissions::may_grant_role(actor, permissions::ADMIN_ROLE) {
                "Admins get staff rights."
            } else {
                "Only superusers add admins: admins get staff rights."
            },
        ),
        Field::new("password", "First password", InputKind::Password, "")
            .hint("At least 10 characters. Give it to them; they change it on their account page."),
        Field::new("password_confirm", "First password again", InputKind::Password, ""),
    ])
}

pub fn create(conn: &mut DbConn, actor: &CurrentUser, input: &Input) -> StaffResult<(String, Entry)> {
    let form = NewAdminForm {
        username: input.text("username"),
        email: input.text("email"),
        password: input.get("password").unwrap_or_default().to_owned(),
        password_confirm: input.get("password_confirm").unwrap_or_default().to_owned(),
    };
    let parsed = form.parse();
    let mut errors = match &parsed {
        Ok(_) => FieldErrors::default(),
        Err(errors) => FieldErrors(errors.0.clone()),
    };
    let (first_name, last_name) = (input.text("first_name"), input.text("last_name"));
    for (field, value) in [("first_name", &first_name), ("last_name", &last_name)] {
        if value.chars().count() > NAME_MAX {
            errors.add(field, format!("Use at most {NAME_MAX} characters."));
        } else if value.chars().any(char::is_control) {
            errors.add(field, "This name contains characters that cannot be shown.");
        }
    }
    let role = input.text("role");
    let known = super::users::roles(conn)?.iter().any(|(_, name)| *name == role);
    if !known {
        errors.add("role", "Choose one of the listed roles.");
    } else if !permissions::may_grant_role(actor, &role) {
        errors.add("role", "Only superusers add admins: admins get staff rights.");
    }
    let new = match parsed {
        Ok(new) if errors.is_empty() => new,
        _ => return Err(StaffError::Invalid(errors)),
    };
    // On the blocking pool already (db::run), as argon2 must be.
    let hash = password::hash(&new.password)?;
    let created = queries::create_user(
        conn,
        &NewUser {
            username: new.username.clone(),
            email: new.email.clone(),
            first_name,
            last_name,
            password_hash: hash,
            // As an accepted admin invitation does.
            is_staff: permissions::role_makes_staff(&role),
            is_superuser: false,
            role: role.clone(),
            email_verified_at: None,
        },
    );
    let id = match created {
        Ok(id) => id,
        Err(CreateUserError::UsernameTaken) => {
            let mut errors = FieldErrors::default();
            errors.add("username", "This username is taken.");
            return Err(StaffError::Invalid(errors));
        }
        Err(CreateUserError::Database(e)) => return Err(e.into()),
    };
    let entry = Entry::new("create", "users", id, new.username)
        .change("email", serde_json::Value::Null, new.email)
        .change("role", serde_json::Value::Null, role);
    Ok((id.to_string(), entry))
}
