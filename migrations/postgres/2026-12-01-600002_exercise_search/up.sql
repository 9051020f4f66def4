-- Full-text search over exercise names and descriptions: every word must
-- match, in any order, ignoring case and accents, ranked (names weigh more
-- than descriptions), through a GIN index instead of a scan.
--
-- The vector is a generated column: the Django app, which names the columns
-- it inserts and updates, keeps working and its rows are indexed too.
-- unaccent ships with PostgreSQL (Debian: postgresql-contrib, in the server
-- package) and is a trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS unaccent;

-- unaccent() is only STABLE (its dictionary could change); a generated
-- column needs an IMMUTABLE function, so it is wrapped with the dictionary
-- named explicitly, in whichever schema the extension lives.
DO $$
DECLARE
    ext_schema text;
BEGIN
    SELECT n.nspname INTO ext_schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'unaccent';
    EXECUTE format(
        'CREATE FUNCTION practika_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS %L',
        format('SELECT %I.unaccent(%L::regdictionary, $1)', ext_schema, quote_ident(ext_schema) || '.unaccent')
    );
END
$$;

-- 'simple': no stemming and no stop words, so any language and any short
-- word ("X", "a") is found as typed.
ALTER TABLE exercises_exercise ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', practika_unaccent(name)), 'A')
    || setweight(to_tsvector('simple', practika_unaccent(coalesce(description, ''))), 'B')
) STORED;
CREATE INDEX exercises_exercise_search_idx ON exercises_exercise USING gin (search_vector);
