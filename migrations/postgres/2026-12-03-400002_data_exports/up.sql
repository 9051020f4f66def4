-- "Export my data" (issue 14, part 6): a ZIP of a user's videos, comments,
-- drawings, voice-overs and practice log, built by a job.
--
-- 'pending' until the job has built it, then 'ready' (the file under the
-- media root at file_path, downloadable by its owner until expires_at) or
-- 'failed'. At most one pending export per user: a second request while
-- one is built is refused by the partial unique index, whatever the race.
-- The worker removes exports (file and row) past expires_at.
CREATE TABLE exports_dataexport (
    id uuid NOT NULL PRIMARY KEY,
    user_id integer NOT NULL
        REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    status varchar(10) NOT NULL CHECK (status IN ('pending', 'ready', 'failed')),
    file_path varchar(200) NULL,
    size_bytes bigint NULL CHECK (size_bytes >= 0),
    error text NULL,
    created_at timestamp with time zone NOT NULL,
    ready_at timestamp with time zone NULL,
    expires_at timestamp with time zone NOT NULL
);
CREATE UNIQUE INDEX exports_dataexport_one_pending ON exports_dataexport (user_id) WHERE status = 'pending';
CREATE INDEX exports_dataexport_user ON exports_dataexport (user_id, created_at);
CREATE INDEX exports_dataexport_expires_at ON exports_dataexport (expires_at);
