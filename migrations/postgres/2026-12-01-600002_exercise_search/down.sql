DROP INDEX IF EXISTS exercises_exercise_search_idx;
ALTER TABLE exercises_exercise DROP COLUMN IF EXISTS search_vector;
DROP FUNCTION IF EXISTS practika_unaccent(text);
-- The unaccent extension stays: something else may use it.
