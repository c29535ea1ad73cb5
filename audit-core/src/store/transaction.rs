//! Audited transactions: [`Audit`], one transaction acting for one actor,
//! whose events are written with its changes at commit.

use std::marker::PhantomData;

use super::append;
use super::backends::with_storage;
use super::error::{AuditError, CommitProbe};
use super::table::EventRow;
use crate::actor::Actor;
use crate::backend::{Backend, Db, Tx};
use crate::catalog::EventCatalog;
use crate::context::Context;

/// One transaction acting for one actor. Events reach it only through
/// `#[auditable]` commands (`audit.emit(..)` on a plain transaction is a
/// compile error that says so); [`commit`](Audit::commit) writes them and
/// the application's changes together. Dropped without commit, it rolls back.
pub struct Audit<E: EventCatalog> {
    tx: Tx,
    actor: Actor,
    pub(super) context: Context,
    pub(super) pending: Vec<EventRow>,
    /// How many commands are running, nested in each other.
    pub(super) depth: u32,
    /// The outermost command now running.
    pub(super) current: Option<CommandRun>,
    poisoned: Option<String>,
    after_commit: Vec<Box<dyn FnOnce() + Send>>,
    _catalog: PhantomData<fn() -> E>,
}

/// Never implemented for an event: the bound of [`Audit::emit`], which is
/// always a compile error, and says why.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "events are emitted only inside an `#[auditable]` command, not on a plain `Audit`",
    label = "`Audit` is a transaction, not a command",
    note = "write an `#[auditable(emits({Self}))]` async fn that takes this `Audit` as its \
            session (`cx: &mut Audit<..>`) and emits `{Self}` there with `cx.emit(..)`; \
            call that command here",
    note = "inside a command, events go through its session: the parameter typed \
            `&mut Audit<..>` or an alias named `..Audit`, else its one `&mut` parameter"
)]
pub trait EmittedOutsideCommand {}

/// The one implementation, on a type with no value, so that the trait is
/// not reported as having none.
#[diagnostic::do_not_recommend]
impl EmittedOutsideCommand for std::convert::Infallible {}

/// The outermost command now running: its id and time stamp every event of it
/// and of the commands it calls.
pub(super) struct CommandRun {
    pub(super) id: String,
    pub(super) occurred_at: i64,
    /// The context its events are stored with.
    pub(super) context: Option<std::sync::Arc<crate::context::ContextColumns>>,
}

/// How an audited transaction is isolated from concurrent ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Isolation {
    /// The database's default: READ COMMITTED on PostgreSQL. (SQLite write
    /// transactions are serializable whatever is chosen: one writer at a time.)
    #[default]
    Default,
    /// SERIALIZABLE on PostgreSQL: the transaction sees and makes changes
    /// as if no other ran at the same time, and is refused (retryably) when
    /// that cannot hold.
    Serializable,
}

impl Isolation {
    /// The statement that begins a write transaction at this isolation.
    pub(crate) fn begin_statement(self, backend: Backend) -> &'static str {
        let dialect = backend.dialect();
        match self {
            Isolation::Default => dialect.begin_write,
            Isolation::Serializable => dialect.begin_serializable,
        }
    }
}

impl<E: EventCatalog> std::fmt::Debug for Audit<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit")
            .field("backend", &self.backend())
            .field("actor", &self.actor)
            .field("pending_events", &self.pending.len())
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

impl<E: EventCatalog> Audit<E> {
    pub(crate) fn new(tx: Tx, actor: Actor) -> Self {
        Audit {
            tx,
            actor,
            context: Context::default(),
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

    /// Where and why this transaction's changes are made: stored with every
    /// event its commands emit. Set it before the first command runs (a
    /// web layer or job sets it once per request or job); the events of a
    /// command already run keep the context they were emitted with.
    ///
    /// Unless it names one, the context records the `tracing` span each
    /// outermost command is called in ([`Context::span_id`]).
    ///
    /// Refused ([`AuditError::InvalidContext`]) when it cannot be stored:
    /// over [`MAX_CONTEXT_BYTES`](crate::MAX_CONTEXT_BYTES), or holding a
    /// NUL character; the transaction keeps its context then.
    pub fn set_context(&mut self, context: Context) -> Result<(), AuditError> {
        context
            .to_columns()
            .map_err(|reason| AuditError::InvalidContext { reason })?;
        self.context = context;
        Ok(())
    }

    /// The context set with [`set_context`](Audit::set_context) (empty
    /// until then).
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// The backend of this transaction.
    pub fn backend(&self) -> Backend {
        self.tx.backend()
    }

    /// The transaction's connection, for the application's own SQL; run it
    /// with [`on_backend!`](crate::on_backend).
    pub fn db(&mut self) -> Db<'_> {
        self.tx.db()
    }

    /// Queues `effect` to run after a successful commit, and never otherwise
    /// (a notification, say).
    pub fn after_commit(&mut self, effect: impl FnOnce() + Send + 'static) {
        self.after_commit.push(Box::new(effect));
    }

    /// Always a compile error: events are emitted only inside an
    /// `#[auditable]` command, through its context (`cx.emit(..)` there
    /// resolves to [`Command::emit`](super::command::Command::emit)). This
    /// method exists so that `audit.emit(..)` on a plain transaction says so
    /// and how to fix it, instead of "no method named `emit`".
    #[doc(hidden)]
    pub fn emit<Ev>(&mut self, event: Ev) -> Result<(), AuditError>
    where
        Ev: EmittedOutsideCommand,
    {
        let _ = event;
        unreachable!("`EmittedOutsideCommand` is implemented for no type that can be emitted")
    }

    /// Events emitted and not yet written.
    pub fn pending_events(&self) -> usize {
        self.pending.len()
    }

    /// Writes the emitted events and commits them with the application's
    /// changes, then runs the after-commit effects. Refused (and rolled
    /// back) if a command of this transaction failed.
    #[tracing::instrument(
        name = "audit.commit",
        skip_all,
        fields(
            backend = self.backend().name(),
            events = self.pending.len(),
            command_id = self.pending.first().map(|e| e.command_id.as_str()),
        )
    )]
    pub async fn commit(mut self) -> Result<(), AuditError> {
        if let Some(reason) = self.poisoned.take() {
            return Err(AuditError::Poisoned { reason });
        }
        let pending = std::mem::take(&mut self.pending);
        #[cfg(feature = "failpoints")]
        fail::fail_point!("audit::commit::before_insert", |_| Err(injected()));
        append::write(self.tx.db(), &self.actor, &pending).await?;
        if pending.is_empty() {
            // So that COMMIT of a failed transaction is an error, not a
            // silent rollback (PostgreSQL). With pending events, their
            // INSERT has already done so.
            with_storage!(self.tx.db(), conn, S => S::before_empty_commit(conn).await)?;
        }
        // Built only when COMMIT's outcome is unknown, off the common path.
        let probe = || {
            pending.first().map(|e| CommitProbe {
                command_id: e.command_id.clone(),
                event_type: e.code,
            })
        };
        #[cfg(feature = "failpoints")]
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
        #[cfg(feature = "failpoints")]
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

    /// Marks the transaction as unable to commit, keeping the first reason.
    pub(super) fn poison(&mut self, reason: String) {
        self.poisoned.get_or_insert(reason);
    }
}

/// The error an injected fault returns (failpoints builds only).
#[cfg(feature = "failpoints")]
fn injected() -> AuditError {
    AuditError::Database(injected_io())
}

#[cfg(feature = "failpoints")]
fn injected_io() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "injected fault",
    ))
}
