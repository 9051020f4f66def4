DROP INDEX exercises_exercise_created_at;
DROP INDEX comments_videocomment_parent_id;
DROP INDEX comments_videocomment_clip_id;
ALTER TABLE comments_videocomment DROP COLUMN compare_offset;
ALTER TABLE comments_videocomment DROP COLUMN parent_id;
ALTER TABLE comments_videocomment DROP COLUMN clip_id;
ALTER TABLE comments_videocomment DROP COLUMN range_end;
ALTER TABLE comments_videocomment DROP COLUMN range_start;
