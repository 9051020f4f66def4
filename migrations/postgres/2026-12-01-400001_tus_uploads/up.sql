-- Resumable uploads (the tus 1.0 protocol): one row per upload in
-- progress. The bytes so far are in <data dir>/tmp/tus/<id>.part, whose
-- length is at least upload_offset (the file is synced before the offset is
-- recorded, and cut back to it when the upload resumes). The client's file
-- name is only metadata (a title), never a path. A finished upload keeps its
-- row, pointing at its video, until it expires; a job deletes expired rows
-- and their files.
CREATE TABLE videos_upload (
    id uuid NOT NULL PRIMARY KEY,
    owner_id integer NOT NULL
        REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    -- The node that created it (the file is on the shared data folder).
    node_id varchar(64) NOT NULL,
    upload_length bigint NOT NULL CHECK (upload_length > 0),
    upload_offset bigint NOT NULL DEFAULT 0 CHECK (upload_offset >= 0 AND upload_offset <= upload_length),
    filename varchar(255) NOT NULL,
    metadata jsonb NOT NULL,
    video_id uuid NULL
        REFERENCES core_videoasset (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL
);
CREATE INDEX videos_upload_owner_id ON videos_upload (owner_id);
CREATE INDEX videos_upload_expires_at ON videos_upload (expires_at);
CREATE INDEX videos_upload_video_id ON videos_upload (video_id);
