-- The coach's review studio.
--
-- A comment's pinned range (range_start/range_end) is of the exercise's
-- demonstration, unless range_video_id names the attempt it is of (the
-- video of the comment a reply answers). NULL, as in every row the Django
-- app writes, means the demonstration, as before.
ALTER TABLE comments_videocomment
    ADD COLUMN range_video_id uuid NULL
        REFERENCES core_videoasset (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX comments_videocomment_range_video_id ON comments_videocomment (range_video_id);

-- Drawings (telestration) of a comment on a video: vector shapes in
-- coordinates normalised to the frame (0..1), shown from start_time to
-- end_time (seconds of that video). The shapes were checked against a strict
-- schema before they were stored (comments::studio); size_bytes is their
-- JSON's length. A comment's drawings go with it, and with the video.
CREATE TABLE comments_drawing (
    id uuid NOT NULL PRIMARY KEY,
    comment_id uuid NOT NULL
        REFERENCES comments_videocomment (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    video_id uuid NOT NULL
        REFERENCES core_videoasset (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    position integer NOT NULL,
    start_time double precision NOT NULL,
    end_time double precision NOT NULL,
    shapes jsonb NOT NULL,
    size_bytes integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT comments_drawing_position_check CHECK (position >= 0),
    CONSTRAINT comments_drawing_size_bytes_check CHECK (size_bytes >= 0),
    CONSTRAINT comments_drawing_times_check CHECK (start_time >= 0 AND end_time >= start_time)
);
CREATE INDEX comments_drawing_comment_id ON comments_drawing (comment_id, position);
CREATE INDEX comments_drawing_video_id ON comments_drawing (video_id);
