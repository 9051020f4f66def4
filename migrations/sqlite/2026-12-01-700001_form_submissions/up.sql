-- One-time form keys; see the PostgreSQL migration of the same name.
CREATE TABLE accounts_formsubmission (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    user_id integer NOT NULL REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    form_key varchar(64) NOT NULL,
    answer varchar(500) NOT NULL DEFAULT '',
    created_at datetime NOT NULL
);
CREATE UNIQUE INDEX accounts_formsubmission_user_key ON accounts_formsubmission (user_id, form_key);
CREATE INDEX accounts_formsubmission_created_at ON accounts_formsubmission (created_at);
