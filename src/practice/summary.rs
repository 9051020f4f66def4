//! What a student's practice log adds up to: time practised, the speeds
//! reached, and streaks of days practised, from the days of the last year
//! (`queries::days`, one bounded statement).

use chrono::{Datelike, NaiveDate};

use super::queries::{Day, DAYS};

/// A year of practice, as the pages show it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Days practised in a row up to today, or up to yesterday while today
    /// has none yet (the streak is not lost before the day ends).
    pub current_streak: u32,
    pub longest_streak: u32,
    pub seconds: i64,
    pub seconds_this_week: i64,
    pub sessions: i64,
    pub loops: i64,
    /// The highest speed reached, if anything was practised.
    pub top_speed: Option<f64>,
    pub days_practised: usize,
    /// Whether today (the student's) has practice yet.
    pub today: bool,
    /// The last days with practice, newest first (at most 7), for a list.
    pub recent: Vec<Day>,
}

/// The first day a summary for `today` reads.
pub fn since(today: NaiveDate) -> NaiveDate {
    today - chrono::Duration::days(DAYS - 1)
}

impl Summary {
    /// From the days practised (any order, each once), on `today` in the
    /// student's zone.
    pub fn of(mut days: Vec<Day>, today: NaiveDate) -> Summary {
        days.retain(|d| d.day <= today && d.day >= since(today));
        days.sort_by_key(|d| std::cmp::Reverse(d.day));
        days.dedup_by(|a, b| a.day == b.day);
        let (current, longest) = streaks(days.iter().map(|d| d.day), today);
        let week_start = today - chrono::Duration::days(i64::from(today.weekday().num_days_from_monday()));
        Summary {
            current_streak: current,
            longest_streak: longest,
            seconds: days.iter().map(|d| d.seconds).sum(),
            seconds_this_week: days.iter().filter(|d| d.day >= week_start).map(|d| d.seconds).sum(),
            sessions: days.iter().map(|d| d.sessions).sum(),
            loops: days.iter().map(|d| d.loops).sum(),
            top_speed: days.iter().map(|d| d.max_speed).reduce(f64::max),
            days_practised: days.len(),
            today: days.first().is_some_and(|d| d.day == today),
            recent: days.iter().take(7).cloned().collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.days_practised == 0
    }

    /// "2 h 05 min", "12 min", "40 s".
    pub fn time(&self) -> String {
        duration(self.seconds)
    }

    pub fn time_this_week(&self) -> String {
        duration(self.seconds_this_week)
    }

    /// "1.25×".
    pub fn top_speed_label(&self) -> String {
        self.top_speed.map(speed).unwrap_or_default()
    }
}

impl Day {
    pub fn time(&self) -> String {
        duration(self.seconds)
    }

    pub fn speed(&self) -> String {
        speed(self.max_speed)
    }
}

pub fn speed(s: f64) -> String {
    let text = format!("{s:.2}");
    format!("{}×", text.trim_end_matches('0').trim_end_matches('.'))
}

pub fn duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match (seconds / 3600, (seconds % 3600) / 60, seconds % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, _) => format!("{m} min"),
        (h, m, _) => format!("{h} h {m:02} min"),
    }
}

/// The current and the longest run of consecutive days, from days newest
/// first (each once). The current run ends today or yesterday.
pub fn streaks(days_newest_first: impl Iterator<Item = NaiveDate>, today: NaiveDate) -> (u32, u32) {
    let mut current = 0u32;
    let mut longest = 0u32;
    let mut run = 0u32;
    let mut previous: Option<NaiveDate> = None;
    let mut in_current = true;
    for day in days_newest_first {
        let follows = previous.is_some_and(|p| p - chrono::Duration::days(1) == day);
        run = if follows { run + 1 } else { 1 };
        if previous.is_none() {
            in_current = (today - day).num_days() <= 1;
        } else if !follows {
            in_current = false;
        }
        if in_current {
            current = run;
        }
        longest = longest.max(run);
        previous = Some(day);
    }
    (current, longest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn run(days: &[&str], today: &str) -> (u32, u32) {
        streaks(days.iter().map(|s| d(s)), d(today))
    }

    #[test]
    fn streaks_count_consecutive_days() {
        assert_eq!(run(&[], "2026-03-10"), (0, 0));
        assert_eq!(run(&["2026-03-10"], "2026-03-10"), (1, 1));
        // Yesterday still counts: today is not over.
        assert_eq!(run(&["2026-03-09", "2026-03-08"], "2026-03-10"), (2, 2));
        // Two days ago: the streak is broken, the record stays.
        assert_eq!(run(&["2026-03-08", "2026-03-07", "2026-03-06"], "2026-03-10"), (0, 3));
        assert_eq!(
            run(
                &[
                    "2026-03-10",
                    "2026-03-09",
                    "2026-03-07",
                    "2026-03-06",
                    "2026-03-05",
                    "2026-03-04"
                ],
                "2026-03-10"
            ),
            (2, 4)
        );
        // Across a month and a year's end.
        assert_eq!(run(&["2026-01-01", "2025-12-31", "2025-12-30"], "2026-01-01"), (3, 3));
        // Across a leap day.
        assert_eq!(run(&["2028-03-01", "2028-02-29", "2028-02-28"], "2028-03-01"), (3, 3));
    }

    #[test]
    fn summaries_add_up_the_days() {
        let day = |s: &str, seconds: i64, speed: f64| Day {
            day: d(s),
            seconds,
            loops: 3,
            max_speed: speed,
            sessions: 1,
        };
        // Tuesday 10 March 2026; the week began on Monday the 9th.
        let summary = Summary::of(
            vec![
                day("2026-03-08", 600, 0.75),
                day("2026-03-10", 90, 0.5),
                day("2026-03-09", 1200, 1.0),
                // Beyond the year: left out.
                day("2025-03-01", 5000, 2.0),
            ],
            d("2026-03-10"),
        );
        assert_eq!((summary.current_streak, summary.longest_streak), (3, 3));
        assert_eq!(summary.seconds, 1890);
        assert_eq!(summary.seconds_this_week, 1290);
        assert_eq!(summary.top_speed, Some(1.0));
        assert_eq!(summary.loops, 9);
        assert!(summary.today);
        assert_eq!(summary.time(), "31 min");
        assert_eq!(duration(7500), "2 h 05 min");
        assert_eq!(duration(40), "40 s");
        assert_eq!(speed(0.75), "0.75×");
        assert_eq!(speed(1.0), "1×");
        assert_eq!(speed(0.5), "0.5×");
    }
}
