//! Site-wide settings that staff change at run time (`staff_sitesetting`,
//! one row per name): read by the areas that use them, written by the staff
//! settings page in one transaction with its audit entry.

use diesel::prelude::*;

use crate::db::schema::staff_sitesetting;
use crate::db::{DbConn, Ts};

/// The default storage quota per user, in MiB ('' for none).
pub const DEFAULT_QUOTA: &str = "default_storage_quota_mb";

pub fn get(conn: &mut DbConn, name: &str) -> QueryResult<Option<String>> {
    staff_sitesetting::table
        .find(name)
        .select(staff_sitesetting::value)
        .first(conn)
        .optional()
}

/// Sets `name` to `value`; returns the value it had.
pub fn set(conn: &mut DbConn, name: &str, value: &str) -> QueryResult<Option<String>> {
    conn.transaction(|c| {
        let old = get(c, name)?;
        let now = Ts::now();
        if old.is_some() {
            diesel::update(staff_sitesetting::table.find(name))
                .set((
                    staff_sitesetting::value.eq(value),
                    staff_sitesetting::updated_at.eq(now),
                ))
                .execute(c)?;
        } else {
            diesel::insert_into(staff_sitesetting::table)
                .values((
                    staff_sitesetting::name.eq(name),
                    staff_sitesetting::value.eq(value),
                    staff_sitesetting::updated_at.eq(now),
                ))
                .execute(c)?;
        }
        Ok(old)
    })
}

// ---------------------------------------------------------------- the page

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::audit::{self, Entry};
use super::handlers::nav;
use super::model::Input;
use super::pages::NavItem;
use crate::db;
use crate::error::AppResult;
use crate::startup::AppState;
use crate::web::auth::StaffUser;
use crate::web::page::{flash, render, render_status, Level, PageCtx};
use crate::web::see_other;

#[derive(Template)]
#[template(path = "staff/settings.html")]
pub struct SettingsPage {
    pub ctx: PageCtx,
    pub nav: Vec<NavItem>,
    /// The default quota as typed (MiB, empty for none).
    pub default_quota: String,
    /// What applies while no one has set it here.
    pub env_default: String,
    pub error: Option<String>,
}

fn env_default(state: &AppState) -> String {
    match state.settings.default_quota_bytes {
        0 => "no quota".to_owned(),
        bytes => crate::videos::handlers::mib(bytes),
    }
}

/// `GET /staff/settings`: the site-wide settings (the default storage quota).
pub async fn show(ctx: PageCtx, _staff: StaffUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let value = db::run(&state.pool, |c| get(c, DEFAULT_QUOTA)).await?;
    let default_quota = match value {
        Some(value) => value,
        None => match state.settings.default_quota_bytes {
            0 => String::new(),
            bytes => (bytes / (1024 * 1024)).to_string(),
        },
    };
    render(&SettingsPage {
        ctx,
        nav: nav(),
        default_quota,
        env_default: env_default(&state),
        error: None,
    })
}

/// `POST /staff/settings`: saved with its audit entry in one transaction.
pub async fn save(
    req: HttpRequest,
    ctx: PageCtx,
    staff: StaffUser,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let input = Input::parse(&body);
    let typed = input.text("default_storage_quota_mb");
    let quota = match crate::videos::quota::parse_quota_mb(&typed) {
        Ok(quota) => quota,
        Err(message) => {
            let page = SettingsPage {
                ctx,
                nav: nav(),
                default_quota: typed,
                env_default: env_default(&state),
                error: Some(message),
            };
            return render_status(actix_web::http::StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let value = quota.map(|mb| mb.to_string()).unwrap_or_default();
    let actor = staff.0.id;
    db::run(&state.pool, move |c| {
        db::write_transaction(c, |c| {
            let old = set(c, DEFAULT_QUOTA, &value)?;
            if old.as_deref() != Some(value.as_str()) {
                let entry = Entry::new("change", "settings", DEFAULT_QUOTA, "Default storage quota").change(
                    DEFAULT_QUOTA,
                    old.unwrap_or_default(),
                    value.clone(),
                );
                audit::record(c, actor, &[entry])?;
            }
            Ok::<_, diesel::result::Error>(())
        })
    })
    .await?;
    flash(&req, Level::Success, "The settings are saved.");
    Ok(see_other("/staff/settings"))
}
