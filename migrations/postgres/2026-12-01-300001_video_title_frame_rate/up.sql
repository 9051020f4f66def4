-- A video's title, shown wherever the video is named: it starts as the file
-- name without its extension and whoever may edit the video changes it.
-- NULL for rows the Django app writes: they are shown by their file name
-- (without the extension), as a new upload starts.
ALTER TABLE core_videoasset ADD COLUMN title varchar(255) NULL;
-- Frames per second as ffprobe reports them (avg_frame_rate), so that the
-- player steps one real frame. NULL until processed, and for YouTube links.
ALTER TABLE core_videoasset ADD COLUMN frame_rate double precision NULL
    CONSTRAINT core_videoasset_frame_rate_positive CHECK (frame_rate > 0);
