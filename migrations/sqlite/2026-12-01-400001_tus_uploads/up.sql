-- Resumable uploads; see the PostgreSQL migration of the same name.
CREATE TABLE videos_upload (
    id char(32) NOT NULL PRIMARY KEY,
    owner_id integer NOT NULL REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    node_id varchar(64) NOT NULL,
    upload_length bigint NOT NULL CHECK (upload_length > 0),
    upload_offset bigint NOT NULL DEFAULT 0 CHECK (upload_offset >= 0 AND upload_offset <= upload_length),
    filename varchar(255) NOT NULL,
    metadata text NOT NULL CHECK (json_valid(metadata)),
    video_id char(32) NULL REFERENCES core_videoasset (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    created_at datetime NOT NULL,
    updated_at datetime NOT NULL,
    expires_at datetime NOT NULL
);
CREATE INDEX videos_upload_owner_id ON videos_upload (owner_id);
CREATE INDEX videos_upload_expires_at ON videos_upload (expires_at);
CREATE INDEX videos_upload_video_id ON videos_upload (video_id);
