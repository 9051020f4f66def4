//! The database layer: one connection type for both backends, the pool, and
//! the bridge from async handlers to blocking diesel code.
//!
//! Queries are plain functions taking `&mut DbConn`; handlers call them
//! through [`run`], which takes a pooled connection on the blocking thread
//! pool so that no connection is ever held across an `.await`.

pub mod executor;
pub mod explain;
pub mod hint;
pub mod migrations;
pub mod schema;
pub mod stats;
pub mod types;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, Connection, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2;
use diesel::sqlite::SqliteConnection;

use crate::error::{AppError, AppResult};

pub use types::{Id, Json, Ts};

/// A connection to either backend. Everything that compiles through this
/// enum runs on both; the few statements that must differ go through
/// [`for_each_backend!`](crate::for_each_backend).
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// The backend type of queries built through [`DbConn`] (for boxed
/// expressions that name it).
pub type Sql = <DbConn as Connection>::Backend;

/// Runs the same body on whichever inner connection `DbConn` holds, for the
/// statements diesel cannot build through the enum (upserts, `FOR UPDATE`,
/// batch inserts).
#[macro_export]
macro_rules! for_each_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Pg($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

/// Runs a statement on the inner connection, for the hot statements of
/// every page. Through the enum, diesel's `MultiConnection` wraps a query
/// so that it writes the whole SQL text again on every pass over it (the
/// cache check, the binds, the cache key) even when the statement is
/// prepared already: 11 % of the SQLite library's CPU time. On the inner
/// connection a query with a static type is prepared once and only its
/// binds are collected. Same body on both backends, so the statement must
/// compile for each; the instrumentation (statement counts, a lost
/// connection) sits on the inner connections, so it still counts.
#[macro_export]
macro_rules! direct {
    ($conn:expr, |$c:ident| $body:expr) => {
        $crate::for_each_backend!($conn, |$c| $body)
    };
}
pub use crate::direct;

impl DbConn {
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Pg(_) => Backend::Postgres,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// Chosen from the URL scheme, never by trial: `postgres://` and
    /// `postgresql://` are PostgreSQL, `sqlite://path` or a plain path SQLite.
    pub fn from_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "PostgreSQL",
            Backend::Sqlite => "SQLite",
        }
    }
}

/// The file path in a SQLite URL (`sqlite://data/x.db`, `sqlite:x.db`, or a path).
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Seconds a new PostgreSQL connection may take before the attempt fails.
const PG_CONNECT_TIMEOUT_SECS: u32 = 3;

/// Opens one connection, with the per-connection settings each backend needs.
pub fn establish(url: &str) -> Result<DbConn, r2d2::Error> {
    match Backend::from_url(url) {
        Backend::Postgres => {
            let url = if url.contains("connect_timeout=") {
                url.to_owned()
            } else {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}connect_timeout={PG_CONNECT_TIMEOUT_SECS}")
            };
            let mut conn = PgConnection::establish(&url).map_err(r2d2::Error::ConnectionError)?;
            // PostgreSQL's stock random_page_cost (4) prices an index
            // lookup for a spinning disk: it then hash-joins all 2,000
            // users to name the 6 authors of a page's replies (1.27 ms
            // against 0.24 ms by their primary keys). 1.1 is the usual
            // figure for SSDs and a cached database. An operator who set a
            // value (server, database or role) keeps it.
            conn.batch_execute(
                "SET TIME ZONE 'UTC'; \
                 SELECT set_config('random_page_cost', '1.1', false) \
                 WHERE (SELECT source FROM pg_settings WHERE name = 'random_page_cost') = 'default'",
            )
            .map_err(r2d2::Error::QueryError)?;
            conn.set_instrumentation(stats::Counting::default());
            Ok(DbConn::Pg(conn))
        }
        Backend::Sqlite => {
            let path = sqlite_path(url);
            if !path.starts_with(':') && !path.starts_with("file:") {
                if let Some(parent) = std::path::Path::new(path).parent() {
                    if !parent.as_os_str().is_empty() && !parent.exists() {
                        return Err(r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(
                            format!("the folder {} does not exist", parent.display()),
                        )));
                    }
                }
            }
            let mut conn = SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
            conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                .map_err(r2d2::Error::QueryError)?;
            use_wal(&mut conn).map_err(r2d2::Error::QueryError)?;
            conn.batch_execute("PRAGMA synchronous = NORMAL;")
                .map_err(r2d2::Error::QueryError)?;
            conn.set_instrumentation(stats::Counting::default());
            Ok(DbConn::Sqlite(conn))
        }
    }
}

/// Puts a SQLite file in WAL mode (a setting the file keeps, so only the
/// first connection to a new file changes it). Switching needs an exclusive
/// lock, and when several connections open a new file at once SQLite may
/// answer "database is locked" at once instead of waiting (two readers that
/// both want to write would deadlock), so the switch is retried for up to
/// five seconds.
fn use_wal(conn: &mut SqliteConnection) -> Result<(), diesel::result::Error> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Mode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut pause = std::time::Duration::from_millis(5);
    loop {
        let attempt = diesel::sql_query("PRAGMA journal_mode")
            .get_result::<Mode>(&mut *conn)
            .and_then(|mode| {
                if mode.journal_mode.eq_ignore_ascii_case("wal") {
                    Ok(())
                } else {
                    conn.batch_execute("PRAGMA journal_mode = WAL")
                }
            });
        match attempt {
            Err(diesel::result::Error::DatabaseError(_, info))
                if info.message().contains("locked") && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

/// r2d2 manager that picks the backend from the URL (diesel's own manager
/// would try each backend in turn and lose the real connection error).
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        establish(&self.url)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    /// No `SELECT 1` at check-out (it cost a round trip per query batch):
    /// a connection is dropped instead when one of its statements found it
    /// lost (the server went away; see [`stats::Counting`]), or when it
    /// comes back inside a transaction it could not close.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        type Manager = <DbConn as Connection>::TransactionManager;
        let lost = stats::take_lost();
        let stuck = !matches!(
            Manager::transaction_manager_status_mut(conn).transaction_depth(),
            Ok(None)
        );
        lost || stuck || std::thread::panicking()
    }
}

/// The connection pool shared by handlers and workers.
#[derive(Clone)]
pub struct Pool {
    inner: r2d2::Pool<Manager>,
    backend: Backend,
    /// One thread per connection: requests wait here, in arrival order,
    /// for their turn at the database (see [`run`]).
    executor: std::sync::Arc<executor::Executor>,
}

/// How long a request waits for its turn at the database before it gets
/// a 503: long enough to ride out a burst, short enough that a client is
/// told instead of left hanging.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(10);

impl Pool {
    /// Builds the pool without connecting: a database that is down at start
    /// (or later) shows as 503 pages and `/readyz` failing, and the pool
    /// reconnects on its own once it is back.
    pub fn new(url: &str) -> Pool {
        let backend = Backend::from_url(url);
        let cores = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(2);
        // Twice the cores: more connections than that only queue in the
        // database (measured: 10 instead of 4 doubled p99 on two cores).
        let max_size = (cores * 2).max(4);
        let inner = r2d2::Pool::builder()
            .max_size(max_size)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(3))
            .test_on_check_out(false)
            .error_handler(Box::new(r2d2::LoggingErrorHandler))
            .build_unchecked(Manager { url: url.to_owned() });
        let executor = std::sync::Arc::new(executor::Executor::new(max_size as usize));
        Pool {
            inner,
            backend,
            executor,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How many connections the pool holds at most.
    pub fn size(&self) -> u32 {
        self.inner.max_size()
    }

    /// A connection for blocking code (workers, CLI). Handlers use [`run`].
    pub fn get(&self) -> AppResult<r2d2::PooledConnection<Manager>> {
        stats::clear_lost();
        self.inner.get().map_err(|e| AppError::Unavailable(e.to_string()))
    }
}

/// Runs blocking database work for an async handler: queues `f` for a
/// database thread (see [`executor`]), which takes a pooled connection,
/// runs `f`, and maps failures to [`AppError`] (no turn within
/// [`QUEUE_TIMEOUT`] or a pool timeout → 503, `NotFound` → 404, a lost
/// connection → 503). The caller's tracing span and statement counter go
/// with it onto the database thread.
pub async fn run<T, E, F>(pool: &Pool, f: F) -> AppResult<T>
where
    F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Into<AppError> + Send + 'static,
{
    let inner = pool.clone();
    let span = tracing::Span::current();
    let counter = stats::current_task_counter();
    // The queue is first come, first served: r2d2's own wait lets a late
    // arrival overtake, and starved some requests past any timeout under a
    // burst (256 connections on the library: 1,443 errors). Nor does a
    // queue of requests hold hundreds of threads.
    let ticket = pool.executor.submit(move || {
        let _span = span.enter();
        let _counting = counter.as_ref().map(stats::StatementCounter::enter);
        let mut conn = inner.get()?;
        let result = f(&mut conn).map_err(Into::into);
        if stats::take_lost() {
            // Seen again by `has_broken` as the connection goes back.
            stats::mark_lost();
            if let Err(error) = result {
                tracing::warn!(%error, "the database connection was lost");
                return Err(AppError::Unavailable("the database connection was lost".into()));
            }
        }
        result
    });
    match ticket.result(QUEUE_TIMEOUT).await {
        Ok(result) => result,
        Err(executor::Failed::Waited) => Err(AppError::Unavailable("every database connection stayed busy".into())),
        Err(executor::Failed::Panicked) => Err(AppError::Unexpected(anyhow::anyhow!("database task panicked"))),
    }
}

/// A transaction for read-then-write work. On SQLite it starts with
/// `BEGIN IMMEDIATE`, taking the write lock up front: a deferred transaction
/// that reads and then writes fails with "database is locked" when another
/// writer got there first, instead of waiting its turn.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    type Manager = <DbConn as Connection>::TransactionManager;
    let top_level_sqlite = matches!(conn, DbConn::Sqlite(_))
        && Manager::transaction_manager_status_mut(conn)
            .transaction_depth()
            .ok()
            .flatten()
            .is_none();
    if top_level_sqlite {
        if let DbConn::Sqlite(inner) = conn {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
        }
    } else {
        Manager::begin_transaction(conn)?;
    }
    match f(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            Manager::rollback_transaction(conn)?;
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    #[derive(QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = Text)]
        compile_options: String,
    }

    /// `.cargo/config.toml` builds the bundled SQLite with the query
    /// planner stability guarantee (without it, every statement with a
    /// bound `LIMIT` is parsed again at each execution) and without its two
    /// process-wide mutexes (see that file).
    #[test]
    fn sqlite_is_built_with_the_planner_stability_guarantee() {
        let mut conn = diesel::SqliteConnection::establish(":memory:").expect("in-memory SQLite");
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<CompileOption>(&mut conn)
            .expect("compile options")
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        let has = |name: &str| options.iter().any(|o| o == name);
        assert!(
            has("ENABLE_QPSG") && has("DEFAULT_MEMSTATUS=0") && !has("ENABLE_MEMORY_MANAGEMENT"),
            "SQLite is not built with LIBSQLITE3_FLAGS from .cargo/config.toml: {options:?}"
        );
    }
}
