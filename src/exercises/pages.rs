//! Page structs of the exercises area and the views they show.

use askama::Template;

use super::forms::ExerciseForm;
use super::queries::{Card, Exercise};
use crate::accounts::forms::FieldErrors;
use crate::comments::pages::{Attachment, CommentForm, EntryView, VideoOption};
use crate::db::Ts;
use crate::videos::forms::YoutubeId;
use crate::videos::pages::{clock, VideoView};
use crate::web::page::PageCtx;

/// A card in the library.
pub struct CardView {
    pub url: String,
    pub name: String,
    pub coach: String,
    pub image: Option<String>,
    pub duration: Option<String>,
    pub comments: i64,
    pub created_at: Ts,
}

impl CardView {
    pub fn new(card: &Card) -> CardView {
        let id = card.exercise.video_asset_id;
        let image = match (
            &card.poster_path,
            card.youtube_url.as_deref().and_then(YoutubeId::from_canonical),
        ) {
            (Some(_), _) => Some(format!("/videos/{id}/poster")),
            (None, Some(youtube)) => Some(youtube.thumbnail_url()),
            (None, None) => None,
        };
        CardView {
            url: format!("/exercises/{}", card.exercise.id),
            name: card.exercise.name.clone(),
            coach: card.coach.clone(),
            image,
            duration: card.duration_sec.map(|d| clock(f64::from(d))),
            comments: card.comment_count,
            created_at: card.exercise.created_at,
        }
    }
}

/// Page links for a paginated list.
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    /// The query string without `page`, ready to append `page=N` to.
    pub base: String,
}

impl Pager {
    pub fn new(page0: i64, per_page: i64, total: i64, base: String) -> Pager {
        let pages = ((total + per_page - 1) / per_page).max(1);
        Pager {
            page: (page0 + 1).min(pages),
            pages,
            total,
            base,
        }
    }

    pub fn prev(&self) -> Option<String> {
        (self.page > 1).then(|| format!("?{}page={}", self.base, self.page - 1))
    }

    pub fn next(&self) -> Option<String> {
        (self.page < self.pages).then(|| format!("?{}page={}", self.base, self.page + 1))
    }
}

#[derive(Template)]
#[template(path = "exercises/library.html")]
pub struct LibraryPage {
    pub ctx: PageCtx,
    pub cards: Vec<CardView>,
    pub pager: Pager,
    pub search: String,
    pub coach: Option<i32>,
    pub coaches: Vec<(i32, String)>,
    pub can_create: bool,
    pub filtered: bool,
}

#[derive(Template)]
#[template(path = "exercises/form.html")]
pub struct ExerciseFormPage {
    pub ctx: PageCtx,
    /// `None` for a new exercise.
    pub exercise: Option<Exercise>,
    pub form: ExerciseForm,
    pub errors: FieldErrors,
    pub videos: Vec<VideoOption>,
    pub max_upload_mb: u64,
}

impl ExerciseFormPage {
    pub fn action(&self) -> String {
        match &self.exercise {
            Some(e) => format!("/exercises/{}/edit", e.id),
            None => "/exercises".to_owned(),
        }
    }
}

#[derive(Template)]
#[template(path = "exercises/show.html")]
pub struct ExercisePage {
    pub ctx: PageCtx,
    pub exercise: Exercise,
    pub coach: String,
    pub video: VideoView,
    pub can_edit: bool,
    /// The viewer published it: they comment, they do not post attempts.
    pub own_exercise: bool,
    pub entries: Vec<EntryView>,
    pub pager: Pager,
    pub form: CommentForm,
    pub errors: FieldErrors,
    pub videos: Vec<VideoOption>,
    pub clips: Vec<VideoOption>,
    pub max_upload_mb: u64,
    pub speeds: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "exercises/delete.html")]
pub struct DeleteExercisePage {
    pub ctx: PageCtx,
    pub exercise: Exercise,
    pub comments: i64,
}
