//! [`Auditor`], the entry point: a pool of either backend, its schema, and
//! the audited transactions that begin from it.

use std::time::Duration;

#[cfg(feature = "sqlite")]
use sqlx::sqlite::{SqliteConnectOptions, SqliteSynchronous};

use super::backends::with_storage;
use super::error::AuditError;
use super::query::{self, EventQuery, Page, StoredEvent};
use super::schema;
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
    min_retention: Duration,
    /// The test database that `testing` made for this auditor, shared by
    /// its clones: dropped (the database with it) when the last clone is.
    /// Last, so that the pool above closes first.
    #[cfg(feature = "testing")]
    test_database: Option<std::sync::Arc<dyn std::fmt::Debug + Send + Sync>>,
}

impl From<Pool> for Auditor {
    fn from(pool: Pool) -> Self {
        Auditor {
            pool,
            min_retention: DEFAULT_MIN_RETENTION,
            #[cfg(feature = "testing")]
            test_database: None,
        }
    }
}

/// How old events must at least be before [`Auditor::prune_before`] may
/// delete them, unless [`Auditor::with_min_retention`] says otherwise.
pub const DEFAULT_MIN_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

#[cfg(feature = "sqlite")]
impl From<sqlx::SqlitePool> for Auditor {
    fn from(pool: sqlx::SqlitePool) -> Self {
        ByBackend::Sqlite(pool).into()
    }
}

#[cfg(feature = "postgres")]
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
    #[cfg(feature = "sqlite")]
    pub async fn connect_sqlite(
        options: SqliteConnectOptions,
        synchronous: SqliteSynchronous,
    ) -> Result<Auditor, AuditError> {
        Ok(Pool::connect_sqlite(options, synchronous).await?.into())
    }

    /// This auditor, refusing to prune events younger than `min_retention`
    /// (30 days unless set; `Duration::ZERO` allows any cutoff up to now).
    pub fn with_min_retention(mut self, min_retention: Duration) -> Self {
        self.min_retention = min_retention;
        self
    }

    /// This auditor, owning `guard` (`testing`'s handle on the test
    /// database it opens): its clones share it, and the last one to go
    /// drops it, after its pool.
    #[cfg(feature = "testing")]
    pub(crate) fn owning_test_database(
        mut self,
        guard: std::sync::Arc<dyn std::fmt::Debug + Send + Sync>,
    ) -> Self {
        self.test_database = Some(guard);
        self
    }

    /// How old events must at least be before they may be pruned.
    pub fn min_retention(&self) -> Duration {
        self.min_retention
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

    /// Begins a write transaction that also holds advisory lock `lock` on
    /// PostgreSQL until it ends, so that work of one kind (migrations,
    /// seals, prunes) runs one at a time; SQLite's write lock already does.
    pub(crate) async fn begin_locked(&self, lock: i64) -> Result<Tx, AuditError> {
        let mut tx = self.begin_tx().await?;
        with_storage!(tx.db(), conn, S => S::lock(conn, lock).await)?;
        Ok(tx)
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
    /// the cancellation test in `example-app/tests/app/faults.rs` failed about
    /// once in 20 runs without this. On its own task BEGIN finishes, and a
    /// guard that nobody receives rolls back as it is dropped.
    async fn begin_isolated(&self, isolation: Isolation) -> Result<Tx, sqlx::Error> {
        let pool = self.pool.clone();
        let statement = isolation.begin_statement(self.backend());
        let begin = tokio::spawn(async move { pool.begin_with(statement).await });
        #[cfg(feature = "failpoints")]
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

    /// Reads one page of events, newest first by the event's time
    /// (`occurred_at`, then id where times are equal), with the cursors of
    /// the pages around it ([`EventQuery`](crate::query::EventQuery)). An
    /// imported event is among the events of its own time, wherever its id
    /// is; to read in commit order, use [`read_after`](Self::read_after).
    #[tracing::instrument(
        name = "audit.query",
        skip_all,
        fields(backend = self.backend().name(), events = tracing::field::Empty)
    )]
    pub async fn query<E: EventCatalog>(&self, query: &EventQuery) -> Result<Page<E>, AuditError> {
        let page = query::run(&self.pool, query).await?;
        tracing::Span::current().record("events", page.events.len());
        Ok(page)
    }

    /// The event with `id`, or `None` if there is none (or it was pruned).
    #[tracing::instrument(name = "audit.event", skip(self), fields(backend = self.backend().name()))]
    pub async fn event<E: EventCatalog>(
        &self,
        id: i64,
    ) -> Result<Option<StoredEvent<E>>, AuditError> {
        query::by_id(&self.pool, id).await
    }

    /// The events of the command that wrote `event` (its command id,
    /// written by its transaction; all of one outermost command are, G6),
    /// oldest first, `event` included: at most `around` before it and
    /// `around` from it on, `around` clamped to `1..=`[`MAX_PAGE_SIZE`].
    /// For an imported event, the events of its import run that the same
    /// transaction wrote.
    ///
    /// [`MAX_PAGE_SIZE`]: crate::query::MAX_PAGE_SIZE
    #[tracing::instrument(
        name = "audit.command_events",
        skip_all,
        fields(backend = self.backend().name(), id = event.id, command_id = %event.command_id)
    )]
    pub async fn command_events<E: EventCatalog>(
        &self,
        event: &StoredEvent<E>,
        around: u32,
    ) -> Result<Vec<StoredEvent<E>>, AuditError> {
        query::of_command(&self.pool, event, around).await
    }
}
