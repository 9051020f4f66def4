INSERT OR IGNORE INTO accounts_role (name) VALUES ('admin'), ('coach'), ('student');
