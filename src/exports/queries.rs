//! The export requests (`exports_dataexport`): plain functions on a connection.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::{Status, KEEP_DAYS};
use crate::db::schema::exports_dataexport;
use crate::db::{DbConn, Id, Ts};

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = exports_dataexport)]
pub struct DataExport {
    pub id: Id,
    pub user_id: i32,
    pub status: String,
    /// Under the media root, once built.
    pub file_path: Option<String>,
    pub size_bytes: Option<i64>,
    pub error: Option<String>,
    pub created_at: Ts,
    pub ready_at: Option<Ts>,
    /// Downloadable until then (a pending one is given up then).
    pub expires_at: Ts,
}

impl DataExport {
    pub fn status(&self) -> Status {
        Status::parse(&self.status)
    }

    pub fn is_expired(&self, now: Ts) -> bool {
        self.expires_at.0 <= now.0
    }
}

fn in_days(now: Ts, days: i64) -> Ts {
    Ts(now.0 + chrono::Duration::days(days))
}

/// Records a request and queues its job, in one transaction. `None`: one
/// of the user's exports is being built already (nothing new is queued).
pub fn request(conn: &mut DbConn, user_id: i32, now: Ts) -> QueryResult<Option<Id>> {
    let id = Id::new();
    let inserted = crate::db::write_transaction(conn, |c| {
        diesel::insert_into(exports_dataexport::table)
            .values((
                exports_dataexport::id.eq(id),
                exports_dataexport::user_id.eq(user_id),
                exports_dataexport::status.eq(Status::Pending.as_str()),
                exports_dataexport::created_at.eq(now),
                exports_dataexport::expires_at.eq(in_days(now, KEEP_DAYS)),
            ))
            .execute(c)?;
        super::build::queue(c, id)?;
        Ok::<_, DieselError>(())
    });
    match inserted {
        Ok(()) => Ok(Some(id)),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(None),
        Err(error) => Err(error),
    }
}

pub fn find(conn: &mut DbConn, id: Id) -> QueryResult<Option<DataExport>> {
    exports_dataexport::table
        .find(id)
        .select(DataExport::as_select())
        .first(conn)
        .optional()
}

/// The user's latest export, for the settings page.
pub fn latest(conn: &mut DbConn, user_id: i32) -> QueryResult<Option<DataExport>> {
    exports_dataexport::table
        .filter(exports_dataexport::user_id.eq(user_id))
        .order((exports_dataexport::created_at.desc(), exports_dataexport::id.desc()))
        .select(DataExport::as_select())
        .first(conn)
        .optional()
}

/// The export is built: ready for [`KEEP_DAYS`] from `now`. `false` when it
/// was not pending any more (removed meanwhile).
pub fn mark_ready(conn: &mut DbConn, id: Id, file_path: &str, size: i64, now: Ts) -> QueryResult<bool> {
    diesel::update(
        exports_dataexport::table
            .filter(exports_dataexport::id.eq(id))
            .filter(exports_dataexport::status.eq(Status::Pending.as_str())),
    )
    .set((
        exports_dataexport::status.eq(Status::Ready.as_str()),
        exports_dataexport::file_path.eq(Some(file_path)),
        exports_dataexport::size_bytes.eq(Some(size)),
        exports_dataexport::ready_at.eq(Some(now)),
        exports_dataexport::expires_at.eq(in_days(now, KEEP_DAYS)),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

pub fn mark_failed(conn: &mut DbConn, id: Id, error: &str) -> QueryResult<()> {
    diesel::update(
        exports_dataexport::table
            .filter(exports_dataexport::id.eq(id))
            .filter(exports_dataexport::status.eq(Status::Pending.as_str())),
    )
    .set((
        exports_dataexport::status.eq(Status::Failed.as_str()),
        exports_dataexport::error.eq(Some(error)),
    ))
    .execute(conn)
    .map(drop)
}

/// The user's other exports (a new one replaces them: one ZIP on disk per user).
pub fn superseded(conn: &mut DbConn, user_id: i32, except: Id) -> QueryResult<Vec<DataExport>> {
    exports_dataexport::table
        .filter(exports_dataexport::user_id.eq(user_id))
        .filter(exports_dataexport::id.ne(except))
        .filter(exports_dataexport::status.ne(Status::Pending.as_str()))
        .select(DataExport::as_select())
        .load(conn)
}

/// Exports past their time, a batch at a time.
pub fn expired(conn: &mut DbConn, now: Ts) -> QueryResult<Vec<DataExport>> {
    exports_dataexport::table
        .filter(exports_dataexport::expires_at.le(now))
        .order(exports_dataexport::expires_at.asc())
        .limit(500)
        .select(DataExport::as_select())
        .load(conn)
}

pub fn delete(conn: &mut DbConn, id: Id) -> QueryResult<()> {
    diesel::delete(exports_dataexport::table.find(id))
        .execute(conn)
        .map(drop)
}

/// Whether a row names this export id (files without one are orphans).
pub fn exists(conn: &mut DbConn, id: Id) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(exports_dataexport::table.find(id))).get_result(conn)
}
