//! The comment form: raw input and its first checks (those that need no
//! database; ownership and ranges against the video are checked by the
//! handler).

use serde::Deserialize;

use super::studio::{self, Drawing};
use super::voice::{self, Event};
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
    /// The comparison's mirrored videos: empty, `demo`, `attempt` or `both`.
    #[serde(default)]
    pub compare_mirror: String,
    /// The attempt's opacity laid over the demonstration (0 to 1); empty:
    /// side by side.
    #[serde(default)]
    pub compare_overlay: String,
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
    /// A voice-over recorded on the attempt and uploaded (its id), with the
    /// timeline of player actions as JSON (`comments::voice`) and an
    /// optional transcript.
    #[serde(default)]
    pub voiceover_id: String,
    #[serde(default)]
    pub voiceover_timeline: String,
    #[serde(default)]
    pub transcript: String,
    /// "Ask for another try" (a coach's reply): any value but empty.
    #[serde(default)]
    pub retry: String,
    /// The edit form's "Remove the voice-over": any value but empty.
    #[serde(default)]
    pub remove_voiceover: String,
}

/// Which videos of a comparison are mirrored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mirror {
    #[default]
    None,
    Demo,
    Attempt,
    Both,
}

impl Mirror {
    /// As stored and in links; `None` for no mirroring.
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Mirror::None => None,
            Mirror::Demo => Some("demo"),
            Mirror::Attempt => Some("attempt"),
            Mirror::Both => Some("both"),
        }
    }

    pub fn parse(value: &str) -> Option<Mirror> {
        match value.trim() {
            "" => Some(Mirror::None),
            "demo" => Some(Mirror::Demo),
            "attempt" => Some(Mirror::Attempt),
            "both" => Some(Mirror::Both),
            _ => None,
        }
    }

    pub fn demo(self) -> bool {
        matches!(self, Mirror::Demo | Mirror::Both)
    }

    pub fn attempt(self) -> bool {
        matches!(self, Mirror::Attempt | Mirror::Both)
    }
}

/// How a comparison was looked at, besides its offset: kept with a reply
/// and reopened as it was.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CompareView {
    pub mirror: Mirror,
    /// The attempt over the demonstration at this opacity; `None`: side by side.
    pub overlay: Option<f64>,
}

impl CompareView {
    /// From the form's (or a link's) two values; `None` when either is not
    /// one of them.
    pub fn parse(mirror: &str, overlay: &str) -> Option<CompareView> {
        let mirror = Mirror::parse(mirror)?;
        let overlay = match overlay.trim() {
            "" => None,
            value => match value.parse::<f64>() {
                Ok(o) if (0.0..=1.0).contains(&o) => Some((o * 100.0).round() / 100.0),
                _ => return None,
            },
        };
        Some(CompareView { mirror, overlay })
    }

    /// From a stored comment (values the database checked).
    pub fn of(mirror: Option<&str>, overlay: Option<f64>) -> CompareView {
        CompareView {
            mirror: mirror.and_then(Mirror::parse).unwrap_or_default(),
            overlay: overlay.filter(|o| (0.0..=1.0).contains(o)),
        }
    }

    /// The form's values.
    pub fn mirror_value(&self) -> &'static str {
        self.mirror.as_str().unwrap_or_default()
    }

    pub fn overlay_value(&self) -> String {
        self.overlay.map(|o| o.to_string()).unwrap_or_default()
    }

    /// The opacity slider's position (half, until an overlay was kept).
    pub fn opacity(&self) -> String {
        self.overlay.unwrap_or(0.5).to_string()
    }

    /// `&mirror=attempt&overlay=0.4`, for a link that reopens it.
    pub fn query(&self) -> String {
        let mut query = String::new();
        if let Some(mirror) = self.mirror.as_str() {
            query.push_str(&format!("&mirror={mirror}"));
        }
        if let Some(overlay) = self.overlay {
            query.push_str(&format!("&overlay={overlay}"));
        }
        query
    }

    /// ", the attempt mirrored, overlaid at 40 %", for the reopen link.
    pub fn describe(&self) -> String {
        let mut words = String::new();
        match self.mirror {
            Mirror::None => {}
            Mirror::Demo => words.push_str(", the demonstration mirrored"),
            Mirror::Attempt => words.push_str(", the attempt mirrored"),
            Mirror::Both => words.push_str(", both mirrored"),
        }
        if let Some(overlay) = self.overlay {
            words.push_str(&format!(", overlaid at {} %", (overlay * 100.0).round()));
        }
        words
    }
}

/// A voice-over as the form gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceDraft {
    pub id: Id,
    pub timeline: Vec<Event>,
    pub transcript: Option<String>,
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
    pub compare_view: CompareView,
    pub attempt: Option<Id>,
    /// `None`: keep the comment's drawings as they are.
    pub drawings: Option<Vec<Drawing>>,
    pub voiceover: Option<VoiceDraft>,
    /// The reply asks the attempt's author for another try.
    pub retry: bool,
    /// An edit takes the comment's voice-over off (a new one replaces it too).
    pub remove_voiceover: bool,
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
        let voiceover = self.voiceover(attempt.is_some(), &mut errors);
        let has_drawings = drawings.as_ref().is_some_and(|d| !d.is_empty());
        if text.is_empty()
            && video.is_none()
            && clip.is_none()
            && !has_drawings
            && voiceover.is_none()
            && errors.is_empty()
        {
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
        let compare_view = CompareView::parse(&self.compare_mirror, &self.compare_overlay).unwrap_or_else(|| {
            errors.add(
                "compare_offset",
                "The comparison's mirroring or overlay could not be read: open the comparison again.",
            );
            CompareView::default()
        });
        if errors.is_empty() {
            Ok(Parsed {
                text: (!text.is_empty()).then(|| text.to_owned()),
                video,
                clip,
                range,
                parent,
                compare_offset,
                compare_view,
                attempt,
                drawings,
                voiceover,
                retry,
                remove_voiceover: !self.remove_voiceover.trim().is_empty(),
            })
        } else {
            Err(errors)
        }
    }

    /// The voice-over fields: an id, its timeline, a transcript; none of
    /// them without the id, and only on an attempt.
    fn voiceover(&self, on_attempt: bool, errors: &mut FieldErrors) -> Option<VoiceDraft> {
        let transcript = self.transcript.trim();
        if transcript.chars().count() > voice::MAX_TRANSCRIPT {
            errors.add(
                "transcript",
                format!("A transcript has at most {} characters.", voice::MAX_TRANSCRIPT),
            );
        }
        let id = optional_id(
            &self.voiceover_id,
            "voiceover_id",
            "The voice-over could not be found: record it again.",
            errors,
        );
        let Some(id) = id else {
            if self.voiceover_id.trim().is_empty()
                && (!transcript.is_empty() || !self.voiceover_timeline.trim().is_empty())
            {
                errors.add("transcript", "A transcript goes with a voice-over: record one first.");
            }
            return None;
        };
        if !on_attempt {
            errors.add(
                "voiceover_id",
                "A voice-over belongs on an attempt: record it on the attempt's player.",
            );
            return None;
        }
        match voice::parse_timeline(&self.voiceover_timeline) {
            Ok(timeline) => Some(VoiceDraft {
                id,
                timeline,
                transcript: (!transcript.is_empty()).then(|| transcript.to_owned()),
            }),
            Err(message) => {
                errors.add("voiceover_id", message);
                None
            }
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
