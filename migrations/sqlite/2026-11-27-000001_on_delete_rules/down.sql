-- Nothing to do on SQLite, kept so both trees list the same versions:
-- the baseline already has the ON DELETE rules, and SQLite integers are
-- 64-bit (size_bytes is declared bigint there).
SELECT 1;
