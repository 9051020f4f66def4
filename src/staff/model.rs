//! The one mechanism behind every staff list, change form, delete page and
//! bulk action: each model describes itself through [`StaffModel`], and the
//! generic handlers and templates do the rest.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::audit::Entry;
use crate::accounts::forms::FieldErrors;
use crate::db::{DbConn, Ts};
use crate::web::auth::CurrentUser;
use crate::web::paging::{self, PageNumber};

pub const PER_PAGE: i64 = 50;

/// Form and query input: every name → its values, in order.
#[derive(Debug, Clone, Default)]
pub struct Input(pub Vec<(String, String)>);

impl Input {
    pub fn parse(raw: &[u8]) -> Input {
        Input(
            url::form_urlencoded::parse(raw)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The trimmed value, "" when absent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().trim().to_owned()
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A checkbox the form showed as editable: `None` when it was not on the
    /// form (unchecked boxes send nothing, so the form adds a marker).
    pub fn checkbox(&self, name: &str) -> Option<bool> {
        self.get(&format!("{name}__shown")).map(|_| self.get(name).is_some())
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ListColumn {
    pub key: &'static str,
    pub label: &'static str,
    pub sortable: bool,
}

pub const fn col(key: &'static str, label: &'static str, sortable: bool) -> ListColumn {
    ListColumn { key, label, sortable }
}

#[derive(Debug, Clone)]
pub enum FilterKind {
    /// One of these (value, label) pairs.
    Choice(Vec<(String, String)>),
    /// A date range: `<key>_from` and `<key>_to`, both inclusive.
    Dates,
    /// An id typed or linked (a parent's objects: `?video=<id>`).
    Exact,
}

#[derive(Debug, Clone)]
pub struct FilterSpec {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FilterKind,
}

impl FilterSpec {
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            FilterKind::Choice(_) => "choice",
            FilterKind::Dates => "dates",
            FilterKind::Exact => "exact",
        }
    }

    pub fn options(&self) -> &[(String, String)] {
        match &self.kind {
            FilterKind::Choice(options) => options,
            _ => &[],
        }
    }

    pub fn from_key(&self) -> String {
        format!("{}_from", self.key)
    }

    pub fn to_key(&self) -> String {
        format!("{}_to", self.key)
    }
}

pub fn choice(key: &'static str, label: &'static str, options: &[(&str, &str)]) -> FilterSpec {
    FilterSpec {
        key,
        label,
        kind: FilterKind::Choice(options.iter().map(|(v, l)| (v.to_string(), l.to_string())).collect()),
    }
}

pub fn exact(key: &'static str, label: &'static str) -> FilterSpec {
    FilterSpec {
        key,
        label,
        kind: FilterKind::Exact,
    }
}

pub fn dates(key: &'static str, label: &'static str) -> FilterSpec {
    FilterSpec {
        key,
        label,
        kind: FilterKind::Dates,
    }
}

/// A checked list request: search, filters, sort and page.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub q: String,
    pub sort: Option<&'static str>,
    pub desc: bool,
    pub page: i64,
    choices: BTreeMap<&'static str, String>,
    ranges: BTreeMap<&'static str, (Option<NaiveDate>, Option<NaiveDate>)>,
    /// Raw values as typed, to show them again.
    pub raw: BTreeMap<String, String>,
}

impl ListParams {
    /// Checks the query against the model's columns and filters; what does
    /// not fit is ignored and reported.
    pub fn parse(input: &Input, columns: &[ListColumn], filters: &[FilterSpec]) -> (ListParams, Vec<String>) {
        let mut problems = Vec::new();
        let mut params = ListParams {
            q: input.text("q"),
            ..ListParams::default()
        };
        if let Some(sort) = input.get("sort").filter(|s| !s.is_empty()) {
            match columns.iter().find(|c| c.sortable && c.key == sort) {
                Some(column) => params.sort = Some(column.key),
                None => problems.push(format!("The list cannot be sorted by “{sort}”.")),
            }
        }
        params.desc = input.get("dir") == Some("desc");
        params.page = match PageNumber::parse(input.get("page")) {
            PageNumber::Invalid => {
                problems.push(format!("“{}” is not a page number.", input.text("page")));
                1
            }
            number => number.or_first(),
        };
        for filter in filters {
            match &filter.kind {
                FilterKind::Choice(options) => {
                    if let Some(value) = input.get(filter.key).filter(|v| !v.is_empty()) {
                        params.raw.insert(filter.key.to_owned(), value.to_owned());
                        if options.iter().any(|(v, _)| v == value) {
                            params.choices.insert(filter.key, value.to_owned());
                        } else {
                            problems.push(format!("“{value}” is not a choice of the {} filter.", filter.label));
                        }
                    }
                }
                FilterKind::Exact => {
                    if let Some(value) = input.get(filter.key).map(str::trim).filter(|v| !v.is_empty()) {
                        params.raw.insert(filter.key.to_owned(), value.to_owned());
                        params.choices.insert(filter.key, value.to_owned());
                    }
                }
                FilterKind::Dates => {
                    let mut range = (None, None);
                    for (suffix, slot) in [("from", &mut range.0), ("to", &mut range.1)] {
                        let name = format!("{}_{suffix}", filter.key);
                        if let Some(value) = input.get(&name).map(str::trim).filter(|v| !v.is_empty()) {
                            params.raw.insert(name, value.to_owned());
                            match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
                                Ok(date) => *slot = Some(date),
                                Err(_) => problems.push(format!("“{value}” is not a date (use YYYY-MM-DD).")),
                            }
                        }
                    }
                    if range != (None, None) {
                        params.ranges.insert(filter.key, range);
                    }
                }
            }
        }
        (params, problems)
    }

    pub fn choice(&self, key: &str) -> Option<&str> {
        self.choices.get(key).map(String::as_str)
    }

    /// The start of the range's first day.
    pub fn since(&self, key: &str) -> Option<Ts> {
        self.ranges
            .get(key)
            .and_then(|r| r.0)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Ts(t.and_utc()))
    }

    /// The start of the day after the range's last day (exclusive bound).
    pub fn before(&self, key: &str) -> Option<Ts> {
        self.ranges
            .get(key)
            .and_then(|r| r.1)
            .and_then(|d| d.succ_opt())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Ts(t.and_utc()))
    }

    pub fn offset(&self) -> i64 {
        paging::offset(self.page, PER_PAGE)
    }

    /// The search term as a LIKE pattern (`%term%`, lowercased, wildcards
    /// in the term taken literally; use with `ESCAPE '\'`).
    pub fn like(&self) -> Option<String> {
        like_pattern(&self.q)
    }
}

/// `%term%`, lowercased, with LIKE's wildcards in the term taken literally
/// (for `ESCAPE '\'`); `None` for an empty term.
pub fn like_pattern(term: &str) -> Option<String> {
    let term = term.trim();
    if term.is_empty() {
        return None;
    }
    let escaped = term
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Some(format!("%{escaped}%"))
}

/// A search filter: `lower(<expr>) LIKE <pattern> ESCAPE '\'` with the
/// pattern bound. `$expr` is SQL written in the model (the searched columns
/// joined with `||`), never input: one bind works on both backends.
macro_rules! search {
    ($expr:expr, $pattern:expr) => {
        diesel::dsl::sql::<diesel::sql_types::Bool>(concat!("lower(", $expr, ") LIKE "))
            .bind::<diesel::sql_types::Text, _>($pattern)
            .sql(" ESCAPE '\\'")
    };
}
pub(crate) use search;

/// One table cell.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub text: String,
    /// A badge class suffix (`badge-state-<x>`), for statuses.
    pub badge: Option<String>,
    pub href: Option<String>,
    /// A moment: shown relative, exact on hover, in the viewer's zone.
    pub time: Option<Ts>,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            ..Cell::default()
        }
    }

    pub fn badge(text: impl Into<String>, class: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            badge: Some(class.into()),
            ..Cell::default()
        }
    }

    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            href: Some(href.into()),
            ..Cell::default()
        }
    }

    pub fn yes_no(value: bool) -> Cell {
        Cell::badge(if value { "yes" } else { "no" }, if value { "yes" } else { "no" })
    }

    pub fn when(ts: Option<Ts>) -> Cell {
        Cell {
            time: ts,
            ..Cell::text(ts.map(|t| t.to_string()).unwrap_or_else(|| "—".to_owned()))
        }
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub cells: Vec<Cell>,
}

impl Row {
    /// What the row is called (its first cell), for labels.
    pub fn label(&self) -> &str {
        self.cells.first().map_or("", |c| c.text.as_str())
    }

    /// The cells after the first (which links to the object).
    pub fn rest(&self) -> &[Cell] {
        self.cells.get(1..).unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub enum InputKind {
    Text,
    Email,
    /// Never shown again: a form with errors comes back with it empty.
    Password,
    Number,
    Date,
    Textarea,
    Select(Vec<(String, String)>),
    Checkbox,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: InputKind,
    pub value: String,
    pub readonly: bool,
    pub hint: String,
}

impl Field {
    pub fn new(name: &'static str, label: &'static str, kind: InputKind, value: impl Into<String>) -> Field {
        Field {
            name,
            label,
            kind,
            value: value.into(),
            readonly: false,
            hint: String::new(),
        }
    }

    pub fn readonly(mut self, readonly: bool) -> Field {
        self.readonly = readonly;
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Field {
        self.hint = hint.into();
        self
    }

    pub fn checked(&self) -> bool {
        self.value == "true"
    }

    pub fn input_type(&self) -> &'static str {
        match self.kind {
            InputKind::Text => "text",
            InputKind::Email => "email",
            InputKind::Password => "password",
            InputKind::Number => "number",
            InputKind::Date => "date",
            InputKind::Textarea => "textarea",
            InputKind::Select(_) => "select",
            InputKind::Checkbox => "checkbox",
        }
    }

    pub fn options(&self) -> &[(String, String)] {
        match &self.kind {
            InputKind::Select(options) => options,
            _ => &[],
        }
    }
}

/// Objects shown on their parent's change page.
#[derive(Debug, Clone)]
pub struct Related {
    pub title: String,
    pub model: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Row>,
    /// All of them (only the first few are listed).
    pub total: i64,
    /// The parent's filter on the related model's list, to see them all.
    pub list_query: String,
}

impl Related {
    /// A row's cells after the first, each with its column's name.
    pub fn labelled<'a>(&self, row: &'a Row) -> Vec<(&'static str, &'a Cell)> {
        self.columns.iter().skip(1).copied().zip(row.rest()).collect()
    }
}

/// What the change page shows: the form and what cannot be edited.
#[derive(Debug, Clone)]
pub struct Detail {
    pub repr: String,
    pub fields: Vec<Field>,
    pub facts: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, Copy)]
pub struct BulkAction {
    pub key: &'static str,
    pub label: &'static str,
}

/// A button on one row of a list (an invitation's Resend, say): a POST to
/// `path`, from the list's own form (so it carries the CSRF token).
#[derive(Debug, Clone)]
pub struct RowAction {
    pub label: &'static str,
    pub path: String,
    pub danger: bool,
}

/// What a bulk action did: audit entries, a message per object it skipped,
/// and the invitations whose email it queued (in its own transaction: the
/// job makes the new link).
#[derive(Debug, Default)]
pub struct BulkOutcome {
    pub entries: Vec<Entry>,
    pub skipped: Vec<String>,
    pub mails: Vec<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("not found")]
    NotFound,
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    /// Anything else that went wrong (hashing a password, say).
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

pub type StaffResult<T> = Result<T, StaffError>;

/// The bulk "delete" of a model whose objects are deleted one by one with
/// [`StaffModel::delete`]. An object already gone (a reply whose parent was
/// in the same selection, a drawing of a deleted comment) is passed over.
pub fn bulk_delete(
    model: &dyn StaffModel,
    conn: &mut DbConn,
    action: &str,
    ids: &[String],
    actor: &CurrentUser,
) -> StaffResult<BulkOutcome> {
    if action != "delete" {
        return Err(StaffError::Refused(format!("Unknown action “{action}”.")));
    }
    let mut outcome = BulkOutcome::default();
    for id in ids {
        match model.delete(conn, id, actor) {
            Ok(mut entry) => {
                entry.action = "bulk_delete".into();
                outcome.entries.push(entry);
            }
            Err(StaffError::NotFound) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(outcome)
}

/// One model on the staff pages.
pub trait StaffModel: Sync {
    /// In URLs and audit entries: `users`, `videos`, ...
    fn slug(&self) -> &'static str;
    fn plural(&self) -> &'static str;
    fn singular(&self) -> &'static str;
    fn columns(&self) -> &'static [ListColumn];
    /// What the search box looks in, for its hint.
    fn search_hint(&self) -> &'static str;
    fn filters(&self, conn: &mut DbConn) -> diesel::QueryResult<Vec<FilterSpec>>;
    /// A page of rows and how many match in all.
    fn list(&self, conn: &mut DbConn, params: &ListParams) -> diesel::QueryResult<(Vec<Row>, i64)>;
    fn detail(&self, conn: &mut DbConn, id: &str, actor: &CurrentUser) -> StaffResult<Detail>;
    /// Saves the form; the audit entry of the change is returned (the
    /// caller records it in the same transaction).
    ///
    /// By default, a read-only model (no fields: drawings, voice-overs,
    /// exports are their authors'): nothing changes, and the entry names
    /// the object as it is.
    fn save(&self, conn: &mut DbConn, id: &str, actor: &CurrentUser, _input: &Input) -> StaffResult<Entry> {
        let detail = self.detail(conn, id, actor)?;
        Ok(Entry::new(
            "change",
            self.slug(),
            parse_id::<crate::db::Id>(id)?,
            detail.repr,
        ))
    }
    /// Objects shown under this one; by default none.
    fn related(&self, _conn: &mut DbConn, _id: &str) -> diesel::QueryResult<Vec<Related>> {
        Ok(Vec::new())
    }
    /// Everything a delete takes with it, one line each.
    fn delete_preview(&self, conn: &mut DbConn, id: &str) -> StaffResult<Vec<String>>;
    fn delete(&self, conn: &mut DbConn, id: &str, actor: &CurrentUser) -> StaffResult<Entry>;
    /// Files under the media folder that the delete makes unused (removed
    /// once the delete has committed).
    fn stored_files(&self, conn: &mut DbConn, id: &str) -> StaffResult<Vec<String>> {
        let _ = (conn, id);
        Ok(Vec::new())
    }
    fn bulk_actions(&self) -> &'static [BulkAction] {
        &[]
    }
    /// Bulk actions that also stand as buttons on an object's own page
    /// (a video's Reprocess): run on that one object.
    fn object_bulk_actions(&self) -> &'static [BulkAction] {
        &[]
    }
    /// Buttons for one row of the list (the model reads its own cells).
    fn row_actions(&self, row: &Row) -> Vec<RowAction> {
        let _ = row;
        Vec::new()
    }
    /// Whether the staff pages add this model's objects; others are made
    /// elsewhere (uploads, invitations, the practice thread).
    fn can_add(&self) -> bool {
        false
    }
    /// The fields of the "add" form, empty.
    fn add_fields(&self, conn: &mut DbConn, actor: &CurrentUser) -> diesel::QueryResult<Vec<Field>> {
        let _ = (conn, actor);
        Ok(Vec::new())
    }
    /// A sentence above the add form.
    fn add_lead(&self) -> &'static str {
        ""
    }
    /// Makes an object from the add form: its id and the audit entry (the
    /// caller records it in the same transaction).
    fn create(&self, conn: &mut DbConn, actor: &CurrentUser, input: &Input) -> StaffResult<(String, Entry)> {
        let _ = (conn, actor, input);
        Err(StaffError::Refused(format!("{} are not added here.", self.plural())))
    }
    /// Extra input some bulk actions need (a role to change to).
    fn bulk_role_choice(&self) -> bool {
        false
    }
    fn bulk(
        &self,
        conn: &mut DbConn,
        action: &str,
        ids: &[String],
        actor: &CurrentUser,
        input: &Input,
    ) -> StaffResult<BulkOutcome> {
        let _ = (conn, ids, actor, input);
        Err(StaffError::Refused(format!("Unknown action “{action}”.")))
    }
    /// Buttons on an object's change page besides Save and Delete; each
    /// posts to `/staff/{model}/{id}/actions/{key}`.
    fn object_actions(&self, _conn: &mut DbConn, _id: &str, _actor: &CurrentUser) -> StaffResult<Vec<ObjectAction>> {
        Ok(Vec::new())
    }
    /// Runs one of [`StaffModel::object_actions`]: its audit entry and the
    /// message for the page.
    fn run_object_action(
        &self,
        _conn: &mut DbConn,
        _id: &str,
        _key: &str,
        _actor: &CurrentUser,
    ) -> StaffResult<(Entry, String)> {
        Err(StaffError::NotFound)
    }
}

/// A button on a change page (see [`StaffModel::object_actions`]).
#[derive(Debug, Clone)]
pub struct ObjectAction {
    pub key: &'static str,
    pub label: &'static str,
    /// What pressing it does, shown beside it.
    pub hint: String,
}

/// The object's page.
pub fn href(slug: &str, id: &str) -> String {
    format!("/staff/{slug}/{}", urlencode(id))
}

pub fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Cuts long text for a table cell.
pub fn excerpt(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

/// Whether a string is a valid date for a form field.
pub fn parse_date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok()
}

/// Orders a boxed query by the whitelisted sort key (already checked by
/// [`ListParams::parse`]), or by the model's default order.
macro_rules! sorted {
    ($query:expr, $params:expr, $default:expr, { $($key:literal => $col:expr),* $(,)? }) => {{
        let query = $query;
        match ($params.sort, $params.desc) {
            $(
                (Some($key), false) => query.order($col.asc()),
                (Some($key), true) => query.order($col.desc()),
            )*
            _ => query.order($default),
        }
    }};
}
pub(crate) use sorted;

/// Parses an id from a URL; a malformed one is simply not found.
pub fn parse_id<T: std::str::FromStr>(id: &str) -> StaffResult<T> {
    id.parse().map_err(|_| StaffError::NotFound)
}

/// `Ok(None)` from a lookup is a 404.
pub fn found<T>(value: diesel::QueryResult<Option<T>>) -> StaffResult<T> {
    value?.ok_or(StaffError::NotFound)
}
