-- How many exercises each coach has, for the library's coach filter (the
-- coaches with the most exercises): read from an index, where grouping
-- every exercise ran on each library request. Kept by triggers, so it stays
-- exact whoever writes an exercise (the Django app during the cutover
-- too). No foreign key: the Django app, which does not know this table,
-- deletes users; a row for a user who is gone joins nothing and is
-- harmless.
CREATE TABLE exercises_coachcount (
    user_id integer PRIMARY KEY,
    exercises integer NOT NULL DEFAULT 0
);
CREATE INDEX exercises_coachcount_most ON exercises_coachcount (exercises DESC, user_id);

INSERT INTO exercises_coachcount (user_id, exercises)
SELECT created_by_id, count(*) FROM exercises_exercise GROUP BY created_by_id;

CREATE FUNCTION exercises_coachcount_add() RETURNS trigger AS $$
BEGIN
    INSERT INTO exercises_coachcount AS c (user_id, exercises) VALUES (NEW.created_by_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET exercises = c.exercises + 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION exercises_coachcount_remove() RETURNS trigger AS $$
BEGIN
    UPDATE exercises_coachcount SET exercises = exercises - 1 WHERE user_id = OLD.created_by_id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER exercises_coachcount_insert AFTER INSERT ON exercises_exercise
    FOR EACH ROW EXECUTE FUNCTION exercises_coachcount_add();
CREATE TRIGGER exercises_coachcount_delete AFTER DELETE ON exercises_exercise
    FOR EACH ROW EXECUTE FUNCTION exercises_coachcount_remove();
-- Django's save() writes every column: only a real change of owner counts.
CREATE TRIGGER exercises_coachcount_move_from AFTER UPDATE OF created_by_id ON exercises_exercise
    FOR EACH ROW WHEN (OLD.created_by_id IS DISTINCT FROM NEW.created_by_id)
    EXECUTE FUNCTION exercises_coachcount_remove();
CREATE TRIGGER exercises_coachcount_move_to AFTER UPDATE OF created_by_id ON exercises_exercise
    FOR EACH ROW WHEN (OLD.created_by_id IS DISTINCT FROM NEW.created_by_id)
    EXECUTE FUNCTION exercises_coachcount_add();
