DROP TRIGGER exercises_exercise_count_moved_comments ON comments_videocomment;
DROP TRIGGER exercises_exercise_count_deleted_comments ON comments_videocomment;
DROP TRIGGER exercises_exercise_count_inserted_comments ON comments_videocomment;
DROP FUNCTION exercises_exercise_count_deleted_comments();
DROP FUNCTION exercises_exercise_count_inserted_comments();
CREATE TRIGGER exercises_exercise_count_comments
    AFTER INSERT OR DELETE OR UPDATE OF exercise_id ON comments_videocomment
    FOR EACH ROW EXECUTE FUNCTION exercises_exercise_count_comments();
