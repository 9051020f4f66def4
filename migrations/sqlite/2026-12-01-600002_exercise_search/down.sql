DROP TRIGGER IF EXISTS exercises_exercise_fts_update;
DROP TRIGGER IF EXISTS exercises_exercise_fts_delete;
DROP TRIGGER IF EXISTS exercises_exercise_fts_insert;
DROP TABLE IF EXISTS exercises_exercise_fts;
