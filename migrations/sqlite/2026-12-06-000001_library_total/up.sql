-- How many exercises there are, for the library's total: one row kept by
-- triggers, instead of summing every coach's count on each library
-- request (see the PostgreSQL migration).
CREATE TABLE exercises_librarytotal (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    exercises INTEGER NOT NULL DEFAULT 0
);

INSERT INTO exercises_librarytotal (id, exercises) SELECT 1, count(*) FROM exercises_exercise;

CREATE TRIGGER exercises_librarytotal_insert AFTER INSERT ON exercises_exercise
BEGIN
    UPDATE exercises_librarytotal SET exercises = exercises + 1 WHERE id = 1;
END;
CREATE TRIGGER exercises_librarytotal_delete AFTER DELETE ON exercises_exercise
BEGIN
    UPDATE exercises_librarytotal SET exercises = exercises - 1 WHERE id = 1;
END;
