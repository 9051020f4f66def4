//! The audit log page (`/staff/audit`): every staff action, searchable by
//! staff member, model, date and words, newest first; each object's own
//! history page is a filter of it.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, TimeZone};

use super::audit::{self, Search};
use super::handlers::nav;
use super::model::{like_pattern, Input};
use super::models;
use super::pages::AuditLogPage;
use crate::db::{self, Ts};
use crate::error::AppResult;
use crate::startup::AppState;
use crate::web::auth::StaffUser;
use crate::web::page::{render, PageCtx};

/// The search as typed, shown again in the form and carried by the links.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    pub actor: String,
    pub model: String,
    pub from: String,
    pub to: String,
    pub q: String,
}

impl Typed {
    fn read(input: &Input) -> Typed {
        Typed {
            actor: input.text("actor"),
            model: input.text("model"),
            from: input.text("from"),
            to: input.text("to"),
            q: input.text("q"),
        }
    }

    /// The query string of this search (for the next page's link).
    pub fn query(&self) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("actor", &self.actor),
            ("model", &self.model),
            ("from", &self.from),
            ("to", &self.to),
            ("q", &self.q),
        ] {
            if !value.is_empty() {
                out.append_pair(key, value);
            }
        }
        out.finish()
    }

    pub fn is_empty(&self) -> bool {
        self.query().is_empty()
    }
}

/// The day's start in the viewer's zone (the dates they typed are theirs).
fn day_start(date: NaiveDate, zone: chrono_tz::Tz) -> Option<Ts> {
    let midnight = date.and_hms_opt(0, 0, 0)?;
    zone.from_local_datetime(&midnight)
        .earliest()
        .map(|t| Ts(t.with_timezone(&chrono::Utc)))
}

/// Checks the typed search; what does not fit is left out and reported.
fn parse(typed: &Typed, older_than: Option<&str>, zone: chrono_tz::Tz) -> (Search, Vec<String>) {
    let mut problems = Vec::new();
    let mut search = Search {
        pattern: like_pattern(&typed.q),
        ..Search::default()
    };
    if !typed.actor.is_empty() {
        match typed.actor.parse::<i32>() {
            Ok(id) => search.actor = Some(id),
            Err(_) => problems.push(format!("“{}” is not a staff member.", typed.actor)),
        }
    }
    if !typed.model.is_empty() {
        if models::find(&typed.model).is_some() {
            search.object_type = Some(typed.model.clone());
        } else {
            problems.push(format!("“{}” is not one of the staff pages.", typed.model));
        }
    }
    for (value, slot, next_day) in [
        (&typed.from, &mut search.since, false),
        (&typed.to, &mut search.until, true),
    ] {
        if value.is_empty() {
            continue;
        }
        match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
            Ok(date) => {
                let day = if next_day { date.succ_opt() } else { Some(date) };
                *slot = day.and_then(|d| day_start(d, zone));
            }
            Err(_) => problems.push(format!("“{value}” is not a date (use YYYY-MM-DD).")),
        }
    }
    if let Some(cursor) = older_than.filter(|c| !c.is_empty()) {
        match cursor.parse::<i64>() {
            Ok(id) => search.older_than = Some(id),
            Err(_) => problems.push("That page of the log does not exist; here are the newest entries.".to_owned()),
        }
    }
    (search, problems)
}

pub async fn audit_log(
    req: HttpRequest,
    ctx: PageCtx,
    _staff: StaffUser,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let input = Input::parse(req.query_string().as_bytes());
    let typed = Typed::read(&input);
    let zone = ctx.zone.unwrap_or(chrono_tz::UTC);
    let (search, problems) = parse(&typed, input.get("before"), zone);
    let paged = search.older_than.is_some();
    let lookup = search.clone();
    let ((entries, more), staff) = db::run(&state.pool, move |c| {
        Ok::<_, diesel::result::Error>((audit::search(c, &lookup)?, audit::staff_members(c)?))
    })
    .await?;
    let next = more.then(|| {
        let last = entries.last().map_or(0, |e| e.id);
        let query = typed.query();
        if query.is_empty() {
            format!("/staff/audit?before={last}")
        } else {
            format!("/staff/audit?{query}&before={last}")
        }
    });
    render(&AuditLogPage {
        ctx,
        nav: nav(),
        models: models::ALL.iter().map(|m| (m.slug(), m.plural())).collect(),
        staff,
        typed,
        problems,
        recent: entries,
        next,
        paged,
    })
}
