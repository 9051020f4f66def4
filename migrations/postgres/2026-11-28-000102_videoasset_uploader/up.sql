-- Who uploaded a video, so that permissions can be checked (the Django
-- schema has no owner column). NULL for rows made by the Django app and
-- for videos whose uploader was deleted.
ALTER TABLE core_videoasset ADD COLUMN uploaded_by_id integer NULL
    CONSTRAINT core_videoasset_uploaded_by_id_fk_auth_user_id
    REFERENCES auth_user (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX core_videoasset_uploaded_by_id_idx ON core_videoasset (uploaded_by_id);
-- Duplicate uploads are found by checksum.
CREATE INDEX core_videoasset_checksum_sha256_idx ON core_videoasset (checksum_sha256);
