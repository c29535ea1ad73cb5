//! The databases the log can live in, written once.
//!
//! Every place that differs between backends goes through this module:
//! [`ByBackend`] is the one enum that holds a backend's value (a pool, a
//! connection, a transaction), [`on_backend!`](crate::on_backend) the one
//! macro that runs the same code on whichever it holds, and
//! [`Dialect`](dialect::Dialect) the SQL text that differs. What the store
//! does its own way per backend (its statements, locks, checks) is one
//! module per backend in the store's layer, `store/backends/`, reached
//! through `match_backend!`. Adding a backend is a variant here, an arm in
//! the macros, a dialect, and that module (see `ARCHITECTURE.md`).

pub(crate) mod dialect;

#[cfg(feature = "sqlite")]
use std::str::FromStr;
#[cfg(feature = "sqlite")]
use std::time::Duration;

use sqlx::Transaction;
use sqlx::pool::PoolConnection;
#[cfg(feature = "postgres")]
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions, Postgres};
#[cfg(feature = "sqlite")]
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteSynchronous,
};

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!(
    "audit-core needs a database: enable its feature `sqlite`, `postgres` or both \
     (`audit-core = { version = \"..\", features = [\"postgres\"] }`)"
);

/// The type a backend's values have in a build without that backend: it
/// has no values, so code for that backend is never compiled.
#[cfg(not(feature = "sqlite"))]
mod without_sqlite {
    pub type SqlitePool = std::convert::Infallible;
    pub type SqliteConnection = std::convert::Infallible;
    pub type SqliteTx = std::convert::Infallible;
    pub type SqlitePoolConnection = std::convert::Infallible;
}
#[cfg(not(feature = "sqlite"))]
use without_sqlite::*;
#[cfg(feature = "sqlite")]
type SqliteTx = Transaction<'static, Sqlite>;
#[cfg(feature = "sqlite")]
type SqlitePoolConnection = PoolConnection<Sqlite>;

/// See `without_sqlite`.
#[cfg(not(feature = "postgres"))]
mod without_postgres {
    pub type PgPool = std::convert::Infallible;
    pub type PgConnection = std::convert::Infallible;
    pub type PgTx = std::convert::Infallible;
    pub type PgPoolConnection = std::convert::Infallible;
}
#[cfg(not(feature = "postgres"))]
use without_postgres::*;
#[cfg(feature = "postgres")]
type PgTx = Transaction<'static, Postgres>;
#[cfg(feature = "postgres")]
type PgPoolConnection = PoolConnection<Postgres>;

/// Which database a value belongs to.
///
/// Exhaustive on purpose, like [`ByBackend`]: a new backend is a major
/// version of this crate, and every `match` of an application's (its own
/// DDL, say) is a place the compiler then shows it must decide for. It has
/// a variant for each backend the build enables (features `sqlite` and
/// `postgres`), so an application's `match` names the backends its own
/// build of audit-core has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite, the embedded default (feature `sqlite`).
    #[cfg(feature = "sqlite")]
    Sqlite,
    /// PostgreSQL (feature `postgres`).
    #[cfg(feature = "postgres")]
    Postgres,
}

impl Backend {
    /// Every backend this build supports.
    pub const ALL: &'static [Backend] = &[
        #[cfg(feature = "sqlite")]
        Backend::Sqlite,
        #[cfg(feature = "postgres")]
        Backend::Postgres,
    ];

    /// The backend's name in lower case (`sqlite`, `postgres`).
    pub fn name(self) -> &'static str {
        match self {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => "sqlite",
            #[cfg(feature = "postgres")]
            Backend::Postgres => "postgres",
        }
    }
}

impl Backend {
    /// This backend's SQL.
    pub(crate) fn dialect(self) -> &'static dialect::Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => &dialect::SQLITE,
            #[cfg(feature = "postgres")]
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
    /// SQLite's value (feature `sqlite`).
    #[cfg(feature = "sqlite")]
    Sqlite(S),
    /// PostgreSQL's value (feature `postgres`).
    #[cfg(feature = "postgres")]
    Postgres(P),
    /// Never constructed: in a build without one of the backends, it keeps
    /// that backend's type parameter in use. [`on_backend!`](crate::on_backend)
    /// handles it.
    #[cfg(not(all(feature = "sqlite", feature = "postgres")))]
    #[doc(hidden)]
    Unavailable(std::convert::Infallible, std::marker::PhantomData<(S, P)>),
}

/// A value that cannot exist (of an uninhabited type, or a reference to
/// one): the arm of a backend a build leaves out.
#[doc(hidden)]
pub trait Absurd {
    /// Proves the arm unreachable.
    fn absurd<T>(self) -> T;
}

impl Absurd for std::convert::Infallible {
    fn absurd<T>(self) -> T {
        match self {}
    }
}

impl Absurd for &std::convert::Infallible {
    fn absurd<T>(self) -> T {
        match *self {}
    }
}

impl Absurd for &mut std::convert::Infallible {
    fn absurd<T>(self) -> T {
        match *self {}
    }
}

/// Matches a [`ByBackend`] value with one arm per backend, each compiled
/// only in builds with that backend, and the unreachable arm of a build
/// without one of them.
macro_rules! match_backend {
    ($value:expr, Sqlite($s:pat) => $sqlite:expr, Postgres($p:pat) => $postgres:expr $(,)?) => {
        match $value {
            #[cfg(feature = "sqlite")]
            $crate::backend::ByBackend::Sqlite($s) => $sqlite,
            #[cfg(feature = "postgres")]
            $crate::backend::ByBackend::Postgres($p) => $postgres,
            #[cfg(not(all(feature = "sqlite", feature = "postgres")))]
            $crate::backend::ByBackend::Unavailable(never, _) => {
                $crate::backend::Absurd::absurd(never)
            }
        }
    };
}
pub(crate) use match_backend;

impl<S, P> ByBackend<S, P> {
    /// Which backend this value belongs to.
    pub fn backend(&self) -> Backend {
        match_backend!(self, Sqlite(_) => Backend::Sqlite, Postgres(_) => Backend::Postgres)
    }

    /// Borrows the value.
    pub fn as_ref(&self) -> ByBackend<&S, &P> {
        match_backend!(self,
            Sqlite(s) => ByBackend::Sqlite(s),
            Postgres(p) => ByBackend::Postgres(p),
        )
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
pub(crate) type Tx = ByBackend<SqliteTx, PgTx>;

/// A connection of either backend taken from its pool (outside any transaction).
pub(crate) type Conn = ByBackend<SqlitePoolConnection, PgPoolConnection>;

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
        $crate::__on_backend_match!($value, $name => $body)
    };
}

// One definition per set of backends: `#[cfg]` in a macro's expansion
// would be read in the calling crate, against its features, not ours.
#[cfg(all(feature = "sqlite", feature = "postgres"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __on_backend_match {
    ($value:expr, $name:ident => $body:expr) => {
        match $value {
            $crate::__private::ByBackend::Sqlite($name) => $body,
            $crate::__private::ByBackend::Postgres($name) => $body,
        }
    };
}

#[cfg(all(feature = "sqlite", not(feature = "postgres")))]
#[doc(hidden)]
#[macro_export]
macro_rules! __on_backend_match {
    ($value:expr, $name:ident => $body:expr) => {
        match $value {
            $crate::__private::ByBackend::Sqlite($name) => $body,
            $crate::__private::ByBackend::Unavailable(never, _) => {
                $crate::__private::Absurd::absurd(never)
            }
        }
    };
}

#[cfg(all(feature = "postgres", not(feature = "sqlite")))]
#[doc(hidden)]
#[macro_export]
macro_rules! __on_backend_match {
    ($value:expr, $name:ident => $body:expr) => {
        match $value {
            $crate::__private::ByBackend::Postgres($name) => $body,
            $crate::__private::ByBackend::Unavailable(never, _) => {
                $crate::__private::Absurd::absurd(never)
            }
        }
    };
}

// No backend: `compile_error!` above says what to do; this keeps the
// rest of the crate from adding errors of its own.
#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
#[doc(hidden)]
#[macro_export]
macro_rules! __on_backend_match {
    ($value:expr, $name:ident => $body:expr) => {
        match $value {
            $crate::__private::ByBackend::Unavailable(never, _) => {
                $crate::__private::Absurd::absurd(never)
            }
        }
    };
}

/// How SQLite files are opened by [`Pool::connect`].
#[cfg(feature = "sqlite")]
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The error of opening a pool: an unsupported URL, or the database's.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    #[error("unsupported database URL `{0}`: expected `sqlite:...` or `postgres://...`")]
    UnsupportedUrl(String),
    // Made only in a build that leaves a backend out.
    #[cfg_attr(all(feature = "sqlite", feature = "postgres"), allow(dead_code))]
    #[error("the database URL `{url}` is for {backend}, which this build leaves out")]
    BackendNotEnabled { url: String, backend: &'static str },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl Pool {
    /// Opens a pool for `url`, choosing the backend by its scheme.
    pub(crate) async fn connect(url: &str) -> Result<Pool, ConnectError> {
        if url.starts_with("sqlite:") {
            #[cfg(feature = "sqlite")]
            {
                let options = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
                Ok(Self::connect_sqlite(options, SqliteSynchronous::Full).await?)
            }
            #[cfg(not(feature = "sqlite"))]
            Err(ConnectError::BackendNotEnabled {
                url: url.to_owned(),
                backend: "sqlite",
            })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            #[cfg(feature = "postgres")]
            {
                let pool = PgPoolOptions::new()
                    .max_connections(10)
                    .connect(url)
                    .await?;
                Ok(ByBackend::Postgres(pool))
            }
            #[cfg(not(feature = "postgres"))]
            Err(ConnectError::BackendNotEnabled {
                url: url.to_owned(),
                backend: "postgres",
            })
        } else {
            Err(ConnectError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// Opens a SQLite pool in WAL mode with `synchronous` durability.
    #[cfg(feature = "sqlite")]
    pub(crate) async fn connect_sqlite(
        options: SqliteConnectOptions,
        synchronous: SqliteSynchronous,
    ) -> Result<Pool, sqlx::Error> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            // What is deleted or overwritten is zeroed in the file, so that
            // an erased value (`Auditor::erase`) leaves no bytes behind.
            .pragma("secure_delete", "ON");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(ByBackend::Sqlite(pool))
    }

    /// Takes a connection from the pool.
    pub(crate) async fn acquire(&self) -> Result<Conn, sqlx::Error> {
        Ok(match_backend!(self,
            Sqlite(pool) => ByBackend::Sqlite(pool.acquire().await?),
            Postgres(pool) => ByBackend::Postgres(pool.acquire().await?),
        ))
    }

    /// Begins a transaction with the backend's `statement`.
    pub(crate) async fn begin_with(&self, statement: &'static str) -> Result<Tx, sqlx::Error> {
        Ok(match_backend!(self,
            Sqlite(pool) => ByBackend::Sqlite(pool.begin_with(statement).await?),
            Postgres(pool) => ByBackend::Postgres(pool.begin_with(statement).await?),
        ))
    }
}

impl Conn {
    /// The connection, for statements.
    pub(crate) fn db(&mut self) -> Db<'_> {
        match_backend!(self,
            Sqlite(conn) => ByBackend::Sqlite(&mut **conn),
            Postgres(conn) => ByBackend::Postgres(&mut **conn),
        )
    }
}

impl Tx {
    /// The transaction's connection.
    pub(crate) fn db(&mut self) -> Db<'_> {
        match_backend!(self,
            Sqlite(tx) => ByBackend::Sqlite(&mut **tx),
            Postgres(tx) => ByBackend::Postgres(&mut **tx),
        )
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
        match_backend!(self,
            Sqlite(conn) => ByBackend::Sqlite(&mut **conn),
            Postgres(conn) => ByBackend::Postgres(&mut **conn),
        )
    }
}
