-- How many comments (replies included) each exercise has, for the library's
-- cards: read with the page's rows instead of a grouped count per request.
-- A trigger keeps it exact in the same transaction as the comment, whoever
-- writes the comment (Practika, or the Django app during the cutover: its
-- inserts leave the column to its default, the trigger does the rest).
ALTER TABLE exercises_exercise ADD COLUMN comment_count integer NOT NULL DEFAULT 0;

UPDATE exercises_exercise AS e
SET comment_count = c.n
FROM (SELECT exercise_id, count(*) AS n FROM comments_videocomment GROUP BY exercise_id) AS c
WHERE c.exercise_id = e.id;

CREATE FUNCTION exercises_exercise_count_comments() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE exercises_exercise SET comment_count = comment_count + 1 WHERE id = NEW.exercise_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE exercises_exercise SET comment_count = comment_count - 1 WHERE id = OLD.exercise_id;
    ELSIF NEW.exercise_id IS DISTINCT FROM OLD.exercise_id THEN
        UPDATE exercises_exercise SET comment_count = comment_count - 1 WHERE id = OLD.exercise_id;
        UPDATE exercises_exercise SET comment_count = comment_count + 1 WHERE id = NEW.exercise_id;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER exercises_exercise_count_comments
    AFTER INSERT OR DELETE OR UPDATE OF exercise_id ON comments_videocomment
    FOR EACH ROW EXECUTE FUNCTION exercises_exercise_count_comments();
