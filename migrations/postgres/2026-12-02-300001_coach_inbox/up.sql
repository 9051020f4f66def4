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

CREATE FUNCTION comments_videocomment_feedback() RETURNS trigger AS $$
BEGIN
    IF NEW.parent_id IS NULL THEN
        IF NEW.answered_at IS NULL AND comments_gives_feedback(NEW.author_id, NEW.exercise_id) THEN
            NEW.answered_at := NEW.created_at;
        END IF;
    ELSIF comments_gives_feedback(NEW.author_id, NEW.exercise_id) THEN
        UPDATE comments_videocomment SET answered_at = NEW.created_at
        WHERE id = NEW.parent_id AND answered_at IS NULL;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER comments_videocomment_feedback
    BEFORE INSERT ON comments_videocomment
    FOR EACH ROW EXECUTE FUNCTION comments_videocomment_feedback();

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
    UPDATE comments_retryrequest SET resolved_by_id = NEW.id, resolved_at = NEW.created_at
    WHERE student_id = NEW.author_id AND exercise_id = NEW.exercise_id AND resolved_by_id IS NULL;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER comments_retryrequest_resolve
    AFTER INSERT ON comments_videocomment
    FOR EACH ROW WHEN (NEW.parent_id IS NULL) EXECUTE FUNCTION comments_retryrequest_resolve();
