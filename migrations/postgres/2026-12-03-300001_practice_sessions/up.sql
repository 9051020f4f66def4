-- Progress over time and practice mode (issue 14, parts 3 and 4).
--
-- One row per practice session a student runs on an exercise's
-- demonstration (the A–B loop with its speed ramp). The browser names the
-- session (`client_id`, a random uuid) and reports running totals as it
-- goes; the server keeps the largest of each, so a report sent twice, or
-- late, counts once. `day` is the date the session started on in the
-- student's time zone ('YYYY-MM-DD'): streaks are read from it.
CREATE TABLE exercises_practicesession (
    id uuid NOT NULL PRIMARY KEY,
    client_id uuid NOT NULL,
    user_id integer NOT NULL
        REFERENCES auth_user (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    exercise_id uuid NOT NULL
        REFERENCES exercises_exercise (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    started_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    day varchar(10) NOT NULL,
    seconds integer NOT NULL DEFAULT 0 CHECK (seconds >= 0),
    max_speed double precision NOT NULL DEFAULT 1 CHECK (max_speed > 0 AND max_speed <= 2),
    loops integer NOT NULL DEFAULT 0 CHECK (loops >= 0),
    CONSTRAINT exercises_practicesession_client_uniq UNIQUE (user_id, client_id)
);
-- A student's days (home, account: streaks and totals) and their days on
-- one exercise (the progress page).
CREATE INDEX exercises_practicesession_day_idx ON exercises_practicesession (user_id, day);
CREATE INDEX exercises_practicesession_exercise_day_idx ON exercises_practicesession (user_id, exercise_id, day);
CREATE INDEX exercises_practicesession_exercise_idx ON exercises_practicesession (exercise_id);

-- The progress page's timeline: one student's attempts at one exercise,
-- newest first, by seek.
CREATE INDEX comments_videocomment_progress_idx ON comments_videocomment (exercise_id, author_id, created_at, id)
    WHERE parent_id IS NULL;
