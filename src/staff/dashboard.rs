//! The numbers on `/staff`.

use diesel::prelude::*;

use super::audit::{self, Logged};
use crate::accounts::invitations::{Invitation, State};
use crate::db::schema::{
    accounts_betainvitation, comments_videocomment, core_videoasset, exercises_exercise, jobs_job,
};
use crate::db::{DbConn, Ts};
use crate::jobs::Job;

pub type Counts = Vec<(String, Vec<(String, i64)>)>;

const RECENT: i64 = 10;
const FAILED_JOBS: i64 = 20;

pub fn summary(conn: &mut DbConn) -> QueryResult<(Counts, Vec<Logged>, Vec<Job>)> {
    let mut counts = Counts::new();

    #[derive(QueryableByName)]
    struct RoleCount {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        name: Option<String>,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    // A left join grouped by a nullable column: plain SQL, the same on both.
    let by_role: Vec<RoleCount> = diesel::sql_query(
        "SELECT accounts_role.name AS name, count(*) AS n FROM auth_user \
         LEFT JOIN accounts_profile ON accounts_profile.user_id = auth_user.id \
         LEFT JOIN accounts_role ON accounts_role.id = accounts_profile.role_id \
         GROUP BY accounts_role.name",
    )
    .load(conn)?;
    let by_role: Vec<(Option<String>, i64)> = by_role.into_iter().map(|r| (r.name, r.n)).collect();
    let mut users: Vec<(String, i64)> = by_role
        .into_iter()
        .map(|(role, n)| (role.unwrap_or_else(|| "no role".to_owned()), n))
        .collect();
    users.sort();
    let total: i64 = users.iter().map(|(_, n)| n).sum();
    users.insert(0, ("all".to_owned(), total));
    counts.push(("Users".to_owned(), users));

    let exercises: i64 = exercises_exercise::table.count().get_result(conn)?;
    let comments: i64 = comments_videocomment::table.count().get_result(conn)?;
    counts.push((
        "Practice".to_owned(),
        vec![("exercises".to_owned(), exercises), ("comments".to_owned(), comments)],
    ));

    let mut videos: Vec<(String, i64)> = core_videoasset::table
        .group_by(core_videoasset::processing_status)
        .select((core_videoasset::processing_status, diesel::dsl::count_star()))
        .load(conn)?;
    videos.sort();
    counts.push(("Videos by status".to_owned(), videos));

    // Few rows; the state depends on the clock, so it is computed here.
    let invitations: Vec<Invitation> = accounts_betainvitation::table
        .select(Invitation::as_select())
        .load(conn)?;
    let now = Ts::now();
    let states = [State::Pending, State::Accepted, State::Expired, State::Revoked];
    counts.push((
        "Invitations".to_owned(),
        states
            .iter()
            .map(|s| {
                (
                    s.label().to_owned(),
                    invitations.iter().filter(|i| i.state(now) == *s).count() as i64,
                )
            })
            .collect(),
    ));

    let failed: Vec<Job> = jobs_job::table
        .filter(jobs_job::status.eq("failed"))
        .order(jobs_job::updated_at.desc())
        .limit(FAILED_JOBS)
        .select(Job::as_select())
        .load(conn)?;
    Ok((counts, audit::latest(conn, RECENT)?, failed))
}

/// The disk card: free space on the media's file system, against the
/// warning level and the reserve below which uploads are refused.
pub fn disk_space(settings: &crate::config::Settings, free: std::io::Result<u64>) -> super::pages::DiskSpace {
    use crate::media::disk::human;
    let (warn_at, reserve) = (human(settings.disk_warn_bytes), human(settings.disk_reserve_bytes));
    match free {
        Ok(free) => super::pages::DiskSpace {
            free: human(free),
            low: free < settings.disk_warn_bytes.max(settings.disk_reserve_bytes),
            full: free < settings.disk_reserve_bytes,
            warn_at,
            reserve,
        },
        Err(error) => super::pages::DiskSpace {
            free: format!("unknown ({error})"),
            low: true,
            full: false,
            warn_at,
            reserve,
        },
    }
}
