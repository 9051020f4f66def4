//! Video assets: uploads and YouTube links; reprocess and re-validate.

use diesel::prelude::*;

use crate::db::schema::{
    auth_user, comments_export, comments_videocomment, core_videoasset, core_videoclip, exercises_exercise,
};
use diesel::query_builder::{QueryFragment, QueryId};
use diesel::query_dsl::methods::LoadQuery;

use crate::db::{DbConn, Id, MultiBackend};
use crate::staff::audit::Entry;
use crate::staff::model::*;
use crate::videos::queries::{self, Asset};
use crate::videos::{Status, TYPE_UPLOAD};
use crate::web::auth::CurrentUser;

pub struct Videos;

const RELATED_LIMIT: i64 = 20;

const COLUMNS: &[ListColumn] = &[
    col("title", "Title", true),
    col("type", "Type", true),
    col("status", "Status", true),
    col("valid", "Valid", true),
    col("size", "Size", true),
    col("duration", "Duration", true),
    col("uploader", "Uploaded by", true),
    col("created", "Added", true),
];

const ACTIONS: &[BulkAction] = &[
    BulkAction {
        key: "reprocess",
        label: "Reprocess",
    },
    BulkAction {
        key: "revalidate",
        label: "Re-validate",
    },
];

pub const STATUSES: &[(&str, &str)] = &[
    ("pending", "pending"),
    ("processing", "processing"),
    ("ready", "ready"),
    ("failed", "failed"),
];

fn find(conn: &mut DbConn, id: &str) -> StaffResult<Asset> {
    let id: Id = parse_id(id)?;
    found(queries::find_asset(conn, id))
}

/// The list's filters on `$source`: videos, or videos joined with their
/// uploader (every filter is on the video itself).
macro_rules! filtered {
    ($source:expr, $params:expr) => {{
        let params = $params;
        let mut query = $source.into_boxed();
        if let Some(pattern) = params.like() {
            query = query.filter(search!(
                "coalesce(core_videoasset.title, '') || ' ' || core_videoasset.orig_filename || ' ' || coalesce(core_videoasset.youtube_url, '')",
                pattern
            ));
        }
        if let Some(status) = params.choice("status") {
            query = query.filter(core_videoasset::processing_status.eq(status.to_owned()));
        }
        if let Some(kind) = params.choice("type") {
            query = query.filter(core_videoasset::video_type.eq(kind.to_owned()));
        }
        if let Some(valid) = params.choice("valid") {
            query = query.filter(core_videoasset::is_valid.eq(valid == "yes"));
        }
        if let Some(uploader) = params.choice("uploader").and_then(|u| u.parse::<i32>().ok()) {
            query = query.filter(core_videoasset::uploaded_by_id.eq(uploader));
        }
        if let Some(since) = params.since("created") {
            query = query.filter(core_videoasset::created_at.ge(since));
        }
        if let Some(before) = params.before("created") {
            query = query.filter(core_videoasset::created_at.lt(before));
        }
        query
    }};
}

/// Uploaders as filter choices (only people who uploaded something).
pub fn uploader_choices(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    let people: Vec<(i32, String)> = auth_user::table
        .filter(
            auth_user::id
                .nullable()
                .eq_any(core_videoasset::table.select(core_videoasset::uploaded_by_id)),
        )
        .order(auth_user::username.asc())
        .select((auth_user::id, auth_user::username))
        .load(conn)?;
    Ok(people.into_iter().map(|(id, name)| (id.to_string(), name)).collect())
}

fn size(bytes: Option<i64>) -> String {
    bytes
        .map(crate::videos::pages::human_size)
        .unwrap_or_else(|| "—".into())
}

/// How many videos the list's filters match, on the videos alone (public,
/// like [`page_query`], so that tests can `EXPLAIN` them).
pub fn count_query(
    params: &ListParams,
) -> impl LoadQuery<'static, DbConn, i64> + QueryFragment<MultiBackend> + QueryId {
    filtered!(core_videoasset::table, params).count()
}

/// One page of the list, with each video's uploader.
pub fn page_query(
    params: &ListParams,
) -> impl LoadQuery<'static, DbConn, (Asset, Option<String>)> + QueryFragment<MultiBackend> + QueryId {
    let source = core_videoasset::table.left_join(auth_user::table);
    sorted!(filtered!(source, params), params, core_videoasset::created_at.desc(), {
        // As the title is shown: Django's rows have none and go by file name.
        "title" => diesel::dsl::sql::<diesel::sql_types::Text>("coalesce(core_videoasset.title, core_videoasset.orig_filename)"),
        "type" => core_videoasset::video_type,
        "status" => core_videoasset::processing_status,
        "valid" => core_videoasset::is_valid,
        "size" => core_videoasset::size_bytes,
        "duration" => core_videoasset::duration_sec,
        "uploader" => auth_user::username.nullable(),
        "created" => core_videoasset::created_at,
    })
    .then_order_by(core_videoasset::id.desc())
    .offset(params.offset())
    .limit(PER_PAGE)
    .select((Asset::as_select(), auth_user::username.nullable()))
}

impl StaffModel for Videos {
    fn slug(&self) -> &'static str {
        "videos"
    }
    fn plural(&self) -> &'static str {
        "Videos"
    }
    fn singular(&self) -> &'static str {
        "video"
    }
    fn columns(&self) -> &'static [ListColumn] {
        COLUMNS
    }
    fn search_hint(&self) -> &'static str {
        "File name or YouTube link"
    }

    fn filters(&self, conn: &mut DbConn) -> QueryResult<Vec<FilterSpec>> {
        Ok(vec![
            choice("status", "Status", STATUSES),
            choice("type", "Type", &[("upload", "upload"), ("youtube", "YouTube")]),
            choice("valid", "Valid", &[("yes", "valid"), ("no", "invalid")]),
            FilterSpec {
                key: "uploader",
                label: "Uploaded by",
                kind: FilterKind::Choice(uploader_choices(conn)?),
            },
            dates("created", "Added"),
        ])
    }

    fn list(&self, conn: &mut DbConn, params: &ListParams) -> QueryResult<(Vec<Row>, i64)> {
        let total: i64 = count_query(params).get_result(conn)?;
        let rows: Vec<(Asset, Option<String>)> = page_query(params).load(conn)?;
        Ok((
            rows.into_iter()
                .map(|(a, uploader)| Row {
                    id: a.id.to_string(),
                    cells: vec![
                        Cell::text(excerpt(&a.display_title(), 60)),
                        Cell::text(a.video_type.clone()),
                        Cell::badge(a.processing_status.clone(), a.processing_status.clone()),
                        Cell::yes_no(a.is_valid),
                        Cell::text(size(a.size_bytes)),
                        Cell::text(
                            a.duration_sec
                                .map(|d| crate::videos::pages::clock(f64::from(d)))
                                .unwrap_or_else(|| "—".into()),
                        ),
                        Cell::text(uploader.unwrap_or_else(|| "—".into())),
                        Cell::when(Some(a.created_at)),
                    ],
                })
                .collect(),
            total,
        ))
    }

    fn detail(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Detail> {
        let a = find(conn, id)?;
        let uploader: Option<String> = match a.uploaded_by_id {
            Some(uid) => auth_user::table
                .find(uid)
                .select(auth_user::username)
                .first(conn)
                .optional()?,
            None => None,
        };
        Ok(Detail {
            repr: a.display_title(),
            fields: vec![Field::new("title", "Title", InputKind::Text, a.display_title())
                .hint("The name people see wherever the video is shown.")],
            facts: vec![
                ("File name", a.orig_filename.clone()),
                ("Type", a.video_type.clone()),
                ("Status", a.status().label().to_owned()),
                (
                    "Processing error",
                    a.processing_error.clone().unwrap_or_else(|| "—".into()),
                ),
                ("Valid", if a.is_valid { "yes" } else { "no" }.to_owned()),
                ("Validation problems", {
                    let problems = a.validation_errors();
                    if problems.is_empty() {
                        "—".into()
                    } else {
                        problems.join("; ")
                    }
                }),
                (
                    "Last validated",
                    a.last_validated
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| "never".into()),
                ),
                ("Size", size(a.size_bytes)),
                (
                    "Dimensions",
                    match (a.width, a.height) {
                        (Some(w), Some(h)) => format!("{w}×{h}"),
                        _ => "—".into(),
                    },
                ),
                (
                    "Renditions",
                    a.renditions().keys().cloned().collect::<Vec<_>>().join(", "),
                ),
                ("YouTube", a.youtube_url.clone().unwrap_or_else(|| "—".into())),
                ("Played", format!("{} time(s)", a.access_count)),
                ("Uploaded by", uploader.unwrap_or_else(|| "—".into())),
                ("Added", a.created_at.to_string()),
                ("Watch", format!("/videos/{}", a.id)),
            ],
        })
    }

    fn save(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser, input: &Input) -> StaffResult<Entry> {
        let a = find(conn, id)?;
        let form = crate::videos::forms::TitleForm {
            title: input.text("title"),
        };
        let title = form.parse().map_err(StaffError::Invalid)?;
        let old = a.display_title();
        let mut entry = Entry::new("change", "videos", a.id, old.clone());
        if a.title.as_deref() != Some(title.as_str()) {
            queries::set_title(conn, a.id, &title)?;
            entry = entry.change("title", old, title);
        }
        Ok(entry)
    }

    fn related(&self, conn: &mut DbConn, id: &str) -> QueryResult<Vec<Related>> {
        let Ok(id) = id.parse::<Id>() else {
            return Ok(Vec::new());
        };
        let clips = queries::clips_of(conn, id)?;
        let exercises = exercises_exercise::table.filter(exercises_exercise::video_asset_id.eq(id));
        let exercise_total: i64 = exercises.count().get_result(conn)?;
        let exercise_rows: Vec<(Id, String)> = exercises
            .order(exercises_exercise::created_at.desc())
            .limit(RELATED_LIMIT)
            .select((exercises_exercise::id, exercises_exercise::name))
            .load(conn)?;
        Ok(vec![
            Related {
                title: "Clips".into(),
                model: "clips",
                columns: vec!["Range", "Status"],
                total: clips.len() as i64,
                rows: clips
                    .into_iter()
                    .take(RELATED_LIMIT as usize)
                    .map(|c| Row {
                        id: c.id.to_string(),
                        cells: vec![
                            Cell::text(format!(
                                "{}–{}",
                                crate::videos::pages::clock(c.start_time),
                                crate::videos::pages::clock(c.end_time)
                            )),
                            Cell::badge(c.processing_status.clone(), c.processing_status.clone()),
                        ],
                    })
                    .collect(),
                list_query: format!("video={id}"),
            },
            Related {
                title: "Exercises using it".into(),
                model: "exercises",
                columns: vec!["Name"],
                total: exercise_total,
                rows: exercise_rows
                    .into_iter()
                    .map(|(eid, name)| Row {
                        id: eid.to_string(),
                        cells: vec![Cell::text(name)],
                    })
                    .collect(),
                list_query: format!("video={id}"),
            },
        ])
    }

    fn delete_preview(&self, conn: &mut DbConn, id: &str) -> StaffResult<Vec<String>> {
        let a = find(conn, id)?;
        let clips: i64 = core_videoclip::table
            .filter(core_videoclip::original_video_id.eq(a.id))
            .count()
            .get_result(conn)?;
        let exercises: Vec<Id> = exercises_exercise::table
            .filter(exercises_exercise::video_asset_id.eq(a.id))
            .select(exercises_exercise::id)
            .load(conn)?;
        let thread_comments: i64 = comments_videocomment::table
            .filter(comments_videocomment::exercise_id.eq_any(&exercises))
            .count()
            .get_result(conn)?;
        let attached: i64 = comments_videocomment::table
            .filter(comments_videocomment::video_asset_id.eq(a.id))
            .filter(diesel::dsl::not(comments_videocomment::exercise_id.eq_any(&exercises)))
            .count()
            .get_result(conn)?;
        // Replies exported as videos of this attempt go with their comments.
        let exports: i64 = comments_export::table
            .filter(comments_export::video_id.eq(a.id))
            .count()
            .get_result(conn)?;
        Ok(vec![
            format!("The video {}.", a.display_title()),
            format!("{clips} clip(s) cut from it."),
            format!(
                "{} exercise(s) built on it, with the {thread_comments} comment(s) on them.",
                exercises.len()
            ),
            format!("{attached} comment(s) elsewhere that carry this video (and their replies)."),
            format!("{exports} exported video(s) of replies on it, with their MP4 files."),
            "Its files (original, poster, renditions, clips), unless another video shares them.".into(),
        ])
    }

    fn delete(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Entry> {
        let a = find(conn, id)?;
        // Through the exercise and comment deletes, so that the comment and
        // exercise counters of everyone involved stay exact.
        let exercises: Vec<crate::exercises::queries::Exercise> = exercises_exercise::table
            .filter(exercises_exercise::video_asset_id.eq(a.id))
            .select(crate::exercises::queries::Exercise::as_select())
            .load(conn)?;
        for exercise in &exercises {
            crate::exercises::queries::delete(conn, exercise)?;
        }
        let comments: Vec<Id> = comments_videocomment::table
            .filter(comments_videocomment::video_asset_id.eq(a.id))
            .select(comments_videocomment::id)
            .load(conn)?;
        for comment_id in comments {
            if let Some(comment) = crate::comments::queries::find(conn, comment_id)? {
                crate::comments::queries::delete(conn, &comment)?;
            }
        }
        diesel::delete(core_videoasset::table.find(a.id)).execute(conn)?;
        // Its seconds counted towards the uploader's total once processed.
        if let (Some(_), Some(uploader), Some(seconds)) = (a.processed_at, a.uploaded_by_id, a.duration_sec) {
            crate::accounts::queries::bump_metric(
                conn,
                uploader,
                crate::accounts::queries::Counter::VideoSeconds,
                -seconds,
            )?;
        }
        Ok(Entry::new("delete", "videos", a.id, a.display_title()))
    }

    fn stored_files(&self, conn: &mut DbConn, id: &str) -> StaffResult<Vec<String>> {
        let a = find(conn, id)?;
        let mut files: Vec<String> = a.storage_path.iter().chain(a.poster_path.iter()).cloned().collect();
        files.extend(a.renditions().into_values().map(|r| r.path));
        files.extend(
            core_videoclip::table
                .filter(core_videoclip::original_video_id.eq(a.id))
                .select(core_videoclip::storage_path)
                .load::<String>(conn)?,
        );
        // An upload of the same file shares the stored copy: keep what
        // another video still uses.
        let others: Vec<Asset> = core_videoasset::table
            .filter(core_videoasset::id.ne(a.id))
            .filter(
                core_videoasset::storage_path
                    .eq(a.storage_path.clone())
                    .or(core_videoasset::checksum_sha256.eq(a.checksum_sha256.clone())),
            )
            .select(Asset::as_select())
            .load(conn)?;
        for other in others {
            let used: Vec<String> = other
                .storage_path
                .iter()
                .chain(other.poster_path.iter())
                .cloned()
                .chain(other.renditions().into_values().map(|r| r.path))
                .collect();
            files.retain(|f| !used.contains(f));
        }
        Ok(files)
    }

    fn object_bulk_actions(&self) -> &'static [BulkAction] {
        ACTIONS
    }

    fn bulk_actions(&self) -> &'static [BulkAction] {
        ACTIONS
    }

    fn bulk(
        &self,
        conn: &mut DbConn,
        action: &str,
        ids: &[String],
        _actor: &CurrentUser,
        _input: &Input,
    ) -> StaffResult<BulkOutcome> {
        let mut outcome = BulkOutcome::default();
        for id in ids {
            let Ok(a) = find(conn, id) else {
                outcome.skipped.push(format!("No video with id {id}."));
                continue;
            };
            if a.video_type != TYPE_UPLOAD {
                outcome.skipped.push(format!(
                    "{} is a YouTube link: there is no file to process or check.",
                    a.display_title()
                ));
                continue;
            }
            match action {
                "reprocess" => {
                    if a.status() == Status::Processing {
                        outcome
                            .skipped
                            .push(format!("{} is being processed right now; skipped.", a.display_title()));
                        continue;
                    }
                    queries::set_status(conn, a.id, Status::Pending, None)?;
                    let job = queries::enqueue_processing(conn, a.id)?;
                    outcome.entries.push(
                        Entry::new("reprocess", "videos", a.id, a.display_title())
                            .change("processing_status", a.processing_status.clone(), "pending")
                            .change("job", serde_json::Value::Null, job),
                    );
                }
                "revalidate" => {
                    let job = queries::request_revalidation(conn, a.id)?;
                    outcome
                        .entries
                        .push(Entry::new("revalidate", "videos", a.id, a.display_title()).change(
                            "job",
                            serde_json::Value::Null,
                            job,
                        ));
                }
                other => return Err(StaffError::Refused(format!("Unknown action “{other}”."))),
            }
        }
        Ok(outcome)
    }
}
