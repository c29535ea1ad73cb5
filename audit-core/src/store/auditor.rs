//! [`Auditor`], the entry point: a pool of either backend, its schema, and
//! the audited transactions that begin from it.

use sqlx::sqlite::{SqliteConnectOptions, SqliteSynchronous};

use super::error::{AuditError, classify};
use super::query::{self, EventQuery, Page};
use super::schema::{self, SCHEMA_VERSION};
use super::table::EVENTS_TABLE;
use super::transaction::{Audit, Isolation};
use crate::actor::Actor;
use crate::backend::{Backend, ByBackend, Pool, Tx};
use crate::catalog::EventCatalog;
use crate::on_backend;

/// The entry point: a pool of either backend, from which audited
/// transactions begin.
#[derive(Debug, Clone)]
pub struct Auditor {
    pool: Pool,
}

impl From<Pool> for Auditor {
    fn from(pool: Pool) -> Self {
        Auditor { pool }
    }
}

impl From<sqlx::SqlitePool> for Auditor {
    fn from(pool: sqlx::SqlitePool) -> Self {
        ByBackend::Sqlite(pool).into()
    }
}

impl From<sqlx::PgPool> for Auditor {
    fn from(pool: sqlx::PgPool) -> Self {
        ByBackend::Postgres(pool).into()
    }
}

impl Auditor {
    /// Opens a pool for `url` (`sqlite://file.db`, `sqlite::memory:`,
    /// `postgres://...`). A SQLite file is created if missing and put in WAL
    /// mode with `synchronous = FULL` (see [`Auditor::connect_sqlite`]).
    pub async fn connect(url: &str) -> Result<Auditor, AuditError> {
        Ok(Pool::connect(url).await?.into())
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
        Ok(Pool::connect_sqlite(options, synchronous).await?.into())
    }

    /// The backend this auditor writes to.
    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }

    /// The connection pool, for the application's own reads; run them with
    /// [`on_backend!`](crate::on_backend). Writes to audited tables belong
    /// in commands.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Creates or completes the audit schema (idempotent).
    pub async fn migrate(&self) -> Result<(), AuditError> {
        let script = schema::script(self.backend());
        let mut tx = self.begin_tx().await?;
        on_backend!(tx.db(), conn => {
            // The schema's own DDL, with the table name from `EVENTS_TABLE`.
            sqlx::raw_sql(sqlx::AssertSqlSafe(script)).execute(conn).await?;
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
            // `table` was checked to be a plain identifier above.
            sqlx::raw_sql(sqlx::AssertSqlSafe(schema::protect_table(table)))
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
        let sql = self.backend().dialect().list_tables;
        let tables: Vec<String> = on_backend!(&self.pool, pool => {
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
        let exists_sql = self.backend().dialect().table_exists;
        for table in ["audit_schema", EVENTS_TABLE] {
            let count: i64 = on_backend!(&self.pool, pool => {
                sqlx::query_scalar(exists_sql).bind(table).fetch_one(pool).await?
            });
            if count == 0 {
                return Err(AuditError::SchemaMissing {
                    missing: format!("table `{table}`"),
                });
            }
        }
        let version: Option<i64> = on_backend!(&self.pool, pool => {
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
        self.begin_with(actor, Isolation::Default).await
    }

    /// Begins an audited transaction acting for `actor` with `isolation`.
    pub async fn begin_with<E: EventCatalog>(
        &self,
        actor: Actor,
        isolation: Isolation,
    ) -> Result<Audit<E>, AuditError> {
        Ok(Audit::new(self.begin_isolated(isolation).await?, actor))
    }

    /// Begins a write transaction at the default isolation.
    pub(crate) async fn begin_tx(&self) -> Result<Tx, sqlx::Error> {
        self.begin_isolated(Isolation::Default).await
    }

    /// Begins a write transaction with `isolation`.
    ///
    /// BEGIN runs on a task of its own: a caller dropped while BEGIN is in
    /// flight (a timeout, a client gone) would otherwise return the
    /// connection to the pool inside the transaction. sqlx 0.9.0 still does
    /// this on PostgreSQL: its guard queues a ROLLBACK only once the
    /// connection's transaction depth is raised, which happens after BEGIN
    /// has answered (`PgTransactionManager::begin` in sqlx-postgres 0.9.0);
    /// the cancellation test in `example-app/tests/faults.rs` failed about
    /// once in 20 runs without this. On its own task BEGIN finishes, and a
    /// guard that nobody receives rolls back as it is dropped.
    async fn begin_isolated(&self, isolation: Isolation) -> Result<Tx, sqlx::Error> {
        let pool = self.pool.clone();
        let statement = isolation.begin_statement(self.backend());
        let begin = tokio::spawn(async move { pool.begin_with(statement).await });
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
        query::run(&self.pool, query).await
    }
}
