-- See the PostgreSQL migration of the same name.
ALTER TABLE comments_videocomment ADD COLUMN compare_mirror varchar(10) NULL
    CHECK (compare_mirror IS NULL OR compare_mirror IN ('demo', 'attempt', 'both'));
ALTER TABLE comments_videocomment ADD COLUMN compare_overlay real NULL
    CHECK (compare_overlay IS NULL OR (compare_overlay >= 0 AND compare_overlay <= 1));
