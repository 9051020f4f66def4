-- Who uploaded a video; see the PostgreSQL migration of the same name.
ALTER TABLE core_videoasset ADD COLUMN uploaded_by_id integer NULL
    REFERENCES auth_user (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX core_videoasset_uploaded_by_id_idx ON core_videoasset (uploaded_by_id);
CREATE INDEX core_videoasset_checksum_sha256_idx ON core_videoasset (checksum_sha256);
