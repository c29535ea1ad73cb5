//! Running a whole audited transaction again when the database refuses it
//! because of a concurrent one.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::auditor::Auditor;
use super::error::{AuditError, CommitProbe};
use super::table::events_table;
use super::transaction::{Audit, Isolation};
use crate::actor::Actor;
use crate::backend::Backend;
use crate::catalog::EventCatalog;
use crate::on_backend;

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
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                Backend::ALL
                    .iter()
                    .any(|backend| (backend.dialect().is_conflict)(&code))
            }),
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

/// How [`Auditor::transact`] runs and retries a transaction. Start from
/// [`RetryPolicy::default`] and change what differs:
///
/// ```
/// # use audit_core::commands::{Isolation, RetryPolicy};
/// # use std::time::Duration;
/// let policy = RetryPolicy::default()
///     .attempts(3)
///     .isolation(Isolation::Serializable)
///     .backoff(Duration::from_millis(5));
/// assert_eq!(policy.attempts, 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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

impl RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// The isolation of each attempt.
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = isolation;
        self
    }

    /// The wait before the second attempt; each further wait is one more of it.
    pub fn backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }
}

impl Auditor {
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
    /// # use audit_core::commands::RetryPolicy;
    /// # use audit_core::{Actor, Audit, AuditError, Auditor};
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
        const SQL: &str = concat!(
            "SELECT EXISTS (SELECT 1 FROM ",
            events_table!(),
            " WHERE event_type = $1 AND command_id = $2)"
        );
        let found: bool = on_backend!(self.pool(), pool => {
            sqlx::query_scalar(SQL)
                .bind(probe.event_type)
                .bind(probe.command_id.as_str())
                .fetch_one(pool)
                .await?
        });
        Ok(found)
    }
}
