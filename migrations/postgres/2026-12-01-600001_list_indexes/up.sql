-- An index for every list filter and sort, so that no page scans a large
-- table: the library, the thread, "my videos", the staff lists. Indexes
-- only: no row and no column Django writes changes.

-- Login, invitations and the staff search find people by address, case-insensitively.
CREATE INDEX auth_user_lower_email_idx ON auth_user (lower(email));
-- Staff user list sorts.
CREATE INDEX auth_user_date_joined_idx ON auth_user (date_joined);
CREATE INDEX auth_user_last_login_idx ON auth_user (last_login);
CREATE INDEX auth_user_email_idx ON auth_user (email);

-- The library: newest first with the id as tie-break (the seek cursor),
-- and one coach's exercises newest first.
CREATE INDEX exercises_exercise_created_at_id_idx ON exercises_exercise (created_at, id);
CREATE INDEX exercises_exercise_coach_created_idx ON exercises_exercise (created_by_id, created_at);
-- Staff exercise list sort (name is served by the (name, created_by_id) unique index).
CREATE INDEX exercises_exercise_updated_at_idx ON exercises_exercise (updated_at);

-- The thread: an exercise's top-level comments newest first
-- (parent_id IS NULL), and each comment's replies oldest first.
CREATE INDEX comments_videocomment_thread_idx ON comments_videocomment (exercise_id, parent_id, created_at);
CREATE INDEX comments_videocomment_replies_idx ON comments_videocomment (parent_id, created_at);
-- Staff comment list filtered by author, newest first.
CREATE INDEX comments_videocomment_author_created_idx ON comments_videocomment (author_id, created_at);

-- "My videos": one uploader's videos newest first.
CREATE INDEX core_videoasset_uploader_created_idx ON core_videoasset (uploaded_by_id, created_at);
-- Staff video list sorts: by title as shown (Django's rows have none), by size.
CREATE INDEX core_videoasset_shown_title_idx ON core_videoasset ((coalesce(title, orig_filename)));
CREATE INDEX core_videoasset_size_bytes_idx ON core_videoasset (size_bytes);

-- Staff job list: by creation, filtered by kind.
CREATE INDEX jobs_job_created_at_idx ON jobs_job (created_at);
CREATE INDEX jobs_job_kind_idx ON jobs_job (kind, id);

-- Staff invitation list sort.
CREATE INDEX accounts_betainvitation_expires_at_idx ON accounts_betainvitation (expires_at);
