-- PostgreSQL moves its comment-count triggers to one UPDATE per statement;
-- SQLite has only row triggers, and keeps the ones it has. (A migration in
-- both trees, so that the versions match.)
SELECT 1;
