//! Users, profiles and roles. Plain functions on a connection, usable inside
//! a transaction; no web types here.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::schema::{accounts_profile, accounts_role, accounts_usermetrics, auth_user};
use crate::db::{self, DbConn, Json, Ts};
use crate::web::auth::CurrentUser;

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = auth_user)]
pub struct UserRow {
    pub id: i32,
    pub password: String,
    pub last_login: Option<Ts>,
    pub is_superuser: bool,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub is_staff: bool,
    pub is_active: bool,
    pub date_joined: Ts,
}

/// A user with the name of their role (from the profile; `None` when the
/// profile or role is missing, as it can be in data made by Django).
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub row: UserRow,
    pub role: Option<String>,
}

impl std::ops::Deref for AuthUser {
    type Target = UserRow;
    fn deref(&self) -> &UserRow {
        &self.row
    }
}

impl AuthUser {
    pub fn into_current(self) -> CurrentUser {
        let row = self.row;
        CurrentUser {
            id: row.id,
            username: row.username,
            first_name: row.first_name,
            last_name: row.last_name,
            email: row.email,
            is_staff: row.is_staff,
            is_superuser: row.is_superuser,
            role: self.role,
            last_login: row.last_login,
            date_joined: row.date_joined,
        }
    }
}

/// Users joined to their role's name.
macro_rules! users_with_role {
    () => {
        auth_user::table
            .left_join(accounts_profile::table)
            .left_join(
                accounts_role::table.on(accounts_profile::role_id.eq(accounts_role::id.nullable())),
            )
            .select((UserRow::as_select(), accounts_role::name.nullable()))
    };
}

pub fn find_auth_user(conn: &mut DbConn, user_id: i32) -> QueryResult<Option<AuthUser>> {
    users_with_role!()
        .filter(auth_user::id.eq(user_id))
        .first::<(UserRow, Option<String>)>(conn)
        .optional()
        .map(|found| found.map(|(row, role)| AuthUser { row, role }))
}

pub fn find_by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<AuthUser>> {
    users_with_role!()
        .filter(auth_user::username.eq(username))
        .first::<(UserRow, Option<String>)>(conn)
        .optional()
        .map(|found| found.map(|(row, role)| AuthUser { row, role }))
}

pub fn set_password(conn: &mut DbConn, user_id: i32, password_hash: &str) -> QueryResult<()> {
    diesel::update(auth_user::table.find(user_id))
        .set(auth_user::password.eq(password_hash))
        .execute(conn)
        .map(drop)
}

/// A successful login: `last_login` now, and the profile's `first_login_at`
/// if this is the first.
pub fn record_login(conn: &mut DbConn, user_id: i32, at: Ts) -> QueryResult<()> {
    conn.transaction(|c| {
        diesel::update(auth_user::table.find(user_id))
            .set(auth_user::last_login.eq(Some(at)))
            .execute(c)?;
        diesel::update(
            accounts_profile::table
                .filter(accounts_profile::user_id.eq(user_id))
                .filter(accounts_profile::first_login_at.is_null()),
        )
        .set(accounts_profile::first_login_at.eq(Some(at)))
        .execute(c)?;
        Ok(())
    })
}

pub fn superuser_exists(conn: &mut DbConn) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        auth_user::table.filter(auth_user::is_superuser.eq(true)),
    ))
    .get_result(conn)
}

pub fn role_id(conn: &mut DbConn, role: &str) -> QueryResult<Option<i64>> {
    accounts_role::table
        .filter(accounts_role::name.eq(role))
        .select(accounts_role::id)
        .first(conn)
        .optional()
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub password_hash: String,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub role: &'static str,
}

#[derive(Insertable)]
#[diesel(table_name = auth_user)]
struct UserInsert<'a> {
    password: &'a str,
    last_login: Option<Ts>,
    is_superuser: bool,
    username: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    email: &'a str,
    is_staff: bool,
    is_active: bool,
    date_joined: Ts,
}

#[derive(Insertable)]
#[diesel(table_name = accounts_profile)]
struct ProfileInsert {
    email_verified_at: Option<Ts>,
    onboarding_completed: bool,
    first_login_at: Option<Ts>,
    last_activity_at: Option<Ts>,
    preferences: Json,
    user_id: i32,
    role_id: Option<i64>,
}

#[derive(Insertable)]
#[diesel(table_name = accounts_usermetrics)]
struct MetricsInsert {
    exercises_created: i32,
    comments_made: i32,
    total_video_time: i32,
    profile_id: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("that username is taken")]
    UsernameTaken,
    #[error(transparent)]
    Database(#[from] DieselError),
}

/// Creates the user with their profile (the given role) and metrics row,
/// all or nothing.
pub fn create_user(conn: &mut DbConn, new: &NewUser) -> Result<i32, CreateUserError> {
    db::write_transaction(conn, |c| {
        let taken: bool = diesel::select(diesel::dsl::exists(
            auth_user::table.filter(auth_user::username.eq(&new.username)),
        ))
        .get_result(c)?;
        if taken {
            return Err(CreateUserError::UsernameTaken);
        }
        let user_id: i32 = diesel::insert_into(auth_user::table)
            .values(UserInsert {
                password: &new.password_hash,
                last_login: None,
                is_superuser: new.is_superuser,
                username: &new.username,
                first_name: &new.first_name,
                last_name: &new.last_name,
                email: &new.email,
                is_staff: new.is_staff,
                is_active: true,
                date_joined: Ts::now(),
            })
            .returning(auth_user::id)
            .get_result(c)
            .map_err(|e| match e {
                DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                    CreateUserError::UsernameTaken
                }
                other => other.into(),
            })?;
        let role_id = role_id(c, new.role)?;
        let profile_id: i64 = diesel::insert_into(accounts_profile::table)
            .values(ProfileInsert {
                email_verified_at: None,
                onboarding_completed: false,
                first_login_at: None,
                last_activity_at: None,
                preferences: Json::empty_object(),
                user_id,
                role_id,
            })
            .returning(accounts_profile::id)
            .get_result(c)?;
        diesel::insert_into(accounts_usermetrics::table)
            .values(MetricsInsert {
                exercises_created: 0,
                comments_made: 0,
                total_video_time: 0,
                profile_id,
            })
            .execute(c)?;
        Ok(user_id)
    })
}
