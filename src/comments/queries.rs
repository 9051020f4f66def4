//! Comments on an exercise's thread. `video_asset_id` is NOT NULL in the
//! production schema: a comment without a video of its own points at the
//! exercise's video, and a comment with a clip points at the clip's source.

use diesel::prelude::*;

use crate::accounts::queries::display_names;
use crate::db::schema::{comments_videocomment, core_videoclip};
use crate::db::{self, DbConn, Id, Ts};
use crate::exercises::queries::{bump_metric, Counter, Exercise};

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

fn authored(conn: &mut DbConn, comments: Vec<Comment>) -> QueryResult<Vec<Authored>> {
    let ids: Vec<i32> = comments.iter().map(|c| c.author_id).collect();
    let names = display_names(conn, &ids)?;
    Ok(comments
        .into_iter()
        .map(|comment| {
            let author = names
                .get(&comment.author_id)
                .cloned()
                .unwrap_or_else(|| "someone".to_owned());
            Authored { comment, author }
        })
        .collect())
}

/// One page of the thread, newest first, each with its replies; and the
/// number of top-level comments in all.
pub fn thread(conn: &mut DbConn, exercise_id: Id, page: i64) -> QueryResult<(Vec<Entry>, i64)> {
    let top = comments_videocomment::table
        .filter(comments_videocomment::exercise_id.eq(exercise_id))
        .filter(comments_videocomment::parent_id.is_null());
    let total: i64 = top.count().get_result(conn)?;
    let comments: Vec<Comment> = top
        .order((
            comments_videocomment::created_at.desc(),
            comments_videocomment::id.desc(),
        ))
        .offset(page.max(0) * PAGE_SIZE)
        .limit(PAGE_SIZE)
        .select(Comment::as_select())
        .load(conn)?;
    let parent_ids: Vec<Id> = comments.iter().map(|c| c.id).collect();
    let replies: Vec<Comment> = comments_videocomment::table
        .filter(comments_videocomment::parent_id.eq_any(&parent_ids))
        .order((comments_videocomment::created_at.asc(), comments_videocomment::id.asc()))
        .select(Comment::as_select())
        .load(conn)?;
    let comments = authored(conn, comments)?;
    let replies = authored(conn, replies)?;
    Ok((
        comments
            .into_iter()
            .map(|comment| Entry {
                replies: replies
                    .iter()
                    .filter(|r| r.comment.parent_id == Some(comment.comment.id))
                    .cloned()
                    .collect(),
                comment,
            })
            .collect(),
        total,
    ))
}

/// Where a clip of this video belongs: the comments that carry the video as
/// their attempt (not an exercise's demonstration, not a reply's clip),
/// newest first, with their exercise and their author's name.
pub fn attempts_with_video(conn: &mut DbConn, video_id: Id) -> QueryResult<Vec<(Authored, Exercise)>> {
    use crate::db::schema::exercises_exercise;
    let found: Vec<(Comment, Exercise)> = comments_videocomment::table
        .inner_join(exercises_exercise::table)
        .filter(comments_videocomment::video_asset_id.eq(video_id))
        .filter(comments_videocomment::clip_id.is_null())
        .filter(exercises_exercise::video_asset_id.ne(video_id))
        .order((
            comments_videocomment::created_at.desc(),
            comments_videocomment::id.desc(),
        ))
        .limit(10)
        .select((Comment::as_select(), Exercise::as_select()))
        .load(conn)?;
    let (comments, exercises): (Vec<Comment>, Vec<Exercise>) = found.into_iter().unzip();
    Ok(authored(conn, comments)?.into_iter().zip(exercises).collect())
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
    /// The attempt the range is of (`None`: the demonstration).
    pub range_video: Option<Id>,
    /// The video drawn on and the drawings; `None`: keep the comment's.
    pub drawings: Option<(Id, Vec<super::studio::Drawing>)>,
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
            ))
            .execute(c)?;
        if let Some((video, drawings)) = &draft.drawings {
            super::studio::replace(c, id, *video, drawings)?;
        }
        bump_metric(c, author, Counter::Comments, 1)?;
        find(c, id)?.ok_or(diesel::result::Error::NotFound)
    })
}

/// Edits text, attachment and range; the thread position stays.
pub fn update(conn: &mut DbConn, comment: &Comment, exercise: &Exercise, draft: &Draft) -> QueryResult<()> {
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
                comments_videocomment::updated_at.eq(Ts::now()),
            ))
            .execute(c)?;
        if let Some((video, drawings)) = &draft.drawings {
            super::studio::replace(c, comment.id, *video, drawings)?;
        }
        Ok(())
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

pub fn reply_count(conn: &mut DbConn, id: Id) -> QueryResult<i64> {
    comments_videocomment::table
        .filter(comments_videocomment::parent_id.eq(id))
        .count()
        .get_result(conn)
}

/// Clips a comment may attach: those cut from videos in this exercise's
/// thread (a coach answering with part of an attempt) and from the user's
/// own videos. Newest first.
pub fn clip_choices(
    conn: &mut DbConn,
    exercise_id: Id,
    user_id: i32,
) -> QueryResult<Vec<crate::videos::queries::Clip>> {
    use crate::db::schema::core_videoasset;
    let in_thread = comments_videocomment::table
        .filter(comments_videocomment::exercise_id.eq(exercise_id))
        .select(comments_videocomment::video_asset_id);
    let own = core_videoasset::table
        .filter(core_videoasset::uploaded_by_id.eq(user_id))
        .select(core_videoasset::id);
    let mut sources: Vec<Id> = in_thread.load(conn)?;
    sources.extend(own.load::<Id>(conn)?);
    core_videoclip::table
        .filter(core_videoclip::original_video_id.eq_any(sources))
        .order(core_videoclip::created_at.desc())
        .limit(100)
        .select(crate::videos::queries::Clip::as_select())
        .load(conn)
}

/// A clip with where it comes from: "<uploader>'s <video title>".
pub fn clip_choices_described(
    conn: &mut DbConn,
    exercise_id: Id,
    user_id: i32,
) -> QueryResult<Vec<(crate::videos::queries::Clip, String)>> {
    use crate::db::schema::core_videoasset;
    let clips = clip_choices(conn, exercise_id, user_id)?;
    let sources: Vec<Id> = clips.iter().map(|c| c.original_video_id).collect();
    let videos: Vec<(Id, String, Option<i32>)> = core_videoasset::table
        .filter(core_videoasset::id.eq_any(&sources))
        .select(crate::videos::queries::Asset::as_select())
        .load(conn)?
        .into_iter()
        .map(|a| (a.id, a.display_title(), a.uploaded_by_id))
        .collect();
    let uploaders: Vec<i32> = videos.iter().filter_map(|v| v.2).collect();
    let names = display_names(conn, &uploaders)?;
    Ok(clips
        .into_iter()
        .map(|clip| {
            let source = videos
                .iter()
                .find(|v| v.0 == clip.original_video_id)
                .map(|(_, file, who)| match who.and_then(|id| names.get(&id)) {
                    Some(name) => format!("{name}'s {file}"),
                    None => file.clone(),
                })
                .unwrap_or_default();
            (clip, source)
        })
        .collect())
}

/// Whether the clip's source video is in this exercise's thread or the user's own.
pub fn clip_allowed(conn: &mut DbConn, clip_id: Id, exercise_id: Id, user_id: i32) -> QueryResult<bool> {
    Ok(clip_choices(conn, exercise_id, user_id)?
        .iter()
        .any(|c| c.id == clip_id))
}
