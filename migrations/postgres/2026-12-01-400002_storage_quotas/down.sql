DROP TABLE staff_sitesetting;
ALTER TABLE accounts_profile DROP COLUMN storage_quota_mb;
