//! Page structs of the exercises area and the views they show.

use askama::Template;

use diesel::QueryResult;

use super::forms::{ExerciseForm, LibraryQuery};
use super::queries::{self, Card, Exercise, Filter, PAGE_SIZE};
use crate::accounts::forms::FieldErrors;
use crate::accounts::permissions;
use crate::comments;
use crate::comments::pages::{Attachment, CommentForm, EntryView, VideoOption};
use crate::db::{DbConn, Id, Ts};
use crate::error::{AppError, AppResult};
use crate::videos::forms::YoutubeId;
use crate::videos::pages::{clock, VideoView};
use crate::web::auth::CurrentUser;
use crate::web::page::PageCtx;
use crate::web::paging::{self, Seek, Start};

/// A card in the library.
pub struct CardView {
    pub url: String,
    pub name: String,
    pub coach: String,
    pub image: Option<String>,
    pub duration: Option<String>,
    /// The library filtered to this coach.
    pub coach_url: String,
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
            coach_url: format!("/exercises?coach={}", card.exercise.created_by_id),
            comments: i64::from(card.exercise.comment_count),
            created_at: card.exercise.created_at,
        }
    }
}

/// The links of a seek-paginated list: newer and older pages by cursor
/// (bookmarkable), and "page N of M" when it was opened by page number.
pub struct Pager {
    pub total: i64,
    pub position: Option<(i64, i64)>,
    pub newer: Option<String>,
    pub older: Option<String>,
}

impl Pager {
    /// `base` is the query string without the position, ready to append to
    /// (empty, or ending in `&`); `anchor` goes at the end of each link.
    pub fn new<T>(total: i64, per_page: i64, start: Start, page: &Seek<T>, base: &str, anchor: &str) -> Pager {
        let pages = paging::last_page(total, per_page);
        Pager {
            total,
            position: match start {
                Start::Page(n) if pages > 1 => Some((n, pages)),
                _ => None,
            },
            newer: page.newer.map(|c| format!("?{base}before={}{anchor}", c.to_param())),
            older: page.older.map(|c| format!("?{base}after={}{anchor}", c.to_param())),
        }
    }
}

/// A page number past the end means the last page.
pub fn clamp_start(start: Start, total: i64, per_page: i64) -> Start {
    match start {
        Start::Page(n) => Start::Page(n.min(paging::last_page(total, per_page))),
        other => other,
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
    /// The viewer answers its attempts (and may ask for another try).
    pub gives_feedback: bool,
    pub entries: Vec<EntryView>,
    pub pager: Pager,
    pub form: CommentForm,
    pub errors: FieldErrors,
    /// The forms' choices when they are in the page (see [`Compose`]).
    pub videos: Vec<VideoOption>,
    pub clips: Vec<VideoOption>,
    /// When the choices are fetched as a form opens: the query of this
    /// page (its thread position) ending in `choose=`, for the links that
    /// show it again with them, without JavaScript.
    pub choose_base: Option<String>,
    /// The form to show open: `compose`, or the id of the comment replied to.
    pub open: String,
    pub max_upload_mb: u64,
    pub speeds: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "exercises/delete.html")]
pub struct DeleteExercisePage {
    pub ctx: PageCtx,
    pub exercise: Exercise,
    /// Comments and replies that go with it.
    pub comments: i32,
}

/// How many of their own videos a "choose a video" list offers.
pub const VIDEO_CHOICES: i64 = 200;

/// The user's own videos, newest first, for choosing one.
pub fn video_options(conn: &mut DbConn, user_id: i32) -> QueryResult<Vec<VideoOption>> {
    let videos = crate::videos::queries::list(conn, user_id, false, VIDEO_CHOICES)?;
    Ok(videos.iter().map(|(asset, _)| VideoOption::of_asset(asset)).collect())
}

/// What the exercise page's forms offer: the user's own videos, and the
/// clips a comment on this exercise may attach (cut from the thread's
/// videos or from the user's own). The page fetches them (as JSON from
/// `/exercises/{id}/choices`) when a form opens, instead of repeating
/// hundreds of options in every page.
#[derive(serde::Serialize)]
pub struct Choices {
    pub videos: Vec<VideoOption>,
    pub clips: Vec<VideoOption>,
}

impl Choices {
    /// Three statements: the videos, then the clips by their two sources.
    pub fn load(conn: &mut DbConn, user_id: i32, exercise_id: Id) -> QueryResult<Choices> {
        let videos = video_options(conn, user_id)?;
        let clips = comments::queries::clip_choices_described(conn, exercise_id, user_id)?;
        Ok(Choices {
            videos,
            clips: clips.iter().map(VideoOption::of_clip).collect(),
        })
    }

    /// The choices on an exercise that exists (404 otherwise).
    pub fn load_for(conn: &mut DbConn, user: &CurrentUser, exercise_id: Id) -> AppResult<Choices> {
        queries::find(conn, exercise_id)?.ok_or(AppError::NotFound)?;
        Ok(Self::load(conn, user.id, exercise_id)?)
    }
}

impl LibraryPage {
    /// The library: the total on the exercises alone, a page of cards with
    /// their coach's name and comment count in one statement, and the coach
    /// filter's short list.
    pub fn load(conn: &mut DbConn, ctx: PageCtx, user: &CurrentUser, query: &LibraryQuery) -> QueryResult<Self> {
        let filter = Filter {
            search: query.search(),
            coach: query.coach(),
        };
        let total = queries::count(conn, &filter)?;
        let start = clamp_start(queries::library_start(&filter, query.start()), total, PAGE_SIZE);
        let page = paging::seek(queries::cards(conn, &filter, start)?, start, PAGE_SIZE, Card::cursor);
        let coaches = queries::top_coaches(conn, filter.coach)?;
        let mut base = String::new();
        if let Some(q) = &filter.search {
            base.push_str(&format!(
                "q={}&",
                url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
            ));
        }
        if let Some(coach) = filter.coach {
            base.push_str(&format!("coach={coach}&"));
        }
        Ok(LibraryPage {
            ctx,
            pager: Pager::new(total, PAGE_SIZE, start, &page, &base, ""),
            cards: page.rows.iter().map(CardView::new).collect(),
            search: filter.search.clone().unwrap_or_default(),
            coach: filter.coach,
            coaches,
            can_create: permissions::can_create_exercise(user),
            filtered: filter.search.is_some() || filter.coach.is_some(),
        })
    }
}

impl ExerciseFormPage {
    /// The new or edit form, also shown again (422) with errors.
    pub fn load(
        conn: &mut DbConn,
        ctx: PageCtx,
        user: &CurrentUser,
        exercise: Option<Exercise>,
        form: ExerciseForm,
        errors: FieldErrors,
        max_upload_mb: u64,
    ) -> QueryResult<Self> {
        Ok(ExerciseFormPage {
            ctx,
            exercise,
            form,
            errors,
            videos: video_options(conn, user.id)?,
            max_upload_mb,
        })
    }

    /// The edit form of an exercise, filled from it: 404 if there is none,
    /// 403 if this user may only see it.
    pub fn load_edit(
        conn: &mut DbConn,
        ctx: PageCtx,
        user: &CurrentUser,
        id: Id,
        max_upload_mb: u64,
    ) -> AppResult<Self> {
        let exercise = queries::find(conn, id)?.ok_or(AppError::NotFound)?;
        if !permissions::can_edit_exercise(user, exercise.created_by_id) {
            return Err(AppError::Forbidden);
        }
        let form = ExerciseForm::from_draft(&queries::Draft {
            name: exercise.name.clone(),
            description: exercise.description.clone(),
            video_asset_id: exercise.video_asset_id,
        });
        Ok(Self::load(
            conn,
            ctx,
            user,
            Some(exercise),
            form,
            FieldErrors::default(),
            max_upload_mb,
        )?)
    }
}

/// What the exercise page's comment form shows: empty, or as typed with
/// its errors (422).
pub struct Compose {
    pub form: CommentForm,
    pub errors: FieldErrors,
    pub max_upload_mb: u64,
    /// The forms' video and clip choices go in the page: a form shown again
    /// with errors, or `?choose=` (the link a browser without JavaScript
    /// follows). Otherwise they are fetched when a form opens.
    pub inline_choices: bool,
    /// The form to show open (`?choose=`): `compose`, or a comment's id.
    pub open: String,
}

impl Compose {
    /// An empty form; `choose` is the page's `?choose=`.
    pub fn empty(max_upload_mb: u64, choose: Option<&str>) -> Compose {
        Compose {
            form: CommentForm::default(),
            errors: FieldErrors::default(),
            max_upload_mb,
            inline_choices: choose.is_some(),
            open: choose.map(str::trim).unwrap_or_default().to_owned(),
        }
    }

    /// A form shown again with its errors, with the choices in the page.
    pub fn again(form: CommentForm, errors: FieldErrors, max_upload_mb: u64) -> Compose {
        Compose {
            form,
            errors,
            max_upload_mb,
            inline_choices: true,
            open: String::new(),
        }
    }
}

impl ExercisePage {
    /// The exercise with its demonstration and coach, a page of the thread
    /// with every video and clip it carries, and the form's choices when
    /// they go in the page: a fixed number of statements, however many
    /// comments the page shows.
    pub fn load(
        conn: &mut DbConn,
        ctx: PageCtx,
        user: &CurrentUser,
        id: Id,
        start: Start,
        compose: Compose,
    ) -> QueryResult<Self> {
        let (exercise, demonstration, coach, total) = queries::find_with_thread_total(conn, id)?;
        let start = clamp_start(start, total, comments::queries::PAGE_SIZE);
        let thread = comments::queries::thread(conn, id, start)?;
        let media = comments::queries::load_media(
            conn,
            thread
                .rows
                .iter()
                .flat_map(|e| std::iter::once(&e.comment.comment).chain(e.replies.iter().map(|r| &r.comment))),
        )?;
        // The "try again" chain: the notes among the replies, the attempts
        // that answered one.
        let attempts: Vec<Id> = thread.rows.iter().map(|e| e.comment.comment.id).collect();
        let notes: Vec<Id> = thread
            .rows
            .iter()
            .flat_map(|e| e.replies.iter().map(|r| r.comment.id))
            .collect();
        let chain = comments::retry::Chain::load(conn, &notes, &attempts)?;
        let entries = comments::pages::entry_views(user, &media, &chain, &exercise, &thread.rows);
        let choices = match compose.inline_choices {
            true => Choices::load(conn, user.id, id)?,
            false => Choices {
                videos: Vec::new(),
                clips: Vec::new(),
            },
        };
        Ok(ExercisePage {
            can_edit: permissions::can_edit_exercise(user, exercise.created_by_id),
            gives_feedback: permissions::gives_feedback(user, exercise.created_by_id),
            own_exercise: exercise.created_by_id == user.id,
            video: VideoView::new(&demonstration, None),
            coach,
            entries,
            pager: Pager::new(total, comments::queries::PAGE_SIZE, start, &thread, "", "#comments"),
            form: compose.form,
            errors: compose.errors,
            videos: choices.videos,
            clips: choices.clips,
            choose_base: (!compose.inline_choices).then(|| format!("?{}choose=", start.to_query())),
            open: compose.open,
            max_upload_mb: compose.max_upload_mb,
            speeds: speed_choices(user.preferences.playback_speed),
            exercise,
            ctx,
        })
    }
}

/// The player's speed choices, the user's default selected.
pub fn speed_choices(default: f64) -> Vec<(String, String, bool)> {
    crate::accounts::queries::PLAYBACK_SPEEDS
        .iter()
        .map(|s| (s.to_string(), format!("{s}×"), (*s - default).abs() < f64::EPSILON))
        .collect()
}
