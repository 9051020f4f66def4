DROP TRIGGER exercises_exercise_count_comments ON comments_videocomment;
DROP FUNCTION exercises_exercise_count_comments();
ALTER TABLE exercises_exercise DROP COLUMN comment_count;
