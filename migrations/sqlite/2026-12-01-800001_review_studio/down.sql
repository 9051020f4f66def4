DROP TABLE comments_drawing;
DROP INDEX comments_videocomment_range_video_id;
ALTER TABLE comments_videocomment DROP COLUMN range_video_id;
