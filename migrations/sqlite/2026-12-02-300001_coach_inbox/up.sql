-- See the PostgreSQL migration of the same name. The rule "gives feedback
-- on the exercise" (its coach, staff, an admin) is written out in each
-- trigger: SQLite has no SQL functions of its own.
ALTER TABLE comments_videocomment ADD COLUMN answered_at datetime NULL;

UPDATE comments_videocomment
SET answered_at = coalesce(
    (SELECT min(r.created_at) FROM comments_videocomment AS r
     WHERE r.parent_id = comments_videocomment.id
       AND (EXISTS (SELECT 1 FROM exercises_exercise AS e WHERE e.id = r.exercise_id AND e.created_by_id = r.author_id)
            OR EXISTS (SELECT 1 FROM auth_user AS u
                       LEFT JOIN accounts_profile AS p ON p.user_id = u.id
                       LEFT JOIN accounts_role AS r2 ON r2.id = p.role_id
                       WHERE u.id = r.author_id AND (u.is_staff OR u.is_superuser OR lower(trim(r2.name)) = 'admin')))),
    CASE WHEN EXISTS (SELECT 1 FROM exercises_exercise AS e
                      WHERE e.id = comments_videocomment.exercise_id AND e.created_by_id = comments_videocomment.author_id)
              OR EXISTS (SELECT 1 FROM auth_user AS u
                         LEFT JOIN accounts_profile AS p ON p.user_id = u.id
                         LEFT JOIN accounts_role AS r2 ON r2.id = p.role_id
                         WHERE u.id = comments_videocomment.author_id
                           AND (u.is_staff OR u.is_superuser OR lower(trim(r2.name)) = 'admin'))
         THEN created_at END)
WHERE parent_id IS NULL;

CREATE TRIGGER comments_videocomment_own_feedback AFTER INSERT ON comments_videocomment
WHEN NEW.parent_id IS NULL AND NEW.answered_at IS NULL
    AND (EXISTS (SELECT 1 FROM exercises_exercise AS e WHERE e.id = NEW.exercise_id AND e.created_by_id = NEW.author_id)
         OR EXISTS (SELECT 1 FROM auth_user AS u
                    LEFT JOIN accounts_profile AS p ON p.user_id = u.id
                    LEFT JOIN accounts_role AS r ON r.id = p.role_id
                    WHERE u.id = NEW.author_id AND (u.is_staff OR u.is_superuser OR lower(trim(r.name)) = 'admin')))
BEGIN
    UPDATE comments_videocomment SET answered_at = NEW.created_at WHERE id = NEW.id;
END;

CREATE TRIGGER comments_videocomment_feedback AFTER INSERT ON comments_videocomment
WHEN NEW.parent_id IS NOT NULL
    AND (EXISTS (SELECT 1 FROM exercises_exercise AS e WHERE e.id = NEW.exercise_id AND e.created_by_id = NEW.author_id)
         OR EXISTS (SELECT 1 FROM auth_user AS u
                    LEFT JOIN accounts_profile AS p ON p.user_id = u.id
                    LEFT JOIN accounts_role AS r ON r.id = p.role_id
                    WHERE u.id = NEW.author_id AND (u.is_staff OR u.is_superuser OR lower(trim(r.name)) = 'admin')))
BEGIN
    UPDATE comments_videocomment SET answered_at = NEW.created_at
    WHERE id = NEW.parent_id AND answered_at IS NULL;
END;

CREATE INDEX comments_videocomment_waiting_idx ON comments_videocomment (created_at, id)
    WHERE parent_id IS NULL AND answered_at IS NULL;
CREATE INDEX comments_videocomment_waiting_exercise_idx ON comments_videocomment (exercise_id, created_at, id)
    WHERE parent_id IS NULL AND answered_at IS NULL;

CREATE TABLE comments_retryrequest (
    id char(32) NOT NULL PRIMARY KEY,
    note_id char(32) NOT NULL UNIQUE
        REFERENCES comments_videocomment (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    attempt_id char(32) NOT NULL
        REFERENCES comments_videocomment (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    exercise_id char(32) NOT NULL
        REFERENCES exercises_exercise (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    student_id integer NOT NULL
        REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    created_at datetime NOT NULL,
    resolved_by_id char(32) NULL
        REFERENCES comments_videocomment (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    resolved_at datetime NULL
);
CREATE INDEX comments_retryrequest_open_idx ON comments_retryrequest (student_id, exercise_id, created_at)
    WHERE resolved_by_id IS NULL;
CREATE INDEX comments_retryrequest_resolved_by_idx ON comments_retryrequest (resolved_by_id);
CREATE INDEX comments_retryrequest_attempt_idx ON comments_retryrequest (attempt_id);
CREATE INDEX comments_retryrequest_exercise_idx ON comments_retryrequest (exercise_id);

CREATE TRIGGER comments_retryrequest_resolve AFTER INSERT ON comments_videocomment
WHEN NEW.parent_id IS NULL
BEGIN
    UPDATE comments_retryrequest SET resolved_by_id = NEW.id, resolved_at = NEW.created_at
    WHERE student_id = NEW.author_id AND exercise_id = NEW.exercise_id AND resolved_by_id IS NULL;
END;
