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
