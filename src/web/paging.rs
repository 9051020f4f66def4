//! Where a list starts: one parser for every `?page=` and `?after=`, so that
//! no list computes an offset from raw input (a huge page number once gave
//! a negative OFFSET on PostgreSQL).

use crate::db::{Id, Ts};

/// Page numbers beyond this read as this (lists then clamp to their last page).
pub const MAX_PAGE: i64 = 1_000_000_000;

/// What `?page=` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageNumber {
    Absent,
    /// 1-based, at most [`MAX_PAGE`].
    Given(i64),
    /// Not a page number at all ("abc", "-3", "0").
    Invalid,
}

impl PageNumber {
    pub fn parse(raw: Option<&str>) -> PageNumber {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return PageNumber::Absent;
        };
        if !raw.bytes().all(|b| b.is_ascii_digit()) {
            return PageNumber::Invalid;
        }
        // All digits: too long for an i64 is simply huge.
        match raw.parse::<i64>() {
            Ok(0) => PageNumber::Invalid,
            Ok(n) => PageNumber::Given(n.min(MAX_PAGE)),
            Err(_) => PageNumber::Given(MAX_PAGE),
        }
    }

    /// The page, 1 when absent or invalid.
    pub fn or_first(self) -> i64 {
        match self {
            PageNumber::Given(n) => n,
            _ => 1,
        }
    }
}

/// `?page=` as a 1-based page: absent or nonsense is the first page.
pub fn page(raw: Option<&str>) -> i64 {
    PageNumber::parse(raw).or_first()
}

/// How many pages `total` rows fill (at least one, an empty list's).
pub fn last_page(total: i64, per_page: i64) -> i64 {
    (total.max(0).saturating_add(per_page - 1) / per_page).max(1)
}

/// The rows before a page: never negative, never overflowing.
pub fn offset(page: i64, per_page: i64) -> i64 {
    (page.clamp(1, MAX_PAGE) - 1).saturating_mul(per_page)
}

/// A position in a list ordered by `(created_at, id)`, newest first: the
/// rows after it (older) or before it (newer). In links as
/// `<microseconds since 1970>_<id>`, so they can be bookmarked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: Ts,
    pub id: Id,
}

impl Cursor {
    pub fn new(created_at: Ts, id: Id) -> Cursor {
        Cursor { created_at, id }
    }

    pub fn parse(raw: &str) -> Option<Cursor> {
        let (micros, id) = raw.trim().split_once('_')?;
        let micros: i64 = micros.parse().ok()?;
        let at = chrono::DateTime::from_timestamp_micros(micros)?;
        Some(Cursor {
            created_at: Ts(at),
            id: id.parse().ok()?,
        })
    }

    pub fn to_param(self) -> String {
        format!("{}_{}", self.created_at.0.timestamp_micros(), self.id)
    }
}

/// Where a seek-paginated list starts: `?after=` (older than a row),
/// `?before=` (newer than a row), or a page number for the old links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Page(i64),
    After(Cursor),
    Before(Cursor),
}

impl Start {
    /// A cursor wins over a page number; a malformed cursor is the first page.
    pub fn parse(page: Option<&str>, after: Option<&str>, before: Option<&str>) -> Start {
        if let Some(cursor) = after.and_then(Cursor::parse) {
            return Start::After(cursor);
        }
        if let Some(cursor) = before.and_then(Cursor::parse) {
            return Start::Before(cursor);
        }
        Start::Page(self::page(page))
    }

    pub fn first() -> Start {
        Start::Page(1)
    }

    /// This position as a link's query, ready to append to (empty for the
    /// first page, else ending in `&`).
    pub fn to_query(self) -> String {
        match self {
            Start::Page(1) => String::new(),
            Start::Page(n) => format!("page={n}&"),
            Start::After(c) => format!("after={}&", c.to_param()),
            Start::Before(c) => format!("before={}&", c.to_param()),
        }
    }
}

/// A list's position as its links carry it: `?page=`, `?after=`,
/// `?before=` (flattened into each list's query).
#[derive(serde::Deserialize, Default, Clone, Debug)]
pub struct Position {
    #[serde(default)]
    pub page: Option<String>,
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub before: Option<String>,
}

impl Position {
    pub fn start(&self) -> Start {
        Start::parse(self.page.as_deref(), self.after.as_deref(), self.before.as_deref())
    }
}

/// Positions a boxed query ordered by `(created_at, id)`, newest first, at
/// `start`: an offset for a page number, a seek from a cursor (which an
/// index on the two columns answers without walking the rows before it).
/// With `Start::Before` the rows come oldest first: reverse them.
macro_rules! seek_from {
    ($query:expr, $start:expr, $created_at:expr, $id:expr, $per_page:expr) => {
        $crate::web::paging::seek_from!($query, $start, $created_at, $id, $per_page, |q| q)
    };
    // `then` finishes each shape (a page number, after, before) on its
    // own: for a query that is not boxed, whose type differs between them.
    ($query:expr, $start:expr, $created_at:expr, $id:expr, $per_page:expr, |$q:ident| $then:expr) => {
        match $start {
            $crate::web::paging::Start::Page(page) => {
                let $q = $query
                    .order(($created_at.desc(), $id.desc()))
                    .offset($crate::web::paging::offset(page, $per_page));
                $then
            }
            $crate::web::paging::Start::After(c) => {
                let $q = $query
                    .filter(
                        $created_at
                            .le(c.created_at)
                            .and($created_at.lt(c.created_at).or($id.lt(c.id))),
                    )
                    .order(($created_at.desc(), $id.desc()));
                $then
            }
            $crate::web::paging::Start::Before(c) => {
                let $q = $query
                    .filter(
                        $created_at
                            .ge(c.created_at)
                            .and($created_at.gt(c.created_at).or($id.gt(c.id))),
                    )
                    .order(($created_at.asc(), $id.asc()));
                $then
            }
        }
    };
}
pub(crate) use seek_from;

/// A page of a seek-paginated list: its rows (newest first) and the
/// cursors of the links to the newer and older pages, when there are any.
#[derive(Debug)]
pub struct Seek<T> {
    pub rows: Vec<T>,
    pub newer: Option<Cursor>,
    pub older: Option<Cursor>,
}

/// Trims what a query fetched (up to `per_page + 1` rows, newest first, the
/// extra one telling that more exist in the direction it read) to a page.
pub fn seek<T>(mut rows: Vec<T>, start: Start, per_page: i64, cursor: impl Fn(&T) -> Cursor) -> Seek<T> {
    let per_page = usize::try_from(per_page).unwrap_or(usize::MAX);
    let more = rows.len() > per_page;
    if more {
        match start {
            // Read upwards from the cursor: the extra row is the newest.
            Start::Before(_) => drop(rows.drain(..rows.len() - per_page)),
            _ => rows.truncate(per_page),
        }
    }
    let newer = match start {
        Start::Page(page) => page > 1,
        Start::After(_) => true,
        Start::Before(_) => more,
    };
    let older = match start {
        Start::Before(_) => true,
        _ => more,
    };
    Seek {
        newer: rows.first().filter(|_| newer).map(&cursor),
        older: rows.last().filter(|_| older).map(&cursor),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_clamped_not_trusted() {
        assert_eq!(page(None), 1);
        assert_eq!(page(Some("")), 1);
        assert_eq!(page(Some("abc")), 1);
        assert_eq!(page(Some("-3")), 1);
        assert_eq!(page(Some("0")), 1);
        assert_eq!(page(Some(" 7 ")), 7);
        assert_eq!(page(Some("9223372036854775807")), MAX_PAGE);
        assert_eq!(page(Some("99999999999999999999999999")), MAX_PAGE);
        assert_eq!(offset(MAX_PAGE, 50), (MAX_PAGE - 1) * 50);
        assert_eq!(offset(i64::MAX, i64::MAX), i64::MAX);
        assert_eq!(offset(-5, 20), 0);
        assert_eq!(last_page(0, 20), 1);
        assert_eq!(last_page(41, 20), 3);
        assert_eq!(last_page(i64::MAX, 20), i64::MAX / 20);
    }

    #[test]
    fn cursors_round_trip_and_bad_ones_start_at_the_top() {
        let cursor = Cursor::new(Ts::now(), Id::new());
        let parsed = Cursor::parse(&cursor.to_param()).expect("round trip");
        assert_eq!(parsed.id, cursor.id);
        assert_eq!(
            parsed.created_at.0.timestamp_micros(),
            cursor.created_at.0.timestamp_micros()
        );
        assert_eq!(Start::parse(Some("2"), Some("junk"), None), Start::Page(2));
        assert_eq!(Start::parse(None, Some(&cursor.to_param()), None), Start::After(parsed));
        assert_eq!(Start::parse(None, None, Some("1_notanid")), Start::Page(1));
        assert_eq!(Start::first().to_query(), "");
        assert_eq!(Start::Page(3).to_query(), "page=3&");
        let query = Start::After(cursor).to_query();
        assert_eq!(query, format!("after={}&", cursor.to_param()));
        assert_eq!(
            Start::parse(
                None,
                query.strip_prefix("after=").and_then(|q| q.strip_suffix('&')),
                None
            ),
            Start::After(parsed)
        );
    }

    #[test]
    fn a_seek_page_links_where_there_is_more() {
        let at = |n: i64| Cursor::new(Ts(chrono::DateTime::from_timestamp(n, 0).expect("time")), Id::new());
        let rows: Vec<Cursor> = (0..5).rev().map(at).collect();
        let page = seek(rows.clone(), Start::first(), 4, |c| *c);
        assert_eq!(page.rows.len(), 4);
        assert!(page.newer.is_none());
        assert_eq!(page.older, Some(rows[3]));
        let page = seek(rows.clone(), Start::Before(rows[0]), 4, |c| *c);
        assert_eq!(page.rows, rows[1..].to_vec());
        assert_eq!(page.newer, Some(rows[1]));
        assert_eq!(page.older, Some(rows[4]));
        let page = seek(rows[..2].to_vec(), Start::After(rows[0]), 4, |c| *c);
        assert_eq!(page.newer, Some(rows[0]));
        assert!(page.older.is_none());
    }
}
