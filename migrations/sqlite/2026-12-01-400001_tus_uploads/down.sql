DROP TABLE videos_upload;
