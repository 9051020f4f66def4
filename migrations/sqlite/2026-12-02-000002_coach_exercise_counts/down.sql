DROP TRIGGER exercises_coachcount_move;
DROP TRIGGER exercises_coachcount_delete;
DROP TRIGGER exercises_coachcount_insert;
DROP TABLE exercises_coachcount;
