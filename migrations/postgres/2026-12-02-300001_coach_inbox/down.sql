DROP TRIGGER comments_retryrequest_resolve ON comments_videocomment;
DROP FUNCTION comments_retryrequest_resolve();
DROP TABLE comments_retryrequest;
DROP TRIGGER comments_videocomment_feedback ON comments_videocomment;
DROP FUNCTION comments_videocomment_feedback();
DROP INDEX comments_videocomment_waiting_idx;
DROP INDEX comments_videocomment_waiting_exercise_idx;
ALTER TABLE comments_videocomment DROP COLUMN answered_at;
