//! Raw form input of the videos area and its parsing into checked values.

use serde::Deserialize;

pub use crate::accounts::forms::FieldErrors;

/// The shortest clip.
pub const MIN_CLIP_SECONDS: f64 = 0.5;

#[derive(Deserialize, Default, Clone)]
pub struct YoutubeForm {
    #[serde(default)]
    pub youtube_url: String,
}

/// Renaming a video.
#[derive(Deserialize, Default, Clone)]
pub struct TitleForm {
    #[serde(default)]
    pub title: String,
}

impl TitleForm {
    /// The title, trimmed: not empty, at most 255 characters, no control
    /// characters (it is shown everywhere the video is named).
    pub fn parse(&self) -> Result<String, FieldErrors> {
        let title = self.title.trim();
        let mut errors = FieldErrors::default();
        if title.is_empty() {
            errors.add("title", "Give the video a title.");
        } else if title.chars().count() > super::queries::TITLE_MAX {
            errors.add(
                "title",
                format!("Use at most {} characters.", super::queries::TITLE_MAX),
            );
        } else if title.chars().any(char::is_control) {
            errors.add("title", "The title contains characters that cannot be shown.");
        }
        if errors.is_empty() {
            Ok(title.to_owned())
        } else {
            Err(errors)
        }
    }
}

/// A YouTube video id: 11 characters of `A-Z a-z 0-9 _ -`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YoutubeId(String);

impl YoutubeId {
    fn parse(candidate: &str) -> Option<YoutubeId> {
        (candidate.len() == 11
            && candidate
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .then(|| YoutubeId(candidate.to_owned()))
    }

    /// The id in a stored canonical URL.
    pub fn from_canonical(url: &str) -> Option<YoutubeId> {
        url.strip_prefix("https://www.youtube.com/watch?v=")
            .and_then(YoutubeId::parse)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How the link is stored: one form for every way of writing it.
    pub fn canonical_url(&self) -> String {
        format!("https://www.youtube.com/watch?v={}", self.0)
    }

    /// The privacy-enhanced player (no cookies until the viewer plays).
    pub fn embed_url(&self) -> String {
        format!("https://www.youtube-nocookie.com/embed/{}", self.0)
    }

    pub fn thumbnail_url(&self) -> String {
        format!("https://i.ytimg.com/vi/{}/hqdefault.jpg", self.0)
    }
}

pub const YOUTUBE_HELP: &str = "Enter a YouTube link such as https://www.youtube.com/watch?v=…, \
     https://youtu.be/… or https://www.youtube.com/shorts/….";

/// Reads a YouTube link in any of its usual forms: `youtube.com/watch?v=ID`,
/// `youtu.be/ID` and `youtube.com/shorts/ID` (with or without `www.`/`m.`,
/// `http(s)://`, extra parameters). Anything else is refused.
pub fn parse_youtube(input: &str) -> Result<YoutubeId, &'static str> {
    let input = input.trim();
    if input.is_empty() {
        return Err("Enter a YouTube link.");
    }
    let with_scheme = if input.contains("://") {
        input.to_owned()
    } else {
        format!("https://{input}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|_| YOUTUBE_HELP)?;
    if !matches!(url.scheme(), "http" | "https")
        || url.username() != ""
        || url.password().is_some()
        || url.port().is_some()
    {
        return Err(YOUTUBE_HELP);
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let id = match (host.as_str(), segments.as_slice()) {
        ("youtube.com" | "www.youtube.com" | "m.youtube.com", ["watch"]) => url
            .query_pairs()
            .find(|(k, _)| k == "v")
            .and_then(|(_, v)| YoutubeId::parse(&v)),
        ("youtube.com" | "www.youtube.com" | "m.youtube.com", ["shorts", id]) => YoutubeId::parse(id),
        ("youtu.be" | "www.youtu.be", [id]) => YoutubeId::parse(id),
        _ => None,
    };
    id.ok_or(YOUTUBE_HELP)
}

#[derive(Deserialize, Default, Clone)]
pub struct ClipForm {
    #[serde(default)]
    pub start: String,
    #[serde(default)]
    pub end: String,
}

/// A checked cut, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClipRange {
    pub start_ms: i64,
    pub end_ms: i64,
}

impl ClipRange {
    pub fn start_seconds(self) -> f64 {
        self.start_ms as f64 / 1000.0
    }

    pub fn end_seconds(self) -> f64 {
        self.end_ms as f64 / 1000.0
    }
}

/// Seconds as `75`, `75.5`, `1:15.5` or `0:01:15.5`.
pub fn parse_seconds(input: &str) -> Option<f64> {
    let input = input.trim();
    if input.is_empty() || input.len() > 20 {
        return None;
    }
    let mut total = 0.0;
    let parts: Vec<&str> = input.split(':').collect();
    if parts.len() > 3 {
        return None;
    }
    for (i, part) in parts.iter().enumerate() {
        let last = i == parts.len() - 1;
        let valid = !part.is_empty()
            && part.chars().all(|c| c.is_ascii_digit() || (last && c == '.'))
            && part.matches('.').count() <= 1;
        if !valid {
            return None;
        }
        let value: f64 = part.parse().ok()?;
        if i > 0 && value >= 60.0 {
            return None;
        }
        total = total * 60.0 + value;
    }
    total.is_finite().then_some(total)
}

impl ClipForm {
    /// `0 ≤ start < end ≤ duration`, at least half a second long.
    pub fn parse(&self, duration_sec: f64) -> Result<ClipRange, FieldErrors> {
        let mut errors = FieldErrors::default();
        let start = parse_seconds(&self.start);
        let end = parse_seconds(&self.end);
        if start.is_none() {
            errors.add("start", "Enter the start in seconds, like 12.5 or 0:12.5.");
        }
        if end.is_none() {
            errors.add("end", "Enter the end in seconds, like 20 or 0:20.");
        }
        let (Some(start), Some(end)) = (start, end) else {
            return Err(errors);
        };
        let start_ms = (start * 1000.0).round() as i64;
        let end_ms = (end * 1000.0).round() as i64;
        let duration_ms = (duration_sec * 1000.0).round() as i64;
        if start_ms >= duration_ms {
            errors.add(
                "start",
                format!("Start before the end of the video ({duration_sec:.1} s)."),
            );
        }
        if end_ms > duration_ms {
            errors.add("end", format!("The video is only {duration_sec:.1} s long."));
        } else if end_ms <= start_ms {
            errors.add("end", "The end must come after the start.");
        } else if ((end_ms - start_ms) as f64) < MIN_CLIP_SECONDS * 1000.0 {
            errors.add("end", "A clip is at least half a second long.");
        }
        if errors.is_empty() {
            Ok(ClipRange { start_ms, end_ms })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn youtube_links_in_every_usual_form() {
        let id = "dQw4w9WgXcQ";
        for link in [
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "http://youtube.com/watch?v=dQw4w9WgXcQ&t=42s",
            "https://m.youtube.com/watch?feature=share&v=dQw4w9WgXcQ",
            "youtube.com/watch?v=dQw4w9WgXcQ",
            "https://youtu.be/dQw4w9WgXcQ?si=abc",
            "https://www.youtube.com/shorts/dQw4w9WgXcQ",
            "  https://youtube.com/shorts/dQw4w9WgXcQ/  ",
        ] {
            assert_eq!(parse_youtube(link).map(|i| i.0), Ok(id.to_owned()), "{link}");
        }
        assert_eq!(
            parse_youtube("youtu.be/dQw4w9WgXcQ")
                .map(|i| i.canonical_url())
                .as_deref(),
            Ok("https://www.youtube.com/watch?v=dQw4w9WgXcQ")
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "https://vimeo.com/123",
            "https://www.youtube.com/watch?v=short",
            "https://www.youtube.com/watch?v=dQw4w9WgXc<",
            "https://evil.example/watch?v=dQw4w9WgXcQ",
            "https://www.youtube.com.evil.example/watch?v=dQw4w9WgXcQ",
            "https://www.youtube.com/embed/dQw4w9WgXcQ",
            "javascript:alert(1)",
            "https://user@youtube.com/watch?v=dQw4w9WgXcQ",
            "ftp://youtube.com/watch?v=dQw4w9WgXcQ",
        ] {
            assert!(parse_youtube(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn clip_ranges() {
        let form = |start: &str, end: &str| ClipForm {
            start: start.into(),
            end: end.into(),
        };
        assert_eq!(
            form("0.5", "1:01.25").parse(120.0).ok(),
            Some(ClipRange {
                start_ms: 500,
                end_ms: 61_250
            })
        );
        assert!(form("0", "0.4").parse(10.0).is_err(), "shorter than 0.5 s");
        assert!(form("3", "2").parse(10.0).is_err(), "end before start");
        assert!(form("0", "10.1").parse(10.0).is_err(), "past the end");
        assert!(form("-1", "2").parse(10.0).is_err(), "negative");
        assert!(form("1:75", "2:00").parse(1000.0).is_err(), "75 seconds");
        assert!(form("abc", "2").parse(10.0).is_err());
        assert!(form("0", "10").parse(10.0).is_ok(), "the whole video");
    }
}
