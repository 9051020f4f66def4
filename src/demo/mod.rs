//! `practika seed-demo`: fills a database with realistic demo rows (people
//! with roles, exercises, a year of practice threads with ranges, replies
//! and clips), deterministic from a seed, for trying Practika out and for
//! measuring it at production scale (`bench/`).
//!
//! Every row is generated in memory first, then written in one transaction
//! with multi-row INSERTs, so an interrupted run leaves nothing behind. The
//! counters Practika keeps (`accounts_usermetrics`) are written exact;
//! counters kept by database triggers are kept by those triggers.

mod words;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use anyhow::{bail, Context};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::db::schema::{
    accounts_profile, accounts_role, accounts_usermetrics, auth_user, comments_videocomment, core_videoasset,
    core_videoclip, exercises_exercise, jobs_job,
};
use crate::db::{self, DbConn, Id, Json, Ts};
use crate::media::demo::{self as media, DemoVideo};
use words::*;

/// The password of every demo account.
pub const PASSWORD: &str = "practika-demo";

#[derive(Debug, Clone)]
pub struct Options {
    pub users: u32,
    pub exercises: u32,
    pub comments: u32,
    pub seed: u64,
    /// Add the rows to a database that already has some.
    pub force: bool,
}

/// What a run made, and where to look.
#[derive(Debug, Clone)]
pub struct Summary {
    pub users: usize,
    pub coaches: usize,
    pub exercises: usize,
    pub videos: usize,
    pub clips: usize,
    pub comments: usize,
    pub replies: usize,
    pub jobs: usize,
    pub admin: String,
    pub coach: String,
    pub student: String,
    /// The exercise whose thread has the number of top-level comments
    /// closest to 100, and that number.
    pub busy_exercise: Option<(Id, usize)>,
    /// A student's attempt video.
    pub sample_video: Option<Id>,
    pub seconds: f64,
}

/// A small, fast generator (SplitMix64) whose sequence never changes, so a
/// seed gives the same rows with every build.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// In [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn id(&mut self) -> Id {
        Id(
            uuid::Builder::from_random_bytes(((u128::from(self.next()) << 64) | u128::from(self.next())).to_be_bytes())
                .into_uuid(),
        )
    }
    /// A moment between `from` and `to`.
    fn between(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
        let span = (to - from).num_seconds().max(1) as f64;
        from + Duration::seconds((self.unit() * span) as i64)
    }
}

#[derive(Insertable)]
#[diesel(table_name = auth_user, treat_none_as_default_value = false)]
struct User {
    id: i32,
    password: String,
    last_login: Option<Ts>,
    is_superuser: bool,
    username: String,
    first_name: String,
    last_name: String,
    email: String,
    is_staff: bool,
    is_active: bool,
    date_joined: Ts,
}

#[derive(Insertable)]
#[diesel(table_name = accounts_profile, treat_none_as_default_value = false)]
struct Profile {
    id: i64,
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
struct Metrics {
    id: i64,
    exercises_created: i32,
    comments_made: i32,
    total_video_time: i32,
    profile_id: i64,
}

#[derive(Insertable)]
#[diesel(table_name = core_videoasset, treat_none_as_default_value = false)]
struct Video {
    id: Id,
    orig_filename: String,
    storage_path: Option<String>,
    mime_type: String,
    size_bytes: Option<i64>,
    checksum_sha256: Option<String>,
    poster_path: Option<String>,
    renditions: Json,
    youtube_url: Option<String>,
    video_type: String,
    duration_sec: Option<i32>,
    width: Option<i32>,
    height: Option<i32>,
    processing_status: String,
    processing_error: Option<String>,
    processed_at: Option<Ts>,
    is_valid: bool,
    last_validated: Option<Ts>,
    validation_errors: Json,
    access_count: i32,
    last_accessed: Option<Ts>,
    created_at: Ts,
    updated_at: Ts,
    uploaded_by_id: Option<i32>,
    title: Option<String>,
    frame_rate: Option<f64>,
}

#[derive(Insertable)]
#[diesel(table_name = exercises_exercise, treat_none_as_default_value = false)]
struct Exercise {
    id: Id,
    name: String,
    description: Option<String>,
    created_at: Ts,
    updated_at: Ts,
    created_by_id: i32,
    video_asset_id: Id,
}

#[derive(Insertable)]
#[diesel(table_name = core_videoclip, treat_none_as_default_value = false)]
struct Clip {
    id: Id,
    clip_hash: String,
    start_time: f64,
    end_time: f64,
    duration: f64,
    storage_path: String,
    size_bytes: Option<i64>,
    processing_status: String,
    processing_error: Option<String>,
    processed_at: Option<Ts>,
    created_at: Ts,
    updated_at: Ts,
    original_video_id: Id,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = comments_videocomment, treat_none_as_default_value = false)]
struct Comment {
    id: Id,
    text: Option<String>,
    created_at: Ts,
    updated_at: Ts,
    author_id: i32,
    exercise_id: Id,
    video_asset_id: Id,
    range_start: Option<f64>,
    range_end: Option<f64>,
    clip_id: Option<Id>,
    parent_id: Option<Id>,
    compare_offset: Option<f64>,
}

#[derive(Insertable)]
#[diesel(table_name = jobs_job, treat_none_as_default_value = false)]
struct Job {
    id: i64,
    kind: String,
    payload: Json,
    status: String,
    attempts: i32,
    max_attempts: i32,
    run_after: Ts,
    locked_until: Option<Ts>,
    locked_by: Option<String>,
    last_error: Option<String>,
    created_at: Ts,
    updated_at: Ts,
}

#[derive(Default)]
struct Plan {
    users: Vec<User>,
    profiles: Vec<Profile>,
    metrics: Vec<Metrics>,
    videos: Vec<Video>,
    exercises: Vec<Exercise>,
    clips: Vec<Clip>,
    /// Top-level comments first, then replies, so that a parent is always
    /// written before its replies.
    comments: Vec<Comment>,
    jobs: Vec<Job>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Admin,
    Coach,
    Student,
}

/// Where the ids of new rows start (after the rows already there).
struct Bases {
    user: i32,
    profile: i64,
    metrics: i64,
    job: i64,
}

struct RoleIds {
    admin: i64,
    coach: i64,
    student: i64,
}

fn video_row(
    rng: &mut Rng,
    file: &DemoVideo,
    uploader: i32,
    filename: String,
    title: String,
    at: DateTime<Utc>,
) -> Video {
    let at = Ts(at);
    let processed = Ts(at.0 + Duration::seconds(20 + rng.below(100) as i64));
    let renditions = serde_json::json!({
        "360p": {"path": file.path, "width": media::WIDTH, "height": media::HEIGHT, "size_bytes": file.size_bytes}
    });
    Video {
        id: rng.id(),
        orig_filename: filename,
        storage_path: Some(file.path.clone()),
        mime_type: "video/mp4".to_owned(),
        size_bytes: Some(file.size_bytes),
        checksum_sha256: Some(file.sha256.clone()),
        poster_path: Some(file.poster_path.clone()),
        renditions: Json(renditions),
        youtube_url: None,
        video_type: crate::videos::TYPE_UPLOAD.to_owned(),
        duration_sec: Some(media::DURATION_SECS),
        width: Some(media::WIDTH),
        height: Some(media::HEIGHT),
        processing_status: "ready".to_owned(),
        processing_error: None,
        processed_at: Some(processed),
        is_valid: true,
        last_validated: Some(processed),
        validation_errors: Json::empty_array(),
        access_count: rng.below(40) as i32,
        last_accessed: None,
        created_at: at,
        updated_at: processed,
        uploaded_by_id: Some(uploader),
        title: Some(title),
        frame_rate: Some(media::FRAME_RATE),
    }
}

/// Generates every row. `now` is the end of the year the rows spread over.
fn plan(
    options: &Options,
    bases: &Bases,
    roles: &RoleIds,
    files: &[DemoVideo],
    password: &str,
    now: DateTime<Utc>,
) -> Plan {
    let mut rng = Rng(options.seed ^ (bases.user as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let mut plan = Plan::default();
    let year_ago = now - Duration::days(365);
    let suffix = if bases.user == 0 {
        String::new()
    } else {
        format!("-{}", bases.user + 1)
    };

    // People: the three fixed logins first, then about one coach in six and
    // one admin in a hundred.
    let users = options.users.max(3) as usize;
    let mut kinds = Vec::with_capacity(users);
    let mut joined = Vec::with_capacity(users);
    for index in 0..users {
        let id = bases.user + 1 + index as i32;
        let role = match index {
            0 => Role::Admin,
            1 => Role::Coach,
            2 => Role::Student,
            _ if rng.chance(0.01) => Role::Admin,
            _ if rng.chance(0.17) => Role::Coach,
            _ => Role::Student,
        };
        let (first, last) = (rng.pick(FIRST_NAMES).to_string(), rng.pick(LAST_NAMES).to_string());
        let username = match index {
            0 => format!("demo-admin{suffix}"),
            1 => format!("demo-coach{suffix}"),
            2 => format!("demo-student{suffix}"),
            _ => format!("{}.{}{id}", ascii_fold(&first), ascii_fold(&last)),
        };
        let date_joined = if index < 3 {
            year_ago
        } else {
            rng.between(year_ago, now - Duration::days(3))
        };
        let last_login = rng.between(date_joined, now);
        plan.users.push(User {
            id,
            password: password.to_owned(),
            last_login: Some(Ts(last_login)),
            is_superuser: role == Role::Admin && index == 0,
            email: format!("{username}@example.com"),
            username,
            first_name: first,
            last_name: last,
            is_staff: role == Role::Admin,
            is_active: index < 3 || !rng.chance(0.02),
            date_joined: Ts(date_joined),
        });
        let profile_id = bases.profile + 1 + index as i64;
        plan.profiles.push(Profile {
            id: profile_id,
            email_verified_at: Some(Ts(date_joined)),
            onboarding_completed: true,
            first_login_at: Some(Ts(date_joined)),
            last_activity_at: Some(Ts(last_login)),
            preferences: Json::empty_object(),
            user_id: id,
            role_id: Some(match role {
                Role::Admin => roles.admin,
                Role::Coach => roles.coach,
                Role::Student => roles.student,
            }),
        });
        kinds.push(role);
        joined.push(date_joined);
    }
    let publishers: Vec<usize> = (0..users).filter(|&i| kinds[i] != Role::Student).collect();
    let user_id = |index: usize| bases.user + 1 + index as i32;
    let mut exercises_made = vec![0i32; users];
    let mut comments_made = vec![0i32; users];
    let mut video_time = vec![0i32; users];

    // Exercises, each with its demonstration video, by coaches and admins.
    let mut names: HashSet<(usize, String)> = HashSet::new();
    let mut exercise_owner = Vec::new();
    for _ in 0..options.exercises {
        let owner = publishers[rng.below(publishers.len())];
        let mut name = format!("{} {}", rng.pick(SKILLS), rng.pick(KINDS));
        if rng.chance(0.3) {
            name = format!("{name} {}", 1 + rng.below(12));
        }
        let mut n = 2;
        let base_name = name.clone();
        while !names.insert((owner, name.clone())) {
            name = format!("{base_name} ({n})");
            n += 1;
        }
        let created = rng.between(joined[owner], now);
        let file = &files[rng.below(files.len())];
        let video = video_row(
            &mut rng,
            file,
            user_id(owner),
            format!("{}.mp4", ascii_fold(&name)),
            format!("{name} (demonstration)"),
            created - Duration::minutes(5),
        );
        let sentences = 1 + rng.below(4);
        let description = (0..sentences)
            .map(|_| *rng.pick(DESCRIPTION_SENTENCES))
            .collect::<Vec<_>>()
            .join(" ");
        exercises_made[owner] += 1;
        video_time[owner] += media::DURATION_SECS;
        plan.exercises.push(Exercise {
            id: rng.id(),
            name,
            description: (!rng.chance(0.1)).then_some(description),
            created_at: Ts(created),
            updated_at: Ts(rng.between(created, now)),
            created_by_id: user_id(owner),
            video_asset_id: video.id,
        });
        plan.videos.push(video);
        exercise_owner.push(owner);
    }

    // Comments: three in four start a thread (about half with an attempt
    // video, some pinning a range of the demonstration); the rest are
    // replies, mostly by the exercise's coach, some with a clip of the
    // attempt. Popular exercises get many more than others.
    let mut replies = Vec::new();
    if !plan.exercises.is_empty() {
        let top_level = (options.comments as f64 * 0.75).round() as usize;
        let mut tops: Vec<(Comment, Option<usize>)> = Vec::with_capacity(top_level);
        for _ in 0..top_level {
            let index = ((rng.unit().powf(1.5)) * plan.exercises.len() as f64) as usize;
            let exercise = &plan.exercises[index.min(plan.exercises.len() - 1)];
            let author = rng.below(users);
            let from = exercise.created_at.0.max(joined[author]);
            let created = rng.between(from, now);
            let sentences = 1 + rng.below(2);
            let text = (0..sentences)
                .map(|_| *rng.pick(COMMENT_SENTENCES))
                .collect::<Vec<_>>()
                .join(" ");
            let mut video_asset_id = exercise.video_asset_id;
            let mut attempt = None;
            if rng.chance(0.53) {
                let file = &files[rng.below(files.len())];
                let take = 1 + rng.below(9);
                let filename = format!("IMG_{:04}.mp4", rng.below(10_000));
                let video = video_row(
                    &mut rng,
                    file,
                    user_id(author),
                    filename,
                    format!("Attempt {take}"),
                    created - Duration::minutes(2),
                );
                video_asset_id = video.id;
                video_time[author] += media::DURATION_SECS;
                attempt = Some(plan.videos.len());
                plan.videos.push(video);
            }
            let (range_start, range_end) = if rng.chance(0.3) {
                let start = (rng.unit() * 4.0 * 10.0).round() / 10.0;
                (Some(start), Some(start + 0.5 + (rng.unit() * 15.0).round() / 10.0))
            } else {
                (None, None)
            };
            comments_made[author] += 1;
            tops.push((
                Comment {
                    id: rng.id(),
                    text: Some(text),
                    created_at: Ts(created),
                    updated_at: Ts(created),
                    author_id: user_id(author),
                    exercise_id: exercise.id,
                    video_asset_id,
                    range_start,
                    range_end,
                    clip_id: None,
                    parent_id: None,
                    compare_offset: None,
                },
                attempt,
            ));
        }
        let mut clip_hashes: HashSet<String> = HashSet::new();
        let exercise_index: HashMap<Id, usize> = plan.exercises.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
        let reply_count = options.comments as usize - tops.len().min(options.comments as usize);
        for _ in 0..reply_count {
            if tops.is_empty() {
                break;
            }
            let (parent, attempt) = &tops[rng.below(tops.len())];
            let exercise = exercise_index[&parent.exercise_id];
            let author = if rng.chance(0.7) {
                exercise_owner[exercise]
            } else {
                rng.below(users)
            };
            let created = rng.between(parent.created_at.0, now.max(parent.created_at.0));
            let mut clip_id = None;
            let mut video_asset_id = parent.video_asset_id;
            if let (Some(attempt), true) = (attempt, rng.chance(0.1)) {
                let source = &plan.videos[*attempt];
                let file = files
                    .iter()
                    .find(|f| Some(&f.path) == source.storage_path.as_ref())
                    .unwrap_or(&files[0]);
                let start = (rng.unit() * 3.0 * 10.0).round() / 10.0;
                let end = start + media::CLIP_SECS;
                let clip = Clip {
                    id: rng.id(),
                    clip_hash: crate::videos::clip_hash(
                        source.id,
                        (start * 1000.0).round() as i64,
                        (end * 1000.0).round() as i64,
                    ),
                    start_time: start,
                    end_time: end,
                    duration: media::CLIP_SECS,
                    storage_path: file.clip_path.clone(),
                    size_bytes: Some(file.clip_size_bytes),
                    processing_status: "ready".to_owned(),
                    processing_error: None,
                    processed_at: Some(Ts(created)),
                    created_at: Ts(created - Duration::minutes(1)),
                    updated_at: Ts(created),
                    original_video_id: source.id,
                };
                // A clip is cut once per range: the same range again is the same clip.
                if clip_hashes.insert(clip.clip_hash.clone()) {
                    clip_id = Some(clip.id);
                    video_asset_id = source.id;
                    plan.clips.push(clip);
                }
            }
            comments_made[author] += 1;
            replies.push(Comment {
                id: rng.id(),
                text: Some(rng.pick(REPLY_SENTENCES).to_string()),
                created_at: Ts(created),
                updated_at: Ts(created),
                author_id: user_id(author),
                exercise_id: parent.exercise_id,
                video_asset_id,
                range_start: None,
                range_end: None,
                clip_id,
                parent_id: Some(parent.id),
                compare_offset: None,
            });
        }
        plan.comments = tops.into_iter().map(|(c, _)| c).collect();
    }
    plan.comments.extend(replies);

    // The processing job each upload went through, long done.
    for (index, video) in plan.videos.iter().enumerate() {
        let done = video.processed_at.unwrap_or(video.created_at);
        plan.jobs.push(Job {
            id: bases.job + 1 + index as i64,
            kind: crate::videos::jobs::PROCESS_VIDEO.to_owned(),
            payload: Json(serde_json::json!({ "asset_id": video.id })),
            status: "done".to_owned(),
            attempts: 1,
            max_attempts: crate::jobs::queue::DEFAULT_MAX_ATTEMPTS,
            run_after: video.created_at,
            locked_until: None,
            locked_by: None,
            last_error: None,
            created_at: video.created_at,
            updated_at: done,
        });
    }

    for index in 0..users {
        plan.metrics.push(Metrics {
            id: bases.metrics + 1 + index as i64,
            exercises_created: exercises_made[index],
            comments_made: comments_made[index],
            total_video_time: video_time[index],
            profile_id: bases.profile + 1 + index as i64,
        });
    }
    plan
}

/// Rows per INSERT: well under both backends' limit on bound parameters
/// (65,535 on PostgreSQL, 32,766 on SQLite) for the widest table.
const BATCH_PARAMS: usize = 30_000;

macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr, $columns:expr) => {{
        let started = Instant::now();
        let per_batch = (BATCH_PARAMS / $columns).max(1);
        for chunk in $rows.chunks(per_batch) {
            $crate::for_each_backend!(&mut *$conn, |c| diesel::insert_into($table).values(chunk).execute(c))?;
        }
        tracing::info!(
            table = stringify!($table),
            rows = $rows.len(),
            seconds = started.elapsed().as_secs_f64(),
            "seeded"
        );
    }};
}

fn max_id(conn: &mut DbConn, table: &str) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Max {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    // The table name is one of ours, never input.
    let row: Max =
        diesel::sql_query(format!("SELECT CAST(coalesce(max(id), 0) AS BIGINT) AS n FROM {table}")).get_result(conn)?;
    Ok(row.n)
}

/// PostgreSQL's identity sequences do not see explicit ids: move them past
/// the new rows (SQLite's AUTOINCREMENT follows by itself).
fn advance_sequences(conn: &mut DbConn) -> QueryResult<()> {
    if let DbConn::Pg(_) = conn {
        for table in ["auth_user", "accounts_profile", "accounts_usermetrics", "jobs_job"] {
            diesel::sql_query(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            ))
            .execute(conn)?;
        }
    }
    Ok(())
}

fn role_ids(conn: &mut DbConn) -> anyhow::Result<RoleIds> {
    let rows: Vec<(i64, String)> = accounts_role::table
        .select((accounts_role::id, accounts_role::name))
        .load(conn)?;
    let find = |name: &str| {
        rows.iter()
            .find(|(_, n)| n == name)
            .map(|(id, _)| *id)
            .with_context(|| format!("the role {name:?} is missing: run `practika migrate`"))
    };
    Ok(RoleIds {
        admin: find("admin")?,
        coach: find("coach")?,
        student: find("student")?,
    })
}

/// How many rows the database already has, by table; empty when there are none.
pub fn existing_rows(conn: &mut DbConn) -> QueryResult<Vec<(&'static str, i64)>> {
    let counts = [
        ("users", auth_user::table.count().get_result::<i64>(conn)?),
        ("exercises", exercises_exercise::table.count().get_result(conn)?),
        ("videos", core_videoasset::table.count().get_result(conn)?),
        ("comments", comments_videocomment::table.count().get_result(conn)?),
    ];
    Ok(counts.into_iter().filter(|(_, n)| *n > 0).collect())
}

/// Seeds the database. `files` are the shared media files; `now` ends the
/// year the rows are spread over.
pub fn seed(conn: &mut DbConn, options: &Options, files: &[DemoVideo], now: DateTime<Utc>) -> anyhow::Result<Summary> {
    let started = Instant::now();
    if files.is_empty() {
        bail!("no demo media files");
    }
    let existing = existing_rows(conn)?;
    if !existing.is_empty() && !options.force {
        let listed: Vec<String> = existing.iter().map(|(what, n)| format!("{n} {what}")).collect();
        bail!(
            "the database is not empty (it has {}): seed-demo fills an empty database. \
             Run it with --force to add the demo rows beside the existing ones.",
            listed.join(", ")
        );
    }
    let roles = role_ids(conn)?;
    // One hash for every account (hashing 200,000 would take minutes), in
    // Django's format like every new hash.
    let password = crate::accounts::password::hash(PASSWORD)?;
    let summary = db::write_transaction(conn, |c| -> anyhow::Result<Summary> {
        let bases = Bases {
            user: i32::try_from(max_id(c, "auth_user")?).context("user ids")?,
            profile: max_id(c, "accounts_profile")?,
            metrics: max_id(c, "accounts_usermetrics")?,
            job: max_id(c, "jobs_job")?,
        };
        let plan = plan(options, &bases, &roles, files, &password, now);
        insert_all!(c, auth_user::table, plan.users, 11);
        insert_all!(c, accounts_profile::table, plan.profiles, 8);
        insert_all!(c, accounts_usermetrics::table, plan.metrics, 5);
        insert_all!(c, core_videoasset::table, plan.videos, 26);
        insert_all!(c, exercises_exercise::table, plan.exercises, 7);
        insert_all!(c, core_videoclip::table, plan.clips, 13);
        insert_all!(c, comments_videocomment::table, plan.comments, 12);
        insert_all!(c, jobs_job::table, plan.jobs, 12);
        advance_sequences(c)?;
        Ok(summarize(&plan))
    })
    .map_err(|e| match e.downcast_ref::<diesel::result::Error>() {
        Some(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, info)) => {
            anyhow::anyhow!(
                "{}: rows from an earlier seed-demo with this --seed are there already; use another --seed",
                info.message()
            )
        }
        _ => e,
    })?;
    Ok(Summary {
        seconds: started.elapsed().as_secs_f64(),
        ..summary
    })
}

fn summarize(plan: &Plan) -> Summary {
    let mut per_exercise: HashMap<Id, usize> = HashMap::new();
    for comment in plan.comments.iter().filter(|c| c.parent_id.is_none()) {
        *per_exercise.entry(comment.exercise_id).or_default() += 1;
    }
    // Ties go to the earliest exercise, so the choice is deterministic.
    let busy_exercise = plan
        .exercises
        .iter()
        .filter_map(|e| per_exercise.get(&e.id).map(|n| (e.id, *n)))
        .min_by_key(|(_, n)| n.abs_diff(100));
    let demonstrations: HashSet<Id> = plan.exercises.iter().map(|e| e.video_asset_id).collect();
    let student = plan.users[2].id;
    Summary {
        users: plan.users.len(),
        coaches: plan.metrics.iter().filter(|m| m.exercises_created > 0).count(),
        exercises: plan.exercises.len(),
        videos: plan.videos.len(),
        clips: plan.clips.len(),
        comments: plan.comments.len(),
        replies: plan.comments.iter().filter(|c| c.parent_id.is_some()).count(),
        jobs: plan.jobs.len(),
        admin: plan.users[0].username.clone(),
        coach: plan.users[1].username.clone(),
        student: plan.users[2].username.clone(),
        busy_exercise,
        // The student's own attempt, else a demonstration: a page they may see.
        sample_video: plan
            .videos
            .iter()
            .find(|v| v.uploaded_by_id == Some(student) && !demonstrations.contains(&v.id))
            .or_else(|| plan.videos.first())
            .map(|v| v.id),
        seconds: 0.0,
    }
}
