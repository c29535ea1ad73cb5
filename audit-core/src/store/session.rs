//! Audited transactions ([`Audit`]) and the command context ([`Command`]).

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use sqlx::{PgConnection, Postgres, Sqlite, SqliteConnection, Transaction};

use super::{AuditError, Backend, Target, append};
use crate::actor::Actor;
use crate::catalog::{Event, EventCatalog, EventType, References};

/// The largest payload accepted, in bytes of JSON.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// The database connection of an audited transaction, for the application's
/// own SQL. Match on it, or use [`with_db!`](crate::with_db) to write the
/// statement once for both backends.
pub enum Db<'a> {
    /// A SQLite connection.
    Sqlite(&'a mut SqliteConnection),
    /// A PostgreSQL connection.
    Postgres(&'a mut PgConnection),
}

/// Marks that command `C` declares event `Self` in `#[auditable(emits(...))]`.
/// Implemented by the macro; emitting any other event does not compile.
#[diagnostic::on_unimplemented(
    message = "command `{C}` does not declare event `{Self}`",
    label = "not in this command's `emits(...)`",
    note = "add `{Self}` to `#[auditable(emits(...))]` on the command `{C}`"
)]
pub trait EmittedBy<C> {}

/// One transaction acting for one actor. Events reach it only through
/// `#[auditable]` commands; [`commit`](Audit::commit) writes them and the
/// application's changes together. Dropped without commit, it rolls back.
pub struct Audit<E: EventCatalog> {
    tx: Tx,
    backend: Backend,
    actor: Actor,
    pending: Vec<PendingEvent>,
    depth: u32,
    current: Option<CommandRun>,
    poisoned: Option<String>,
    after_commit: Vec<Box<dyn FnOnce() + Send>>,
    _catalog: PhantomData<fn() -> E>,
}

/// The outermost command now running: its id and time stamp every event of it
/// and of the commands it calls.
struct CommandRun {
    id: String,
    occurred_at: i64,
}

/// An emitted event, written at commit.
pub(crate) struct PendingEvent {
    pub(crate) occurred_at: i64,
    pub(crate) code: &'static str,
    pub(crate) version: u32,
    pub(crate) references: References,
    pub(crate) command_name: &'static str,
    pub(crate) command_id: String,
    pub(crate) payload: String,
}

impl Tx {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await,
            Tx::Postgres(tx) => tx.rollback().await,
        }
    }
}

impl<E: EventCatalog> std::fmt::Debug for Audit<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit")
            .field("backend", &self.backend)
            .field("actor", &self.actor)
            .field("pending_events", &self.pending.len())
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

impl<E: EventCatalog> Audit<E> {
    pub(crate) fn new(tx: Tx, actor: Actor, backend: Backend) -> Self {
        Audit {
            tx,
            backend,
            actor,
            pending: Vec::new(),
            depth: 0,
            current: None,
            poisoned: None,
            after_commit: Vec::new(),
            _catalog: PhantomData,
        }
    }

    /// The actor this transaction acts for.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The backend of this transaction.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The transaction's connection, for the application's own SQL.
    pub fn db(&mut self) -> Db<'_> {
        match &mut self.tx {
            Tx::Sqlite(tx) => Db::Sqlite(&mut *tx),
            Tx::Postgres(tx) => Db::Postgres(&mut *tx),
        }
    }

    /// Queues `effect` to run after a successful commit, and never otherwise
    /// (a notification, say).
    pub fn after_commit(&mut self, effect: impl FnOnce() + Send + 'static) {
        self.after_commit.push(Box::new(effect));
    }

    /// Events emitted and not yet written.
    pub fn pending_events(&self) -> usize {
        self.pending.len()
    }

    /// Writes the emitted events and commits them with the application's
    /// changes, then runs the after-commit effects. Refused (and rolled
    /// back) if a command of this transaction failed.
    pub async fn commit(mut self) -> Result<(), AuditError> {
        if let Some(reason) = self.poisoned.take() {
            return Err(AuditError::Poisoned { reason });
        }
        let pending = std::mem::take(&mut self.pending);
        fail::fail_point!("audit::commit::before_insert", |_| Err(injected()));
        match &mut self.tx {
            Tx::Sqlite(tx) => append::sqlite(tx, &self.actor, &pending).await?,
            Tx::Postgres(tx) => append::postgres(tx, &self.actor, &pending).await?,
        }
        if let (true, Tx::Postgres(tx)) = (pending.is_empty(), &mut self.tx) {
            // PostgreSQL answers COMMIT of a failed transaction with a silent
            // ROLLBACK; a statement first makes that an error. (With pending
            // events, their INSERT has already done so. SQLite reports a
            // transaction it rolled back itself when COMMIT comes.)
            sqlx::query("SELECT 1").execute(&mut **tx).await?;
        }
        // Built only when COMMIT's outcome is unknown, off the common path.
        let probe = || {
            pending.first().map(|e| CommitProbe {
                command_id: e.command_id.clone(),
                event_type: e.code,
            })
        };
        fail::fail_point!("audit::commit::before_commit", |_| Err(
            AuditError::CommitOutcomeUnknown {
                probe: probe(),
                source: injected_io(),
            }
        ));
        if let Err(e) = self.tx.commit().await {
            return Err(match e {
                // The answer to COMMIT was lost with the connection: it may
                // have been applied.
                e @ (sqlx::Error::Io(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::PoolClosed) => AuditError::CommitOutcomeUnknown {
                    probe: probe(),
                    source: e,
                },
                e => AuditError::Database(e),
            });
        }
        fail::fail_point!("audit::commit::reply_lost", |_| Err(
            AuditError::CommitOutcomeUnknown {
                probe: probe(),
                source: injected_io(),
            }
        ));
        for effect in self.after_commit {
            effect();
        }
        Ok(())
    }

    /// Rolls back explicitly (dropping does the same).
    pub async fn rollback(self) -> Result<(), AuditError> {
        Ok(self.tx.rollback().await?)
    }

    fn poison(&mut self, reason: String) {
        self.poisoned.get_or_insert(reason);
    }
}

/// What identifies a transaction's events in the log: the command id and
/// type of its first event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitProbe {
    /// The command id of the transaction's first event.
    pub command_id: String,
    /// That event's type code.
    pub event_type: &'static str,
}

/// The error an injected fault returns (failpoints builds only).
#[cfg_attr(not(feature = "failpoints"), allow(dead_code))]
fn injected() -> AuditError {
    AuditError::Database(injected_io())
}

#[cfg_attr(not(feature = "failpoints"), allow(dead_code))]
fn injected_io() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "injected fault",
    ))
}

pub(crate) fn tx_target(tx: &mut Tx) -> Target<&mut SqliteConnection, &mut PgConnection> {
    match tx {
        Tx::Sqlite(tx) => Target::Sqlite(&mut **tx),
        Tx::Postgres(tx) => Target::Postgres(&mut **tx),
    }
}

/// The context of one running `#[auditable]` command: the only place events
/// are emitted. It dereferences to the [`Audit`] transaction, so the
/// command's own SQL (`cx.db()`) and nested commands (`other_command(cx, ..)`)
/// run in the same transaction.
pub struct Command<'a, E: EventCatalog, C> {
    audit: &'a mut Audit<E>,
    name: &'static str,
    emitted: Vec<&'static str>,
    finished: bool,
    _command: PhantomData<fn() -> C>,
}

impl<'a, E: EventCatalog, C> Command<'a, E, C> {
    #[doc(hidden)]
    pub fn __enter(audit: &'a mut Audit<E>, name: &'static str) -> Self {
        if audit.depth == 0 {
            audit.current = Some(CommandRun {
                id: uuid::Uuid::new_v4().to_string(),
                occurred_at: now_micros(),
            });
        }
        audit.depth += 1;
        Command {
            audit,
            name,
            emitted: Vec::new(),
            finished: false,
            _command: PhantomData,
        }
    }

    /// This command's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Records `event`, to be written when the transaction commits. Only the
    /// events in the command's `emits(...)` compile here.
    pub fn emit<Ev>(&mut self, event: Ev) -> Result<(), AuditError>
    where
        Ev: Event<Catalog = E> + EmittedBy<C>,
    {
        let code = Ev::TYPE.code();
        // A failed emit fails the transaction too, even if the command goes on.
        let payload = match checked_payload(&event, code) {
            Ok(payload) => payload,
            Err(error) => {
                self.audit
                    .poison(format!("command `{}`: {error}", self.name));
                return Err(error);
            }
        };
        let run = self
            .audit
            .current
            .as_ref()
            .expect("invariant: a command is running while its context exists");
        let pending = PendingEvent {
            occurred_at: run.occurred_at,
            code,
            version: Ev::TYPE.version(),
            references: event.references(),
            command_name: self.name,
            command_id: run.id.clone(),
            payload,
        };
        self.audit.pending.push(pending);
        self.emitted.push(code);
        Ok(())
    }

    #[doc(hidden)]
    pub fn __finish<T, Er>(
        mut self,
        result: Result<T, Er>,
        required: &[&'static str],
    ) -> Result<T, Er>
    where
        Er: From<AuditError>,
    {
        self.finished = true;
        match result {
            Ok(value) => match required.iter().find(|code| !self.emitted.contains(code)) {
                None => Ok(value),
                Some(&event) => {
                    let error = AuditError::MissingEvent {
                        command: self.name,
                        event,
                    };
                    self.audit.poison(error.to_string());
                    Err(error.into())
                }
            },
            Err(error) => {
                self.audit
                    .poison(format!("command `{}` returned an error", self.name));
                Err(error)
            }
        }
    }
}

impl<E: EventCatalog, C> Drop for Command<'_, E, C> {
    fn drop(&mut self) {
        if !self.finished {
            // Cancelled or panicked mid-way: whatever it wrote must not commit.
            self.audit
                .poison(format!("command `{}` did not run to completion", self.name));
        }
        self.audit.depth -= 1;
        if self.audit.depth == 0 {
            self.audit.current = None;
        }
    }
}

impl<E: EventCatalog, C> Deref for Command<'_, E, C> {
    type Target = Audit<E>;
    fn deref(&self) -> &Audit<E> {
        self.audit
    }
}

impl<E: EventCatalog, C> DerefMut for Command<'_, E, C> {
    fn deref_mut(&mut self) -> &mut Audit<E> {
        self.audit
    }
}

/// The payload as stored, or why it cannot be.
fn checked_payload<Ev: Event>(event: &Ev, code: &'static str) -> Result<String, AuditError> {
    let payload = serde_json::to_string(event).map_err(|source| AuditError::Serialize {
        event: code,
        source,
    })?;
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(AuditError::PayloadTooLarge {
            event: code,
            size: payload.len(),
            limit: MAX_PAYLOAD_BYTES,
        });
    }
    // PostgreSQL cannot store NUL in text or JSONB; refuse it on every backend alike.
    if payload.contains("\\u0000") {
        return Err(AuditError::NulCharacter { event: code });
    }
    Ok(payload)
}

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Runs one statement body against whichever backend `db` is, with `$conn`
/// bound to the concrete connection:
///
/// ```ignore
/// let id: i64 = audit_core::with_db!(cx.db(), conn => {
///     sqlx::query_scalar("INSERT INTO projects (name) VALUES ($1) RETURNING id")
///         .bind(name)
///         .fetch_one(conn)
///         .await?
/// });
/// ```
///
/// Numbered `$1, $2, ..` placeholders work on both backends when each
/// appears in order.
#[macro_export]
macro_rules! with_db {
    ($db:expr, $conn:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite($conn) => $body,
            $crate::Db::Postgres($conn) => $body,
        }
    };
}
