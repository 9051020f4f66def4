-- The coach inbox and "try again" (issue 14, parts 1 and 2).
--
-- A top-level comment (a student's attempt) waits for feedback while its
-- answered_at is NULL, as it is in every row the Django app inserts. It is
-- answered when someone who gives feedback on the exercise replies (its
-- coach, staff, an admin: `accounts::permissions::gives_feedback`), or
-- posted it themselves, or when the coach marks it "seen, no reply needed"
-- (Practika sets the column). Triggers keep it whoever writes the comment,
-- so a coach's reply written by the Django app answers the attempt too.
ALTER TABLE comments_videocomment ADD COLUMN answered_at timestamp with time zone NULL;

-- Whether `author` gives feedback on `exercise`: its coach, staff, an admin
-- (for the backfill below; the trigger joins the same tables as sets).
CREATE FUNCTION comments_gives_feedback(author integer, exercise uuid) RETURNS boolean AS $$
    SELECT EXISTS (SELECT 1 FROM exercises_exercise WHERE id = exercise AND created_by_id = author)
        OR EXISTS (
            SELECT 1 FROM auth_user AS u
            LEFT JOIN accounts_profile AS p ON p.user_id = u.id
            LEFT JOIN accounts_role AS r ON r.id = p.role_id
            WHERE u.id = author AND (u.is_staff OR u.is_superuser OR lower(trim(r.name)) = 'admin')
        )
$$ LANGUAGE sql STABLE;

-- Attempts already answered stay out of the inbox.
UPDATE comments_videocomment AS t
SET answered_at = coalesce(
    (SELECT min(r.created_at) FROM comments_videocomment AS r
     WHERE r.parent_id = t.id AND comments_gives_feedback(r.author_id, r.exercise_id)),
    CASE WHEN comments_gives_feedback(t.author_id, t.exercise_id) THEN t.created_at END)
WHERE t.parent_id IS NULL;
DROP FUNCTION comments_gives_feedback(integer, uuid);

-- Once per statement, over the rows it inserted (the transition table),
-- joined as sets: a multi-row INSERT (seed-demo, a bulk import) costs two
-- hash joins, not a lookup per row. "Gives feedback" is the rule of
-- `comments_gives_feedback` above, written as joins.
CREATE FUNCTION comments_videocomment_feedback() RETURNS trigger AS $$
BEGIN
    -- The coach's (or staff's) own top-level comments wait for nobody.
    UPDATE comments_videocomment AS c SET answered_at = n.created_at
    FROM inserted AS n
    JOIN exercises_exercise AS e ON e.id = n.exercise_id
    JOIN auth_user AS u ON u.id = n.author_id
    LEFT JOIN accounts_profile AS p ON p.user_id = u.id
    LEFT JOIN accounts_role AS r ON r.id = p.role_id
    WHERE c.id = n.id AND n.parent_id IS NULL AND n.answered_at IS NULL
      AND (e.created_by_id = n.author_id OR u.is_staff OR u.is_superuser OR lower(trim(r.name)) = 'admin');
    -- A reply by the coach (or staff) answers the attempt, from its first one.
    UPDATE comments_videocomment AS c SET answered_at = f.first
    FROM (
        SELECT n.parent_id, min(n.created_at) AS first
        FROM inserted AS n
        JOIN exercises_exercise AS e ON e.id = n.exercise_id
        JOIN auth_user AS u ON u.id = n.author_id
        LEFT JOIN accounts_profile AS p ON p.user_id = u.id
        LEFT JOIN accounts_role AS r ON r.id = p.role_id
        WHERE n.parent_id IS NOT NULL
          AND (e.created_by_id = n.author_id OR u.is_staff OR u.is_superuser OR lower(trim(r.name)) = 'admin')
        GROUP BY n.parent_id
    ) AS f
    WHERE c.id = f.parent_id AND c.answered_at IS NULL;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER comments_videocomment_feedback
    AFTER INSERT ON comments_videocomment
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION comments_videocomment_feedback();

-- What the inbox reads: the waiting attempts, oldest first (all of them
-- for admins, an exercise's for coaches).
CREATE INDEX comments_videocomment_waiting_idx ON comments_videocomment (created_at, id)
    WHERE parent_id IS NULL AND answered_at IS NULL;
CREATE INDEX comments_videocomment_waiting_exercise_idx ON comments_videocomment (exercise_id, created_at, id)
    WHERE parent_id IS NULL AND answered_at IS NULL;

-- "Ask for another try": a coach's reply (the note) asks the attempt's
-- author for another attempt, optionally at the range the note pins. The
-- student's next top-level comment on the exercise resolves every open
-- request of theirs there (a trigger, whoever writes it); deleting that
-- retry opens them again.
CREATE TABLE comments_retryrequest (
    id uuid NOT NULL PRIMARY KEY,
    note_id uuid NOT NULL UNIQUE
        REFERENCES comments_videocomment (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    attempt_id uuid NOT NULL
        REFERENCES comments_videocomment (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    exercise_id uuid NOT NULL
        REFERENCES exercises_exercise (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    student_id integer NOT NULL
        REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    created_at timestamp with time zone NOT NULL,
    resolved_by_id uuid NULL
        REFERENCES comments_videocomment (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    resolved_at timestamp with time zone NULL
);
CREATE INDEX comments_retryrequest_open_idx ON comments_retryrequest (student_id, exercise_id, created_at)
    WHERE resolved_by_id IS NULL;
CREATE INDEX comments_retryrequest_resolved_by_idx ON comments_retryrequest (resolved_by_id);
CREATE INDEX comments_retryrequest_attempt_idx ON comments_retryrequest (attempt_id);
CREATE INDEX comments_retryrequest_exercise_idx ON comments_retryrequest (exercise_id);

CREATE FUNCTION comments_retryrequest_resolve() RETURNS trigger AS $$
BEGIN
    -- Each open request goes to the student's first new attempt there.
    UPDATE comments_retryrequest AS q SET resolved_by_id = a.id, resolved_at = a.created_at
    FROM (
        SELECT DISTINCT ON (n.author_id, n.exercise_id) n.id, n.author_id, n.exercise_id, n.created_at
        FROM inserted AS n
        WHERE n.parent_id IS NULL
        ORDER BY n.author_id, n.exercise_id, n.created_at, n.id
    ) AS a
    WHERE q.student_id = a.author_id AND q.exercise_id = a.exercise_id AND q.resolved_by_id IS NULL;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER comments_retryrequest_resolve
    AFTER INSERT ON comments_videocomment
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION comments_retryrequest_resolve();
