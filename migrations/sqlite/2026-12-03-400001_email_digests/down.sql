DROP TABLE digest_run;
DROP TABLE digest_sent;
DROP TABLE digest_preference;
