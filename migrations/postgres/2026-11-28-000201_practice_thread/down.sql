DROP INDEX exercises_exercise_created_at;
ALTER TABLE comments_videocomment
    DROP CONSTRAINT comments_videocomment_range_check,
    DROP COLUMN range_start, DROP COLUMN range_end, DROP COLUMN clip_id,
    DROP COLUMN parent_id, DROP COLUMN compare_offset;
