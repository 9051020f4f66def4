DROP TRIGGER exercises_librarytotal_delete ON exercises_exercise;
DROP TRIGGER exercises_librarytotal_insert ON exercises_exercise;
DROP FUNCTION exercises_librarytotal_remove();
DROP FUNCTION exercises_librarytotal_add();
DROP TABLE exercises_librarytotal;
