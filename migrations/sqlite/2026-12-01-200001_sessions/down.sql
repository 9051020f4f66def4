DROP TRIGGER accounts_session_seen_update;
DROP TRIGGER accounts_session_seen_insert;
DROP TABLE accounts_session;
