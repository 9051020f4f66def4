//! Storage quotas: how much a user's videos may take. A user's own quota
//! (`accounts_profile.storage_quota_mb`, set by staff on the user's page)
//! wins; otherwise the site's default (`/staff/settings`), and until an
//! admin sets one, `PRACTIKA_STORAGE_QUOTA_MB` (0: no quota).
//!
//! Usage is summed from the rows each time it is needed (`core_videoasset`
//! by its uploader index, `comments_voiceover` by its owner's, plus the
//! declared lengths of unfinished resumable uploads): right whoever writes
//! the rows, with no counter to drift.

use diesel::prelude::*;

use super::queries;
use crate::db::schema::accounts_profile;
use crate::db::{DbConn, Ts};
use crate::staff::settings;

const MIB: u64 = 1024 * 1024;

/// A user's storage: used (stored videos), promised (uploads in progress)
/// and the quota, in bytes (`None`: no quota).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub stored: u64,
    pub pending: u64,
    pub quota: Option<u64>,
}

impl Usage {
    pub fn used(&self) -> u64 {
        self.stored.saturating_add(self.pending)
    }

    /// Whether `more` bytes still fit.
    pub fn fits(&self, more: u64) -> bool {
        self.quota.is_none_or(|quota| self.used().saturating_add(more) <= quota)
    }

    /// Percentage of the quota used, for the meter (0–100).
    pub fn percent(&self) -> u64 {
        match self.quota {
            Some(0) => 100,
            Some(quota) => (self.used().saturating_mul(100) / quota).min(100),
            None => 0,
        }
    }
}

/// The site's default quota in bytes: the staff setting if an admin has set
/// it (empty: none), otherwise `env_default` (0: none).
pub fn default_quota(conn: &mut DbConn, env_default: u64) -> QueryResult<Option<u64>> {
    Ok(match settings::get(conn, settings::DEFAULT_QUOTA)? {
        Some(value) => value.trim().parse::<u64>().ok().map(|mb| mb.saturating_mul(MIB)),
        None => (env_default > 0).then_some(env_default),
    })
}

/// The quota that applies to `user_id` in bytes, `None` for none.
pub fn quota_of(conn: &mut DbConn, user_id: i32, env_default: u64) -> QueryResult<Option<u64>> {
    match own_quota_mb(conn, user_id)? {
        Some(mb) => Ok(Some((mb.max(0) as u64).saturating_mul(MIB))),
        None => default_quota(conn, env_default),
    }
}

/// The user's own quota in MiB (`None`: the default applies).
pub fn own_quota_mb(conn: &mut DbConn, user_id: i32) -> QueryResult<Option<i64>> {
    Ok(accounts_profile::table
        .filter(accounts_profile::user_id.eq(user_id))
        .select(accounts_profile::storage_quota_mb)
        .first::<Option<i64>>(conn)
        .optional()?
        .flatten())
}

/// Sets (or clears) the user's own quota; `false` when they have no profile.
pub fn set_own_quota_mb(conn: &mut DbConn, user_id: i32, mb: Option<i64>) -> QueryResult<bool> {
    diesel::update(accounts_profile::table.filter(accounts_profile::user_id.eq(user_id)))
        .set(accounts_profile::storage_quota_mb.eq(mb))
        .execute(conn)
        .map(|n| n > 0)
}

/// The most a quota field takes: a pebibyte.
const MAX_QUOTA_MB: i64 = 1 << 30;

/// A quota typed into a staff form: empty for none (or the default), or a
/// whole number of MiB.
pub fn parse_quota_mb(raw: &str) -> Result<Option<i64>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    match raw.parse::<i64>() {
        Ok(mb) if (0..=MAX_QUOTA_MB).contains(&mb) => Ok(Some(mb)),
        _ => Err(format!(
            "Give a whole number of MiB from 0 to {MAX_QUOTA_MB}, or leave it empty."
        )),
    }
}

pub fn usage(conn: &mut DbConn, user_id: i32, env_default: u64) -> QueryResult<Usage> {
    let (stored, pending) = queries::storage_used(conn, user_id, Ts::now())?;
    Ok(Usage {
        stored: stored.max(0) as u64,
        pending: pending.max(0) as u64,
        quota: quota_of(conn, user_id, env_default)?,
    })
}

#[cfg(test)]
mod tests {
    use super::Usage;

    #[test]
    fn what_fits_counts_uploads_in_progress() {
        let usage = Usage {
            stored: 60,
            pending: 30,
            quota: Some(100),
        };
        assert!(usage.fits(10));
        assert!(!usage.fits(11));
        assert_eq!(usage.percent(), 90);
        let free = Usage { quota: None, ..usage };
        assert!(free.fits(u64::MAX));
    }
}
