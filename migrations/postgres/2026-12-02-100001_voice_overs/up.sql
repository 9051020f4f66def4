-- Voice-overs: a coach's recorded voice over an attempt, with the timeline
-- of the player actions taken while recording (play, pause, seek, speed,
-- drawing shown), replayed in sync with the audio.
--
-- The audio arrives through the resumable upload path before the reply is
-- posted: the row exists from then on (owner_id, comment_id NULL), and the
-- reply that keeps it sets comment_id, video_id (the attempt) and the
-- timeline. original_path is the upload as received (checked to be audio),
-- audio_path the job's web version (Opus in WebM). A comment's voice-over
-- goes with it, and with the attempt; unposted ones are removed by the
-- worker's housekeeping after a day.
CREATE TABLE comments_voiceover (
    id uuid NOT NULL PRIMARY KEY,
    owner_id integer NOT NULL
        REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    comment_id uuid NULL
        REFERENCES comments_videocomment (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    video_id uuid NULL
        REFERENCES core_videoasset (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    original_path varchar(255) NOT NULL,
    original_mime varchar(100) NOT NULL,
    original_size bigint NOT NULL,
    audio_path varchar(255) NULL,
    audio_size bigint NULL,
    duration_ms integer NULL,
    timeline jsonb NOT NULL DEFAULT '[]',
    transcript text NULL,
    status varchar(20) NOT NULL DEFAULT 'pending',
    processing_error text NULL,
    created_at timestamp with time zone NOT NULL,
    processed_at timestamp with time zone NULL,
    CONSTRAINT comments_voiceover_comment_id_key UNIQUE (comment_id),
    CONSTRAINT comments_voiceover_status_check
        CHECK (status IN ('pending', 'processing', 'ready', 'failed', 'invalid')),
    CONSTRAINT comments_voiceover_sizes_check
        CHECK (original_size >= 0 AND (audio_size IS NULL OR audio_size >= 0)
               AND (duration_ms IS NULL OR duration_ms >= 0))
);
CREATE INDEX comments_voiceover_owner_id ON comments_voiceover (owner_id, created_at);
CREATE INDEX comments_voiceover_video_id ON comments_voiceover (video_id);

-- A finished resumable upload that became a voice-over points at it (as
-- video_id does for a video).
ALTER TABLE videos_upload
    ADD COLUMN voiceover_id uuid NULL
        REFERENCES comments_voiceover (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX videos_upload_voiceover_id ON videos_upload (voiceover_id);
