use askama::Template;

use super::audit::Logged;
use super::model::{
    BulkAction, Detail, FilterSpec, Input, ListColumn, ListParams, ObjectAction, Related, Row, StaffError, StaffModel,
    StaffResult, PER_PAGE,
};
use crate::accounts::forms::{FieldErrors, InviteForm};
use crate::accounts::invitations::Role;
use crate::db::DbConn;
use crate::jobs::Job;
use crate::web::auth::CurrentUser;
use crate::web::page::PageCtx;
use crate::web::paging;

/// The staff navigation: every model's list.
pub struct NavItem {
    pub slug: &'static str,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "staff/dashboard.html")]
pub struct DashboardPage {
    pub ctx: PageCtx,
    pub nav: Vec<NavItem>,
    pub counts: Vec<(String, Vec<(String, i64)>)>,
    pub recent: Vec<Logged>,
    pub failed_jobs: Vec<Job>,
    pub ffmpeg_missing: bool,
    pub disk: DiskSpace,
}

/// Free space on the disk that holds the media (the dashboard's card).
pub struct DiskSpace {
    /// "12.3 GB", or why it could not be measured.
    pub free: String,
    /// Below the warning level (`PRACTIKA_DISK_WARN_MB`).
    pub low: bool,
    /// Below the reserve (`PRACTIKA_DISK_RESERVE_MB`): uploads are refused.
    pub full: bool,
    pub warn_at: String,
    pub reserve: String,
}

/// The invitation form on the invitations list.
pub struct InviteSection {
    pub form: InviteForm,
    pub errors: FieldErrors,
    pub roles: [Role; 3],
}

#[derive(Template)]
#[template(path = "staff/list.html")]
pub struct ListPage {
    pub ctx: PageCtx,
    pub nav: Vec<NavItem>,
    pub slug: &'static str,
    pub title: &'static str,
    pub singular: &'static str,
    pub search_hint: &'static str,
    pub columns: &'static [ListColumn],
    pub filters: Vec<FilterSpec>,
    pub params: ListParams,
    pub problems: Vec<String>,
    pub rows: Vec<Row>,
    pub total: i64,
    pub actions: &'static [BulkAction],
    /// Each row's own buttons, in the order of `rows`.
    pub row_actions: Vec<Vec<super::model::RowAction>>,
    pub can_add: bool,
    pub role_choice: Vec<String>,
    pub invite: Option<InviteSection>,
}

impl ListPage {
    /// The query string of this list with some keys replaced.
    fn query_with(&self, changes: &[(&str, String)]) -> String {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if !self.params.q.is_empty() {
            pairs.push(("q".into(), self.params.q.clone()));
        }
        for (k, v) in &self.params.raw {
            pairs.push((k.clone(), v.clone()));
        }
        if let Some(sort) = self.params.sort {
            pairs.push(("sort".into(), sort.to_owned()));
            pairs.push(("dir".into(), if self.params.desc { "desc" } else { "asc" }.into()));
        }
        if self.params.page > 1 {
            pairs.push(("page".into(), self.params.page.to_string()));
        }
        for (key, value) in changes {
            pairs.retain(|(k, _)| k != key);
            if !value.is_empty() {
                pairs.push((key.to_string(), value.clone()));
            }
        }
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &pairs {
            serializer.append_pair(k, v);
        }
        let query = serializer.finish();
        if query.is_empty() {
            format!("/staff/{}", self.slug)
        } else {
            format!("/staff/{}?{query}", self.slug)
        }
    }

    pub fn sort_url(&self, key: &str) -> String {
        let desc = self.params.sort == Some(key) && !self.params.desc;
        self.query_with(&[
            ("sort", key.to_owned()),
            ("dir", if desc { "desc" } else { "asc" }.to_owned()),
            ("page", String::new()),
        ])
    }

    pub fn aria_sort(&self, key: &str) -> &'static str {
        match (self.params.sort == Some(key), self.params.desc) {
            (true, false) => "ascending",
            (true, true) => "descending",
            _ => "none",
        }
    }

    pub fn page_url(&self, page: impl std::borrow::Borrow<i64>) -> String {
        self.query_with(&[("page", page.borrow().to_string())])
    }

    pub fn pages(&self) -> i64 {
        ((self.total + PER_PAGE - 1) / PER_PAGE).max(1)
    }

    pub fn first_shown(&self) -> i64 {
        if self.total == 0 {
            0
        } else {
            self.params.offset() + 1
        }
    }

    pub fn last_shown(&self) -> i64 {
        self.params.offset() + self.rows.len() as i64
    }

    pub fn raw(&self, key: &str) -> String {
        self.params.raw.get(key).cloned().unwrap_or_default()
    }

    /// Whether any row has buttons of its own (the list gets a column).
    pub fn has_row_actions(&self) -> bool {
        self.row_actions.iter().any(|a| !a.is_empty())
    }

    /// A row's cells after the first, each with its column's name (shown
    /// beside it when the table is stacked on a phone).
    pub fn labelled<'a>(&self, row: &'a Row) -> Vec<(&'static str, &'a super::model::Cell)> {
        self.columns.iter().skip(1).map(|c| c.label).zip(row.rest()).collect()
    }

    /// Each row with its own buttons.
    pub fn rows_with_actions(&self) -> Vec<(&Row, &[super::model::RowAction])> {
        self.rows
            .iter()
            .enumerate()
            .map(|(i, row)| (row, self.row_actions.get(i).map(Vec::as_slice).unwrap_or_default()))
            .collect()
    }

    pub fn filtered(&self) -> bool {
        !self.params.q.is_empty() || !self.params.raw.is_empty()
    }
}

#[derive(Template)]
#[template(path = "staff/change.html")]
pub struct ChangePage {
    pub ctx: PageCtx,
    pub nav: Vec<NavItem>,
    pub slug: &'static str,
    pub title: &'static str,
    pub singular: &'static str,
    pub id: String,
    pub detail: Detail,
    pub errors: FieldErrors,
    pub related: Vec<Related>,
    /// Bulk actions offered as buttons for this one object.
    pub bulk_actions: &'static [BulkAction],
    /// The object's own buttons (ending a user's sessions).
    pub actions: Vec<ObjectAction>,
}

#[derive(Template)]
#[template(path = "staff/delete.html")]
pub struct DeletePage {
    pub ctx: PageCtx,
    pub nav: Vec<NavItem>,
    pub slug: &'static str,
    pub title: &'static str,
    pub singular: &'static str,
    pub id: String,
    pub repr: String,
    pub consequences: Vec<String>,
}

#[derive(Template)]
#[template(path = "staff/history.html")]
pub struct HistoryPage {
    pub ctx: PageCtx,
    pub nav: Vec<NavItem>,
    pub slug: &'static str,
    pub title: &'static str,
    pub id: String,
    pub repr: String,
    pub entries: Vec<Logged>,
}

/// Bulk deletes ask first, like single ones: what is selected and what goes with it.
#[derive(Template)]
#[template(path = "staff/bulk_confirm.html")]
pub struct BulkConfirmPage {
    pub ctx: PageCtx,
    pub nav: Vec<NavItem>,
    pub slug: &'static str,
    pub title: &'static str,
    pub action: String,
    pub back: String,
    pub ids: Vec<String>,
    /// Each selected object's name and what its delete takes with it.
    pub items: Vec<(String, Vec<String>)>,
}

#[derive(Template)]
#[template(path = "staff/add.html")]
pub struct AddPage {
    pub ctx: PageCtx,
    pub nav: Vec<NavItem>,
    pub slug: &'static str,
    pub title: &'static str,
    pub singular: &'static str,
    pub lead: &'static str,
    pub fields: Vec<super::model::Field>,
    pub errors: FieldErrors,
}

/// The whole audit log, searched.
#[derive(Template)]
#[template(path = "staff/audit.html")]
pub struct AuditLogPage {
    pub ctx: PageCtx,
    pub nav: Vec<NavItem>,
    /// (slug, title) of every model, for the filter.
    pub models: Vec<(&'static str, &'static str)>,
    pub staff: Vec<(i32, String)>,
    pub typed: super::log::Typed,
    pub problems: Vec<String>,
    /// The entries of this page (the name `entries.html` expects).
    pub recent: Vec<Logged>,
    /// The link to older entries, if there are any.
    pub next: Option<String>,
    /// Whether this is a later page (a link back to the newest).
    pub paged: bool,
}

impl AuditLogPage {
    pub fn actor_chosen(&self, id: &i32) -> bool {
        self.typed.actor == id.to_string()
    }
}

impl ListPage {
    /// A model's list: its filters, a page of rows and the total. A page
    /// number past the end shows the last page, and says so.
    pub fn load(
        conn: &mut DbConn,
        ctx: PageCtx,
        model: &'static dyn StaffModel,
        input: &Input,
        invite: Option<InviteSection>,
    ) -> diesel::QueryResult<Self> {
        let filters = model.filters(conn)?;
        let (mut params, mut problems) = ListParams::parse(input, model.columns(), &filters);
        let (mut rows, mut total) = model.list(conn, &params)?;
        let last_page = paging::last_page(total, PER_PAGE);
        if params.page > last_page {
            problems.push(format!("There are only {last_page} page(s); here is the last."));
            params.page = last_page;
            (rows, total) = model.list(conn, &params)?;
        }
        let role_choice = if model.bulk_role_choice() {
            super::models::users::roles(conn)?
                .into_iter()
                .map(|(_, name)| name)
                .collect()
        } else {
            Vec::new()
        };
        Ok(ListPage {
            ctx,
            nav: super::handlers::nav(),
            slug: model.slug(),
            title: model.plural(),
            singular: model.singular(),
            search_hint: model.search_hint(),
            columns: model.columns(),
            filters,
            params,
            problems,
            row_actions: rows.iter().map(|row| model.row_actions(row)).collect(),
            rows,
            total,
            actions: model.bulk_actions(),
            can_add: model.can_add(),
            role_choice,
            invite,
        })
    }
}

impl ChangePage {
    /// An object's change form with its related objects and buttons; shown
    /// again (422) with the values as typed and the errors.
    pub fn load(
        conn: &mut DbConn,
        ctx: PageCtx,
        model: &'static dyn StaffModel,
        actor: &CurrentUser,
        id: String,
        errors: FieldErrors,
        typed: Option<Input>,
    ) -> StaffResult<Self> {
        let mut detail = model.detail(conn, &id, actor)?;
        let related = model.related(conn, &id).map_err(StaffError::from)?;
        let actions = model.object_actions(conn, &id, actor)?;
        if let Some(typed) = typed {
            for field in &mut detail.fields {
                if field.readonly {
                    continue;
                }
                field.value = match field.kind {
                    super::model::InputKind::Checkbox => typed.checkbox(field.name).unwrap_or(false).to_string(),
                    _ => typed.get(field.name).unwrap_or_default().to_owned(),
                };
            }
        }
        Ok(ChangePage {
            ctx,
            nav: super::handlers::nav(),
            slug: model.slug(),
            title: model.plural(),
            singular: model.singular(),
            id,
            detail,
            errors,
            related,
            bulk_actions: model.object_bulk_actions(),
            actions,
        })
    }
}
