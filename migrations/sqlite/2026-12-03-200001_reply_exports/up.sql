-- See the PostgreSQL migration of the same name.
CREATE TABLE comments_export (
    id char(32) NOT NULL PRIMARY KEY,
    comment_id char(32) NOT NULL UNIQUE
        REFERENCES comments_videocomment (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    owner_id integer NOT NULL REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    video_id char(32) NOT NULL REFERENCES core_videoasset (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    path varchar(255) NULL,
    size_bytes bigint NULL CHECK (size_bytes IS NULL OR size_bytes >= 0),
    duration_ms integer NULL CHECK (duration_ms IS NULL OR duration_ms >= 0),
    status varchar(20) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'processing', 'ready', 'failed')),
    processing_error text NULL,
    created_at datetime NOT NULL,
    finished_at datetime NULL
);
CREATE INDEX comments_export_owner_id ON comments_export (owner_id, created_at);
CREATE INDEX comments_export_video_id ON comments_export (video_id);
