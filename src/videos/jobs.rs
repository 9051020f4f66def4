//! The videos' job kinds, registered with the worker at start-up.

use super::processing;
use crate::jobs::registry::payload_id;
use crate::jobs::{JobKind, Registry};

/// Probe an upload, make its poster and renditions: `{"asset_id": uuid}`.
pub const PROCESS_VIDEO: &str = "process_video";
/// Cut a clip: `{"clip_id": uuid}`.
pub const CUT_CLIP: &str = "cut_clip";
/// Check a stored file still exists and matches its checksum:
/// `{"asset_id": uuid}`.
pub const REVALIDATE_VIDEO: &str = "revalidate_video";

pub fn register_jobs(registry: &mut Registry) {
    // Resumable uploads nobody touched for PRACTIKA_UPLOAD_EXPIRE_HOURS:
    // their rows and partial files go.
    registry.chore(crate::jobs::Chore {
        name: "remove abandoned resumable uploads",
        every: std::time::Duration::from_secs(3600),
        run: |ctx| {
            Box::pin(async move {
                let (pool, dir, expiry) = (ctx.pool.clone(), ctx.tus_dir.clone(), ctx.upload_expiry);
                tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
                    let mut conn = pool.get()?;
                    super::tus::purge_expired(&mut conn, &dir, expiry)
                })
                .await?
            })
        },
    });
    // An upload is stored under its final name before its row commits (in
    // a bucket there is no atomic rename): a node killed in between leaves
    // a file no row names.
    registry.chore(crate::jobs::Chore {
        name: "remove stored uploads whose row is gone",
        every: std::time::Duration::from_secs(6 * 3600),
        run: |ctx| {
            Box::pin(async move {
                let (pool, storage) = (ctx.pool.clone(), ctx.storage.clone());
                tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
                    let mut conn = pool.get()?;
                    super::upload::purge_orphans(&mut conn, &storage, super::upload::ORPHAN_AFTER)
                })
                .await?
            })
        },
    });
    registry
        .register(
            JobKind::new(PROCESS_VIDEO, |ctx, job| {
                Box::pin(async move { processing::process_video(ctx, payload_id(job, "asset_id")?).await })
            })
            // The video's page says whether it is waiting for a retry or
            // failed for good, and a released one waits again.
            .on_failure(|ctx, job, message, retry_at| {
                Box::pin(async move {
                    match payload_id(job, "asset_id") {
                        Ok(id) => processing::video_failed(ctx, id, message, retry_at).await,
                        Err(_) => Ok(()),
                    }
                })
            })
            .on_release(|ctx, job| {
                Box::pin(async move {
                    match payload_id(job, "asset_id") {
                        Ok(id) => processing::video_requeued(ctx, id).await,
                        Err(_) => Ok(()),
                    }
                })
            }),
        )
        .register(
            JobKind::new(CUT_CLIP, |ctx, job| {
                Box::pin(async move { processing::cut_clip(ctx, payload_id(job, "clip_id")?).await })
            })
            .on_failure(|ctx, job, message, retry_at| {
                Box::pin(async move {
                    match payload_id(job, "clip_id") {
                        Ok(id) => processing::clip_failed(ctx, id, message, retry_at).await,
                        Err(_) => Ok(()),
                    }
                })
            })
            .on_release(|ctx, job| {
                Box::pin(async move {
                    match payload_id(job, "clip_id") {
                        Ok(id) => processing::clip_requeued(ctx, id).await,
                        Err(_) => Ok(()),
                    }
                })
            }),
        )
        .register(JobKind::new(REVALIDATE_VIDEO, |ctx, job| {
            Box::pin(async move {
                processing::revalidate(ctx, payload_id(job, "asset_id")?)
                    .await
                    .map(drop)
            })
        }));
}
