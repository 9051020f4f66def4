//! Times as people read them: relative ("3 hours ago") in the page, the
//! exact time in the viewer's time zone on hover, rendered on the server so
//! that pages without JavaScript show them too.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use chrono_tz::Tz;

use crate::db::Ts;

/// A moment, ready for `<time datetime="{iso}" title="{exact}">{relative}</time>`.
pub struct When {
    /// RFC 3339 in UTC, for machines.
    pub iso: String,
    /// "Tuesday 1 December 2026, 10:40 CET", in the viewer's zone.
    pub exact: String,
    /// "3 hours ago", "in 2 days", or the date when it is far.
    pub relative: String,
}

pub fn when(at: &Ts, zone: Tz, now: DateTime<Utc>) -> When {
    let local = at.0.with_timezone(&zone);
    When {
        iso: at.0.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        exact: local.format("%A %-d %B %Y, %H:%M %Z").to_string(),
        relative: relative(at.0, zone, now),
    }
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// Within a week: how long ago (or ahead); further: the date in the zone.
fn relative(at: DateTime<Utc>, zone: Tz, now: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds();
    let (ago, span) = (seconds >= 0, seconds.unsigned_abs() as i64);
    let amount = match span {
        0..=44 => return if ago { "just now".into() } else { "in a moment".into() },
        45..=3_599 => plural((span + 30) / 60, "minute"),
        3_600..=86_399 => plural((span + 1_800) / 3_600, "hour"),
        86_400..=604_799 => {
            let days = (span + 43_200) / 86_400;
            if days == 1 {
                return if ago { "yesterday".into() } else { "tomorrow".into() };
            }
            plural(days, "day")
        }
        _ => {
            let local = at.with_timezone(&zone);
            return if local.year() == now.with_timezone(&zone).year() {
                local.format("%-d %b").to_string()
            } else {
                local.format("%-d %b %Y").to_string()
            };
        }
    };
    if ago {
        format!("{amount} ago")
    } else {
        format!("in {amount}")
    }
}

/// A time zone by its IANA name (`Europe/Paris`), as browsers report it.
pub fn parse_zone(name: &str) -> Option<Tz> {
    name.trim().parse::<Tz>().ok()
}

/// Every zone name, for the settings form.
pub fn zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
}

/// `Ts`'s text form (`2026-12-01 09:40 UTC`) read back: staff pages hand
/// some times to the template as text.
pub fn parse_shown(text: &str) -> Option<Ts> {
    let naive = chrono::NaiveDateTime::parse_from_str(text.strip_suffix(" UTC")?, "%Y-%m-%d %H:%M").ok()?;
    Some(Ts(Utc.from_utc_datetime(&naive)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("a time").with_timezone(&Utc)
    }

    #[test]
    fn relative_times_read_as_people_say_them() {
        let now = at("2026-12-01T12:00:00Z");
        let zone: Tz = "Europe/Paris".parse().expect("zone");
        let cases = [
            ("2026-12-01T11:59:40Z", "just now"),
            ("2026-12-01T11:59:00Z", "1 minute ago"),
            ("2026-12-01T11:15:00Z", "45 minutes ago"),
            ("2026-12-01T09:00:00Z", "3 hours ago"),
            ("2026-11-30T10:00:00Z", "yesterday"),
            ("2026-11-27T12:00:00Z", "4 days ago"),
            ("2026-12-04T12:00:00Z", "in 3 days"),
            ("2026-10-02T23:30:00Z", "3 Oct"),
            ("2025-06-01T12:00:00Z", "1 Jun 2025"),
        ];
        for (moment, expected) in cases {
            assert_eq!(relative(at(moment), zone, now), expected, "{moment}");
        }
    }

    #[test]
    fn the_exact_time_is_in_the_viewers_zone() {
        let now = at("2026-12-01T12:00:00Z");
        let ts = Ts(at("2026-12-01T09:40:00Z"));
        let paris = when(&ts, "Europe/Paris".parse().expect("zone"), now);
        assert_eq!(paris.exact, "Tuesday 1 December 2026, 10:40 CET");
        assert_eq!(paris.iso, "2026-12-01T09:40:00Z");
        assert_eq!(paris.relative, "2 hours ago");
        let tokyo = when(&ts, "Asia/Tokyo".parse().expect("zone"), now);
        assert_eq!(tokyo.exact, "Tuesday 1 December 2026, 18:40 JST");
    }

    #[test]
    fn zones_and_shown_times_parse() {
        assert!(parse_zone("America/New_York").is_some());
        assert!(parse_zone("Mars/Olympus").is_none());
        assert!(parse_zone("").is_none());
        let ts = Ts(at("2026-12-01T09:40:00Z"));
        assert_eq!(parse_shown(&ts.to_string()), Some(ts));
        assert_eq!(parse_shown("yesterday"), None);
    }
}
