//! Adding an exercise from the staff pages, for a coach: the coach it is
//! published as, and a demonstration already on Practika or a YouTube
//! link. The same checks as the coach's own form (`ExerciseForm::parse`).

use diesel::prelude::*;

use crate::accounts::forms::FieldErrors;
use crate::db::schema::{accounts_profile, accounts_role, auth_user};
use crate::db::DbConn;
use crate::exercises::forms::ExerciseForm;
use crate::exercises::queries::{self, Draft, SaveError};
use crate::staff::audit::Entry;
use crate::staff::model::{Field, Input, InputKind, StaffError, StaffResult};
use crate::web::auth::CurrentUser;

/// The newest videos to choose a demonstration from.
const VIDEO_CHOICES: i64 = 200;

pub fn fields(conn: &mut DbConn, actor: &CurrentUser) -> QueryResult<Vec<Field>> {
    let videos = crate::videos::queries::list(conn, actor.id, true, VIDEO_CHOICES)?;
    let mut options = vec![(String::new(), "Choose a video…".to_owned())];
    options.extend(videos.iter().filter(|(a, _)| a.is_valid).map(|(asset, uploader)| {
        let who = uploader.as_deref().unwrap_or("unknown");
        (
            asset.id.to_string(),
            format!(
                "{} · {who} · {} · {}",
                asset.display_title(),
                asset.created_at.0.format("%-d %b %Y"),
                asset.status().label().to_lowercase()
            ),
        )
    }));
    Ok(vec![
        Field::new("name", "Name", InputKind::Text, "")
            .hint("At most 140 characters; each coach's names are their own."),
        Field::new("description", "Description", InputKind::Textarea, "")
            .hint("What to practise and what to watch for. Optional."),
        Field::new("coach", "Coach", InputKind::Text, "")
            .hint("The username of the coach it is published as (a coach or an admin)."),
        Field::new("video_id", "Demonstration video", InputKind::Select(options), "")
            .hint("The newest videos on Practika. To use a new one, upload it on the Videos page first."),
        Field::new("youtube_url", "Or a YouTube link", InputKind::Text, ""),
    ])
}

/// A user who may publish: active, and a coach, an admin or staff.
fn publisher(conn: &mut DbConn, username: &str) -> QueryResult<Option<i32>> {
    let found: Option<(i32, bool, bool, bool, Option<String>)> = auth_user::table
        .left_join(accounts_profile::table)
        .left_join(accounts_role::table.on(accounts_profile::role_id.eq(accounts_role::id.nullable())))
        .filter(auth_user::username.eq(username))
        .select((
            auth_user::id,
            auth_user::is_active,
            auth_user::is_staff,
            auth_user::is_superuser,
            accounts_role::name.nullable(),
        ))
        .first(conn)
        .optional()?;
    Ok(found.and_then(|(id, active, staff, superuser, role)| {
        crate::accounts::permissions::may_publish_as(active, staff, superuser, role.as_deref()).then_some(id)
    }))
}

pub fn create(conn: &mut DbConn, _actor: &CurrentUser, input: &Input) -> StaffResult<(String, Entry)> {
    let form = ExerciseForm {
        name: input.text("name"),
        description: input.text("description"),
        video_id: input.text("video_id"),
        youtube_url: input.text("youtube_url"),
        once: String::new(),
    };
    let parsed = form.parse();
    let mut errors = FieldErrors::default();
    if let Err(found) = &parsed {
        for (field, message) in &found.0 {
            // The coach's form says "video"; here the list is `video_id`.
            errors.add(if *field == "video" { "video_id" } else { field }, message.clone());
        }
    }
    let username = input.text("coach");
    let coach = if username.is_empty() {
        errors.add("coach", "Give the username of the coach it is published as.");
        None
    } else {
        let coach = publisher(conn, &username)?;
        if coach.is_none() {
            errors.add("coach", format!("No active coach or admin is called “{username}”."));
        }
        coach
    };
    let (Ok((name, description, choice)), Some(coach), true) = (parsed, coach, errors.is_empty()) else {
        return Err(StaffError::Invalid(errors));
    };
    let video_asset_id = match choice {
        crate::exercises::forms::VideoChoice::Existing(id) => {
            if crate::videos::queries::find_asset(conn, id)?.is_none() {
                errors.add("video_id", "That video no longer exists.");
                return Err(StaffError::Invalid(errors));
            }
            id
        }
        // The coach owns the link, as if they had pasted it.
        crate::exercises::forms::VideoChoice::Youtube(url) => {
            crate::videos::upload::add_youtube(conn, &url, coach)?.0.id
        }
    };
    let draft = Draft {
        name,
        description,
        video_asset_id,
    };
    match queries::create(conn, coach, &draft) {
        Ok(exercise) => {
            let entry = Entry::new("create", "exercises", exercise.id, exercise.name.clone())
                .change("coach", serde_json::Value::Null, username)
                .change("video", serde_json::Value::Null, video_asset_id.to_string());
            Ok((exercise.id.to_string(), entry))
        }
        Err(SaveError::NameTaken) => {
            errors.add("name", "This coach already has an exercise with this name.");
            Err(StaffError::Invalid(errors))
        }
        Err(SaveError::Database(e)) => Err(e.into()),
    }
}
