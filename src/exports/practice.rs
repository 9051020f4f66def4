//! The practice log in the export (`practice.json`): the user's practice
//! sessions (`crate::practice`), oldest first, with their exercise's name.

use diesel::prelude::*;
use serde_json::json;

use crate::db::schema::{exercises_exercise, exercises_practicesession};
use crate::db::DbConn;
use crate::practice::queries::Session;

/// One statement: `WHERE user_id = …` on the `(user_id, day)` index.
pub fn practice_log(conn: &mut DbConn, user_id: i32) -> QueryResult<Vec<serde_json::Value>> {
    let rows: Vec<(Session, String)> = exercises_practicesession::table
        .inner_join(exercises_exercise::table)
        .filter(exercises_practicesession::user_id.eq(user_id))
        .order((
            exercises_practicesession::day.asc(),
            exercises_practicesession::started_at.asc(),
            exercises_practicesession::id.asc(),
        ))
        .select((Session::as_select(), exercises_exercise::name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(s, exercise)| {
            json!({
                "id": s.id,
                "exercise_id": s.exercise_id,
                "exercise": exercise,
                "day": s.day,
                "started_at": super::build::time(s.started_at),
                "updated_at": super::build::time(s.updated_at),
                "seconds": s.seconds,
                "max_speed": s.max_speed,
                "loops": s.loops,
            })
        })
        .collect())
}
