//! Running a whole audited transaction again when the database refuses it
//! because of a concurrent one.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::{Audit, AuditError, Auditor, CommitProbe, on_backend};
use crate::actor::Actor;
use crate::catalog::EventCatalog;

/// An error that tells whether running the whole transaction again, from
/// the start, may succeed.
pub trait Retryable {
    /// Whether the database refused the transaction because of a concurrent
    /// one: a serialization failure or a deadlock on PostgreSQL (SQLSTATE
    /// 40001, 40P01), a busy database on SQLite.
    fn is_retryable(&self) -> bool;
}

impl Retryable for sqlx::Error {
    /// Also true for a lost connection (an I/O error): outside COMMIT, the
    /// transaction it carried is gone, and nothing of it was applied.
    fn is_retryable(&self) -> bool {
        match self {
            sqlx::Error::Database(db) => matches!(
                db.code().as_deref(),
                // PostgreSQL; then SQLite's SQLITE_BUSY and SQLITE_BUSY_SNAPSHOT.
                Some("40001" | "40P01" | "5" | "517")
            ),
            sqlx::Error::Io(_) => true,
            _ => false,
        }
    }
}

impl Retryable for AuditError {
    /// Never for [`AuditError::CommitOutcomeUnknown`]: the transaction may
    /// have committed; [`Auditor::was_committed`] tells ([`Auditor::transact`]
    /// asks it before retrying).
    fn is_retryable(&self) -> bool {
        matches!(self, AuditError::Database(e) if e.is_retryable())
    }
}

/// One attempt of [`Auditor::transact`]'s work: a boxed future borrowing
/// the attempt's transaction, `Send` so that callers can run on any task.
pub type Attempt<'a, T, Er> = Pin<Box<dyn Future<Output = Result<T, Er>> + Send + 'a>>;

/// How an audited transaction is isolated from concurrent ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

/// How [`Auditor::transact`] runs and retries a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub attempts: u32,
    /// The isolation of each attempt.
    pub isolation: Isolation,
    /// The wait before the second attempt; each further wait is one more
    /// of it (linear backoff).
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    /// Five attempts, serializable, 10 ms more wait before each retry.
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            isolation: Isolation::Serializable,
            backoff: Duration::from_millis(10),
        }
    }
}

impl Auditor {
    /// Begins an audited transaction acting for `actor` with `isolation`.
    pub async fn begin_with<E: EventCatalog>(
        &self,
        actor: Actor,
        isolation: Isolation,
    ) -> Result<Audit<E>, AuditError> {
        Ok(Audit::new(
            self.begin_isolated(isolation).await?,
            actor,
            self.backend(),
        ))
    }

    /// Runs `work` in a new audited transaction acting for `actor` and
    /// commits it. When the attempt fails retryably (see [`Retryable`]),
    /// whether in `work` or at commit, it runs `work` again in a new
    /// transaction, up to `policy.attempts` times in all.
    ///
    /// This is the safe way to retry a command: a failed attempt leaves
    /// nothing (its changes and events rolled back together, its
    /// after-commit effects never run), so the retry cannot apply the
    /// change twice. When the connection fails during COMMIT itself, it
    /// asks the log whether the attempt committed ([`Auditor::was_committed`])
    /// and retries only if it did not. (The after-commit effects of an
    /// attempt whose COMMIT answer was lost do not run.) `work` must do everything again from its reads on, which
    /// is why it receives the transaction rather than running inside one.
    /// It returns its attempt boxed (`Box::pin(async move { .. })`), so the
    /// whole call stays `Send`; move clones of what it needs into the box.
    ///
    /// ```no_run
    /// # use audit_core::{Actor, Audit, AuditError, Auditor, RetryPolicy};
    /// # audit_core::declare_events! {
    /// #     #[events(templates = "tests/templates")]
    /// #     pub enum DocEvent {
    /// #         #[event(code = "project_created", label = "Project created", group = "Projects")]
    /// #         ProjectCreated { name: String },
    /// #     }
    /// # }
    /// # async fn create_project(cx: &mut Audit<DocEvent>, name: &str) -> Result<(), AuditError> { Ok(()) }
    /// # async fn demo(auditor: Auditor) -> Result<(), AuditError> {
    /// auditor
    ///     .transact::<DocEvent, _, AuditError, _>(
    ///         Actor::system("importer"),
    ///         RetryPolicy::default(),
    ///         |audit| Box::pin(async move { create_project(audit, "Apollo").await }),
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn transact<E, T, Er, F>(
        &self,
        actor: Actor,
        policy: RetryPolicy,
        mut work: F,
    ) -> Result<T, Er>
    where
        E: EventCatalog,
        Er: From<AuditError> + Retryable,
        F: for<'a> FnMut(&'a mut Audit<E>) -> Attempt<'a, T, Er>,
    {
        let mut attempt = 1;
        loop {
            let outcome = async {
                let mut audit = self
                    .begin_with::<E>(actor.clone(), policy.isolation)
                    .await?;
                let value = work(&mut audit).await?;
                match audit.commit().await {
                    Ok(()) => Ok(value),
                    // The answer to COMMIT was lost: ask the log before
                    // deciding, so the change is never applied twice.
                    Err(AuditError::CommitOutcomeUnknown {
                        probe: Some(probe),
                        source,
                    }) => match self.was_committed(&probe).await? {
                        true => Ok(value),
                        false => Err(Er::from(AuditError::Database(source))),
                    },
                    Err(e) => Err(Er::from(e)),
                }
            }
            .await;
            match outcome {
                Err(e) if e.is_retryable() && attempt < policy.attempts.max(1) => {
                    tracing::debug!(
                        attempt,
                        "audited transaction refused by a concurrent one; retrying"
                    );
                    tokio::time::sleep(policy.backoff * attempt).await;
                    attempt += 1;
                }
                done => return done,
            }
        }
    }

    /// Whether the transaction that `probe` identifies committed: asked
    /// after [`AuditError::CommitOutcomeUnknown`], once the database answers
    /// again. A transaction's events commit with its changes, so finding
    /// them in the log means its changes are there too.
    pub async fn was_committed(&self, probe: &CommitProbe) -> Result<bool, AuditError> {
        // The type index narrows the search; the command id decides.
        const SQL: &str = "SELECT EXISTS (SELECT 1 FROM audit_events \
            WHERE event_type = $1 AND command_id = $2)";
        let found: bool = on_backend!(self.target(), pool => {
            sqlx::query_scalar(SQL)
                .bind(probe.event_type)
                .bind(probe.command_id.as_str())
                .fetch_one(pool)
                .await?
        });
        Ok(found)
    }
}
