DELETE FROM accounts_role WHERE name IN ('admin', 'coach', 'student');
