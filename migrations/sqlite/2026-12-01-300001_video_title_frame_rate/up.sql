-- A video's title and its frame rate; see the PostgreSQL migration of the same name.
ALTER TABLE core_videoasset ADD COLUMN title varchar(255) NULL;
ALTER TABLE core_videoasset ADD COLUMN frame_rate real NULL CHECK (frame_rate > 0);
