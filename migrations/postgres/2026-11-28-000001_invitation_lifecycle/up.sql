-- Invitations get a role, an inviter, an expiry, revocation, delivery
-- bookkeeping (so a failed send stays visible and can be resent) and who
-- accepted them. Rows made by the Django app get today's date and the
-- standard 14 days.
ALTER TABLE accounts_betainvitation
    ADD COLUMN role varchar(20) NOT NULL DEFAULT 'student',
    ADD COLUMN invited_by_id integer NULL
        REFERENCES auth_user (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    ADD COLUMN accepted_by_id integer NULL
        REFERENCES auth_user (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    ADD COLUMN created_at timestamp with time zone NOT NULL DEFAULT now(),
    ADD COLUMN expires_at timestamp with time zone NOT NULL DEFAULT (now() + interval '14 days'),
    ADD COLUMN revoked_at timestamp with time zone NULL,
    ADD COLUMN last_sent_at timestamp with time zone NULL,
    ADD COLUMN send_count integer NOT NULL DEFAULT 0 CHECK (send_count >= 0),
    ADD COLUMN last_send_error text NULL;
CREATE INDEX accounts_betainvitation_invited_by_id ON accounts_betainvitation (invited_by_id);
CREATE INDEX accounts_betainvitation_accepted_by_id ON accounts_betainvitation (accepted_by_id);
CREATE INDEX accounts_betainvitation_created_at ON accounts_betainvitation (created_at);
