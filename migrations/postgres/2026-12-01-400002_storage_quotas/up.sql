-- Storage quotas. A user's own quota (MiB), set by staff on the user's page;
-- NULL (every row the Django app writes) means the site's default.
ALTER TABLE accounts_profile ADD COLUMN storage_quota_mb bigint NULL CHECK (storage_quota_mb >= 0);
-- Site-wide settings staff change on /staff/settings (audited), one row per
-- name. `default_storage_quota_mb`: a number of MiB, or '' for no quota.
CREATE TABLE staff_sitesetting (
    name varchar(64) NOT NULL PRIMARY KEY,
    value text NOT NULL,
    updated_at timestamp with time zone NOT NULL
);
