-- How many exercises there are, for the library's total: one row, kept by
-- triggers so that it stays exact whoever writes an exercise (the Django
-- app during the cutover too), instead of summing every coach's count
-- (about 370 rows at seed-demo scale) on each library request.
-- Statement-level triggers with transition tables: a batch insert or a
-- cascade touches the row once. Concurrent inserts of exercises queue on
-- this row's lock until the first commits; exercises are written rarely.
CREATE TABLE exercises_librarytotal (
    id smallint PRIMARY KEY CHECK (id = 1),
    exercises bigint NOT NULL DEFAULT 0
);

INSERT INTO exercises_librarytotal (id, exercises) SELECT 1, count(*) FROM exercises_exercise;

CREATE FUNCTION exercises_librarytotal_add() RETURNS trigger AS $$
BEGIN
    UPDATE exercises_librarytotal SET exercises = exercises + (SELECT count(*) FROM added) WHERE id = 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION exercises_librarytotal_remove() RETURNS trigger AS $$
BEGIN
    UPDATE exercises_librarytotal SET exercises = exercises - (SELECT count(*) FROM removed) WHERE id = 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER exercises_librarytotal_insert AFTER INSERT ON exercises_exercise
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION exercises_librarytotal_add();
CREATE TRIGGER exercises_librarytotal_delete AFTER DELETE ON exercises_exercise
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION exercises_librarytotal_remove();
