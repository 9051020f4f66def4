//! The practice log in the export (`practice.json`).
//!
//! Practice sessions (issue 14, part 4: exercise, time practised, speeds
//! reached) are being added in their own table
//! (`exercises_practicesession`), which is not on this branch yet. When it
//! lands, this one function loads the user's sessions (one statement,
//! `WHERE user_id = ...`, oldest first) and maps each to a JSON object;
//! nothing else in the export changes. Until then the file holds `[]`.

use diesel::QueryResult;

use crate::db::DbConn;

pub fn practice_log(_conn: &mut DbConn, _user_id: i32) -> QueryResult<Vec<serde_json::Value>> {
    Ok(Vec::new())
}
