-- See the PostgreSQL migration of the same name.
CREATE TABLE exercises_practicesession (
    id char(32) NOT NULL PRIMARY KEY,
    client_id char(32) NOT NULL,
    user_id integer NOT NULL
        REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    exercise_id char(32) NOT NULL
        REFERENCES exercises_exercise (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    started_at datetime NOT NULL,
    updated_at datetime NOT NULL,
    day varchar(10) NOT NULL,
    seconds integer NOT NULL DEFAULT 0 CHECK (seconds >= 0),
    max_speed real NOT NULL DEFAULT 1 CHECK (max_speed > 0 AND max_speed <= 2),
    loops integer NOT NULL DEFAULT 0 CHECK (loops >= 0),
    CONSTRAINT exercises_practicesession_client_uniq UNIQUE (user_id, client_id)
);
CREATE INDEX exercises_practicesession_day_idx ON exercises_practicesession (user_id, day);
CREATE INDEX exercises_practicesession_exercise_day_idx ON exercises_practicesession (user_id, exercise_id, day);
CREATE INDEX exercises_practicesession_exercise_idx ON exercises_practicesession (exercise_id);

CREATE INDEX comments_videocomment_progress_idx ON comments_videocomment (exercise_id, author_id, created_at, id)
    WHERE parent_id IS NULL;
