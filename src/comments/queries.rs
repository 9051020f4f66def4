//! Comments on an exercise's thread. `video_asset_id` is NOT NULL in the
//! production schema: a comment without a video of its own points at the
//! exercise's video, and a comment with a clip points at the clip's source.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::accounts::queries::{display_name_of_parts, name_columns, NameParts};
use crate::db::schema::{accounts_profile, auth_user, comments_videocomment, core_videoclip};
use diesel::query_builder::{QueryFragment, QueryId};
use diesel::query_dsl::methods::LoadQuery;

use crate::db::{self, DbConn, Id, MultiBackend, Ts};
use crate::exercises::queries::{bump_metric, Counter, Exercise};
use crate::videos::queries::{Asset, Clip};
use crate::web::paging::{self, seek_from, Cursor, Seek, Start};

pub const PAGE_SIZE: i64 = 20;

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = comments_videocomment)]
pub struct Comment {
    pub id: Id,
    pub text: Option<String>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub author_id: i32,
    pub exercise_id: Id,
    pub video_asset_id: Id,
    pub range_start: Option<f64>,
    pub range_end: Option<f64>,
    pub clip_id: Option<Id>,
    pub parent_id: Option<Id>,
    pub compare_offset: Option<f64>,
    /// The attempt the range is of; `None`: the demonstration.
    pub range_video_id: Option<Id>,
    /// The comparison kept with the offset: mirrored videos, overlay opacity.
    pub compare_mirror: Option<String>,
    pub compare_overlay: Option<f64>,
}

impl Comment {
    /// Whether the comment carries a video of its own (an attempt, a clip).
    pub fn has_own_video(&self, exercise: &Exercise) -> bool {
        self.clip_id.is_some() || self.video_asset_id != exercise.video_asset_id
    }
}

/// A comment with its author's name.
#[derive(Debug, Clone)]
pub struct Authored {
    pub comment: Comment,
    pub author: String,
}

/// A top-level comment and its replies (oldest first).
#[derive(Debug, Clone)]
pub struct Entry {
    pub comment: Authored,
    pub replies: Vec<Authored>,
}

impl Entry {
    pub fn cursor(&self) -> Cursor {
        Cursor::new(self.comment.comment.created_at, self.comment.comment.id)
    }
}

/// Comments with their author's name, as one joined query loads them.
macro_rules! with_authors {
    ($query:expr) => {
        $query
            .inner_join(auth_user::table)
            .left_join(accounts_profile::table.on(accounts_profile::user_id.eq(comments_videocomment::author_id)))
            .select((Comment::as_select(), name_columns!()))
    };
}

fn named(rows: Vec<(Comment, NameParts)>) -> Vec<Authored> {
    rows.into_iter()
        .map(|(comment, name)| Authored {
            comment,
            author: display_name_of_parts(&name),
        })
        .collect()
}

/// How many top-level comments the thread has (public, like
/// [`thread_page_query`], so that tests can `EXPLAIN` it).
pub fn thread_count_query(
    exercise_id: Id,
) -> impl LoadQuery<'static, DbConn, i64> + QueryFragment<MultiBackend> + QueryId {
    comments_videocomment::table
        .filter(comments_videocomment::exercise_id.eq(exercise_id))
        .filter(comments_videocomment::parent_id.is_null())
        .count()
}

/// One page of the thread's top-level comments with their authors' names:
/// seek pagination from a cursor, an offset for page numbers; up to
/// `PAGE_SIZE + 1` rows (oldest first for `Start::Before`).
pub fn thread_page_query(
    exercise_id: Id,
    start: Start,
) -> impl LoadQuery<'static, DbConn, (Comment, NameParts)> + QueryFragment<MultiBackend> + QueryId {
    use comments_videocomment::{created_at, id};
    let top = with_authors!(comments_videocomment::table)
        .filter(comments_videocomment::exercise_id.eq(exercise_id))
        .filter(comments_videocomment::parent_id.is_null())
        .limit(PAGE_SIZE + 1)
        .into_boxed();
    seek_from!(top, start, created_at, id, PAGE_SIZE)
}

/// One page of the thread, newest first, each with its replies (oldest
/// first) and every author's name: two statements, whatever the page
/// holds. Seek pagination from a cursor; an offset for page numbers.
pub fn thread(conn: &mut DbConn, exercise_id: Id, start: Start) -> QueryResult<Seek<Entry>> {
    use comments_videocomment::{created_at, id};
    let mut comments = named(thread_page_query(exercise_id, start).load(conn)?);
    if let Start::Before(_) = start {
        comments.reverse();
    }
    let page = paging::seek(comments, start, PAGE_SIZE, |a| {
        Cursor::new(a.comment.created_at, a.comment.id)
    });
    let parent_ids: Vec<Id> = page.rows.iter().map(|c| c.comment.id).collect();
    let replies = if parent_ids.is_empty() {
        Vec::new()
    } else {
        named(
            with_authors!(comments_videocomment::table)
                .filter(comments_videocomment::parent_id.eq_any(&parent_ids))
                .order((created_at.asc(), id.asc()))
                .load(conn)?,
        )
    };
    let mut by_parent: HashMap<Id, Vec<Authored>> = HashMap::new();
    for reply in replies {
        if let Some(parent) = reply.comment.parent_id {
            by_parent.entry(parent).or_default().push(reply);
        }
    }
    Ok(Seek {
        newer: page.newer,
        older: page.older,
        rows: page
            .rows
            .into_iter()
            .map(|comment| Entry {
                replies: by_parent.remove(&comment.comment.id).unwrap_or_default(),
                comment,
            })
            .collect(),
    })
}

/// The videos and clips some comments carry, in two statements.
pub struct Media {
    pub assets: HashMap<Id, Asset>,
    pub clips: HashMap<Id, Clip>,
    /// The studio's drawings of each comment, in order.
    pub drawings: HashMap<Id, Vec<super::studio::DrawingRow>>,
    /// The voice-over of each comment that has one.
    pub voiceovers: HashMap<Id, super::voice::VoiceoverRow>,
    /// The export as a video of each comment that has one.
    pub exports: HashMap<Id, super::export::ExportRow>,
}

pub fn load_media<'a>(conn: &mut DbConn, comments: impl IntoIterator<Item = &'a Comment>) -> QueryResult<Media> {
    let comments: Vec<&Comment> = comments.into_iter().collect();
    let mut media = load_videos(conn, comments.iter().copied())?;
    let ids: Vec<Id> = comments.iter().map(|c| c.id).collect();
    if !ids.is_empty() {
        media.drawings = super::studio::of_comments(conn, &ids)?;
        media.voiceovers = super::voice::of_comments(conn, &ids)?;
    }
    // Only a comment with drawings or a voice-over can have an export: a
    // page without any costs no statement for them.
    let exportable: Vec<Id> = ids
        .iter()
        .filter(|id| media.drawings.contains_key(id) || media.voiceovers.contains_key(id))
        .copied()
        .collect();
    if !exportable.is_empty() {
        media.exports = super::export::of_comments(conn, &exportable)?;
    }
    Ok(media)
}

/// The videos and clips the comments carry (their posters, their sources),
/// without the studio's drawings and voice-overs: two statements at most.
pub fn load_videos<'a>(conn: &mut DbConn, comments: impl IntoIterator<Item = &'a Comment>) -> QueryResult<Media> {
    use crate::db::schema::core_videoasset;
    let comments: Vec<&Comment> = comments.into_iter().collect();
    let clip_ids: Vec<Id> = comments.iter().filter_map(|c| c.clip_id).collect();
    let clips: HashMap<Id, Clip> = if clip_ids.is_empty() {
        HashMap::new()
    } else {
        core_videoclip::table
            .filter(core_videoclip::id.eq_any(&clip_ids))
            .select(Clip::as_select())
            .load(conn)?
            .into_iter()
            .map(|clip| (clip.id, clip))
            .collect()
    };
    let mut wanted: Vec<Id> = comments.iter().map(|c| c.video_asset_id).collect();
    wanted.extend(clips.values().map(|c| c.original_video_id));
    wanted.sort();
    wanted.dedup();
    let assets = if wanted.is_empty() {
        HashMap::new()
    } else {
        core_videoasset::table
            .filter(core_videoasset::id.eq_any(&wanted))
            .select(Asset::as_select())
            .load(conn)?
            .into_iter()
            .map(|asset| (asset.id, asset))
            .collect()
    };
    Ok(Media {
        assets,
        clips,
        drawings: HashMap::new(),
        voiceovers: HashMap::new(),
        exports: HashMap::new(),
    })
}

/// Where a clip of this video belongs: the comments that carry the video as
/// their attempt (not an exercise's demonstration, not a reply's clip),
/// newest first, with their exercise and their author's name.
pub fn attempts_with_video(conn: &mut DbConn, video_id: Id) -> QueryResult<Vec<(Authored, Exercise)>> {
    use crate::db::schema::exercises_exercise;
    let found: Vec<(Comment, NameParts, Exercise)> = comments_videocomment::table
        .inner_join(exercises_exercise::table)
        .inner_join(auth_user::table)
        .left_join(accounts_profile::table.on(accounts_profile::user_id.eq(comments_videocomment::author_id)))
        .filter(comments_videocomment::video_asset_id.eq(video_id))
        .filter(comments_videocomment::clip_id.is_null())
        .filter(exercises_exercise::video_asset_id.ne(video_id))
        .order((
            comments_videocomment::created_at.desc(),
            comments_videocomment::id.desc(),
        ))
        .limit(10)
        .select((Comment::as_select(), name_columns!(), Exercise::as_select()))
        .load(conn)?;
    Ok(found
        .into_iter()
        .map(|(comment, name, exercise)| {
            let author = display_name_of_parts(&name);
            (Authored { comment, author }, exercise)
        })
        .collect())
}

pub fn find(conn: &mut DbConn, id: Id) -> QueryResult<Option<Comment>> {
    comments_videocomment::table
        .find(id)
        .select(Comment::as_select())
        .first(conn)
        .optional()
}

/// A checked comment, ready to save.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub text: Option<String>,
    /// A video of the author's own (an attempt).
    pub video: Option<Id>,
    /// A clip (of an attempt, say); its source video becomes `video_asset_id`.
    pub clip: Option<Id>,
    pub range: Option<(f64, f64)>,
    pub parent: Option<Id>,
    pub compare_offset: Option<f64>,
    /// The comparison's view kept with the offset.
    pub compare_view: super::forms::CompareView,
    /// The attempt the range is of (`None`: the demonstration).
    pub range_video: Option<Id>,
    /// The video drawn on and the drawings; `None`: keep the comment's.
    pub drawings: Option<(Id, Vec<super::studio::Drawing>)>,
    /// The attempt a voice-over is on, and the voice-over (on an edit, it
    /// replaces the comment's).
    pub voiceover: Option<(Id, super::forms::VoiceDraft)>,
    /// The attempt whose author this reply asks for another try.
    pub retry: Option<Comment>,
    /// An edit removes the comment's voice-over (and `voiceover`, if any,
    /// takes its place).
    pub remove_voiceover: bool,
}

fn video_for(conn: &mut DbConn, exercise: &Exercise, draft: &Draft) -> QueryResult<Id> {
    if let Some(clip) = draft.clip {
        return core_videoclip::table
            .find(clip)
            .select(core_videoclip::original_video_id)
            .first(conn);
    }
    Ok(draft.video.unwrap_or(exercise.video_asset_id))
}

/// Stores the comment, counts it, and queues the email to whoever it is
/// for, in one transaction.
pub fn create(conn: &mut DbConn, author: i32, exercise: &Exercise, draft: &Draft) -> QueryResult<Comment> {
    db::write_transaction(conn, |c| {
        let id = Id::new();
        let now = Ts::now();
        let video = video_for(c, exercise, draft)?;
        diesel::insert_into(comments_videocomment::table)
            .values((
                comments_videocomment::id.eq(id),
                comments_videocomment::text.eq(draft.text.as_deref()),
                comments_videocomment::created_at.eq(now),
                comments_videocomment::updated_at.eq(now),
                comments_videocomment::author_id.eq(author),
                comments_videocomment::exercise_id.eq(exercise.id),
                comments_videocomment::video_asset_id.eq(video),
                comments_videocomment::range_start.eq(draft.range.map(|r| r.0)),
                comments_videocomment::range_end.eq(draft.range.map(|r| r.1)),
                comments_videocomment::clip_id.eq(draft.clip),
                comments_videocomment::parent_id.eq(draft.parent),
                comments_videocomment::compare_offset.eq(draft.compare_offset),
                comments_videocomment::range_video_id.eq(draft.range_video),
                comments_videocomment::compare_mirror.eq(draft.compare_view.mirror.as_str()),
                comments_videocomment::compare_overlay.eq(draft.compare_view.overlay),
            ))
            .execute(c)?;
        if let Some((video, drawings)) = &draft.drawings {
            super::studio::replace(c, id, *video, drawings)?;
        }
        if let Some((video, voice)) = &draft.voiceover {
            let attached = super::voice::attach(
                c,
                voice.id,
                author,
                id,
                *video,
                &voice.timeline,
                voice.transcript.as_deref(),
            )?;
            if !attached {
                // Posted by another request meanwhile: nothing is stored.
                return Err(diesel::result::Error::NotFound);
            }
        }
        if let Some(attempt) = &draft.retry {
            super::retry::ask(c, id, attempt, now)?;
        }
        bump_metric(c, author, Counter::Comments, 1)?;
        // The notice belongs to the comment: both are stored, or neither.
        super::notify::queue(c, id)?;
        find(c, id)?.ok_or(diesel::result::Error::NotFound)
    })
}

/// Edits text, attachment and range; the thread position stays. Returns
/// the files of an export that no longer shows the comment (its drawings
/// changed), to remove once this is committed.
pub fn update(conn: &mut DbConn, comment: &Comment, exercise: &Exercise, draft: &Draft) -> QueryResult<Vec<String>> {
    db::write_transaction(conn, |c| {
        let video = video_for(c, exercise, draft)?;
        diesel::update(comments_videocomment::table.find(comment.id))
            .set((
                comments_videocomment::text.eq(draft.text.as_deref()),
                comments_videocomment::video_asset_id.eq(video),
                comments_videocomment::range_start.eq(draft.range.map(|r| r.0)),
                comments_videocomment::range_end.eq(draft.range.map(|r| r.1)),
                comments_videocomment::clip_id.eq(draft.clip),
                comments_videocomment::compare_offset.eq(draft.compare_offset),
                comments_videocomment::range_video_id.eq(draft.range_video),
                comments_videocomment::compare_mirror.eq(draft.compare_view.mirror.as_str()),
                comments_videocomment::compare_overlay.eq(draft.compare_view.overlay),
                comments_videocomment::updated_at.eq(Ts::now()),
            ))
            .execute(c)?;
        let mut changed = false;
        if let Some((video, drawings)) = &draft.drawings {
            super::studio::replace(c, comment.id, *video, drawings)?;
            changed = true;
        }
        if draft.remove_voiceover || draft.voiceover.is_some() {
            // Its files go at the worker's next clean-up (`voice::purge`).
            diesel::delete(
                crate::db::schema::comments_voiceover::table
                    .filter(crate::db::schema::comments_voiceover::comment_id.eq(comment.id)),
            )
            .execute(c)?;
            changed = true;
        }
        if let Some((video, voice)) = &draft.voiceover {
            let attached = super::voice::attach(
                c,
                voice.id,
                comment.author_id,
                comment.id,
                *video,
                &voice.timeline,
                voice.transcript.as_deref(),
            )?;
            if !attached {
                return Err(diesel::result::Error::NotFound);
            }
        }
        // An export that no longer shows the comment goes.
        match changed {
            true => super::export::discard(c, comment.id),
            false => Ok(Vec::new()),
        }
    })
}

/// Deletes the comment and its replies, keeping every author's count exact.
/// Returns how many replies went with it.
pub fn delete(conn: &mut DbConn, comment: &Comment) -> QueryResult<i64> {
    db::write_transaction(conn, |c| {
        let replies: Vec<i32> = comments_videocomment::table
            .filter(comments_videocomment::parent_id.eq(comment.id))
            .select(comments_videocomment::author_id)
            .load(c)?;
        for author in &replies {
            bump_metric(c, *author, Counter::Comments, -1)?;
        }
        bump_metric(c, comment.author_id, Counter::Comments, -1)?;
        diesel::delete(comments_videocomment::table.filter(comments_videocomment::parent_id.eq(comment.id)))
            .execute(c)?;
        diesel::delete(comments_videocomment::table.find(comment.id)).execute(c)?;
        Ok(replies.len() as i64)
    })
}

/// The voice-overs, drawings and exported videos on a comment and its
/// replies (they go with it).
pub fn studio_counts(conn: &mut DbConn, id: Id) -> QueryResult<(i64, i64, i64)> {
    use crate::db::schema::{comments_drawing, comments_export, comments_voiceover};
    macro_rules! on_thread_of {
        ($table:expr) => {
            $table
                .inner_join(comments_videocomment::table)
                .filter(
                    comments_videocomment::id
                        .eq(id)
                        .or(comments_videocomment::parent_id.eq(id)),
                )
                .count()
                .get_result(conn)
        };
    }
    let voiceovers = on_thread_of!(comments_voiceover::table)?;
    let drawings = on_thread_of!(comments_drawing::table)?;
    let exports = on_thread_of!(comments_export::table)?;
    Ok((voiceovers, drawings, exports))
}

pub fn reply_count(conn: &mut DbConn, id: Id) -> QueryResult<i64> {
    comments_videocomment::table
        .filter(comments_videocomment::parent_id.eq(id))
        .count()
        .get_result(conn)
}

/// Whether a clip's source video (`core_videoasset`, joined) is in this
/// exercise's thread or the user's own.
macro_rules! allowed_source {
    ($exercise_id:expr, $user_id:expr) => {
        crate::db::schema::core_videoasset::id
            .eq_any(
                comments_videocomment::table
                    .filter(comments_videocomment::exercise_id.eq($exercise_id))
                    .select(comments_videocomment::video_asset_id),
            )
            .or(crate::db::schema::core_videoasset::uploaded_by_id.eq($user_id))
    };
}

/// The most clips a "choose a clip" list offers.
pub const CLIP_CHOICES: i64 = 100;

/// The newest [`CLIP_CHOICES`] clips whose source video passes `$filter`,
/// each with its source and the source's uploader.
macro_rules! newest_clips {
    ($filter:expr) => {
        core_videoclip::table
            .inner_join(crate::db::schema::core_videoasset::table)
            .left_join(
                auth_user::table.on(crate::db::schema::core_videoasset::uploaded_by_id.eq(auth_user::id.nullable())),
            )
            .left_join(accounts_profile::table.on(accounts_profile::user_id.eq(auth_user::id)))
            .filter($filter)
            .order((core_videoclip::created_at.desc(), core_videoclip::id.desc()))
            .limit(CLIP_CHOICES)
            .select((
                Clip::as_select(),
                Asset::as_select(),
                (
                    auth_user::username,
                    auth_user::first_name,
                    auth_user::last_name,
                    accounts_profile::preferences.nullable(),
                )
                    .nullable(),
            ))
    };
}

type ClipRow = (Clip, Asset, Option<NameParts>);

/// The newest clips cut from videos in this exercise's thread: the
/// thread's comments by exercise, then the clips by source video.
pub fn thread_clips_query(
    exercise_id: Id,
) -> impl LoadQuery<'static, DbConn, ClipRow> + QueryFragment<MultiBackend> + QueryId {
    newest_clips!(core_videoclip::original_video_id.eq_any(
        comments_videocomment::table
            .filter(comments_videocomment::exercise_id.eq(exercise_id))
            .select(comments_videocomment::video_asset_id),
    ))
}

/// The newest clips cut from the user's own videos (by uploader).
pub fn own_clips_query(
    user_id: i32,
) -> impl LoadQuery<'static, DbConn, ClipRow> + QueryFragment<MultiBackend> + QueryId {
    newest_clips!(crate::db::schema::core_videoasset::uploaded_by_id.eq(user_id))
}

/// Clips a comment may attach: those cut from videos in this exercise's
/// thread (a coach answering with part of an attempt) and from the user's
/// own videos. Newest first, the newest [`CLIP_CHOICES`], each with where
/// it comes from ("<uploader>'s <video title>").
///
/// Two statements, one per source, each walking its own index and
/// stopping at [`CLIP_CHOICES`]; one statement with `OR` between the
/// sources could use neither index and read every clip in the database.
pub fn clip_choices_described(conn: &mut DbConn, exercise_id: Id, user_id: i32) -> QueryResult<Vec<(Clip, String)>> {
    let in_thread = thread_clips_query(exercise_id).load(conn)?;
    let own = own_clips_query(user_id).load(conn)?;
    Ok(newest_of_both(in_thread, own)
        .into_iter()
        .map(|(clip, source, uploader)| {
            let title = source.display_title();
            let described = match uploader {
                Some(name) => format!("{}'s {title}", display_name_of_parts(&name)),
                None => title,
            };
            (clip, described)
        })
        .collect())
}

/// Two newest-first lists merged newest first, each clip once, at most
/// [`CLIP_CHOICES`].
fn newest_of_both(a: Vec<ClipRow>, b: Vec<ClipRow>) -> Vec<ClipRow> {
    let mut all: Vec<_> = a.into_iter().chain(b).collect();
    all.sort_by_key(|row| std::cmp::Reverse((row.0.created_at, row.0.id)));
    all.dedup_by_key(|row| row.0.id);
    all.truncate(CLIP_CHOICES as usize);
    all
}

/// Whether this one clip may be attached here (its source video is in this
/// exercise's thread or the user's own), however old it is: checked on
/// the clip itself, not against the list the form offers.
pub fn clip_allowed(conn: &mut DbConn, clip_id: Id, exercise_id: Id, user_id: i32) -> QueryResult<bool> {
    use crate::db::schema::core_videoasset;
    diesel::select(diesel::dsl::exists(
        core_videoclip::table
            .inner_join(core_videoasset::table)
            .filter(core_videoclip::id.eq(clip_id))
            .filter(allowed_source!(exercise_id, user_id)),
    ))
    .get_result(conn)
}
