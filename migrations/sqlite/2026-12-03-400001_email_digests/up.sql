-- Email digests; see the PostgreSQL migration of the same name.
CREATE TABLE digest_preference (
    user_id integer NOT NULL PRIMARY KEY REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    frequency varchar(10) NOT NULL CHECK (frequency IN ('daily', 'weekly', 'off')),
    updated_at datetime NOT NULL
);
CREATE TABLE digest_sent (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    user_id integer NOT NULL REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    period varchar(16) NOT NULL,
    sent_at datetime NOT NULL
);
CREATE UNIQUE INDEX digest_sent_user_period ON digest_sent (user_id, period);
CREATE INDEX digest_sent_sent_at ON digest_sent (sent_at);
CREATE TABLE digest_run (
    period varchar(16) NOT NULL PRIMARY KEY,
    job_id integer NULL,
    created_at datetime NOT NULL
);
