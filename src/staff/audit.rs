//! The staff audit log: who changed which object, when, and which fields
//! (old → new). Entries are written by the caller's transaction, so a change
//! and its record commit or roll back together.

use diesel::prelude::*;
use serde_json::{Map, Value};

use crate::db::schema::{auth_user, staff_auditentry};
use crate::db::{DbConn, Json, Ts};

/// One entry to record.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `create`, `change`, `delete`, or a bulk action's key.
    pub action: String,
    pub object_type: &'static str,
    pub object_id: String,
    pub object_repr: String,
    /// field → (old, new)
    pub changes: Vec<(String, Value, Value)>,
}

impl Entry {
    pub fn new(action: &str, object_type: &'static str, object_id: impl ToString, repr: impl Into<String>) -> Entry {
        Entry {
            action: action.to_owned(),
            object_type,
            object_id: object_id.to_string(),
            object_repr: repr.into(),
            changes: Vec::new(),
        }
    }

    pub fn change(mut self, field: &str, old: impl Into<Value>, new: impl Into<Value>) -> Entry {
        self.changes.push((field.to_owned(), old.into(), new.into()));
        self
    }
}

#[derive(Insertable)]
#[diesel(table_name = staff_auditentry)]
struct NewEntry<'a> {
    actor_id: Option<i32>,
    action: &'a str,
    object_type: &'a str,
    object_id: &'a str,
    object_repr: String,
    changes: Json,
    created_at: Ts,
}

/// Writes the entries, all with the same time.
pub fn record(conn: &mut DbConn, actor: i32, entries: &[Entry]) -> QueryResult<()> {
    let now = Ts::now();
    for entry in entries {
        let mut changes = Map::new();
        for (field, old, new) in &entry.changes {
            changes.insert(field.clone(), Value::Array(vec![old.clone(), new.clone()]));
        }
        diesel::insert_into(staff_auditentry::table)
            .values(NewEntry {
                actor_id: Some(actor),
                action: &entry.action,
                object_type: entry.object_type,
                object_id: &entry.object_id,
                object_repr: entry.object_repr.chars().take(200).collect(),
                changes: Json(Value::Object(changes)),
                created_at: now,
            })
            .execute(conn)?;
    }
    Ok(())
}

/// A recorded entry, as the history pages show it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub id: i64,
    pub actor: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub object_repr: String,
    pub changes: Vec<(String, String, String)>,
    pub created_at: Ts,
}

type LoggedRow = (i64, Option<String>, String, String, String, String, Json, Ts);

fn shown(value: &Value) -> String {
    match value {
        Value::Null => "—".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A column name as people read it: `first_name` → "first name",
/// `is_active` → "active".
fn field_label(field: &str) -> String {
    field.strip_prefix("is_").unwrap_or(field).replace('_', " ")
}

fn assemble((id, actor, action, object_type, object_id, object_repr, changes, created_at): LoggedRow) -> Logged {
    let changes = changes
        .0
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(field, pair)| {
                    let old = pair.get(0).map(shown).unwrap_or_default();
                    let new = pair.get(1).map(shown).unwrap_or_default();
                    (field_label(field), old, new)
                })
                .collect()
        })
        .unwrap_or_default();
    Logged {
        id,
        actor,
        action,
        object_type,
        object_id,
        object_repr,
        changes,
        created_at,
    }
}

macro_rules! logged {
    () => {
        staff_auditentry::table.left_join(auth_user::table).select((
            staff_auditentry::id,
            auth_user::username.nullable(),
            staff_auditentry::action,
            staff_auditentry::object_type,
            staff_auditentry::object_id,
            staff_auditentry::object_repr,
            staff_auditentry::changes,
            staff_auditentry::created_at,
        ))
    };
}

/// The latest entries, newest first.
pub fn latest(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<Logged>> {
    let rows: Vec<LoggedRow> = logged!()
        .order((staff_auditentry::created_at.desc(), staff_auditentry::id.desc()))
        .limit(limit)
        .load(conn)?;
    Ok(rows.into_iter().map(assemble).collect())
}

/// One object's history, newest first.
pub fn history(conn: &mut DbConn, object_type: &str, object_id: &str) -> QueryResult<Vec<Logged>> {
    let rows: Vec<LoggedRow> = logged!()
        .filter(staff_auditentry::object_type.eq(object_type))
        .filter(staff_auditentry::object_id.eq(object_id))
        .order((staff_auditentry::created_at.desc(), staff_auditentry::id.desc()))
        .load(conn)?;
    Ok(rows.into_iter().map(assemble).collect())
}

/// A search of the whole log: by staff member, model, date and words, newest
/// first, a page at a time (seeking by id: page 250 costs what page 1 does).
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub actor: Option<i32>,
    pub object_type: Option<String>,
    /// From this moment on (inclusive).
    pub since: Option<Ts>,
    /// Before this moment (exclusive).
    pub until: Option<Ts>,
    /// A LIKE pattern on the object's name and the action.
    pub pattern: Option<String>,
    /// Entries older than this one (the last of the previous page).
    pub older_than: Option<i64>,
}

pub const LOG_PAGE: i64 = 50;

/// A page of matching entries, and whether there are older ones.
pub fn search(conn: &mut DbConn, search: &Search) -> QueryResult<(Vec<Logged>, bool)> {
    let mut query = logged!().into_boxed();
    if let Some(actor) = search.actor {
        query = query.filter(staff_auditentry::actor_id.eq(actor));
    }
    if let Some(object_type) = &search.object_type {
        query = query.filter(staff_auditentry::object_type.eq(object_type.clone()));
    }
    if let Some(since) = search.since {
        query = query.filter(staff_auditentry::created_at.ge(since));
    }
    if let Some(until) = search.until {
        query = query.filter(staff_auditentry::created_at.lt(until));
    }
    if let Some(pattern) = &search.pattern {
        query = query.filter(crate::staff::model::search!(
            "staff_auditentry.object_repr || ' ' || staff_auditentry.action",
            pattern.clone()
        ));
    }
    if let Some(id) = search.older_than {
        query = query.filter(staff_auditentry::id.lt(id));
    }
    // Ids grow with time: ordering by id is ordering by when, and it seeks.
    let mut rows: Vec<LoggedRow> = query
        .order(staff_auditentry::id.desc())
        .limit(LOG_PAGE + 1)
        .load(conn)?;
    let more = rows.len() as i64 > LOG_PAGE;
    rows.truncate(LOG_PAGE as usize);
    Ok((rows.into_iter().map(assemble).collect(), more))
}

/// The staff members, to search by (former ones are found by `?actor=<id>`).
pub fn staff_members(conn: &mut DbConn) -> QueryResult<Vec<(i32, String)>> {
    auth_user::table
        .filter(auth_user::is_staff.eq(true).or(auth_user::is_superuser.eq(true)))
        .order(auth_user::username.asc())
        .select((auth_user::id, auth_user::username))
        .load(conn)
}
