ALTER TABLE core_videoasset ALTER COLUMN size_bytes TYPE integer;
ALTER TABLE core_videoclip ALTER COLUMN size_bytes TYPE integer;
