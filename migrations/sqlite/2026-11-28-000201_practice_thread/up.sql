-- See the PostgreSQL migration. SQLite cannot add a table constraint to an
-- existing table; the pair check on the range is a column check here.
ALTER TABLE comments_videocomment ADD COLUMN range_start real NULL CHECK (range_start >= 0);
ALTER TABLE comments_videocomment ADD COLUMN range_end real NULL
    CHECK ((range_start IS NULL AND range_end IS NULL) OR (range_start IS NOT NULL AND range_end IS NOT NULL AND range_end > range_start));
ALTER TABLE comments_videocomment ADD COLUMN clip_id char(32) NULL
    REFERENCES core_videoclip (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE comments_videocomment ADD COLUMN parent_id char(32) NULL
    REFERENCES comments_videocomment (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE comments_videocomment ADD COLUMN compare_offset real NULL;
CREATE INDEX comments_videocomment_parent_id ON comments_videocomment (parent_id);
CREATE INDEX comments_videocomment_clip_id ON comments_videocomment (clip_id);
CREATE INDEX exercises_exercise_created_at ON exercises_exercise (created_at);
