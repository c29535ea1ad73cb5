//! The databases the log can live in, written once.
//!
//! Every place that differs between backends goes through this module:
//! [`ByBackend`] is the one enum that holds a backend's value (a pool, a
//! connection, a transaction), [`on_backend!`](crate::on_backend) the one
//! macro that runs the same code on whichever it holds, and
//! [`Dialect`](dialect::Dialect) the SQL text that differs. Adding a backend
//! is a variant here, an arm in the macro, and a dialect (see
//! `ARCHITECTURE.md`).

pub(crate) mod dialect;

use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Postgres, Sqlite, Transaction};

/// Which database a value belongs to.
///
/// Exhaustive on purpose, like [`ByBackend`]: a new backend is a major
/// version of this crate, and every `match` of an application's (its own
/// DDL, say) is a place the compiler then shows it must decide for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite, the embedded default.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// Every backend this build supports.
    pub const ALL: &'static [Backend] = &[Backend::Sqlite, Backend::Postgres];

    /// The backend's name in lower case (`sqlite`, `postgres`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl Backend {
    /// This backend's SQL.
    pub(crate) fn dialect(self) -> &'static dialect::Dialect {
        match self {
            Backend::Sqlite => &dialect::SQLITE,
            Backend::Postgres => &dialect::POSTGRES,
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One value of each backend's own type: `S` on SQLite, `P` on PostgreSQL.
///
/// [`Pool`] and [`Db`] are its two public forms. Run code on whichever
/// backend it holds with [`on_backend!`](crate::on_backend), which writes
/// the code once for all backends; a `match` works too, but it has to name
/// every variant, so it breaks when a backend is added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByBackend<S, P> {
    /// SQLite's value.
    Sqlite(S),
    /// PostgreSQL's value.
    Postgres(P),
}

impl<S, P> ByBackend<S, P> {
    /// Which backend this value belongs to.
    pub fn backend(&self) -> Backend {
        match self {
            ByBackend::Sqlite(_) => Backend::Sqlite,
            ByBackend::Postgres(_) => Backend::Postgres,
        }
    }

    /// Borrows the value.
    pub fn as_ref(&self) -> ByBackend<&S, &P> {
        match self {
            ByBackend::Sqlite(s) => ByBackend::Sqlite(s),
            ByBackend::Postgres(p) => ByBackend::Postgres(p),
        }
    }
}

/// A connection pool of either backend: what an [`Auditor`](crate::Auditor)
/// holds ([`Auditor::pool`](crate::Auditor::pool)), for the application's
/// own reads outside audited transactions.
pub type Pool = ByBackend<SqlitePool, PgPool>;

/// The connection of an audited transaction, for the application's own SQL
/// ([`Audit::db`](crate::Audit::db)).
pub type Db<'a> = ByBackend<&'a mut SqliteConnection, &'a mut PgConnection>;

/// An open transaction of either backend.
pub(crate) type Tx = ByBackend<Transaction<'static, Sqlite>, Transaction<'static, Postgres>>;

/// A connection of either backend taken from its pool (outside any transaction).
pub(crate) type Conn = ByBackend<PoolConnection<Sqlite>, PoolConnection<Postgres>>;

/// Runs one body on whichever backend a [`ByBackend`] value holds (a
/// [`Pool`], a [`Db`], a borrowed one), with `$name` bound to that backend's
/// own value. The body is compiled once per backend, so the same
/// `sqlx::query(..)` runs on each; numbered `$1, $2, ..` placeholders work
/// on all of them when each appears in order.
///
/// ```no_run
/// # async fn demo(auditor: audit_core::Auditor) -> Result<(), sqlx::Error> {
/// let names: Vec<String> = audit_core::on_backend!(auditor.pool(), pool => {
///     sqlx::query_scalar("SELECT name FROM projects WHERE id > $1")
///         .bind(10_i64)
///         .fetch_all(pool)
///         .await?
/// });
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! on_backend {
    ($value:expr, $name:ident => $body:expr) => {
        match $value {
            $crate::ByBackend::Sqlite($name) => $body,
            $crate::ByBackend::Postgres($name) => $body,
        }
    };
}

/// How SQLite files are opened by [`Pool::connect`].
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The error of opening a pool: an unsupported URL, or the database's.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    #[error("unsupported database URL `{0}`: expected `sqlite:...` or `postgres://...`")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl Pool {
    /// Opens a pool for `url`, choosing the backend by its scheme.
    pub(crate) async fn connect(url: &str) -> Result<Pool, ConnectError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
            Ok(Self::connect_sqlite(options, SqliteSynchronous::Full).await?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .connect(url)
                .await?;
            Ok(ByBackend::Postgres(pool))
        } else {
            Err(ConnectError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// Opens a SQLite pool in WAL mode with `synchronous` durability.
    pub(crate) async fn connect_sqlite(
        options: SqliteConnectOptions,
        synchronous: SqliteSynchronous,
    ) -> Result<Pool, sqlx::Error> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(SQLITE_BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(ByBackend::Sqlite(pool))
    }

    /// Takes a connection from the pool.
    pub(crate) async fn acquire(&self) -> Result<Conn, sqlx::Error> {
        Ok(match self {
            ByBackend::Sqlite(pool) => ByBackend::Sqlite(pool.acquire().await?),
            ByBackend::Postgres(pool) => ByBackend::Postgres(pool.acquire().await?),
        })
    }

    /// Begins a transaction with the backend's `statement`.
    pub(crate) async fn begin_with(&self, statement: &'static str) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            ByBackend::Sqlite(pool) => ByBackend::Sqlite(pool.begin_with(statement).await?),
            ByBackend::Postgres(pool) => ByBackend::Postgres(pool.begin_with(statement).await?),
        })
    }
}

impl Conn {
    /// The connection, for statements.
    pub(crate) fn db(&mut self) -> Db<'_> {
        match self {
            ByBackend::Sqlite(conn) => ByBackend::Sqlite(&mut **conn),
            ByBackend::Postgres(conn) => ByBackend::Postgres(&mut **conn),
        }
    }
}

impl Tx {
    /// The transaction's connection.
    pub(crate) fn db(&mut self) -> Db<'_> {
        match self {
            ByBackend::Sqlite(tx) => ByBackend::Sqlite(&mut **tx),
            ByBackend::Postgres(tx) => ByBackend::Postgres(&mut **tx),
        }
    }

    /// Commits.
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        on_backend!(self, tx => tx.commit().await)
    }

    /// Rolls back.
    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        on_backend!(self, tx => tx.rollback().await)
    }
}

impl Db<'_> {
    /// Reborrows the connection for a shorter time, so it can be used again afterwards.
    pub fn reborrow(&mut self) -> Db<'_> {
        match self {
            ByBackend::Sqlite(conn) => ByBackend::Sqlite(&mut **conn),
            ByBackend::Postgres(conn) => ByBackend::Postgres(&mut **conn),
        }
    }
}
