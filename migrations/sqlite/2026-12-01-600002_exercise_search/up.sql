-- Full-text search over exercise names and descriptions (see the PostgreSQL
-- migration of the same name): an FTS5 index over the table's own rows
-- (external content, nothing stored twice), with accents and case folded.
-- Triggers keep it exact for every writer, the Django app included.
CREATE VIRTUAL TABLE exercises_exercise_fts USING fts5(
    name,
    description,
    content = 'exercises_exercise',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER exercises_exercise_fts_insert AFTER INSERT ON exercises_exercise
BEGIN
    INSERT INTO exercises_exercise_fts (rowid, name, description)
    VALUES (NEW.rowid, NEW.name, NEW.description);
END;
CREATE TRIGGER exercises_exercise_fts_delete AFTER DELETE ON exercises_exercise
BEGIN
    INSERT INTO exercises_exercise_fts (exercises_exercise_fts, rowid, name, description)
    VALUES ('delete', OLD.rowid, OLD.name, OLD.description);
END;
CREATE TRIGGER exercises_exercise_fts_update AFTER UPDATE OF name, description ON exercises_exercise
BEGIN
    INSERT INTO exercises_exercise_fts (exercises_exercise_fts, rowid, name, description)
    VALUES ('delete', OLD.rowid, OLD.name, OLD.description);
    INSERT INTO exercises_exercise_fts (rowid, name, description)
    VALUES (NEW.rowid, NEW.name, NEW.description);
END;
-- The rows that exist already.
INSERT INTO exercises_exercise_fts (exercises_exercise_fts) VALUES ('rebuild');
