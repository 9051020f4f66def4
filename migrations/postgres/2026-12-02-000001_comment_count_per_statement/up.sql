-- The exercises' comment counts, kept once per statement instead of once
-- per row: an INSERT of 2,500 comments (seed-demo, an import) updated the
-- exercise 2,500 times, each update rewriting the row and recomputing its
-- generated search vector; now it is one grouped UPDATE per statement.
-- A single-row insert (Practika, or the Django app during the cutover)
-- costs what it did. Moving a comment to another exercise stays a row
-- trigger: PostgreSQL allows no transition tables with `UPDATE OF`.
DROP TRIGGER exercises_exercise_count_comments ON comments_videocomment;

CREATE FUNCTION exercises_exercise_count_inserted_comments() RETURNS trigger AS $$
BEGIN
    UPDATE exercises_exercise AS e SET comment_count = e.comment_count + d.n
    FROM (SELECT exercise_id, count(*) AS n FROM inserted GROUP BY exercise_id) AS d
    WHERE e.id = d.exercise_id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION exercises_exercise_count_deleted_comments() RETURNS trigger AS $$
BEGIN
    UPDATE exercises_exercise AS e SET comment_count = e.comment_count - d.n
    FROM (SELECT exercise_id, count(*) AS n FROM deleted GROUP BY exercise_id) AS d
    WHERE e.id = d.exercise_id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER exercises_exercise_count_inserted_comments
    AFTER INSERT ON comments_videocomment
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION exercises_exercise_count_inserted_comments();

CREATE TRIGGER exercises_exercise_count_deleted_comments
    AFTER DELETE ON comments_videocomment
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION exercises_exercise_count_deleted_comments();

-- The row function handles a move (its INSERT and DELETE branches are no
-- longer reached).
CREATE TRIGGER exercises_exercise_count_moved_comments
    AFTER UPDATE OF exercise_id ON comments_videocomment
    FOR EACH ROW EXECUTE FUNCTION exercises_exercise_count_comments();
