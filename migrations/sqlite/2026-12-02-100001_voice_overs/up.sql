-- See the PostgreSQL migration of the same name.
CREATE TABLE comments_voiceover (
    id char(32) NOT NULL PRIMARY KEY,
    owner_id integer NOT NULL REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    comment_id char(32) NULL UNIQUE
        REFERENCES comments_videocomment (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    video_id char(32) NULL REFERENCES core_videoasset (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    original_path varchar(255) NOT NULL,
    original_mime varchar(100) NOT NULL,
    original_size bigint NOT NULL CHECK (original_size >= 0),
    audio_path varchar(255) NULL,
    audio_size bigint NULL CHECK (audio_size IS NULL OR audio_size >= 0),
    duration_ms integer NULL CHECK (duration_ms IS NULL OR duration_ms >= 0),
    timeline text NOT NULL DEFAULT '[]' CHECK (JSON_VALID(timeline)),
    transcript text NULL,
    status varchar(20) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'processing', 'ready', 'failed', 'invalid')),
    processing_error text NULL,
    created_at datetime NOT NULL,
    processed_at datetime NULL
);
CREATE INDEX comments_voiceover_owner_id ON comments_voiceover (owner_id, created_at);
CREATE INDEX comments_voiceover_video_id ON comments_voiceover (video_id);

ALTER TABLE videos_upload ADD COLUMN voiceover_id char(32) NULL
    REFERENCES comments_voiceover (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX videos_upload_voiceover_id ON videos_upload (voiceover_id);
