-- See the PostgreSQL migration.
CREATE TABLE accounts_loginattempt (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    username varchar(150) NOT NULL,
    ip varchar(45) NOT NULL,
    attempted_at datetime NOT NULL
);
CREATE INDEX accounts_loginattempt_username_at ON accounts_loginattempt (username, attempted_at);
CREATE INDEX accounts_loginattempt_ip_at ON accounts_loginattempt (ip, attempted_at);
