ALTER TABLE accounts_betainvitation
    DROP COLUMN role, DROP COLUMN invited_by_id, DROP COLUMN accepted_by_id, DROP COLUMN created_at,
    DROP COLUMN expires_at, DROP COLUMN revoked_at, DROP COLUMN last_sent_at, DROP COLUMN send_count,
    DROP COLUMN last_send_error;
