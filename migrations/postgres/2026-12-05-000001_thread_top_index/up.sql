-- An exercise's attempts (its top-level comments, parent_id NULL) newest
-- first, in the order the thread shows them and its seek cursor walks
-- them: (created_at, id). With the old (exercise_id, parent_id, created_at)
-- index PostgreSQL read the whole thread, hash-joined every user and sorted
-- (1.06 ms for a 100-attempt exercise, more as the thread grows); with this
-- one it reads the page's 21 rows backwards and stops (0.30 ms, whatever
-- the thread's length). The thread's count reads it too. An index only:
-- nothing Django writes changes.
DROP INDEX IF EXISTS comments_videocomment_thread_idx;
CREATE INDEX comments_videocomment_top_idx ON comments_videocomment (exercise_id, created_at, id)
    WHERE parent_id IS NULL;
