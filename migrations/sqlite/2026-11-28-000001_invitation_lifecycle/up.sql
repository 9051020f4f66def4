-- See the PostgreSQL migration. SQLite only adds columns with constant
-- defaults, so existing rows get their dates in a second step.
ALTER TABLE accounts_betainvitation ADD COLUMN role varchar(20) NOT NULL DEFAULT 'student';
ALTER TABLE accounts_betainvitation ADD COLUMN invited_by_id integer NULL
    REFERENCES auth_user (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE accounts_betainvitation ADD COLUMN accepted_by_id integer NULL
    REFERENCES auth_user (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE accounts_betainvitation ADD COLUMN created_at datetime NOT NULL DEFAULT '1970-01-01 00:00:00.000000';
ALTER TABLE accounts_betainvitation ADD COLUMN expires_at datetime NOT NULL DEFAULT '1970-01-01 00:00:00.000000';
ALTER TABLE accounts_betainvitation ADD COLUMN revoked_at datetime NULL;
ALTER TABLE accounts_betainvitation ADD COLUMN last_sent_at datetime NULL;
ALTER TABLE accounts_betainvitation ADD COLUMN send_count integer NOT NULL DEFAULT 0 CHECK (send_count >= 0);
ALTER TABLE accounts_betainvitation ADD COLUMN last_send_error text NULL;
UPDATE accounts_betainvitation SET
    created_at = strftime('%Y-%m-%d %H:%M:%f000', 'now'),
    expires_at = strftime('%Y-%m-%d %H:%M:%f000', 'now', '+14 days');
CREATE INDEX accounts_betainvitation_invited_by_id ON accounts_betainvitation (invited_by_id);
CREATE INDEX accounts_betainvitation_accepted_by_id ON accounts_betainvitation (accepted_by_id);
CREATE INDEX accounts_betainvitation_created_at ON accounts_betainvitation (created_at);
