-- "Export my data"; see the PostgreSQL migration of the same name.
CREATE TABLE exports_dataexport (
    id char(32) NOT NULL PRIMARY KEY,
    user_id integer NOT NULL REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    status varchar(10) NOT NULL CHECK (status IN ('pending', 'ready', 'failed')),
    file_path varchar(200) NULL,
    size_bytes bigint NULL CHECK (size_bytes >= 0),
    error text NULL,
    created_at datetime NOT NULL,
    ready_at datetime NULL,
    expires_at datetime NOT NULL
);
CREATE UNIQUE INDEX exports_dataexport_one_pending ON exports_dataexport (user_id) WHERE status = 'pending';
CREATE INDEX exports_dataexport_user ON exports_dataexport (user_id, created_at);
CREATE INDEX exports_dataexport_expires_at ON exports_dataexport (expires_at);
