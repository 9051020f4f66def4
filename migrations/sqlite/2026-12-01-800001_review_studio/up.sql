-- See the PostgreSQL migration of the same name.
ALTER TABLE comments_videocomment ADD COLUMN range_video_id char(32) NULL
    REFERENCES core_videoasset (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX comments_videocomment_range_video_id ON comments_videocomment (range_video_id);

CREATE TABLE comments_drawing (
    id char(32) NOT NULL PRIMARY KEY,
    comment_id char(32) NOT NULL
        REFERENCES comments_videocomment (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    video_id char(32) NOT NULL
        REFERENCES core_videoasset (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    position integer NOT NULL CHECK (position >= 0),
    start_time real NOT NULL CHECK (start_time >= 0),
    end_time real NOT NULL CHECK (end_time >= start_time),
    shapes text NOT NULL CHECK (JSON_VALID(shapes)),
    size_bytes integer NOT NULL CHECK (size_bytes >= 0),
    created_at datetime NOT NULL
);
CREATE INDEX comments_drawing_comment_id ON comments_drawing (comment_id, position);
CREATE INDEX comments_drawing_video_id ON comments_drawing (video_id);
