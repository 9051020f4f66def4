//! The progress page and the practice page: one loader each.

use askama::Template;
use chrono::NaiveDate;
use diesel::{QueryResult, RunQueryDsl};
use serde::Deserialize;

use super::queries::{self, TIMELINE_PAGE};
use super::summary::{self, Summary};
use crate::accounts::permissions;
use crate::comments::pages::{attachment, Attachment, ChainLink, RangeChip};
use crate::comments::queries::Comment;
use crate::comments::retry::Chain;
use crate::db::{DbConn, Id, Ts};
use crate::exercises::pages::{clamp_start, speed_choices, Pager};
use crate::exercises::queries::Exercise;
use crate::videos::pages::VideoView;
use crate::web::auth::CurrentUser;
use crate::web::page::PageCtx;
use crate::web::paging::{self, Cursor, Start};

/// Today in a zone (UTC until the person's browser said theirs).
pub fn today_in(zone: Option<chrono_tz::Tz>) -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&zone.unwrap_or(chrono_tz::UTC))
        .date_naive()
}

/// A person's practice over the last year, on one exercise or on all: one
/// statement (see `queries::days`).
pub fn summary_of(
    conn: &mut DbConn,
    user: i32,
    exercise: Option<Id>,
    zone: Option<chrono_tz::Tz>,
) -> QueryResult<Summary> {
    let today = today_in(zone);
    let days = queries::days(conn, user, exercise, summary::since(today))?;
    Ok(Summary::of(days, today))
}

/// A coach's reply on an attempt, as the timeline shows it.
pub struct NoteView {
    pub author: String,
    pub text: Option<String>,
    pub at: Ts,
    pub url: String,
    pub range: Option<RangeChip>,
    /// It asked for another try: `Some(None)` while no attempt answered it.
    pub asks: Option<Option<ChainLink>>,
}

/// One attempt on the timeline.
pub struct TimelineItem {
    pub id: String,
    pub url: String,
    pub created_at: Ts,
    pub text: Option<String>,
    pub poster_url: Option<String>,
    /// The attempt carries a video or a clip of its own.
    pub has_video: bool,
    /// It can be played in the comparison view (a processed video, a cut clip).
    pub comparable: bool,
    pub notes: Vec<NoteView>,
    /// The requests to try again that this attempt resolved.
    pub answers: Vec<ChainLink>,
}

/// `?after=` / `?before=` / `?page=` of the timeline.
#[derive(Deserialize, Default, Clone, Debug)]
pub struct ProgressQuery {
    #[serde(flatten)]
    pub position: paging::Position,
}

#[derive(Template)]
#[template(path = "practice/progress.html")]
pub struct ProgressPage {
    pub ctx: PageCtx,
    pub exercise: Exercise,
    pub student: String,
    pub student_id: i32,
    /// The viewer is the student.
    pub own: bool,
    pub total: i64,
    pub items: Vec<TimelineItem>,
    pub pager: Pager,
    /// The comparison of the first and the latest attempt with a video.
    pub first_vs_latest: Option<String>,
    /// Two attempts on this page can be compared: the form to choose them,
    /// with the oldest and the newest of them chosen.
    pub choosable: bool,
    pub default_from: String,
    pub default_to: String,
    pub summary: Summary,
    pub compare_action: String,
}

/// A short excerpt of a comment's text.
fn short(text: Option<&str>) -> Option<String> {
    crate::inbox::pages::short(text)
}

impl ProgressPage {
    /// `None` when the viewer may not see this student's progress there
    /// (`permissions::can_view_progress`); a missing exercise or student is
    /// `NotFound`. Statements: the exercise, the student, the count, the
    /// page of attempts, their videos and clips (two), the coach's notes,
    /// the requests they made and resolved, the first and latest attempts
    /// with a video (two), and the practice log's days: at most eleven,
    /// however many attempts there are.
    pub fn load(
        conn: &mut DbConn,
        ctx: PageCtx,
        user: &CurrentUser,
        exercise_id: Id,
        student_id: i32,
        query: &ProgressQuery,
    ) -> QueryResult<Option<Self>> {
        let exercise = crate::exercises::queries::find(conn, exercise_id)?.ok_or(diesel::result::Error::NotFound)?;
        if !permissions::can_view_progress(user, student_id, exercise.created_by_id) {
            return Ok(None);
        }
        let (student, zone) = queries::person(conn, student_id)?.ok_or(diesel::result::Error::NotFound)?;
        let total = queries::attempts_count_query(exercise.id, student_id).get_result(conn)?;
        let start = clamp_start(query.position.start(), total, TIMELINE_PAGE);
        let mut rows: Vec<Comment> = queries::attempts_page_query(exercise.id, student_id, start).load(conn)?;
        if let Start::Before(_) = start {
            rows.reverse();
        }
        let page = paging::seek(rows, start, TIMELINE_PAGE, |c: &Comment| {
            Cursor::new(c.created_at, c.id)
        });
        let media = crate::comments::queries::load_videos(conn, page.rows.iter())?;
        let attempt_ids: Vec<Id> = page.rows.iter().map(|c| c.id).collect();
        let notes = queries::notes(conn, &attempt_ids, student_id)?;
        let note_ids: Vec<Id> = notes.iter().map(|(n, _)| n.id).collect();
        let chain = Chain::load(conn, &note_ids, &attempt_ids)?;
        let ends = queries::first_and_latest_with_video(conn, exercise.id, exercise.video_asset_id, student_id)?;
        let summary = summary_of(conn, student_id, Some(exercise.id), zone)?;

        let anchor = |id: Id| format!("/exercises/{}#comment-{id}", exercise.id);
        let items: Vec<TimelineItem> = page
            .rows
            .iter()
            .map(|c| {
                let attached = attachment(&media, &exercise, c);
                let (poster_url, comparable) = match &attached {
                    Some(Attachment::Video(v)) => (v.poster_url.clone(), !v.sources.is_empty()),
                    Some(Attachment::Clip { clip, video }) => (video.poster_url.clone(), clip.ready),
                    None => (None, false),
                };
                TimelineItem {
                    id: c.id.to_string(),
                    url: anchor(c.id),
                    created_at: c.created_at,
                    text: short(c.text.as_deref()),
                    poster_url,
                    has_video: attached.is_some(),
                    comparable,
                    notes: notes
                        .iter()
                        .filter(|(n, _)| n.parent_id == Some(c.id))
                        .map(|(n, author)| NoteView {
                            author: author.clone(),
                            text: short(n.text.as_deref()),
                            at: n.created_at,
                            url: anchor(n.id),
                            range: n.range_start.zip(n.range_end).map(|(a, b)| RangeChip::new(a, b)),
                            asks: chain
                                .by_note
                                .get(&n.id)
                                .map(|r| r.resolved().map(|(retry, at)| ChainLink { url: anchor(retry), at })),
                        })
                        .collect(),
                    answers: chain
                        .by_retry
                        .get(&c.id)
                        .map(|rs| {
                            rs.iter()
                                .map(|r| ChainLink {
                                    url: anchor(r.note_id),
                                    at: r.created_at,
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            })
            .collect();
        let base = String::new();
        let comparable: Vec<&TimelineItem> = items.iter().filter(|i| i.comparable).collect();
        let (default_to, default_from) = match (comparable.first(), comparable.last()) {
            (Some(newest), Some(oldest)) => (newest.id.clone(), oldest.id.clone()),
            _ => (String::new(), String::new()),
        };
        let choosable = comparable.len() >= 2;
        Ok(Some(ProgressPage {
            default_from,
            default_to,
            pager: Pager::new(total, TIMELINE_PAGE, start, &page, &base, ""),
            choosable,
            first_vs_latest: ends.map(|(first, latest)| format!("/comments/{latest}/compare?with={first}")),
            compare_action: format!("{}/compare", super::progress_url(exercise.id, student_id)),
            own: user.id == student_id,
            student,
            student_id,
            total,
            items,
            summary,
            exercise,
            ctx,
        }))
    }
}

#[derive(Template)]
#[template(path = "practice/practice.html")]
pub struct PracticePage {
    pub ctx: PageCtx,
    pub exercise: Exercise,
    pub video: VideoView,
    pub speeds: Vec<(String, String, bool)>,
    /// The ramp's choices: speeds from 0.25× to 2×.
    pub ramp_speeds: Vec<(String, String)>,
    pub summary: Summary,
    pub progress_url: String,
}

impl PracticePage {
    /// The exercise with its demonstration, and the viewer's practice on it:
    /// two statements.
    pub fn load(conn: &mut DbConn, ctx: PageCtx, user: &CurrentUser, exercise_id: Id) -> QueryResult<Self> {
        let (exercise, demonstration, _) = crate::exercises::queries::find_for_page(conn, exercise_id)?;
        let summary = summary_of(conn, user.id, Some(exercise.id), user.preferences.time_zone)?;
        Ok(PracticePage {
            video: VideoView::new(&demonstration, None),
            speeds: speed_choices(user.preferences.playback_speed),
            ramp_speeds: [0.25, 0.5, 0.6, 0.75, 0.9, 1.0, 1.25, 1.5, 2.0]
                .iter()
                .map(|s| (s.to_string(), summary::speed(*s)))
                .collect(),
            summary,
            progress_url: super::progress_url(exercise.id, user.id),
            exercise,
            ctx,
        })
    }
}
