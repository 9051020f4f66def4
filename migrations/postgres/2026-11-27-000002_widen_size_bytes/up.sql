-- Django's PositiveIntegerField is a 32-bit integer: videos over 2 GiB did
-- not fit. The ">= 0" checks stay.
ALTER TABLE core_videoasset ALTER COLUMN size_bytes TYPE bigint;
ALTER TABLE core_videoclip ALTER COLUMN size_bytes TYPE bigint;
