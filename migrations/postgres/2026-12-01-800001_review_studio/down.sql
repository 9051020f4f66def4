DROP TABLE comments_drawing;
ALTER TABLE comments_videocomment DROP COLUMN range_video_id;
