//! The practice log's report, as the browser sends it (url-encoded, with
//! the CSRF token, by `fetch` or on leaving the page), parsed into checked
//! values. Anything out of bounds is refused whole, with what was wrong.

use serde::Deserialize;

use super::queries::{Report, MAX_LOOPS, MAX_SECONDS, MAX_SPEED, MIN_SPEED};
use crate::db::Id;

#[derive(Deserialize, Default, Debug, Clone)]
pub struct ReportForm {
    /// The browser's id for the session (a uuid it made).
    #[serde(default)]
    pub session: String,
    #[serde(default)]
    pub exercise: String,
    #[serde(default)]
    pub seconds: String,
    #[serde(default)]
    pub max_speed: String,
    #[serde(default)]
    pub loops: String,
}

fn whole(value: &str, name: &str, max: i32) -> Result<i32, String> {
    match value.trim().parse::<i64>() {
        Ok(n) if (0..=i64::from(max)).contains(&n) => Ok(n as i32),
        Ok(_) => Err(format!("{name} must be between 0 and {max}")),
        Err(_) => Err(format!("{name} must be a whole number")),
    }
}

impl ReportForm {
    pub fn parse(&self) -> Result<Report, Vec<String>> {
        let mut errors = Vec::new();
        let mut id = |value: &str, name: &str| match value.trim().parse::<Id>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(format!("{name} must be an id"));
                None
            }
        };
        let client_id = id(&self.session, "session");
        let exercise_id = id(&self.exercise, "exercise");
        let mut check = |r: Result<i32, String>| r.map_err(|e| errors.push(e)).ok();
        let seconds = check(whole(&self.seconds, "seconds", MAX_SECONDS));
        let loops = check(whole(&self.loops, "loops", MAX_LOOPS));
        let max_speed = match self.max_speed.trim().parse::<f64>() {
            Ok(s) if s.is_finite() && (MIN_SPEED..=MAX_SPEED).contains(&s) => Some((s * 100.0).round() / 100.0),
            _ => {
                errors.push(format!("max_speed must be a speed from {MIN_SPEED} to {MAX_SPEED}"));
                None
            }
        };
        match (client_id, exercise_id, seconds, loops, max_speed) {
            (Some(client_id), Some(exercise_id), Some(seconds), Some(loops), Some(max_speed)) if errors.is_empty() => {
                Ok(Report {
                    client_id,
                    exercise_id,
                    seconds,
                    max_speed,
                    loops,
                })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(seconds: &str, speed: &str, loops: &str) -> ReportForm {
        ReportForm {
            session: Id::new().to_string(),
            exercise: Id::new().to_string(),
            seconds: seconds.into(),
            max_speed: speed.into(),
            loops: loops.into(),
        }
    }

    #[test]
    fn reports_are_checked() {
        let ok = form("30", "0.75", "4").parse().expect("valid");
        assert_eq!((ok.seconds, ok.max_speed, ok.loops), (30, 0.75, 4));
        assert_eq!(form("1", "0.333", "0").parse().expect("valid").max_speed, 0.33);
        for (seconds, speed, loops) in [
            ("-1", "1", "0"),
            ("14401", "1", "0"),
            ("1.5", "1", "0"),
            ("", "1", "0"),
            ("1", "0", "0"),
            ("1", "2.5", "0"),
            ("1", "NaN", "0"),
            ("1", "inf", "0"),
            ("1", "1", "-3"),
            ("1", "1", "100001"),
        ] {
            let errors = form(seconds, speed, loops).parse().expect_err(seconds);
            assert_eq!(errors.len(), 1, "{seconds} {speed} {loops}: {errors:?}");
        }
        let mut bad = form("1", "1", "1");
        bad.session = "nope".into();
        assert!(bad.parse().is_err());
    }
}
