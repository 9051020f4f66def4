DROP INDEX videos_upload_voiceover_id;
ALTER TABLE videos_upload DROP COLUMN voiceover_id;
DROP TABLE comments_voiceover;
