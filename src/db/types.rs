//! Column types that differ between the backends.
//!
//! PostgreSQL has native `uuid`, `jsonb` and `timestamptz`; SQLite stores all
//! three as text (the way Django's SQLite backend does: 32 hex digits, JSON
//! text, UTC timestamps in one fixed-width format so that text comparison is
//! time comparison). Each gets a SQL type here and a small Rust wrapper with
//! `ToSql`/`FromSql` for both backends and for the `MultiBackend` of
//! [`DbConn`](super::DbConn).

use std::fmt;
use std::io::Write;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::HasSqlType;
use diesel::sqlite::Sqlite;
use serde::{Deserialize, Serialize};

use super::multi_connection_impl::MultiBackend;

/// SQL types, used by `schema.rs`.
pub mod sql {
    /// `uuid` on PostgreSQL, `char(32)` on SQLite.
    #[derive(diesel::sql_types::SqlType, diesel::query_builder::QueryId, Clone, Copy, Default)]
    #[diesel(postgres_type(oid = 2950, array_oid = 2951))]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct Uuid;

    /// `jsonb` on PostgreSQL, checked JSON text on SQLite.
    #[derive(diesel::sql_types::SqlType, diesel::query_builder::QueryId, Clone, Copy, Default)]
    #[diesel(postgres_type(oid = 3802, array_oid = 3807))]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct Jsonb;

    /// `timestamp with time zone` on PostgreSQL, UTC text on SQLite.
    #[derive(diesel::sql_types::SqlType, diesel::query_builder::QueryId, Clone, Copy, Default)]
    #[diesel(postgres_type(oid = 1184, array_oid = 1185))]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct UtcTime;
}

/// Makes a custom SQL type usable through the `MultiBackend`: the same three
/// impls diesel's derive writes for its built-in types.
macro_rules! multi_backend_type {
    ($sql:ty, $rust:ty) => {
        impl HasSqlType<$sql> for MultiBackend {
            fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
                MultiBackend::lookup_sql_type::<$sql>(lookup)
            }
        }
        impl FromSql<$sql, MultiBackend> for $rust {
            fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                bytes.from_sql::<Self, $sql>()
            }
        }
        impl ToSql<$sql, MultiBackend> for $rust {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((<$sql>::default(), self));
                Ok(IsNull::No)
            }
        }
    };
}

fn sqlite_text(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<String> {
    <String as FromSql<diesel::sql_types::Text, Sqlite>>::from_sql(value)
}

// ---------------------------------------------------------------- Id (uuid)

/// A uuid primary or foreign key.
#[derive(
    AsExpression, FromSqlRow, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[diesel(sql_type = sql::Uuid)]
#[serde(transparent)]
pub struct Id(pub uuid::Uuid);

impl Id {
    pub fn new() -> Self {
        Id(uuid::Uuid::new_v4())
    }
}

impl Default for Id {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl std::str::FromStr for Id {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s).map(Id)
    }
}

impl ToSql<sql::Uuid, Pg> for Id {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(self.0.as_bytes())?;
        Ok(IsNull::No)
    }
}

impl FromSql<sql::Uuid, Pg> for Id {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(Id(uuid::Uuid::from_slice(value.as_bytes())?))
    }
}

impl ToSql<sql::Uuid, Sqlite> for Id {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.simple().to_string());
        Ok(IsNull::No)
    }
}

impl FromSql<sql::Uuid, Sqlite> for Id {
    fn from_sql(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(Id(uuid::Uuid::parse_str(&sqlite_text(value)?)?))
    }
}

multi_backend_type!(sql::Uuid, Id);

// ---------------------------------------------------------------- Json

/// A JSON document (`jsonb` / JSON text).
#[derive(AsExpression, FromSqlRow, Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[diesel(sql_type = sql::Jsonb)]
#[serde(transparent)]
pub struct Json(pub serde_json::Value);

impl Json {
    pub fn empty_object() -> Self {
        Json(serde_json::Value::Object(Default::default()))
    }
    pub fn empty_array() -> Self {
        Json(serde_json::Value::Array(Vec::new()))
    }
}

const JSONB_VERSION: u8 = 1;

impl ToSql<sql::Jsonb, Pg> for Json {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(&[JSONB_VERSION])?;
        serde_json::to_writer(out, &self.0)?;
        Ok(IsNull::No)
    }
}

impl FromSql<sql::Jsonb, Pg> for Json {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        match value.as_bytes().split_first() {
            Some((&JSONB_VERSION, rest)) => Ok(Json(serde_json::from_slice(rest)?)),
            _ => Err("unsupported jsonb encoding".into()),
        }
    }
}

impl ToSql<sql::Jsonb, Sqlite> for Json {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(serde_json::to_string(&self.0)?);
        Ok(IsNull::No)
    }
}

impl FromSql<sql::Jsonb, Sqlite> for Json {
    fn from_sql(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(Json(serde_json::from_str(&sqlite_text(value)?)?))
    }
}

multi_backend_type!(sql::Jsonb, Json);

// ---------------------------------------------------------------- Ts

/// A point in time, always UTC.
#[derive(AsExpression, FromSqlRow, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[diesel(sql_type = sql::UtcTime)]
pub struct Ts(pub DateTime<Utc>);

/// The one text format on SQLite: fixed width, so text order is time order.
const SQLITE_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.6f";

impl Ts {
    pub fn now() -> Self {
        // Microseconds, as both backends store them: a value read back
        // compares equal to the value written.
        let now = Utc::now();
        Ts(DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now))
    }

    pub fn to_sqlite_text(self) -> String {
        self.0.format(SQLITE_FORMAT).to_string()
    }

    /// Parses the formats found in SQLite databases: ours, and Django's
    /// (with or without fraction, `T` separator or `+00:00` suffix).
    pub fn parse_sqlite_text(text: &str) -> Option<Ts> {
        if let Some(ts) = Self::parse_own_format(text) {
            return Some(ts);
        }
        let trimmed = text.trim_end_matches("+00:00").trim_end_matches('Z').replace('T', " ");
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(&trimmed, format).ok())
            .map(|naive| Ts(naive.and_utc()))
    }
}

impl Ts {
    /// Our own `YYYY-MM-DD HH:MM:SS.ffffff`, read digit by digit: every
    /// timestamp of every row on SQLite comes through here, and chrono's
    /// format-string parser was 2 % of a page's CPU time. `None` for any
    /// other shape (then [`Ts::parse_sqlite_text`] tries Django's).
    fn parse_own_format(text: &str) -> Option<Ts> {
        let b = text.as_bytes();
        if b.len() != 26
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b' '
            || b[13] != b':'
            || b[16] != b':'
            || b[19] != b'.'
        {
            return None;
        }
        let number = |from: usize, to: usize| -> Option<u32> {
            b[from..to]
                .iter()
                .try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
        };
        let date = chrono::NaiveDate::from_ymd_opt(number(0, 4)? as i32, number(5, 7)?, number(8, 10)?)?;
        let time =
            chrono::NaiveTime::from_hms_micro_opt(number(11, 13)?, number(14, 16)?, number(17, 19)?, number(20, 26)?)?;
        Some(Ts(NaiveDateTime::new(date, time).and_utc()))
    }
}

impl fmt::Display for Ts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.format("%Y-%m-%d %H:%M UTC").fmt(f)
    }
}

impl ToSql<sql::UtcTime, Pg> for Ts {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        ToSql::<diesel::sql_types::Timestamptz, Pg>::to_sql(&self.0, out)
    }
}

impl FromSql<sql::UtcTime, Pg> for Ts {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <DateTime<Utc> as FromSql<diesel::sql_types::Timestamptz, Pg>>::from_sql(value).map(Ts)
    }
}

impl ToSql<sql::UtcTime, Sqlite> for Ts {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.to_sqlite_text());
        Ok(IsNull::No)
    }
}

impl FromSql<sql::UtcTime, Sqlite> for Ts {
    fn from_sql(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let text = sqlite_text(value)?;
        Ts::parse_sqlite_text(&text).ok_or_else(|| format!("unreadable timestamp {text:?}").into())
    }
}

multi_backend_type!(sql::UtcTime, Ts);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_text_round_trips_and_sorts() {
        let a = Ts::now();
        let b = Ts(a.0 + chrono::Duration::microseconds(1));
        assert_eq!(Ts::parse_sqlite_text(&a.to_sqlite_text()), Some(a));
        assert!(a.to_sqlite_text() < b.to_sqlite_text());
        assert!(Ts::parse_sqlite_text("2025-08-30 16:27:01").is_some());
        assert!(Ts::parse_sqlite_text("2025-08-30T16:27:01.5+00:00").is_some());
    }

    #[test]
    fn the_fast_reading_agrees_with_chrono() {
        for text in [
            "2026-12-02 06:15:09.123456",
            "2024-02-29 23:59:59.000001",
            "1999-01-01 00:00:00.000000",
        ] {
            let slow = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").expect("chrono reads it");
            assert_eq!(Ts::parse_own_format(text), Some(Ts(slow.and_utc())), "{text}");
        }
        for bad in [
            "2026-13-02 06:15:09.123456",
            "2026-02-30 06:15:09.123456",
            "2026-12-02 06:15:09.12345x",
            "2026-12-02T06:15:09.123456",
        ] {
            assert_eq!(Ts::parse_own_format(bad), None, "{bad}");
        }
        assert!(Ts::parse_sqlite_text("2026-12-02T06:15:09.123456").is_some());
    }
}
