//! Exercise forms: raw input in, checked drafts out.

use serde::Deserialize;

use super::queries::Draft;
use crate::accounts::forms::FieldErrors;
use crate::db::Id;
use crate::web::paging::Start;

pub const NAME_MAX: usize = 140;
pub const DESCRIPTION_MAX: usize = 10_000;

#[derive(Deserialize, Default, Clone, Debug)]
pub struct ExerciseForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// One of the author's videos (the upload script fills this in after an upload).
    #[serde(default)]
    pub video_id: String,
    /// Or a YouTube link.
    #[serde(default)]
    pub youtube_url: String,
    /// The new-exercise form's one-time key (`accounts::submissions`).
    #[serde(default)]
    pub once: String,
}

/// Where the exercise's video comes from, once checked.
#[derive(Debug, Clone)]
pub enum VideoChoice {
    Existing(Id),
    Youtube(String),
}

impl ExerciseForm {
    pub fn parse(&self) -> Result<(String, Option<String>, VideoChoice), FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = self.name.trim();
        if name.is_empty() {
            errors.add("name", "Give the exercise a name.");
        } else if name.chars().count() > NAME_MAX {
            errors.add(
                "name",
                format!(
                    "Use at most {NAME_MAX} characters (this one has {}).",
                    name.chars().count()
                ),
            );
        } else if name.chars().any(char::is_control) {
            errors.add("name", "The name contains characters that cannot be shown.");
        }
        let description = self.description.trim();
        if description.chars().count() > DESCRIPTION_MAX {
            errors.add("description", format!("Use at most {DESCRIPTION_MAX} characters."));
        }
        let youtube = self.youtube_url.trim();
        let video = self.video_id.trim();
        let choice = match (video.is_empty(), youtube.is_empty()) {
            (false, false) => {
                errors.add("video", "Choose a video or paste a YouTube link, not both.");
                None
            }
            (true, true) => {
                errors.add(
                    "video",
                    "Choose the demonstration video: upload one, pick one of yours, or paste a YouTube link.",
                );
                None
            }
            (false, true) => match video.parse::<Id>() {
                Ok(id) => Some(VideoChoice::Existing(id)),
                Err(_) => {
                    errors.add("video", "Choose one of your videos from the list.");
                    None
                }
            },
            (true, false) => match crate::videos::forms::parse_youtube(youtube) {
                Ok(id) => Some(VideoChoice::Youtube(id.canonical_url())),
                Err(message) => {
                    errors.add("youtube_url", message);
                    None
                }
            },
        };
        match choice {
            Some(choice) if errors.is_empty() => Ok((
                name.to_owned(),
                (!description.is_empty()).then(|| description.to_owned()),
                choice,
            )),
            _ => Err(errors),
        }
    }

    pub fn from_draft(draft: &Draft) -> ExerciseForm {
        ExerciseForm {
            name: draft.name.clone(),
            description: draft.description.clone().unwrap_or_default(),
            video_id: draft.video_asset_id.to_string(),
            youtube_url: String::new(),
            once: String::new(),
        }
    }
}

#[derive(Deserialize, Default, Clone, Debug)]
pub struct LibraryQuery {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub coach: Option<String>,
    #[serde(flatten)]
    pub position: crate::web::paging::Position,
}

impl LibraryQuery {
    pub fn search(&self) -> Option<String> {
        self.q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(|q| q.chars().take(100).collect())
    }

    pub fn coach(&self) -> Option<i32> {
        self.coach.as_deref().and_then(|c| c.trim().parse().ok())
    }

    /// Where the page starts: `?after=`/`?before=` cursors, or `?page=`.
    pub fn start(&self) -> Start {
        self.position.start()
    }
}
