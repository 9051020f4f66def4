ALTER TABLE comments_videocomment DROP COLUMN compare_overlay, DROP COLUMN compare_mirror;
