DROP INDEX IF EXISTS comments_videocomment_top_idx;
CREATE INDEX comments_videocomment_thread_idx ON comments_videocomment (exercise_id, parent_id, created_at);
