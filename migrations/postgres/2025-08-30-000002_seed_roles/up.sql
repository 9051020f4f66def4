-- Django's accounts.0002_seed_roles did this in Python; a Django-made
-- database already has the rows, so existing ones are left alone.
INSERT INTO accounts_role (name) VALUES ('admin'), ('coach'), ('student')
ON CONFLICT (name) DO NOTHING;
