//! The comment form: raw input and its first checks (those that need no
//! database; ownership and ranges against the video are checked by the
//! handler).

use serde::Deserialize;

use super::studio::{self, Drawing};
use crate::accounts::forms::FieldErrors;
use crate::db::Id;
use crate::videos::forms::parse_seconds;

pub const TEXT_MAX: usize = 5_000;

#[derive(Deserialize, Default, Clone, Debug)]
pub struct CommentForm {
    #[serde(default)]
    pub text: String,
    /// One of the author's videos (an attempt), filled in by the upload script too.
    #[serde(default)]
    pub video_id: String,
    #[serde(default)]
    pub clip_id: String,
    /// A time range of the demonstration, in seconds or m:ss.
    #[serde(default)]
    pub range_start: String,
    #[serde(default)]
    pub range_end: String,
    /// The comment this answers.
    #[serde(default)]
    pub parent_id: String,
    /// Seconds the attempt is shifted against the demonstration (compare view).
    #[serde(default)]
    pub compare_offset: String,
    /// The form's one-time key (`accounts::submissions`).
    #[serde(default)]
    pub once: String,
    /// The attempt video the range and the drawings are on (a reply on an
    /// attempt); empty: the range is of the demonstration.
    #[serde(default)]
    pub attempt_video_id: String,
    /// The studio's drawings as JSON (`comments::studio`). Absent (the edit
    /// form): the comment keeps the drawings it has.
    #[serde(default)]
    pub drawings: Option<String>,
    /// "Ask for another try" (a coach's reply): any value but empty.
    #[serde(default)]
    pub retry: String,
}

/// What the form says, checked for shape.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub text: Option<String>,
    pub video: Option<Id>,
    pub clip: Option<Id>,
    pub range: Option<(f64, f64)>,
    pub parent: Option<Id>,
    pub compare_offset: Option<f64>,
    pub attempt: Option<Id>,
    /// `None`: keep the comment's drawings as they are.
    pub drawings: Option<Vec<Drawing>>,
    /// The reply asks the attempt's author for another try.
    pub retry: bool,
}

fn optional_id(value: &str, field: &'static str, message: &'static str, errors: &mut FieldErrors) -> Option<Id> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match value.parse::<Id>() {
        Ok(id) => Some(id),
        Err(_) => {
            errors.add(field, message);
            None
        }
    }
}

impl CommentForm {
    pub fn parse(&self) -> Result<Parsed, FieldErrors> {
        let mut errors = FieldErrors::default();
        let text = self.text.trim();
        if text.chars().count() > TEXT_MAX {
            errors.add("text", format!("Use at most {TEXT_MAX} characters."));
        }
        let video = optional_id(
            &self.video_id,
            "video_id",
            "Choose one of your videos from the list.",
            &mut errors,
        );
        let clip = optional_id(&self.clip_id, "clip_id", "Choose a clip from the list.", &mut errors);
        if video.is_some() && clip.is_some() {
            errors.add("video_id", "Attach a video or a clip, not both.");
        }
        let drawings = match self.drawings.as_deref().map(|raw| studio::parse(raw, None)) {
            None => None,
            Some(Ok(drawings)) => Some(drawings),
            Some(Err(message)) => {
                errors.add("drawings", message);
                None
            }
        };
        let attempt = optional_id(
            &self.attempt_video_id,
            "attempt_video_id",
            "The attempt you pinned or drew on is not in this thread.",
            &mut errors,
        );
        if attempt.is_none() && drawings.as_ref().is_some_and(|d| !d.is_empty()) && errors.is_empty() {
            errors.add(
                "drawings",
                "Drawings belong on an attempt: draw on the attempt's player.",
            );
        }
        let has_drawings = drawings.as_ref().is_some_and(|d| !d.is_empty());
        if text.is_empty() && video.is_none() && clip.is_none() && !has_drawings && errors.is_empty() {
            errors.add("text", "Write something, or attach a video or a clip.");
        }
        let range = match (self.range_start.trim(), self.range_end.trim()) {
            ("", "") => None,
            (start, end) => match (parse_seconds(start), parse_seconds(end)) {
                (Some(start), Some(end)) if end > start => Some((start, end)),
                (Some(_), Some(_)) => {
                    errors.add("range_end", "The end of the range must come after its start.");
                    None
                }
                _ => {
                    errors.add(
                        "range_start",
                        "Enter both ends of the range in seconds, like 12.5 or 0:12.5.",
                    );
                    None
                }
            },
        };
        let parent = optional_id(
            &self.parent_id,
            "text",
            "The comment you answered no longer exists.",
            &mut errors,
        );
        let retry = !self.retry.trim().is_empty();
        if retry && self.parent_id.trim().is_empty() {
            errors.add("retry", "Ask for another try in a reply to an attempt.");
        }
        let compare_offset = match self.compare_offset.trim() {
            "" => None,
            value => match value.parse::<f64>() {
                Ok(offset) if offset.is_finite() && offset.abs() <= 3600.0 => Some((offset * 1000.0).round() / 1000.0),
                _ => {
                    errors.add("compare_offset", "The offset is a number of seconds, like -1.25.");
                    None
                }
            },
        };
        if errors.is_empty() {
            Ok(Parsed {
                text: (!text.is_empty()).then(|| text.to_owned()),
                video,
                clip,
                range,
                parent,
                compare_offset,
                attempt,
                drawings,
                retry,
            })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_needs_text_or_a_video() {
        assert!(CommentForm::default().parse().is_err());
        let form = CommentForm {
            text: " Nice ".into(),
            range_start: "0:01".into(),
            range_end: "2.5".into(),
            ..Default::default()
        };
        let parsed = form.parse().expect("valid");
        assert_eq!(parsed.text.as_deref(), Some("Nice"));
        assert_eq!(parsed.range, Some((1.0, 2.5)));
        let reversed = CommentForm {
            text: "x".into(),
            range_start: "3".into(),
            range_end: "2".into(),
            ..Default::default()
        };
        assert!(reversed.parse().is_err());
        let half = CommentForm {
            text: "x".into(),
            range_start: "3".into(),
            ..Default::default()
        };
        assert!(half.parse().is_err());
    }
}
