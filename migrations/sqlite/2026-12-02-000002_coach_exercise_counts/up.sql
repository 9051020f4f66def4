-- How many exercises each coach has, for the library's coach filter: read
-- from an index instead of grouping every exercise per request, and kept
-- exact by triggers whoever writes an exercise. No foreign key (see the
-- PostgreSQL migration).
CREATE TABLE exercises_coachcount (
    user_id INTEGER PRIMARY KEY,
    exercises INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX exercises_coachcount_most ON exercises_coachcount (exercises DESC, user_id);

INSERT INTO exercises_coachcount (user_id, exercises)
SELECT created_by_id, count(*) FROM exercises_exercise GROUP BY created_by_id;

CREATE TRIGGER exercises_coachcount_insert AFTER INSERT ON exercises_exercise
BEGIN
    INSERT OR IGNORE INTO exercises_coachcount (user_id, exercises) VALUES (NEW.created_by_id, 0);
    UPDATE exercises_coachcount SET exercises = exercises + 1 WHERE user_id = NEW.created_by_id;
END;
CREATE TRIGGER exercises_coachcount_delete AFTER DELETE ON exercises_exercise
BEGIN
    UPDATE exercises_coachcount SET exercises = exercises - 1 WHERE user_id = OLD.created_by_id;
END;
CREATE TRIGGER exercises_coachcount_move AFTER UPDATE OF created_by_id ON exercises_exercise
WHEN NEW.created_by_id IS NOT OLD.created_by_id
BEGIN
    UPDATE exercises_coachcount SET exercises = exercises - 1 WHERE user_id = OLD.created_by_id;
    INSERT OR IGNORE INTO exercises_coachcount (user_id, exercises) VALUES (NEW.created_by_id, 0);
    UPDATE exercises_coachcount SET exercises = exercises + 1 WHERE user_id = NEW.created_by_id;
END;
