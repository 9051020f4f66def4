-- How many comments (replies included) each exercise has, for the library's
-- cards; kept exact by triggers in the same transaction as the comment,
-- whoever writes it.
ALTER TABLE exercises_exercise ADD COLUMN comment_count INTEGER NOT NULL DEFAULT 0;

UPDATE exercises_exercise
SET comment_count = (SELECT count(*) FROM comments_videocomment AS c WHERE c.exercise_id = exercises_exercise.id);

CREATE TRIGGER exercises_exercise_count_comments_insert AFTER INSERT ON comments_videocomment
BEGIN
    UPDATE exercises_exercise SET comment_count = comment_count + 1 WHERE id = NEW.exercise_id;
END;
CREATE TRIGGER exercises_exercise_count_comments_delete AFTER DELETE ON comments_videocomment
BEGIN
    UPDATE exercises_exercise SET comment_count = comment_count - 1 WHERE id = OLD.exercise_id;
END;
CREATE TRIGGER exercises_exercise_count_comments_move AFTER UPDATE OF exercise_id ON comments_videocomment
WHEN NEW.exercise_id IS NOT OLD.exercise_id
BEGIN
    UPDATE exercises_exercise SET comment_count = comment_count - 1 WHERE id = OLD.exercise_id;
    UPDATE exercises_exercise SET comment_count = comment_count + 1 WHERE id = NEW.exercise_id;
END;
