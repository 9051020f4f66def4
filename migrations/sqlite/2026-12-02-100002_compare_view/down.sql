ALTER TABLE comments_videocomment DROP COLUMN compare_overlay;
ALTER TABLE comments_videocomment DROP COLUMN compare_mirror;
