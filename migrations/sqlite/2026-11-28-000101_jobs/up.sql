-- The background job queue; see the PostgreSQL migration of the same name.
-- SQLite has one writer at a time, so a single UPDATE ... RETURNING claims
-- a job atomically.
CREATE TABLE jobs_job (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    kind varchar(64) NOT NULL,
    payload text NOT NULL CHECK ((JSON_VALID(payload) OR payload IS NULL)),
    status varchar(20) NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts integer NOT NULL CHECK (attempts >= 0),
    max_attempts integer NOT NULL CHECK (max_attempts >= 1),
    run_after datetime NOT NULL,
    locked_until datetime NULL,
    locked_by varchar(200) NULL,
    last_error text NULL,
    created_at datetime NOT NULL,
    updated_at datetime NOT NULL
);
CREATE INDEX jobs_job_status_run_after_idx ON jobs_job (status, run_after);
CREATE INDEX jobs_job_status_locked_until_idx ON jobs_job (status, locked_until);
