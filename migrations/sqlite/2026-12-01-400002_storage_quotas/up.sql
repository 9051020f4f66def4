-- Storage quotas; see the PostgreSQL migration of the same name.
ALTER TABLE accounts_profile ADD COLUMN storage_quota_mb bigint NULL CHECK (storage_quota_mb >= 0);
CREATE TABLE staff_sitesetting (
    name varchar(64) NOT NULL PRIMARY KEY,
    value text NOT NULL,
    updated_at datetime NOT NULL
);
