//! The coach inbox page.

use askama::Template;
use diesel::{QueryResult, RunQueryDsl};
use serde::Deserialize;

use super::queries::{self, Filter, Waiting, PAGE_SIZE};
use crate::accounts::permissions;
use crate::comments::retry::Chain;
use crate::db::{DbConn, Id, Ts};
use crate::exercises::pages::{clamp_start, Pager};
use crate::web::auth::CurrentUser;
use crate::web::page::PageCtx;
use crate::web::paging::{self, Cursor, Start};

/// `/inbox?exercise=<id>&student=<id>` and the page's position.
#[derive(Deserialize, Default, Clone, Debug)]
pub struct InboxQuery {
    #[serde(default)]
    pub exercise: Option<String>,
    #[serde(default)]
    pub student: Option<String>,
    #[serde(flatten)]
    pub position: paging::Position,
}

impl InboxQuery {
    /// The filters, and whether one of them was not understood (it is then
    /// left out, and the page says so).
    pub fn parse(&self, user: &CurrentUser) -> (Filter, bool) {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let exercise = given(&self.exercise).map(|v| v.parse::<Id>().ok());
        let student = given(&self.student).map(|v| v.parse::<i32>().ok());
        let unclear = matches!(exercise, Some(None)) || matches!(student, Some(None));
        (
            Filter {
                exercise: exercise.flatten(),
                student: student.flatten(),
                ..Filter::of(user)
            },
            unclear,
        )
    }

    pub fn start(&self) -> Start {
        self.position.start()
    }
}

/// The query string that selects a filter (empty, or ending in `&`).
pub fn filter_params(filter: &Filter) -> String {
    let mut base = String::new();
    if let Some(exercise) = filter.exercise {
        base.push_str(&format!("exercise={exercise}&"));
    }
    if let Some(student) = filter.student {
        base.push_str(&format!("student={student}&"));
    }
    base
}

/// "3 days", "5 hours", "12 minutes": how long something has waited.
pub fn waited(since: Ts, now: Ts) -> String {
    let minutes = (now.0 - since.0).num_minutes().max(0);
    let (n, unit) = match minutes {
        m if m < 60 => (m.max(1), "minute"),
        m if m < 48 * 60 => (m / 60, "hour"),
        m => (m / (24 * 60), "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

pub struct InboxRow {
    pub id: String,
    pub student: String,
    pub exercise: String,
    /// The attempt in its thread.
    pub url: String,
    pub created_at: Ts,
    pub waited: String,
    pub excerpt: Option<String>,
    pub has_video: bool,
    /// The notes this attempt answers (it is another try).
    pub answers: Vec<crate::comments::pages::ChainLink>,
    /// The student's progress page on the exercise.
    pub progress_url: String,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "inbox/inbox.html")]
pub struct InboxPage {
    pub ctx: PageCtx,
    pub rows: Vec<InboxRow>,
    pub pager: Pager,
    pub total: i64,
    pub exercises: Vec<Choice>,
    pub students: Vec<Choice>,
    pub filtered: bool,
    /// The filters list those of the longest-waiting `SAMPLE` attempts.
    pub sampled: bool,
    pub unclear: bool,
    /// Admins see every exercise's attempts.
    pub everyone: bool,
    /// This page, for the "seen" forms to come back to.
    pub here: String,
}

fn excerpt(text: Option<&str>, max: usize) -> Option<String> {
    let text = text?.trim();
    if text.is_empty() {
        return None;
    }
    Some(if text.chars().count() > max {
        format!("{}…", text.chars().take(max).collect::<String>())
    } else {
        text.to_owned()
    })
}

/// A note's text, shortened for a list.
pub fn short(text: Option<&str>) -> Option<String> {
    excerpt(text, 160)
}

impl InboxPage {
    /// The count, a page of attempts oldest first with their students'
    /// names and the notes they answer, and the two filters' short lists:
    /// a fixed number of statements.
    pub fn load(conn: &mut DbConn, ctx: PageCtx, user: &CurrentUser, query: &InboxQuery) -> QueryResult<Self> {
        let (filter, unclear) = query.parse(user);
        let total = queries::count_query(filter).get_result(conn)?;
        let start = clamp_start(query.start(), total, PAGE_SIZE);
        let rows = queries::page(conn, filter, start)?;
        let page = paging::seek(rows, start, PAGE_SIZE, |w: &Waiting| {
            Cursor::new(w.comment.created_at, w.comment.id)
        });
        let queries::Choices { exercises, students } = queries::choices(conn, filter)?;
        // The lists' counts are exact while the sample holds the whole inbox.
        let sampled = total > queries::SAMPLE;
        let counted = |label: String, n: i64| if sampled { label } else { format!("{label} ({n})") };
        let mut people: Vec<i32> = page.rows.iter().map(|w| w.comment.author_id).collect();
        people.extend(students.iter().map(|s| s.0));
        people.sort_unstable();
        people.dedup();
        let names = crate::accounts::queries::display_names(conn, &people)?;
        let name = |id: i32| names.get(&id).cloned().unwrap_or_else(|| "someone".to_owned());
        let ids: Vec<Id> = page.rows.iter().map(|w| w.comment.id).collect();
        let chain = Chain::load(conn, &[], &ids)?;
        let now = Ts::now();
        let base = filter_params(&filter);
        let here = match start {
            Start::After(c) => format!("/inbox?{base}after={}", c.to_param()),
            Start::Before(c) => format!("/inbox?{base}before={}", c.to_param()),
            Start::Page(n) if n > 1 => format!("/inbox?{base}page={n}"),
            Start::Page(_) => format!("/inbox?{base}"),
        };
        Ok(InboxPage {
            pager: Pager::new(total, PAGE_SIZE, start, &page, &base, ""),
            rows: page
                .rows
                .iter()
                .map(|w| {
                    let c = &w.comment;
                    InboxRow {
                        id: c.id.to_string(),
                        student: name(c.author_id),
                        exercise: w.exercise_name.clone(),
                        url: format!("/exercises/{}#comment-{}", c.exercise_id, c.id),
                        progress_url: crate::practice::progress_url(c.exercise_id, c.author_id),
                        created_at: c.created_at,
                        waited: waited(c.created_at, now),
                        excerpt: excerpt(c.text.as_deref(), 200),
                        // The demonstration's video is not theirs: any
                        // other video (or a clip) is an attempt on film.
                        has_video: c.clip_id.is_some() || c.video_asset_id != w.exercise_video,
                        answers: chain
                            .by_retry
                            .get(&c.id)
                            .map(|rs| {
                                rs.iter()
                                    .map(|r| crate::comments::pages::ChainLink {
                                        url: format!("/exercises/{}#comment-{}", c.exercise_id, r.note_id),
                                        at: r.created_at,
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    }
                })
                .collect(),
            total,
            exercises: exercises
                .into_iter()
                .map(|(id, exercise, n)| Choice {
                    selected: filter.exercise == Some(id),
                    value: id.to_string(),
                    label: counted(exercise, n),
                })
                .collect(),
            students: students
                .into_iter()
                .map(|(id, n)| Choice {
                    selected: filter.student == Some(id),
                    value: id.to_string(),
                    label: counted(name(id), n),
                })
                .collect(),
            filtered: filter.exercise.is_some() || filter.student.is_some(),
            sampled,
            unclear,
            everyone: permissions::sees_every_attempt(user),
            here,
            ctx,
        })
    }
}
