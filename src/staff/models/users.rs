//! Users with their profile, role and metrics.

use diesel::prelude::*;

use crate::accounts::forms::{email_problem, FieldErrors};
use crate::accounts::permissions::{
    may_change_user as may_change, may_end_sessions, may_grant_role, may_grant_staff, ADMIN_ROLE, ADMIN_ROLE_REFUSED,
};
use crate::accounts::{queries, sessions};
use crate::db::schema::{
    accounts_profile, accounts_role, accounts_usermetrics, auth_user, comments_export, comments_videocomment,
    core_videoasset, exercises_exercise,
};
use crate::db::{DbConn, Json, Ts};
use crate::staff::audit::Entry;
use crate::staff::model::*;
use crate::web::auth::CurrentUser;

pub struct Users;

const NAME_MAX: usize = 150;
const RELATED_LIMIT: i64 = 10;

const COLUMNS: &[ListColumn] = &[
    col("username", "Username", true),
    col("email", "Email", true),
    col("name", "Name", false),
    col("role", "Role", true),
    col("staff", "Staff", true),
    col("active", "Active", true),
    col("joined", "Joined", true),
    col("last_login", "Last login", true),
];

const ACTIONS: &[BulkAction] = &[
    BulkAction {
        key: "activate",
        label: "Activate",
    },
    BulkAction {
        key: "deactivate",
        label: "Deactivate",
    },
    BulkAction {
        key: "set_role",
        label: "Change role to…",
    },
];

pub fn roles(conn: &mut DbConn) -> QueryResult<Vec<(i64, String)>> {
    accounts_role::table
        .order(accounts_role::name.asc())
        .select((accounts_role::id, accounts_role::name))
        .load(conn)
}

macro_rules! filtered {
    ($params:expr) => {{
        let params = $params;
        let mut query = auth_user::table
            .left_join(accounts_profile::table)
            .left_join(accounts_role::table.on(accounts_profile::role_id.eq(accounts_role::id.nullable())))
            .into_boxed();
        if let Some(pattern) = params.like() {
            query = query.filter(search!(
                "auth_user.username || ' ' || auth_user.email || ' ' || auth_user.first_name || ' ' || auth_user.last_name",
                pattern
            ));
        }
        match params.choice("role") {
            Some("none") => query = query.filter(accounts_profile::role_id.is_null()),
            Some(role) => query = query.filter(accounts_role::name.eq(role.to_owned())),
            None => {}
        }
        if let Some(active) = params.choice("active") {
            query = query.filter(auth_user::is_active.eq(active == "yes"));
        }
        if let Some(staff) = params.choice("staff") {
            query = query.filter((auth_user::is_staff.or(auth_user::is_superuser)).eq(staff == "yes"));
        }
        if let Some(since) = params.since("joined") {
            query = query.filter(auth_user::date_joined.ge(since));
        }
        if let Some(before) = params.before("joined") {
            query = query.filter(auth_user::date_joined.lt(before));
        }
        query
    }};
}

type ListRow = (
    i32,
    String,
    String,
    String,
    String,
    Option<String>,
    bool,
    bool,
    bool,
    Ts,
    Option<Ts>,
);

fn user_repr(username: &str) -> String {
    username.to_owned()
}

fn find_user(conn: &mut DbConn, id: &str) -> StaffResult<queries::AuthUser> {
    let id: i32 = parse_id(id)?;
    found(queries::find_auth_user(conn, id))
}

fn set_role(conn: &mut DbConn, user_id: i32, role_id: Option<i64>) -> QueryResult<()> {
    let updated = diesel::update(accounts_profile::table.filter(accounts_profile::user_id.eq(user_id)))
        .set(accounts_profile::role_id.eq(role_id))
        .execute(conn)?;
    if updated == 0 {
        // A user the Django app made without a profile: give them one (and
        // its metrics row) rather than lose the role.
        let profile_id: i64 = diesel::insert_into(accounts_profile::table)
            .values((
                accounts_profile::email_verified_at.eq(None::<Ts>),
                accounts_profile::onboarding_completed.eq(false),
                accounts_profile::first_login_at.eq(None::<Ts>),
                accounts_profile::last_activity_at.eq(None::<Ts>),
                accounts_profile::preferences.eq(Json::empty_object()),
                accounts_profile::user_id.eq(user_id),
                accounts_profile::role_id.eq(role_id),
            ))
            .returning(accounts_profile::id)
            .get_result(conn)?;
        diesel::insert_into(accounts_usermetrics::table)
            .values((
                accounts_usermetrics::exercises_created.eq(0),
                accounts_usermetrics::comments_made.eq(0),
                accounts_usermetrics::total_video_time.eq(0),
                accounts_usermetrics::profile_id.eq(profile_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

const LOCKED_HINT: &str =
    "Only superusers can change staff and superuser accounts (your own included: use My account for your details).";

const END_SESSIONS: &str = "end_sessions";

// Staff who are not superusers may change only accounts without staff
// rights: otherwise a staff member could take over a superuser (change the
// email, then reset the password) or promote themselves. Ending someone's
// sessions follows the same rule. Both in `accounts::permissions`.

impl StaffModel for Users {
    fn slug(&self) -> &'static str {
        "users"
    }
    fn plural(&self) -> &'static str {
        "Users"
    }
    fn singular(&self) -> &'static str {
        "user"
    }
    fn columns(&self) -> &'static [ListColumn] {
        COLUMNS
    }
    fn search_hint(&self) -> &'static str {
        "Username, email or name"
    }

    fn filters(&self, conn: &mut DbConn) -> QueryResult<Vec<FilterSpec>> {
        let mut role_options: Vec<(String, String)> = roles(conn)?.into_iter().map(|(_, n)| (n.clone(), n)).collect();
        role_options.push(("none".to_owned(), "no role".to_owned()));
        Ok(vec![
            FilterSpec {
                key: "role",
                label: "Role",
                kind: FilterKind::Choice(role_options),
            },
            choice("active", "Active", &[("yes", "active"), ("no", "inactive")]),
            choice("staff", "Staff", &[("yes", "staff"), ("no", "not staff")]),
            dates("joined", "Joined"),
        ])
    }

    fn list(&self, conn: &mut DbConn, params: &ListParams) -> QueryResult<(Vec<Row>, i64)> {
        let total: i64 = filtered!(params).count().get_result(conn)?;
        let rows: Vec<ListRow> = sorted!(filtered!(params), params, auth_user::date_joined.desc(), {
            "username" => auth_user::username,
            "email" => auth_user::email,
            "role" => accounts_role::name,
            "staff" => auth_user::is_staff,
            "active" => auth_user::is_active,
            "joined" => auth_user::date_joined,
            "last_login" => auth_user::last_login,
        })
        .then_order_by(auth_user::id.desc())
        .offset(params.offset())
        .limit(PER_PAGE)
        .select((
            auth_user::id,
            auth_user::username,
            auth_user::email,
            auth_user::first_name,
            auth_user::last_name,
            accounts_role::name.nullable(),
            auth_user::is_staff,
            auth_user::is_superuser,
            auth_user::is_active,
            auth_user::date_joined,
            auth_user::last_login,
        ))
        .load(conn)?;
        Ok((
            rows.into_iter()
                .map(
                    |(id, username, email, first, last, role, staff, superuser, active, joined, last_login)| Row {
                        id: id.to_string(),
                        cells: vec![
                            Cell::text(username),
                            Cell::text(email),
                            Cell::text(format!("{first} {last}").trim().to_owned()),
                            Cell::text(role.unwrap_or_else(|| "—".to_owned())),
                            Cell::text(if superuser {
                                "superuser"
                            } else if staff {
                                "staff"
                            } else {
                                "—"
                            }),
                            Cell::yes_no(active),
                            Cell::when(Some(joined)),
                            Cell::when(last_login),
                        ],
                    },
                )
                .collect(),
            total,
        ))
    }

    fn detail(&self, conn: &mut DbConn, id: &str, actor: &CurrentUser) -> StaffResult<Detail> {
        let user = find_user(conn, id)?;
        let locked = !may_change(actor, &user);
        let metrics = queries::metrics(conn, user.id)?;
        let current_role = user.profile.role.clone().unwrap_or_default();
        // Only the roles this staff member may give; a role they may not
        // take away locks the field.
        let role_locked = locked || !may_grant_role(actor, &current_role);
        let mut role_options = vec![(String::new(), "no role".to_owned())];
        role_options.extend(
            roles(conn)?
                .into_iter()
                .filter(|(_, n)| *n == current_role || may_grant_role(actor, n))
                .map(|(_, n)| (n.clone(), n)),
        );
        let own_quota = crate::videos::quota::own_quota_mb(conn, user.id)?;
        let (stored, _) = crate::videos::queries::storage_used(conn, user.id, Ts::now())?;
        let staff_hint = if !may_grant_staff(actor) {
            "Only superusers can grant or remove staff rights."
        } else if actor.id == user.id {
            "You cannot remove your own staff rights."
        } else {
            "Staff see the staff pages."
        };
        Ok(Detail {
            repr: user_repr(&user.username),
            fields: vec![
                Field::new("first_name", "First name", InputKind::Text, &user.first_name).readonly(locked),
                Field::new("last_name", "Last name", InputKind::Text, &user.last_name).readonly(locked),
                Field::new("email", "Email", InputKind::Email, &user.email)
                    .readonly(locked)
                    .hint(if locked {
                        LOCKED_HINT
                    } else {
                        "A changed address counts as not verified."
                    }),
                Field::new("role", "Role", InputKind::Select(role_options), current_role)
                    .readonly(role_locked)
                    .hint(if may_grant_role(actor, ADMIN_ROLE) {
                        "Admins edit and delete every exercise and comment."
                    } else {
                        "Only superusers give or take away the admin role."
                    }),
                Field::new("is_active", "Active", InputKind::Checkbox, user.is_active.to_string())
                    .readonly(actor.id == user.id || locked)
                    .hint("Inactive users cannot log in; their sessions end."),
                Field::new("is_staff", "Staff", InputKind::Checkbox, user.is_staff.to_string())
                    .readonly(!may_grant_staff(actor))
                    .hint(staff_hint),
                Field::new(
                    "storage_quota_mb",
                    "Storage quota (MiB)",
                    InputKind::Number,
                    own_quota.map(|mb| mb.to_string()).unwrap_or_default(),
                )
                .readonly(locked)
                .hint("Empty: the site's default quota (Staff → Settings). Uploads past it are refused."),
            ],
            facts: vec![
                ("Username", user.username.clone()),
                ("Superuser", if user.is_superuser { "yes" } else { "no" }.to_owned()),
                ("Joined", user.date_joined.to_string()),
                (
                    "Last login",
                    user.last_login.map(|t| t.to_string()).unwrap_or_else(|| "never".into()),
                ),
                (
                    "Email verified",
                    user.profile
                        .email_verified_at
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| "no".into()),
                ),
                (
                    "Onboarding",
                    if user.profile.onboarding_completed {
                        "completed"
                    } else {
                        "not completed"
                    }
                    .to_owned(),
                ),
                ("Exercises created", metrics.exercises_created.to_string()),
                ("Comments made", metrics.comments_made.to_string()),
                ("Video time (s)", metrics.total_video_time.to_string()),
                ("Storage used", crate::videos::handlers::mib(stored.max(0) as u64)),
            ],
        })
    }

    fn save(&self, conn: &mut DbConn, id: &str, actor: &CurrentUser, input: &Input) -> StaffResult<Entry> {
        let user = find_user(conn, id)?;
        if !may_change(actor, &user) {
            if actor.id != user.id {
                return Err(StaffError::Refused(LOCKED_HINT.into()));
            }
            let mut errors = FieldErrors::default();
            if !input.checkbox("is_active").unwrap_or(true) {
                errors.add("is_active", "You cannot deactivate yourself.");
            }
            errors.add("email", LOCKED_HINT);
            return Err(StaffError::Invalid(errors));
        }
        let mut errors = FieldErrors::default();
        let first = input.text("first_name");
        let last = input.text("last_name");
        for (field, value) in [("first_name", &first), ("last_name", &last)] {
            if value.chars().count() > NAME_MAX {
                errors.add(field, format!("Use at most {NAME_MAX} characters."));
            }
        }
        let email = input.text("email").to_lowercase();
        if let Some(problem) = email_problem(&email) {
            errors.add("email", problem);
        } else if email != user.email.to_lowercase() && queries::email_in_use(conn, &email, Some(user.id))? {
            errors.add("email", "Another account uses this address.");
        }
        let old_role = user.profile.role.clone().unwrap_or_default();
        // A locked (disabled) select sends nothing: the role stays.
        let role = input
            .get("role")
            .map_or_else(|| old_role.clone(), |r| r.trim().to_owned());
        if role != old_role && !(may_grant_role(actor, &role) && may_grant_role(actor, &old_role)) {
            errors.add("role", ADMIN_ROLE_REFUSED);
        }
        let role_id = if role.is_empty() {
            None
        } else {
            match queries::role_id(conn, &role)? {
                Some(id) => Some(id),
                None => {
                    errors.add("role", format!("“{role}” is not a role."));
                    None
                }
            }
        };
        let active = input.checkbox("is_active").unwrap_or(user.is_active);
        if !active && actor.id == user.id {
            errors.add("is_active", "You cannot deactivate yourself.");
        } else if active != user.is_active && !may_change(actor, &user) {
            errors.add("is_active", "Only superusers can activate or deactivate staff.");
        }
        let staff = input.checkbox("is_staff").unwrap_or(user.is_staff);
        if staff != user.is_staff {
            if !may_grant_staff(actor) {
                errors.add("is_staff", "Only superusers can grant or remove staff rights.");
            } else if actor.id == user.id {
                errors.add("is_staff", "You cannot remove your own staff rights.");
            }
        }
        let old_quota = crate::videos::quota::own_quota_mb(conn, user.id)?;
        // A form without the field (an older page) leaves the quota alone.
        let quota = match input
            .get("storage_quota_mb")
            .map_or(Ok(old_quota), crate::videos::quota::parse_quota_mb)
        {
            Ok(quota) => quota,
            Err(message) => {
                errors.add("storage_quota_mb", message);
                old_quota
            }
        };
        if !errors.is_empty() {
            return Err(StaffError::Invalid(errors));
        }
        let mut entry = Entry::new("change", "users", user.id, user_repr(&user.username));
        if quota != old_quota {
            if !crate::videos::quota::set_own_quota_mb(conn, user.id, quota)? {
                // A user the Django app made without a profile gets one.
                set_role(conn, user.id, role_id)?;
                crate::videos::quota::set_own_quota_mb(conn, user.id, quota)?;
            }
            entry = entry.change("storage_quota_mb", old_quota, quota);
        }
        if first != user.first_name {
            entry = entry.change("first_name", user.first_name.clone(), first.clone());
        }
        if last != user.last_name {
            entry = entry.change("last_name", user.last_name.clone(), last.clone());
        }
        if email != user.email {
            entry = entry.change("email", user.email.clone(), email.clone());
        }
        if active != user.is_active {
            entry = entry.change("is_active", user.is_active, active);
        }
        if staff != user.is_staff {
            entry = entry.change("is_staff", user.is_staff, staff);
        }
        diesel::update(auth_user::table.find(user.id))
            .set((
                auth_user::first_name.eq(&first),
                auth_user::last_name.eq(&last),
                auth_user::email.eq(&email),
                auth_user::is_active.eq(active),
                auth_user::is_staff.eq(staff),
            ))
            .execute(conn)?;
        if !active && user.is_active {
            // A deactivated account is logged out everywhere at once.
            let ended = sessions::delete_all(conn, user.id)?;
            entry = entry.change("sessions", ended as i64, 0);
        }
        if email != user.email {
            // Nobody has shown this address is theirs yet.
            diesel::update(accounts_profile::table.filter(accounts_profile::user_id.eq(user.id)))
                .set(accounts_profile::email_verified_at.eq(None::<Ts>))
                .execute(conn)?;
        }
        if role != old_role {
            set_role(conn, user.id, role_id)?;
            entry = entry.change("role", old_role, role);
        }
        Ok(entry)
    }

    fn related(&self, conn: &mut DbConn, id: &str) -> QueryResult<Vec<Related>> {
        let Ok(id) = id.parse::<i32>() else {
            return Ok(Vec::new());
        };
        let exercises = exercises_exercise::table.filter(exercises_exercise::created_by_id.eq(id));
        let total: i64 = exercises.count().get_result(conn)?;
        let rows: Vec<(crate::db::Id, String, Ts)> = exercises
            .order(exercises_exercise::created_at.desc())
            .limit(RELATED_LIMIT)
            .select((
                exercises_exercise::id,
                exercises_exercise::name,
                exercises_exercise::created_at,
            ))
            .load(conn)?;
        let videos = core_videoasset::table.filter(core_videoasset::uploaded_by_id.eq(id));
        let video_total: i64 = videos.count().get_result(conn)?;
        let video_rows: Vec<(crate::db::Id, String, String, Ts)> = videos
            .order(core_videoasset::created_at.desc())
            .limit(RELATED_LIMIT)
            .select(crate::videos::queries::Asset::as_select())
            .load(conn)?
            .into_iter()
            .map(|a| (a.id, a.display_title(), a.processing_status.clone(), a.created_at))
            .collect();
        let comments = comments_videocomment::table.filter(comments_videocomment::author_id.eq(id));
        let comment_total: i64 = comments.count().get_result(conn)?;
        let comment_rows: Vec<(crate::db::Id, Option<String>, Ts)> = comments
            .order(comments_videocomment::created_at.desc())
            .limit(RELATED_LIMIT)
            .select((
                comments_videocomment::id,
                comments_videocomment::text,
                comments_videocomment::created_at,
            ))
            .load(conn)?;
        Ok(vec![
            Related {
                title: "Exercises".into(),
                model: "exercises",
                columns: vec!["Name", "Created"],
                rows: rows
                    .into_iter()
                    .map(|(eid, name, at)| Row {
                        id: eid.to_string(),
                        cells: vec![Cell::text(name), Cell::when(Some(at))],
                    })
                    .collect(),
                total,
                list_query: format!("coach={id}"),
            },
            Related {
                title: "Videos".into(),
                model: "videos",
                columns: vec!["Title", "Status", "Added"],
                rows: video_rows
                    .into_iter()
                    .map(|(vid, name, status, at)| Row {
                        id: vid.to_string(),
                        cells: vec![
                            Cell::text(excerpt(&name, 60)),
                            Cell::badge(status.clone(), status),
                            Cell::when(Some(at)),
                        ],
                    })
                    .collect(),
                total: video_total,
                list_query: format!("uploader={id}"),
            },
            Related {
                title: "Comments".into(),
                model: "comments",
                columns: vec!["Text", "Written"],
                rows: comment_rows
                    .into_iter()
                    .map(|(cid, text, at)| Row {
                        id: cid.to_string(),
                        cells: vec![
                            Cell::text(excerpt(text.as_deref().unwrap_or("(video only)"), 80)),
                            Cell::when(Some(at)),
                        ],
                    })
                    .collect(),
                total: comment_total,
                list_query: format!("author={id}"),
            },
        ])
    }

    fn delete_preview(&self, conn: &mut DbConn, id: &str) -> StaffResult<Vec<String>> {
        let user = find_user(conn, id)?;
        let exercise_ids: Vec<crate::db::Id> = exercises_exercise::table
            .filter(exercises_exercise::created_by_id.eq(user.id))
            .select(exercises_exercise::id)
            .load(conn)?;
        let on_exercises: i64 = comments_videocomment::table
            .filter(comments_videocomment::exercise_id.eq_any(&exercise_ids))
            .count()
            .get_result(conn)?;
        let own: i64 = comments_videocomment::table
            .filter(comments_videocomment::author_id.eq(user.id))
            .filter(diesel::dsl::not(
                comments_videocomment::exercise_id.eq_any(&exercise_ids),
            ))
            .count()
            .get_result(conn)?;
        let own_ids: Vec<Option<crate::db::Id>> = comments_videocomment::table
            .filter(comments_videocomment::author_id.eq(user.id))
            .select(comments_videocomment::id.nullable())
            .load(conn)?;
        let replies: i64 = comments_videocomment::table
            .filter(comments_videocomment::parent_id.eq_any(own_ids))
            .filter(comments_videocomment::author_id.ne(user.id))
            .filter(diesel::dsl::not(
                comments_videocomment::exercise_id.eq_any(&exercise_ids),
            ))
            .count()
            .get_result(conn)?;
        let videos: i64 = core_videoasset::table
            .filter(core_videoasset::uploaded_by_id.eq(user.id))
            .count()
            .get_result(conn)?;
        let exports: i64 = comments_export::table
            .filter(comments_export::owner_id.eq(user.id))
            .count()
            .get_result(conn)?;
        Ok(vec![
            format!("The account {} with its profile, role and metrics.", user.username),
            format!(
                "{} exercise(s) they created, with the {} comment(s) on them.",
                exercise_ids.len(),
                on_exercises
            ),
            format!("{own} comment(s) they wrote elsewhere, and {replies} repl(ies) by others to them."),
            format!("{exports} exported video(s) of their replies, with their MP4 files."),
            format!("Their {videos} video(s) stay, without an uploader."),
        ])
    }

    fn delete(&self, conn: &mut DbConn, id: &str, actor: &CurrentUser) -> StaffResult<Entry> {
        let user = find_user(conn, id)?;
        if user.id == actor.id {
            return Err(StaffError::Refused("You cannot delete your own account.".into()));
        }
        if !may_change(actor, &user) {
            return Err(StaffError::Refused("Only superusers can delete staff accounts.".into()));
        }
        // The database would cascade all of this; going through the
        // exercise and comment deletes keeps the comment counters of the
        // other people whose comments go with it exact.
        let exercises: Vec<crate::exercises::queries::Exercise> = exercises_exercise::table
            .filter(exercises_exercise::created_by_id.eq(user.id))
            .select(crate::exercises::queries::Exercise::as_select())
            .load(conn)?;
        for exercise in &exercises {
            crate::exercises::queries::delete(conn, exercise)?;
        }
        let comment_ids: Vec<crate::db::Id> = comments_videocomment::table
            .filter(comments_videocomment::author_id.eq(user.id))
            .order(comments_videocomment::parent_id.desc())
            .select(comments_videocomment::id)
            .load(conn)?;
        for comment_id in comment_ids {
            if let Some(comment) = crate::comments::queries::find(conn, comment_id)? {
                crate::comments::queries::delete(conn, &comment)?;
            }
        }
        diesel::delete(auth_user::table.find(user.id)).execute(conn)?;
        Ok(Entry::new("delete", "users", user.id, user_repr(&user.username)))
    }

    fn bulk_actions(&self) -> &'static [BulkAction] {
        ACTIONS
    }

    fn object_actions(&self, conn: &mut DbConn, id: &str, actor: &CurrentUser) -> StaffResult<Vec<ObjectAction>> {
        let user = find_user(conn, id)?;
        if !may_end_sessions(actor, &user) {
            return Ok(Vec::new());
        }
        let live = sessions::count_live(conn, user.id, Ts::now())?;
        Ok(vec![ObjectAction {
            key: END_SESSIONS,
            label: "End all sessions",
            hint: format!(
                "{} is logged in {}. This logs them out everywhere (a lost phone, a shared computer, an \
                 account someone else may be using); they can log in again with their password.",
                user.username,
                match live {
                    0 => "nowhere right now".to_owned(),
                    1 => "in 1 session".to_owned(),
                    n => format!("in {n} sessions"),
                }
            ),
        }])
    }

    fn run_object_action(
        &self,
        conn: &mut DbConn,
        id: &str,
        key: &str,
        actor: &CurrentUser,
    ) -> StaffResult<(Entry, String)> {
        if key != END_SESSIONS {
            return Err(StaffError::NotFound);
        }
        let user = find_user(conn, id)?;
        if user.id == actor.id {
            return Err(StaffError::Refused(
                "Your own sessions are on My account (“Your sessions”).".into(),
            ));
        }
        if !may_end_sessions(actor, &user) {
            return Err(StaffError::Refused(LOCKED_HINT.into()));
        }
        let ended = sessions::delete_all(conn, user.id)?;
        let entry =
            Entry::new(END_SESSIONS, "users", user.id, user_repr(&user.username)).change("sessions", ended as i64, 0);
        let message = match ended {
            0 => format!("{} had no session to end.", user.username),
            1 => format!("Ended 1 session of {}: they are logged out.", user.username),
            n => format!(
                "Ended {n} sessions of {}: they are logged out everywhere.",
                user.username
            ),
        };
        Ok((entry, message))
    }

    fn bulk_role_choice(&self) -> bool {
        true
    }

    fn can_add(&self) -> bool {
        true
    }

    fn add_lead(&self) -> &'static str {
        "An account with a first password you pass on. To let someone make their own, invite them instead."
    }

    fn add_fields(&self, conn: &mut DbConn, actor: &CurrentUser) -> QueryResult<Vec<Field>> {
        super::new_user::fields(conn, actor)
    }

    fn create(&self, conn: &mut DbConn, actor: &CurrentUser, input: &Input) -> StaffResult<(String, Entry)> {
        super::new_user::create(conn, actor, input)
    }

    fn bulk(
        &self,
        conn: &mut DbConn,
        action: &str,
        ids: &[String],
        actor: &CurrentUser,
        input: &Input,
    ) -> StaffResult<BulkOutcome> {
        let mut outcome = BulkOutcome::default();
        let new_role = if action == "set_role" {
            let name = input.text("role");
            if !may_grant_role(actor, &name) {
                return Err(StaffError::Refused(ADMIN_ROLE_REFUSED.into()));
            }
            match queries::role_id(conn, &name)? {
                Some(role_id) => Some((role_id, name)),
                None => return Err(StaffError::Refused("Choose the role to change to.".into())),
            }
        } else {
            None
        };
        for id in ids {
            let Ok(user) = find_user(conn, id) else {
                outcome.skipped.push(format!("No user with id {id}."));
                continue;
            };
            if !may_change(actor, &user) {
                outcome.skipped.push(if user.id == actor.id && action == "deactivate" {
                    "You cannot deactivate yourself; skipped.".to_owned()
                } else {
                    format!("Only superusers can change staff accounts; {} skipped.", user.username)
                });
                continue;
            }
            match action {
                "activate" | "deactivate" => {
                    let active = action == "activate";
                    if !active && user.id == actor.id {
                        outcome.skipped.push("You cannot deactivate yourself; skipped.".into());
                        continue;
                    }
                    if !active && !may_change(actor, &user) {
                        outcome.skipped.push(format!(
                            "Only superusers can deactivate staff; {} skipped.",
                            user.username
                        ));
                        continue;
                    }
                    if user.is_active == active {
                        continue;
                    }
                    diesel::update(auth_user::table.find(user.id))
                        .set(auth_user::is_active.eq(active))
                        .execute(conn)?;
                    let mut entry = Entry::new(action, "users", user.id, user_repr(&user.username)).change(
                        "is_active",
                        user.is_active,
                        active,
                    );
                    if !active {
                        let ended = sessions::delete_all(conn, user.id)?;
                        entry = entry.change("sessions", ended as i64, 0);
                    }
                    outcome.entries.push(entry);
                }
                "set_role" => {
                    let Some((role_id, name)) = &new_role else { continue };
                    let old = user.profile.role.clone().unwrap_or_default();
                    if &old == name {
                        continue;
                    }
                    if !may_grant_role(actor, &old) {
                        outcome.skipped.push(format!(
                            "Only superusers can take away the admin role; {} skipped.",
                            user.username
                        ));
                        continue;
                    }
                    set_role(conn, user.id, Some(*role_id))?;
                    outcome
                        .entries
                        .push(Entry::new(action, "users", user.id, user_repr(&user.username)).change(
                            "role",
                            old,
                            name.clone(),
                        ));
                }
                other => return Err(StaffError::Refused(format!("Unknown action “{other}”."))),
            }
        }
        Ok(outcome)
    }
}
