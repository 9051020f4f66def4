//! Schema migrations, one tree per backend (`migrations/postgres`,
//! `migrations/sqlite`, same versions in both), and adoption of a database
//! that the Django app created.

use anyhow::{bail, Context};
use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::DbConn;

pub const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// The first migration: exactly the tables the Django app made.
pub const BASELINE_VERSION: &str = "20250830000001";

/// The tables the Django baseline consists of; all of them must be there
/// for a Django database to be adopted.
pub const BASELINE_TABLES: &[&str] = &[
    "auth_user",
    "accounts_betainvitation",
    "accounts_role",
    "accounts_profile",
    "accounts_usermetrics",
    "core_videoasset",
    "core_videoclip",
    "exercises_exercise",
    "comments_videocomment",
];

fn source(conn: &DbConn) -> EmbeddedMigrations {
    match conn {
        DbConn::Pg(_) => POSTGRES,
        DbConn::Sqlite(_) => SQLITE,
    }
}

/// Versions of the migrations in one tree, in order.
pub fn versions(tree: &EmbeddedMigrations) -> anyhow::Result<Vec<String>> {
    let migrations = MigrationSource::<diesel::pg::Pg>::migrations(tree)
        .map_err(|e| anyhow::anyhow!("reading embedded migrations: {e}"))?;
    let mut versions: Vec<String> = migrations.iter().map(|m| m.name().version().to_string()).collect();
    versions.sort();
    Ok(versions)
}

/// Versions not yet applied to this database. Reads only: on a database
/// that has no migration history yet, diesel would create its history
/// table here, and a `/readyz` doing that while another node migrates is
/// the race that [`run`]'s lock exists to prevent.
pub fn pending(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let source = source(conn);
    if !table_exists(conn, HISTORY_TABLE)? {
        let all = MigrationSource::<diesel::pg::Pg>::migrations(&source)
            .map_err(|e| anyhow::anyhow!("reading embedded migrations: {e}"))?;
        let mut names: Vec<String> = all.iter().map(|m| m.name().to_string()).collect();
        names.sort();
        return Ok(names);
    }
    let pending = match conn {
        DbConn::Pg(c) => c
            .pending_migrations(source)
            .map(|m| m.iter().map(|m| m.name().to_string()).collect()),
        DbConn::Sqlite(c) => c
            .pending_migrations(source)
            .map(|m| m.iter().map(|m| m.name().to_string()).collect()),
    };
    pending.map_err(|e| anyhow::anyhow!("checking migrations: {e}"))
}

/// diesel's record of applied migrations.
const HISTORY_TABLE: &str = "__diesel_schema_migrations";

/// The PostgreSQL advisory lock that migrations run under ("practika" in
/// ASCII): one key for every node of one database.
const PG_MIGRATION_LOCK: i64 = 0x7072_6163_7469_6b61;

/// Brings the schema up to date, adopting a Django-made database first.
/// Returns the names of the migrations it applied.
///
/// Several nodes may start at once on one database: each takes the
/// migration lock first (a PostgreSQL advisory lock; for SQLite an
/// exclusive lock on a file beside the database), so one migrates while
/// the others wait, then find nothing left to do. Without it two nodes on
/// a fresh PostgreSQL database both create the baseline's tables and one
/// fails (a duplicate key in `pg_type`).
pub fn run(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let lock = MigrationLock::acquire(conn)?;
    let result = run_locked(conn);
    lock.release(conn);
    result
}

/// Held while migrations run.
enum MigrationLock {
    Postgres,
    /// The open lock file; closing it releases the lock.
    SqliteFile(std::fs::File),
    /// An in-memory SQLite database: nobody else can see it.
    Unshared,
}

impl MigrationLock {
    fn acquire(conn: &mut DbConn) -> anyhow::Result<MigrationLock> {
        match conn {
            DbConn::Pg(_) => {
                #[derive(QueryableByName)]
                struct Locked {
                    #[diesel(sql_type = diesel::sql_types::Bool)]
                    locked: bool,
                }
                let got: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
                    .bind::<BigInt, _>(PG_MIGRATION_LOCK)
                    .get_result(conn)
                    .context("taking the migration lock")?;
                if !got.locked {
                    tracing::info!("another node is applying migrations; waiting for it to finish");
                    diesel::sql_query("SELECT pg_advisory_lock($1)")
                        .bind::<BigInt, _>(PG_MIGRATION_LOCK)
                        .execute(conn)
                        .context("waiting for the migration lock")?;
                }
                Ok(MigrationLock::Postgres)
            }
            DbConn::Sqlite(_) => {
                #[derive(QueryableByName)]
                struct File {
                    #[diesel(sql_type = Text)]
                    file: String,
                }
                let main: File = diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'")
                    .get_result(conn)
                    .context("finding the database file")?;
                if main.file.is_empty() {
                    return Ok(MigrationLock::Unshared);
                }
                let path = format!("{}.migrate-lock", main.file);
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
                    .with_context(|| format!("opening the migration lock {path}"))?;
                use rustix::fs::{flock, FlockOperation};
                if flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
                    tracing::info!("another process is applying migrations; waiting for it to finish");
                    flock(&file, FlockOperation::LockExclusive)
                        .with_context(|| format!("waiting for the migration lock {path}"))?;
                }
                Ok(MigrationLock::SqliteFile(file))
            }
        }
    }

    fn release(self, conn: &mut DbConn) {
        match self {
            MigrationLock::Postgres => {
                // Also released when the connection closes: a failure here
                // only delays the next node until then.
                if let Err(error) = diesel::sql_query("SELECT pg_advisory_unlock($1)")
                    .bind::<BigInt, _>(PG_MIGRATION_LOCK)
                    .execute(conn)
                {
                    tracing::warn!(%error, "could not release the migration lock");
                }
            }
            MigrationLock::SqliteFile(file) => drop(file),
            MigrationLock::Unshared => {}
        }
    }
}

fn run_locked(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    if adopt_django_database(conn)? {
        tracing::info!("adopted a database created by the Django app: baseline recorded as applied");
    }
    let source = source(conn);
    let applied = match conn {
        DbConn::Pg(c) => c
            .run_pending_migrations(source)
            .map(|v| v.iter().map(|m| m.to_string()).collect()),
        DbConn::Sqlite(c) => c
            .run_pending_migrations(source)
            .map(|v| v.iter().map(|m| m.to_string()).collect()),
    };
    applied.map_err(|e| anyhow::anyhow!("applying migrations: {e}"))
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn table_exists(conn: &mut DbConn, table: &str) -> anyhow::Result<bool> {
    let query = match conn {
        DbConn::Pg(_) => {
            "SELECT count(*) AS n FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1"
        }
        DbConn::Sqlite(_) => "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = $1",
    };
    let count: Count = diesel::sql_query(query)
        .bind::<Text, _>(table)
        .get_result(conn)
        .with_context(|| format!("looking for table {table}"))?;
    Ok(count.n > 0)
}

/// A database made by the Django app has its tables and `django_migrations`
/// but no diesel history. Its baseline is recorded as applied (nothing in it
/// is run, no row is touched), so only the later migrations run.
/// Returns whether it adopted.
pub fn adopt_django_database(conn: &mut DbConn) -> anyhow::Result<bool> {
    if !table_exists(conn, "django_migrations")? {
        return Ok(false);
    }
    if table_exists(conn, HISTORY_TABLE)? {
        let recorded: Count =
            diesel::sql_query("SELECT count(*) AS n FROM __diesel_schema_migrations").get_result(conn)?;
        if recorded.n > 0 {
            return Ok(false);
        }
    }
    let missing: Vec<&str> = BASELINE_TABLES
        .iter()
        .copied()
        .filter(|table| !table_exists(conn, table).unwrap_or(false))
        .collect();
    if missing.len() == BASELINE_TABLES.len() {
        // django_migrations alone (another Django app): nothing to adopt.
        return Ok(false);
    }
    if !missing.is_empty() {
        bail!(
            "this database was made by the Django app but lacks the tables {}; \
             run the Django app's migrations to the end first, then start Practika",
            missing.join(", ")
        );
    }
    conn.transaction(|c| {
        c.batch_execute(
            "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (\
               version VARCHAR(50) PRIMARY KEY NOT NULL, \
               run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
        )?;
        diesel::sql_query("INSERT INTO __diesel_schema_migrations (version) VALUES ($1)")
            .bind::<Text, _>(BASELINE_VERSION)
            .execute(c)?;
        Ok::<_, diesel::result::Error>(())
    })
    .context("recording the Django baseline as applied")?;
    Ok(true)
}
