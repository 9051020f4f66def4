-- Server-side sessions; see the PostgreSQL migration of the same name.
CREATE TABLE accounts_session (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    key_hash varchar(64) NOT NULL UNIQUE,
    user_id integer NOT NULL REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    auth_hash varchar(64) NOT NULL,
    user_agent varchar(300) NOT NULL DEFAULT '',
    ip_address varchar(45) NOT NULL DEFAULT '',
    created_at datetime NOT NULL,
    last_seen_at datetime NOT NULL,
    expires_at datetime NOT NULL
);
CREATE INDEX accounts_session_user_id ON accounts_session (user_id);
CREATE INDEX accounts_session_expires_at ON accounts_session (expires_at);
CREATE TRIGGER accounts_session_seen_insert AFTER INSERT ON accounts_session
BEGIN
    UPDATE accounts_profile SET last_activity_at = NEW.last_seen_at WHERE user_id = NEW.user_id;
END;
CREATE TRIGGER accounts_session_seen_update AFTER UPDATE OF last_seen_at ON accounts_session
BEGIN
    UPDATE accounts_profile SET last_activity_at = NEW.last_seen_at WHERE user_id = NEW.user_id;
END;
