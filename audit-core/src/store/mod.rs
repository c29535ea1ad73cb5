//! The event store: migrations, audited transactions and queries, on SQLite
//! and PostgreSQL. The logic is written once; only SQL text differs.

mod append;
mod error;
pub(crate) mod query;
mod retention;
mod retry;
mod schema;
mod session;

pub use error::AuditError;
pub use query::{Condition, Cursor, EventQuery, MAX_PAGE_SIZE, Page, StoredEvent};
pub use retention::PRUNED_EVENT_CODE;
pub use retry::{Attempt, Isolation, RetryPolicy, Retryable};
pub use schema::{EVENTS_TABLE, SCHEMA_VERSION};
pub use session::CommitProbe;
pub use session::{Audit, Command, Db, EmittedBy, MAX_PAYLOAD_BYTES};

use std::str::FromStr;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};

use crate::actor::Actor;
use crate::catalog::EventCatalog;

/// The entry point: a pool of either backend, from which audited
/// transactions begin.
#[derive(Debug, Clone)]
pub struct Auditor {
    pool: Pool,
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which database an [`Auditor`] writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, the embedded default.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl From<SqlitePool> for Auditor {
    fn from(pool: SqlitePool) -> Self {
        Auditor {
            pool: Pool::Sqlite(pool),
        }
    }
}

impl From<PgPool> for Auditor {
    fn from(pool: PgPool) -> Self {
        Auditor {
            pool: Pool::Postgres(pool),
        }
    }
}

/// Runs `$body` with `$conn` bound to the concrete connection of either
/// backend, and `$sql` to that backend's dialect: one body, two backends.
macro_rules! on_backend {
    ($target:expr, $conn:ident => $body:expr) => {
        match $target {
            $crate::store::Target::Sqlite($conn) => $body,
            $crate::store::Target::Postgres($conn) => $body,
        }
    };
}
pub(crate) use on_backend;

/// A borrowed connection of either backend (the pool, or a transaction's connection).
pub(crate) enum Target<S, P> {
    Sqlite(S),
    Postgres(P),
}

impl Auditor {
    /// Opens a pool for `url` (`sqlite://file.db`, `sqlite::memory:`,
    /// `postgres://...`). A SQLite file is created if missing and put in WAL
    /// mode with `synchronous = FULL` (see [`Auditor::connect_sqlite`]).
    pub async fn connect(url: &str) -> Result<Auditor, AuditError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
            Self::connect_sqlite(options, SqliteSynchronous::Full).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .connect(url)
                .await?;
            Ok(pool.into())
        } else {
            Err(AuditError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// Opens a SQLite pool in WAL mode with the given durability.
    ///
    /// `Full` (the default of [`connect`](Self::connect)) loses no committed
    /// transaction on power loss; `Normal` is much faster and, on power loss,
    /// may lose the last commits, but a change and its events are one
    /// transaction and are lost together.
    pub async fn connect_sqlite(
        options: SqliteConnectOptions,
        synchronous: SqliteSynchronous,
    ) -> Result<Auditor, AuditError> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(pool.into())
    }

    /// The backend this auditor writes to.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite pool, if this auditor uses SQLite.
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.pool {
            Pool::Sqlite(pool) => Some(pool),
            Pool::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool, if this auditor uses PostgreSQL.
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.pool {
            Pool::Postgres(pool) => Some(pool),
            Pool::Sqlite(_) => None,
        }
    }

    fn target(&self) -> Target<&SqlitePool, &PgPool> {
        match &self.pool {
            Pool::Sqlite(pool) => Target::Sqlite(pool),
            Pool::Postgres(pool) => Target::Postgres(pool),
        }
    }

    /// Creates or completes the audit schema (idempotent).
    pub async fn migrate(&self) -> Result<(), AuditError> {
        let script = schema::script(match self.backend() {
            Backend::Sqlite => schema::SQLITE,
            Backend::Postgres => schema::POSTGRES,
        });
        let mut tx = self.begin_tx().await?;
        on_backend!(session::tx_target(&mut tx), conn => {
            sqlx::raw_sql(&script).execute(conn).await?;
        });
        tx.commit().await?;
        Ok(())
    }

    /// Protects an immutable model's table. On PostgreSQL, adds triggers that
    /// refuse, at commit, any `INSERT`, `UPDATE` or `DELETE` of `table` in a
    /// transaction that records no audit event (raw SQL from `psql`
    /// included), and any `TRUNCATE`. Idempotent.
    ///
    /// On SQLite it only checks the name: SQLite has no transaction identity
    /// a trigger could compare, so there the guarantee is the compile-time
    /// one (only commands get write access to an immutable model).
    pub async fn protect_immutable_table(&self, table: &str) -> Result<(), AuditError> {
        if !schema::is_plain_identifier(table) {
            return Err(AuditError::InvalidIdentifier(table.to_owned()));
        }
        if let Pool::Postgres(pool) = &self.pool {
            sqlx::raw_sql(&schema::protect_table(table))
                .execute(pool)
                .await
                .map_err(classify)?;
        }
        Ok(())
    }

    /// The application tables in the database that are neither one of
    /// `classified` nor part of the audit schema: each is a model nobody
    /// decided is mutable or immutable. An application's test asserts this
    /// is empty, listing every `Model::TABLE`.
    pub async fn unclassified_tables(
        &self,
        classified: &[&str],
    ) -> Result<Vec<String>, AuditError> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
            }
        };
        let tables: Vec<String> = on_backend!(self.target(), pool => {
            sqlx::query_scalar(sql).fetch_all(pool).await?
        });
        Ok(tables
            .into_iter()
            .filter(|t| {
                !schema::OWN_TABLES.contains(&t.as_str()) && !classified.contains(&t.as_str())
            })
            .collect())
    }

    /// Checks that the audit schema is present, naming what is missing if not.
    pub async fn verify_schema(&self) -> Result<(), AuditError> {
        let exists_sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) FROM pg_tables WHERE tablename = $1 AND schemaname = current_schema()"
            }
        };
        for table in ["audit_schema", EVENTS_TABLE] {
            let count: i64 = on_backend!(self.target(), pool => {
                sqlx::query_scalar(exists_sql).bind(table).fetch_one(pool).await?
            });
            if count == 0 {
                return Err(AuditError::SchemaMissing {
                    missing: format!("table `{table}`"),
                });
            }
        }
        let version: Option<i64> = on_backend!(self.target(), pool => {
            sqlx::query_scalar("SELECT MAX(version) FROM audit_schema").fetch_one(pool).await?
        });
        match version {
            Some(v) if v >= SCHEMA_VERSION => Ok(()),
            _ => Err(AuditError::SchemaMissing {
                missing: format!("schema version {SCHEMA_VERSION} in table `audit_schema`"),
            }),
        }
    }

    /// Begins an audited transaction acting for `actor`. Writes start at once
    /// (`BEGIN IMMEDIATE` on SQLite, so the transaction never fails later for
    /// want of the write lock).
    pub async fn begin<E: EventCatalog>(&self, actor: Actor) -> Result<Audit<E>, AuditError> {
        Ok(Audit::new(self.begin_tx().await?, actor, self.backend()))
    }

    /// Begins a write transaction (`BEGIN IMMEDIATE` on SQLite).
    ///
    /// BEGIN runs on a task of its own: sqlx makes its transaction guard only
    /// once BEGIN has answered, so a caller dropped while BEGIN is in flight
    /// (a timeout, a client gone) would otherwise return the connection to
    /// the pool inside the transaction, holding SQLite's write lock. On its
    /// own task BEGIN finishes, and a guard that nobody receives rolls back
    /// as it is dropped.
    pub(crate) async fn begin_tx(&self) -> Result<session::Tx, sqlx::Error> {
        self.begin_isolated(Isolation::Default).await
    }

    /// [`begin_tx`](Self::begin_tx) with `isolation`.
    pub(crate) async fn begin_isolated(
        &self,
        isolation: Isolation,
    ) -> Result<session::Tx, sqlx::Error> {
        let pool = self.pool.clone();
        let begin = tokio::spawn(async move {
            Ok::<_, sqlx::Error>(match (pool, isolation) {
                (Pool::Sqlite(pool), _) => {
                    session::Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?)
                }
                (Pool::Postgres(pool), Isolation::Default) => {
                    session::Tx::Postgres(pool.begin().await?)
                }
                (Pool::Postgres(pool), Isolation::Serializable) => session::Tx::Postgres(
                    pool.begin_with("BEGIN ISOLATION LEVEL SERIALIZABLE")
                        .await?,
                ),
            })
        });
        fail::fail_point!("audit::begin", |_| Err(sqlx::Error::Io(
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "injected fault",)
        )));
        match begin.await {
            Ok(tx) => tx,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Only a runtime shutting down cancels the task.
            Err(_) => Err(sqlx::Error::PoolClosed),
        }
    }

    /// Reads one page of events, newest first.
    pub async fn query<E: EventCatalog>(&self, query: &EventQuery) -> Result<Page<E>, AuditError> {
        query::run(self, query).await
    }
}

/// Maps "no such table" errors to [`AuditError::SchemaMissing`].
pub(crate) fn classify(error: sqlx::Error) -> AuditError {
    if let sqlx::Error::Database(db) = &error {
        let message = db.message();
        let missing_table =
            db.code().as_deref() == Some("42P01") || message.contains("no such table");
        if missing_table && message.contains(EVENTS_TABLE) {
            return AuditError::SchemaMissing {
                missing: format!("table `{EVENTS_TABLE}`"),
            };
        }
    }
    AuditError::Database(error)
}
