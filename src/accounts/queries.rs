//! Users, profiles and roles. Plain functions on a connection, usable inside
//! a transaction; no web types here.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::identity::{CurrentUser, Role};
use crate::db::schema::{accounts_profile, accounts_role, accounts_usermetrics, auth_user};
use crate::db::{self, DbConn, Json, Ts};

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

/// What the profile adds to a user (absent for users the Django app made
/// without one).
#[derive(Debug, Clone, Default)]
pub struct ProfileBits {
    pub role: Option<String>,
    pub email_verified_at: Option<Ts>,
    pub onboarding_completed: bool,
    pub preferences: Preferences,
}

/// A user with their profile.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub row: UserRow,
    pub profile: ProfileBits,
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
            role: self.profile.role.as_deref().and_then(Role::parse),
            last_login: row.last_login,
            date_joined: row.date_joined,
            email_verified_at: self.profile.email_verified_at,
            onboarding_completed: self.profile.onboarding_completed,
            preferences: self.profile.preferences,
            inbox_waiting: None,
        }
    }
}

/// A user row with what their profile adds, as `users_with_profile!` selects it.
pub(crate) type UserWithProfile = (UserRow, Option<String>, Option<Ts>, Option<bool>, Option<Json>);
/// What [`profile_columns`] selects: the role's name, email verified at,
/// onboarding completed, preferences.
pub(crate) type ProfileParts = (Option<String>, Option<Ts>, Option<bool>, Option<Json>);

pub(crate) fn assemble((row, role, verified, onboarded, preferences): UserWithProfile) -> AuthUser {
    AuthUser {
        row,
        profile: ProfileBits {
            role,
            email_verified_at: verified,
            onboarding_completed: onboarded.unwrap_or(false),
            preferences: preferences.map(|p| Preferences::from_json(&p)).unwrap_or_default(),
        },
    }
}

/// What `users_with_profile!` selects beside the user row (the profile's
/// columns, nullable: the Django app made users without a profile).
macro_rules! profile_columns {
    () => {
        (
            accounts_role::name.nullable(),
            accounts_profile::email_verified_at.nullable(),
            accounts_profile::onboarding_completed.nullable(),
            accounts_profile::preferences.nullable(),
        )
    };
}
pub(crate) use profile_columns;

/// Users joined to their profile and role's name.
macro_rules! users_with_profile {
    () => {
        auth_user::table
            .left_join(accounts_profile::table)
            .left_join(accounts_role::table.on(accounts_profile::role_id.eq(accounts_role::id.nullable())))
            .select((
                UserRow::as_select(),
                accounts_role::name.nullable(),
                accounts_profile::email_verified_at.nullable(),
                accounts_profile::onboarding_completed.nullable(),
                accounts_profile::preferences.nullable(),
            ))
    };
}

pub fn find_auth_user(conn: &mut DbConn, user_id: i32) -> QueryResult<Option<AuthUser>> {
    users_with_profile!()
        .filter(auth_user::id.eq(user_id))
        .first::<UserWithProfile>(conn)
        .optional()
        .map(|found| found.map(assemble))
}

pub fn find_by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<AuthUser>> {
    users_with_profile!()
        .filter(auth_user::username.eq(username))
        .first::<UserWithProfile>(conn)
        .optional()
        .map(|found| found.map(assemble))
}

/// The next `limit` active users after id `after`, by id, with their
/// profiles (jobs that walk every user in batches: the digests).
pub fn active_users_after(conn: &mut DbConn, after: i32, limit: i64) -> QueryResult<Vec<AuthUser>> {
    let rows: Vec<UserWithProfile> = users_with_profile!()
        .filter(auth_user::is_active.eq(true))
        .filter(auth_user::id.gt(after))
        .order(auth_user::id.asc())
        .limit(limit)
        .load(conn)?;
    Ok(rows.into_iter().map(assemble).collect())
}

/// Active users with this address (case-insensitive), for password resets.
pub fn find_active_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Vec<AuthUser>> {
    let lowered = email.trim().to_lowercase();
    let rows: Vec<UserWithProfile> = users_with_profile!()
        .filter(auth_user::is_active.eq(true))
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(auth_user.email) = ")
                .bind::<diesel::sql_types::Text, _>(lowered),
        )
        .load(conn)?;
    Ok(rows.into_iter().map(assemble).collect())
}

/// Whether any account (other than `except`) uses this address.
pub fn email_in_use(conn: &mut DbConn, email: &str, except: Option<i32>) -> QueryResult<bool> {
    let lowered = email.trim().to_lowercase();
    let same_address = diesel::dsl::sql::<diesel::sql_types::Bool>("lower(auth_user.email) = ")
        .bind::<diesel::sql_types::Text, _>(lowered);
    let others = auth_user::table
        .filter(same_address)
        .filter(auth_user::id.ne(except.unwrap_or(0)));
    diesel::select(diesel::dsl::exists(others)).get_result(conn)
}

/// The user's choices, kept in `accounts_profile.preferences`. Keys this
/// version does not know (Django's, say) are kept as they are.
#[derive(Debug, Clone, PartialEq)]
pub struct Preferences {
    pub display_name: Option<String>,
    pub email_notifications: bool,
    pub playback_speed: f64,
    /// Where the user's times are shown in; filled from their browser the
    /// first time it is unknown (see [`fill_time_zone`]).
    pub time_zone: Option<chrono_tz::Tz>,
    other: serde_json::Map<String, serde_json::Value>,
}

/// Down to a tenth of the speed, to see a fast movement frame by frame.
pub const PLAYBACK_SPEEDS: &[f64] = &[0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0];

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            display_name: None,
            email_notifications: true,
            playback_speed: 1.0,
            time_zone: None,
            other: Default::default(),
        }
    }
}

impl Preferences {
    pub fn from_json(json: &Json) -> Preferences {
        let mut other = json.0.as_object().cloned().unwrap_or_default();
        let display_name = other
            .remove("display_name")
            .and_then(|v| v.as_str().map(str::trim).map(str::to_owned))
            .filter(|v| !v.is_empty());
        let email_notifications = other
            .remove("email_notifications")
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        let playback_speed = other
            .remove("playback_speed")
            .and_then(|v| v.as_f64())
            .filter(|v| PLAYBACK_SPEEDS.contains(v))
            .unwrap_or(1.0);
        // A name this build does not know reads as unset; the next save of
        // the settings drops it.
        let time_zone = other
            .remove(TIME_ZONE_KEY)
            .and_then(|v| v.as_str().and_then(crate::web::time::parse_zone));
        Preferences {
            display_name,
            email_notifications,
            playback_speed,
            time_zone,
            other,
        }
    }

    pub fn with(
        display_name: Option<String>,
        email_notifications: bool,
        playback_speed: f64,
        time_zone: Option<chrono_tz::Tz>,
        base: &Preferences,
    ) -> Preferences {
        let other = base.other.clone();
        Preferences {
            display_name,
            email_notifications,
            playback_speed,
            time_zone,
            other,
        }
    }

    pub fn to_json(&self) -> Json {
        let mut map = self.other.clone();
        if let Some(name) = &self.display_name {
            map.insert("display_name".into(), name.clone().into());
        }
        map.insert("email_notifications".into(), self.email_notifications.into());
        map.insert("playback_speed".into(), self.playback_speed.into());
        if let Some(zone) = self.time_zone {
            map.insert(TIME_ZONE_KEY.into(), zone.name().into());
        }
        Json(serde_json::Value::Object(map))
    }
}

const TIME_ZONE_KEY: &str = "time_zone";

/// Records the zone the user's browser reports, unless they have one:
/// one statement, so that a settings save at the same moment is not lost.
/// Returns whether it was recorded.
pub fn fill_time_zone(conn: &mut DbConn, user_id: i32, zone: chrono_tz::Tz) -> QueryResult<bool> {
    use diesel::sql_types::{Integer, Text};
    let sql = match conn {
        DbConn::Pg(_) => {
            "UPDATE accounts_profile SET preferences = \
               CASE WHEN jsonb_typeof(preferences) = 'object' THEN preferences ELSE '{}'::jsonb END \
               || jsonb_build_object('time_zone', $1::text) \
             WHERE user_id = $2 AND NOT coalesce(preferences ? 'time_zone', false)"
        }
        DbConn::Sqlite(_) => {
            "UPDATE accounts_profile SET preferences = json_set( \
               CASE WHEN json_type(preferences) = 'object' THEN preferences ELSE '{}' END, '$.time_zone', $1) \
             WHERE user_id = $2 AND (json_type(preferences) IS NOT 'object' OR json_type(preferences, '$.time_zone') IS NULL)"
        }
    };
    let updated = diesel::sql_query(sql)
        .bind::<Text, _>(zone.name())
        .bind::<Integer, _>(user_id)
        .execute(conn)?;
    Ok(updated == 1)
}

pub fn save_preferences(
    conn: &mut DbConn,
    user_id: i32,
    preferences: &Preferences,
    complete_onboarding: bool,
) -> QueryResult<()> {
    let target = accounts_profile::table.filter(accounts_profile::user_id.eq(user_id));
    if complete_onboarding {
        diesel::update(target)
            .set((
                accounts_profile::preferences.eq(preferences.to_json()),
                accounts_profile::onboarding_completed.eq(true),
            ))
            .execute(conn)?;
    } else {
        diesel::update(target)
            .set(accounts_profile::preferences.eq(preferences.to_json()))
            .execute(conn)?;
    }
    Ok(())
}

/// Keeps `last_activity_at` current, writing at most once a minute per user.
pub fn touch_activity(conn: &mut DbConn, user_id: i32, now: Ts) -> QueryResult<()> {
    let a_minute_ago = Ts(now.0 - chrono::Duration::seconds(60));
    diesel::update(
        accounts_profile::table
            .filter(accounts_profile::user_id.eq(user_id))
            .filter(
                accounts_profile::last_activity_at
                    .is_null()
                    .or(accounts_profile::last_activity_at.lt(a_minute_ago)),
            ),
    )
    .set(accounts_profile::last_activity_at.eq(Some(now)))
    .execute(conn)
    .map(drop)
}

#[derive(Queryable, Debug, Clone, Default)]
pub struct Metrics {
    pub exercises_created: i32,
    pub comments_made: i32,
    pub total_video_time: i32,
}

pub fn metrics(conn: &mut DbConn, user_id: i32) -> QueryResult<Metrics> {
    accounts_usermetrics::table
        .inner_join(accounts_profile::table)
        .filter(accounts_profile::user_id.eq(user_id))
        .select((
            accounts_usermetrics::exercises_created,
            accounts_usermetrics::comments_made,
            accounts_usermetrics::total_video_time,
        ))
        .first(conn)
        .optional()
        .map(Option::unwrap_or_default)
}

pub fn set_email(conn: &mut DbConn, user_id: i32, email: &str, verified_at: Ts) -> QueryResult<()> {
    conn.transaction(|c| {
        diesel::update(auth_user::table.find(user_id))
            .set(auth_user::email.eq(email))
            .execute(c)?;
        diesel::update(accounts_profile::table.filter(accounts_profile::user_id.eq(user_id)))
            .set(accounts_profile::email_verified_at.eq(Some(verified_at)))
            .execute(c)?;
        Ok(())
    })
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
    pub role: String,
    /// Set when the address is known to be the user's (an accepted invitation).
    pub email_verified_at: Option<Ts>,
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
                DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => CreateUserError::UsernameTaken,
                other => other.into(),
            })?;
        let role_id = role_id(c, &new.role)?;
        let profile_id: i64 = diesel::insert_into(accounts_profile::table)
            .values(ProfileInsert {
                email_verified_at: new.email_verified_at,
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

/// Adds `delta` to one of a user's counters, never below zero, in one
/// statement: concurrent changes add up (a read followed by a write lost
/// one of two comments posted at once on PostgreSQL).
pub fn bump_metric(conn: &mut DbConn, user_id: i32, counter: Counter, delta: i32) -> QueryResult<()> {
    // The column name comes from this match, never from input.
    let column = match counter {
        Counter::Exercises => "exercises_created",
        Counter::Comments => "comments_made",
        Counter::VideoSeconds => "total_video_time",
    };
    // Clamped at 0 (the column is `>= 0`) and at i32::MAX, in SQL both
    // backends read alike.
    let sql = format!(
        "UPDATE accounts_usermetrics SET {column} = CASE \
            WHEN CAST({column} AS BIGINT) + $1 < 0 THEN 0 \
            WHEN CAST({column} AS BIGINT) + $1 > 2147483647 THEN 2147483647 \
            ELSE {column} + $2 END \
         WHERE profile_id IN (SELECT id FROM accounts_profile WHERE user_id = $3)"
    );
    diesel::sql_query(sql)
        .bind::<diesel::sql_types::BigInt, _>(i64::from(delta))
        .bind::<diesel::sql_types::Integer, _>(delta)
        .bind::<diesel::sql_types::Integer, _>(user_id)
        .execute(conn)
        .map(drop)
}

#[derive(Debug, Clone, Copy)]
pub enum Counter {
    Exercises,
    Comments,
    /// Seconds of the videos the user uploaded.
    VideoSeconds,
}

/// The name shown for a person: their chosen display name, else their full
/// name, else their username. The one rule, for the navigation bar, the
/// library, the thread and emails alike.
pub fn display_name(username: &str, first: &str, last: &str, preferences: &Preferences) -> String {
    if let Some(name) = &preferences.display_name {
        return name.clone();
    }
    let full = format!("{} {}", first.trim(), last.trim());
    if full.trim().is_empty() {
        username.to_owned()
    } else {
        full.trim().to_owned()
    }
}

/// Display names of these users, in one query.
pub fn display_names(conn: &mut DbConn, ids: &[i32]) -> QueryResult<std::collections::HashMap<i32, String>> {
    let rows: Vec<(i32, String, String, String, Option<Json>)> = auth_user::table
        .left_join(accounts_profile::table)
        .filter(auth_user::id.eq_any(ids))
        .select((
            auth_user::id,
            auth_user::username,
            auth_user::first_name,
            auth_user::last_name,
            accounts_profile::preferences.nullable(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, username, first, last, preferences)| {
            let preferences = preferences.map(|p| Preferences::from_json(&p)).unwrap_or_default();
            (id, display_name(&username, &first, &last, &preferences))
        })
        .collect())
}

/// The columns a display name is made of, as a joined query selects them
/// (nullable: from a left join, or a user without a profile).
pub type NameParts = (String, String, String, Option<Json>);

/// The display name from its columns (see [`NameParts`]).
pub fn display_name_of_parts((username, first, last, preferences): &NameParts) -> String {
    let preferences = preferences.as_ref().map(Preferences::from_json).unwrap_or_default();
    display_name(username, first, last, &preferences)
}

/// What a query joined with `auth_user` and (left) `accounts_profile`
/// selects to make a display name: see [`NameParts`].
macro_rules! name_columns {
    () => {
        (
            $crate::db::schema::auth_user::username,
            $crate::db::schema::auth_user::first_name,
            $crate::db::schema::auth_user::last_name,
            $crate::db::schema::accounts_profile::preferences.nullable(),
        )
    };
}
pub(crate) use name_columns;

/// One user's display name ("someone" for a user that no longer exists).
pub fn display_name_of(conn: &mut DbConn, id: i32) -> QueryResult<String> {
    Ok(display_names(conn, &[id])?
        .remove(&id)
        .unwrap_or_else(|| "someone".to_owned()))
}
