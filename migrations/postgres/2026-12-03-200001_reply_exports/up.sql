-- Exports of a reply as a video: the attempt rendered by ffmpeg with the
-- reply's drawings and its voice-over burnt in (comments::export), an MP4
-- to download or share outside Practika.
--
-- One per comment (the unique key makes a double click one export). The
-- row is written with its job, in one transaction; path and size_bytes are
-- set when the file is in place under exports/. owner_id is who asked (the
-- reply's author); video_id the attempt rendered. An export goes with its
-- comment, its attempt and its owner; the file is removed with the comment
-- and, whoever deleted the row, by the worker's hourly clean-up.
CREATE TABLE comments_export (
    id uuid NOT NULL PRIMARY KEY,
    comment_id uuid NOT NULL
        REFERENCES comments_videocomment (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    owner_id integer NOT NULL
        REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    video_id uuid NOT NULL
        REFERENCES core_videoasset (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    path varchar(255) NULL,
    size_bytes bigint NULL,
    duration_ms integer NULL,
    status varchar(20) NOT NULL DEFAULT 'pending',
    processing_error text NULL,
    created_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone NULL,
    CONSTRAINT comments_export_comment_id_key UNIQUE (comment_id),
    CONSTRAINT comments_export_status_check
        CHECK (status IN ('pending', 'processing', 'ready', 'failed')),
    CONSTRAINT comments_export_sizes_check
        CHECK ((size_bytes IS NULL OR size_bytes >= 0) AND (duration_ms IS NULL OR duration_ms >= 0))
);
CREATE INDEX comments_export_owner_id ON comments_export (owner_id, created_at);
CREATE INDEX comments_export_video_id ON comments_export (video_id);
