DROP TRIGGER accounts_session_seen ON accounts_session;
DROP FUNCTION accounts_session_seen();
DROP TABLE accounts_session;
