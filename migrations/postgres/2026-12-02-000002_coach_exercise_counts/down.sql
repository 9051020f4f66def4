DROP TRIGGER exercises_coachcount_move_to ON exercises_exercise;
DROP TRIGGER exercises_coachcount_move_from ON exercises_exercise;
DROP TRIGGER exercises_coachcount_delete ON exercises_exercise;
DROP TRIGGER exercises_coachcount_insert ON exercises_exercise;
DROP FUNCTION exercises_coachcount_remove();
DROP FUNCTION exercises_coachcount_add();
DROP TABLE exercises_coachcount;
