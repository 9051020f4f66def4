-- The production schema on SQLite: the same tables and columns as the
-- PostgreSQL baseline, in the form Django's SQLite backend uses (uuids as
-- 32 hex characters, timestamps as UTC text, JSON as checked text).
-- SQLite cannot alter a foreign key later, so the ON DELETE rules that
-- PostgreSQL receives in 2026-11-27-000001_on_delete_rules are part of the
-- keys here from the start.

CREATE TABLE auth_user (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    password varchar(128) NOT NULL,
    last_login datetime NULL,
    is_superuser bool NOT NULL,
    username varchar(150) NOT NULL UNIQUE,
    first_name varchar(150) NOT NULL,
    last_name varchar(150) NOT NULL,
    email varchar(254) NOT NULL,
    is_staff bool NOT NULL,
    is_active bool NOT NULL,
    date_joined datetime NOT NULL
);

CREATE TABLE accounts_betainvitation (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    email varchar(254) NOT NULL UNIQUE,
    token varchar(64) NOT NULL UNIQUE,
    accepted_at datetime NULL
);

CREATE TABLE accounts_role (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    name varchar(50) NOT NULL UNIQUE
);

CREATE TABLE accounts_profile (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    email_verified_at datetime NULL,
    onboarding_completed bool NOT NULL,
    first_login_at datetime NULL,
    last_activity_at datetime NULL,
    preferences text NOT NULL CHECK ((JSON_VALID(preferences) OR preferences IS NULL)),
    user_id integer NOT NULL UNIQUE REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    role_id bigint NULL REFERENCES accounts_role (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX accounts_profile_role_id_22d0fb13 ON accounts_profile (role_id);

CREATE TABLE accounts_usermetrics (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    exercises_created integer NOT NULL CHECK (exercises_created >= 0),
    comments_made integer NOT NULL CHECK (comments_made >= 0),
    total_video_time integer NOT NULL CHECK (total_video_time >= 0),
    profile_id bigint NOT NULL UNIQUE REFERENCES accounts_profile (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE core_videoasset (
    id char(32) NOT NULL PRIMARY KEY,
    orig_filename varchar(255) NOT NULL,
    storage_path varchar(500) NULL,
    mime_type varchar(100) NOT NULL,
    size_bytes bigint NULL CHECK (size_bytes >= 0),
    checksum_sha256 varchar(64) NULL,
    poster_path varchar(500) NULL,
    renditions text NOT NULL CHECK ((JSON_VALID(renditions) OR renditions IS NULL)),
    youtube_url varchar(200) NULL,
    video_type varchar(20) NOT NULL,
    duration_sec integer NULL CHECK (duration_sec >= 0),
    width integer NULL CHECK (width >= 0),
    height integer NULL CHECK (height >= 0),
    processing_status varchar(20) NOT NULL,
    processing_error text NULL,
    processed_at datetime NULL,
    is_valid bool NOT NULL,
    last_validated datetime NULL,
    validation_errors text NOT NULL CHECK ((JSON_VALID(validation_errors) OR validation_errors IS NULL)),
    access_count integer NOT NULL CHECK (access_count >= 0),
    last_accessed datetime NULL,
    created_at datetime NOT NULL,
    updated_at datetime NOT NULL
);
CREATE INDEX core_videoa_mime_ty_49a7f9_idx ON core_videoasset (mime_type);
CREATE INDEX core_videoa_process_ca73a2_idx ON core_videoasset (processing_status);
CREATE INDEX core_videoa_created_4c152f_idx ON core_videoasset (created_at);

CREATE TABLE core_videoclip (
    id char(32) NOT NULL PRIMARY KEY,
    clip_hash varchar(64) NOT NULL UNIQUE,
    start_time real NOT NULL,
    end_time real NOT NULL,
    duration real NOT NULL,
    storage_path varchar(500) NOT NULL,
    size_bytes bigint NULL CHECK (size_bytes >= 0),
    processing_status varchar(20) NOT NULL,
    processing_error text NULL,
    processed_at datetime NULL,
    created_at datetime NOT NULL,
    updated_at datetime NOT NULL,
    original_video_id char(32) NOT NULL REFERENCES core_videoasset (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX core_videoclip_original_video_id_d526caa9 ON core_videoclip (original_video_id);
CREATE INDEX core_videoc_clip_ha_6c5a44_idx ON core_videoclip (clip_hash);
CREATE INDEX core_videoc_origina_ed8c17_idx ON core_videoclip (original_video_id, start_time, end_time);
CREATE INDEX core_videoc_process_90d3f6_idx ON core_videoclip (processing_status);
CREATE INDEX core_videoc_created_6de2e0_idx ON core_videoclip (created_at);

CREATE TABLE exercises_exercise (
    id char(32) NOT NULL PRIMARY KEY,
    name varchar(140) NOT NULL,
    description text NULL,
    created_at datetime NOT NULL,
    updated_at datetime NOT NULL,
    created_by_id integer NOT NULL REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    video_asset_id char(32) NOT NULL REFERENCES core_videoasset (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX exercises_exercise_name_created_by_id_dd8d47bf_uniq ON exercises_exercise (name, created_by_id);
CREATE INDEX exercises_exercise_created_by_id_52c1a29a ON exercises_exercise (created_by_id);
CREATE INDEX exercises_exercise_video_asset_id_55f3b158 ON exercises_exercise (video_asset_id);

CREATE TABLE comments_videocomment (
    id char(32) NOT NULL PRIMARY KEY,
    text text NULL,
    created_at datetime NOT NULL,
    updated_at datetime NOT NULL,
    author_id integer NOT NULL REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    exercise_id char(32) NOT NULL REFERENCES exercises_exercise (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    video_asset_id char(32) NOT NULL REFERENCES core_videoasset (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX comments_videocomment_author_id_f6a44fdc ON comments_videocomment (author_id);
CREATE INDEX comments_videocomment_exercise_id_3739763d ON comments_videocomment (exercise_id);
CREATE INDEX comments_videocomment_video_asset_id_7c4cf3bc ON comments_videocomment (video_asset_id);
CREATE INDEX comments_vi_created_653527_idx ON comments_videocomment (created_at);
