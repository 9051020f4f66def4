-- The practice thread: a comment may pin a time range of the exercise's
-- demonstration, attach a clip, answer another comment, and (for a reply
-- comparing an attempt with the demonstration) keep the offset between
-- the two videos so the comparison reopens exactly.
ALTER TABLE comments_videocomment
    ADD COLUMN range_start double precision NULL CHECK (range_start >= 0),
    ADD COLUMN range_end double precision NULL,
    ADD COLUMN clip_id uuid NULL
        REFERENCES core_videoclip (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    ADD COLUMN parent_id uuid NULL
        REFERENCES comments_videocomment (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    ADD COLUMN compare_offset double precision NULL,
    ADD CONSTRAINT comments_videocomment_range_check CHECK (
        (range_start IS NULL AND range_end IS NULL)
        OR (range_start IS NOT NULL AND range_end IS NOT NULL AND range_end > range_start)
    );
CREATE INDEX comments_videocomment_parent_id ON comments_videocomment (parent_id);
CREATE INDEX comments_videocomment_clip_id ON comments_videocomment (clip_id);
-- The library lists newest first.
CREATE INDEX exercises_exercise_created_at ON exercises_exercise (created_at);
