-- Replies are found by their parent; attempts (parent_id NULL) never are,
-- by this index. Without the NULLs the index is smaller, and SQLite no
-- longer takes "parent_id IS NULL" for a selective lookup: its statistics
-- average the rows per parent (about one), so it used to walk every attempt
-- through this index for the inbox (0.67 s at 200,000 comments instead of
-- 2 ms). `parent_id = ?` and `parent_id IN (...)` imply the index's WHERE,
-- so reply lookups and the ON DELETE CASCADE still use it. The plain
-- parent_id index it makes redundant goes.
DROP INDEX comments_videocomment_parent_id;
DROP INDEX comments_videocomment_replies_idx;
CREATE INDEX comments_videocomment_replies_idx ON comments_videocomment (parent_id, created_at)
    WHERE parent_id IS NOT NULL;
