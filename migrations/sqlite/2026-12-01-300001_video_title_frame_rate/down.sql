ALTER TABLE core_videoasset DROP COLUMN frame_rate;
ALTER TABLE core_videoasset DROP COLUMN title;
