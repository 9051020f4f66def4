//! Email digests (issue 14, part 5): once a day or once a week, by each
//! user's choice (`digest_preference`; no row: [`Frequency::DEFAULT`]), a
//! summary of what waits for them: for coaches and admins the attempts in
//! their inbox, for everyone the new replies to their comments and the new
//! requests to try again since their last digest. Nothing in it: nothing is
//! sent.
//!
//! A chore of every worker queues each period's job once (`digest_run`,
//! [`queries::queue_due`]); the job walks the active users in batches of
//! [`send::BATCH`] with a fixed number of statements per batch, claims the
//! batch's digests in one statement (`digest_sent`, unique per user and
//! period: two workers, or a job run again after a crash, send a period's
//! digest at most once) and sends them. Every digest carries a signed
//! one-click unsubscribe link (RFC 8058: `List-Unsubscribe` and
//! `List-Unsubscribe-Post`), answered here without a login or a CSRF token
//! (`web::csrf::SIGNED_PATHS`): the signature authenticates it.

pub mod handlers;
pub mod pages;
pub mod queries;
pub mod send;

use actix_web::web;
use chrono::{Datelike, NaiveDate, TimeZone, Utc};

use crate::db::Ts;
use crate::web::get;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/unsubscribe/{user}/{token}", get().to(handlers::confirm))
        .route("/unsubscribe/{user}/{token}", web::post().to(handlers::unsubscribe));
}

/// How often a user gets a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Frequency {
    Daily,
    Weekly,
    Off,
}

impl Frequency {
    /// Weekly: the pace of practice between lessons. It brings waiting
    /// feedback and requests back without adding a daily email to the
    /// per-reply notifications (on by default); daily and off are a choice
    /// away in the settings.
    pub const DEFAULT: Frequency = Frequency::Weekly;
    pub const ALL: [Frequency; 3] = [Frequency::Daily, Frequency::Weekly, Frequency::Off];

    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Off => "off",
        }
    }

    pub fn parse(value: &str) -> Option<Frequency> {
        Frequency::ALL.into_iter().find(|f| f.as_str() == value.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Frequency::Daily => "Daily",
            Frequency::Weekly => "Weekly (on Mondays)",
            Frequency::Off => "Off",
        }
    }
}

/// Digests go out from this hour (UTC) of the day, and for weekly ones of
/// Monday.
pub const SEND_HOUR_UTC: u32 = 7;

/// One digest period: daily digests have one a day, weekly ones one a
/// week, each starting at [`SEND_HOUR_UTC`]. Its key (`d2026-12-03`,
/// `w2026-11-30` for the week starting that Monday) is what `digest_sent`
/// and `digest_run` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub frequency: Frequency,
    /// The first day of the period.
    pub day: NaiveDate,
}

impl Period {
    /// The period of `frequency` that `now` is in (`None` for off).
    pub fn current(frequency: Frequency, now: Ts) -> Option<Period> {
        let shifted = (now.0 - chrono::Duration::hours(i64::from(SEND_HOUR_UTC))).date_naive();
        let day = match frequency {
            Frequency::Daily => shifted,
            Frequency::Weekly => shifted - chrono::Duration::days(i64::from(shifted.weekday().num_days_from_monday())),
            Frequency::Off => return None,
        };
        Some(Period { frequency, day })
    }

    pub fn key(&self) -> String {
        let prefix = if self.frequency == Frequency::Daily { 'd' } else { 'w' };
        format!("{prefix}{}", self.day.format("%Y-%m-%d"))
    }

    pub fn parse(key: &str) -> Option<Period> {
        let frequency = match key.get(..1)? {
            "d" => Frequency::Daily,
            "w" => Frequency::Weekly,
            _ => return None,
        };
        let day = NaiveDate::parse_from_str(key.get(1..)?, "%Y-%m-%d").ok()?;
        if frequency == Frequency::Weekly && day.weekday() != chrono::Weekday::Mon {
            return None;
        }
        let period = Period { frequency, day };
        (period.key() == key).then_some(period)
    }

    pub fn length(&self) -> chrono::Duration {
        match self.frequency {
            Frequency::Weekly => chrono::Duration::days(7),
            _ => chrono::Duration::days(1),
        }
    }

    pub fn start(&self) -> Ts {
        let midnight = self.day.and_hms_opt(SEND_HOUR_UTC, 0, 0).unwrap_or_default();
        Ts(Utc.from_utc_datetime(&midnight))
    }

    /// Where "new since your last digest" starts for someone who had none
    /// (or none lately): one period before this one began.
    pub fn floor(&self) -> Ts {
        Ts(self.start().0 - self.length())
    }
}

/// The digests' background work: the chore that queues each period's job,
/// the job, and the pruning of old records.
pub fn register_jobs(registry: &mut crate::jobs::Registry) {
    send::register_jobs(registry);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Ts {
        Ts(chrono::DateTime::parse_from_rfc3339(text)
            .expect("time")
            .with_timezone(&Utc))
    }

    #[test]
    fn periods_start_at_the_send_hour_and_weeks_on_monday() {
        // Thursday 3 December 2026, 08:00 UTC.
        let now = at("2026-12-03T08:00:00Z");
        let daily = Period::current(Frequency::Daily, now).expect("daily");
        assert_eq!(daily.key(), "d2026-12-03");
        assert_eq!(daily.start(), at("2026-12-03T07:00:00Z"));
        assert_eq!(daily.floor(), at("2026-12-02T07:00:00Z"));
        let weekly = Period::current(Frequency::Weekly, now).expect("weekly");
        assert_eq!(weekly.key(), "w2026-11-30");
        assert_eq!(weekly.floor(), at("2026-11-23T07:00:00Z"));
        // Before the hour it is still yesterday's (and last week's on a Monday).
        let early = at("2026-11-30T06:59:00Z");
        assert_eq!(
            Period::current(Frequency::Daily, early).expect("d").key(),
            "d2026-11-29"
        );
        assert_eq!(
            Period::current(Frequency::Weekly, early).expect("w").key(),
            "w2026-11-23"
        );
        assert_eq!(Period::current(Frequency::Off, now), None);
        for period in [daily, weekly] {
            assert_eq!(Period::parse(&period.key()), Some(period.clone()));
        }
        for bad in [
            "",
            "x2026-12-03",
            "d2026-13-01",
            "d2026-12-3",
            "w2026-12-03",
            "w2026-11-30x",
        ] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
        assert_eq!(Frequency::parse("weekly"), Some(Frequency::Weekly));
        assert_eq!(Frequency::parse("hourly"), None);
    }
}
