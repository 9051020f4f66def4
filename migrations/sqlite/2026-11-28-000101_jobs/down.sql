DROP TABLE jobs_job;
