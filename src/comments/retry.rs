//! "Ask for another try": a coach's reply (the note) asks the attempt's
//! author for another attempt, optionally at the range the note pins. The
//! request waits on the student's to-do list until they post their next
//! attempt on the exercise, which resolves every open request of theirs
//! there (a trigger of the `coach_inbox` migration, whoever writes the
//! attempt) and is linked to the notes it answers.

use std::collections::HashMap;

use diesel::prelude::*;

use super::queries::Comment;
use crate::accounts::queries::{display_name_of_parts, name_columns, NameParts};
use crate::db::schema::{
    accounts_profile, auth_user, comments_retryrequest, comments_videocomment, exercises_exercise,
};
use crate::db::{DbConn, Id, Ts};

/// The most requests the home page's to-do list shows.
pub const TODO_MAX: i64 = 50;

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = comments_retryrequest)]
pub struct RetryRequest {
    pub id: Id,
    /// The coach's reply that asks.
    pub note_id: Id,
    /// The attempt the note answers.
    pub attempt_id: Id,
    pub exercise_id: Id,
    pub student_id: i32,
    pub created_at: Ts,
    /// The attempt that answered it; `None` while it is open.
    pub resolved_by_id: Option<Id>,
    pub resolved_at: Option<Ts>,
}

impl RetryRequest {
    /// When it was resolved, if it is (`resolved_at` can outlive a deleted retry).
    pub fn resolved(&self) -> Option<(Id, Ts)> {
        self.resolved_by_id.zip(self.resolved_at)
    }
}

/// Records that the reply `note_id` asks the author of `attempt` to try
/// again: in the reply's own transaction.
pub fn ask(conn: &mut DbConn, note_id: Id, attempt: &Comment, at: Ts) -> QueryResult<()> {
    diesel::insert_into(comments_retryrequest::table)
        .values((
            comments_retryrequest::id.eq(Id::new()),
            comments_retryrequest::note_id.eq(note_id),
            comments_retryrequest::attempt_id.eq(attempt.id),
            comments_retryrequest::exercise_id.eq(attempt.exercise_id),
            comments_retryrequest::student_id.eq(attempt.author_id),
            comments_retryrequest::created_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// The requests around some comments: those `notes` made and those
/// `retries` resolved, as the thread and the inbox link them.
#[derive(Default)]
pub struct Chain {
    pub by_note: HashMap<Id, RetryRequest>,
    pub by_retry: HashMap<Id, Vec<RetryRequest>>,
}

impl Chain {
    /// In one statement, whatever the number of comments.
    pub fn load(conn: &mut DbConn, notes: &[Id], retries: &[Id]) -> QueryResult<Chain> {
        if notes.is_empty() && retries.is_empty() {
            return Ok(Chain::default());
        }
        let found: Vec<RetryRequest> = comments_retryrequest::table
            .filter(
                comments_retryrequest::note_id
                    .eq_any(notes)
                    .or(comments_retryrequest::resolved_by_id.eq_any(retries)),
            )
            .order((comments_retryrequest::created_at.asc(), comments_retryrequest::id.asc()))
            .select(RetryRequest::as_select())
            .load(conn)?;
        let mut chain = Chain::default();
        for request in found {
            if let Some(retry) = request.resolved_by_id.filter(|id| retries.contains(id)) {
                chain.by_retry.entry(retry).or_default().push(request.clone());
            }
            if notes.contains(&request.note_id) {
                chain.by_note.insert(request.note_id, request);
            }
        }
        Ok(chain)
    }
}

/// An open request on a student's to-do list.
pub struct Todo {
    pub request: RetryRequest,
    pub note: Comment,
    pub exercise_name: String,
    pub coach: String,
}

/// The student's open requests, oldest first, with the note, its
/// exercise's name and its author's: one statement.
pub fn todo(conn: &mut DbConn, student: i32) -> QueryResult<Vec<Todo>> {
    let rows: Vec<(RetryRequest, Comment, String, NameParts)> = comments_retryrequest::table
        .inner_join(comments_videocomment::table.on(comments_videocomment::id.eq(comments_retryrequest::note_id)))
        .inner_join(exercises_exercise::table.on(exercises_exercise::id.eq(comments_retryrequest::exercise_id)))
        .inner_join(auth_user::table.on(auth_user::id.eq(comments_videocomment::author_id)))
        .left_join(accounts_profile::table.on(accounts_profile::user_id.eq(auth_user::id)))
        .filter(comments_retryrequest::student_id.eq(student))
        .filter(comments_retryrequest::resolved_by_id.is_null())
        .order((comments_retryrequest::created_at.asc(), comments_retryrequest::id.asc()))
        .limit(TODO_MAX)
        .select((
            RetryRequest::as_select(),
            Comment::as_select(),
            exercises_exercise::name,
            name_columns!(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(request, note, exercise_name, coach)| Todo {
            request,
            note,
            exercise_name,
            coach: display_name_of_parts(&coach),
        })
        .collect())
}
