//! Roles (student, coach, admin, and any the staff add by hand in Django).

use diesel::prelude::*;

use crate::accounts::forms::FieldErrors;
use crate::db::schema::{accounts_profile, accounts_role};
use crate::db::DbConn;
use crate::staff::audit::Entry;
use crate::staff::model::*;
use crate::web::auth::CurrentUser;

pub struct Roles;

const NAME_MAX: usize = 50;

const COLUMNS: &[ListColumn] = &[col("name", "Name", true), col("users", "Users", false)];

fn find(conn: &mut DbConn, id: &str) -> StaffResult<(i64, String)> {
    let id: i64 = parse_id(id)?;
    found(
        accounts_role::table
            .find(id)
            .select((accounts_role::id, accounts_role::name))
            .first(conn)
            .optional(),
    )
}

fn holders(conn: &mut DbConn, id: i64) -> QueryResult<i64> {
    accounts_profile::table
        .filter(accounts_profile::role_id.eq(id))
        .count()
        .get_result(conn)
}

macro_rules! filtered {
    ($params:expr) => {{
        let params = $params;
        let mut query = accounts_role::table.into_boxed();
        if let Some(pattern) = params.like() {
            query = query.filter(search!("accounts_role.name", pattern));
        }
        query
    }};
}

/// The roles the code gives meaning to (permissions, invitations).
const BUILT_IN: &[&str] = &["admin", "coach", "student"];

impl StaffModel for Roles {
    fn slug(&self) -> &'static str {
        "roles"
    }
    fn plural(&self) -> &'static str {
        "Roles"
    }
    fn singular(&self) -> &'static str {
        "role"
    }
    fn columns(&self) -> &'static [ListColumn] {
        COLUMNS
    }
    fn search_hint(&self) -> &'static str {
        "Name"
    }

    fn filters(&self, _conn: &mut DbConn) -> QueryResult<Vec<FilterSpec>> {
        Ok(Vec::new())
    }

    fn list(&self, conn: &mut DbConn, params: &ListParams) -> QueryResult<(Vec<Row>, i64)> {
        let total: i64 = filtered!(params).count().get_result(conn)?;
        let roles: Vec<(i64, String)> = sorted!(filtered!(params), params, accounts_role::name.asc(), {
            "name" => accounts_role::name,
        })
        .offset(params.offset())
        .limit(PER_PAGE)
        .select((accounts_role::id, accounts_role::name))
        .load(conn)?;
        let mut rows = Vec::new();
        for (id, name) in roles {
            let users = holders(conn, id)?;
            rows.push(Row {
                id: id.to_string(),
                cells: vec![
                    Cell::text(name.clone()),
                    Cell::link(users.to_string(), format!("/staff/users?role={}", urlencode(&name))),
                ],
            });
        }
        Ok((rows, total))
    }

    fn detail(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Detail> {
        let (id, name) = find(conn, id)?;
        let users = holders(conn, id)?;
        Ok(Detail {
            repr: name.clone(),
            fields: vec![Field::new("name", "Name", InputKind::Text, name)
                .hint("Practika knows student, coach and admin; renaming one of those takes its meaning away.")],
            facts: vec![("Users with this role", users.to_string())],
        })
    }

    fn save(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser, input: &Input) -> StaffResult<Entry> {
        let (id, old) = find(conn, id)?;
        let name = input.text("name").to_lowercase();
        let mut errors = FieldErrors::default();
        if name.is_empty() {
            errors.add("name", "Give the role a name.");
        } else if name.chars().count() > NAME_MAX {
            errors.add("name", format!("Use at most {NAME_MAX} characters."));
        } else if name != old && BUILT_IN.contains(&old.as_str()) {
            errors.add(
                "name",
                format!("The {old} role is built in: Practika's permissions depend on its name."),
            );
        } else if name != old {
            let taken: bool = diesel::select(diesel::dsl::exists(
                accounts_role::table.filter(accounts_role::name.eq(&name)),
            ))
            .get_result(conn)?;
            if taken {
                errors.add("name", format!("There is already a role called “{name}”."));
            }
        }
        if !errors.is_empty() {
            return Err(StaffError::Invalid(errors));
        }
        let mut entry = Entry::new("change", "roles", id, old.clone());
        if name != old {
            diesel::update(accounts_role::table.find(id))
                .set(accounts_role::name.eq(&name))
                .execute(conn)?;
            entry = entry.change("name", old, name);
        }
        Ok(entry)
    }

    fn related(&self, _conn: &mut DbConn, _id: &str) -> QueryResult<Vec<Related>> {
        Ok(Vec::new())
    }

    fn delete_preview(&self, conn: &mut DbConn, id: &str) -> StaffResult<Vec<String>> {
        let (id, name) = find(conn, id)?;
        let users = holders(conn, id)?;
        Ok(vec![
            format!("The role {name}."),
            format!("{users} user(s) with this role keep their account but have no role afterwards."),
        ])
    }

    fn delete(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Entry> {
        let (id, name) = find(conn, id)?;
        if BUILT_IN.contains(&name.as_str()) {
            return Err(StaffError::Refused(format!(
                "The {name} role is built in: Practika's permissions depend on it, so it cannot be deleted."
            )));
        }
        diesel::update(accounts_profile::table.filter(accounts_profile::role_id.eq(id)))
            .set(accounts_profile::role_id.eq(None::<i64>))
            .execute(conn)?;
        diesel::delete(accounts_role::table.find(id)).execute(conn)?;
        Ok(Entry::new("delete", "roles", id, name))
    }
}
