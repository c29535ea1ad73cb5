//! Writing the log: audited transactions and the commands that run in them.
//!
//! An [`Audit`] is one database transaction acting for one
//! [`Actor`](crate::Actor): [`Auditor::begin`](crate::Auditor::begin) starts
//! one, and [`Audit::commit`] writes its events and the application's
//! changes together. Events are emitted only inside an
//! [`#[auditable]`](macro@crate::auditable) command, whose context, a
//! [`Command`], accepts only the events the command declares ([`Emits`]) and
//! fails the transaction when a required one is missing. A command returns a
//! `Result` ([`CommandOutput`]) whose error holds an
//! [`AuditError`](crate::AuditError) ([`FromAuditError`]).
//!
//! Tables of the application are models: `#[derive(Model)]` implements
//! [`Model`] (this module's `Model` is both the trait and the derive), and
//! an immutable model is written only where [`WriteAccess`] is held, that is
//! inside a command.
//! [`Auditor::transact`](crate::Auditor::transact) runs a transaction again
//! when the database refuses it because of a concurrent one ([`RetryPolicy`],
//! [`Retryable`]); a commit whose outcome was lost carries a [`CommitProbe`]
//! to ask the log with.
//!
//! ```
//! use audit_core::query::EventQuery;
//! use audit_core::{Actor, Audit, AuditError, Auditor, auditable};
//!
//! # audit_core::declare_events! {
//! #     #[events(templates = "tests/templates")]
//! #     pub enum DocEvent {
//! #         #[event(code = "project_created", label = "Project created", group = "Projects")]
//! #         ProjectCreated { name: String },
//! #     }
//! # }
//! #[auditable(emits(ProjectCreated))]
//! async fn create_project(cx: &mut Audit<DocEvent>, name: &str) -> Result<(), AuditError> {
//!     // ... the project's INSERT through `cx.db()` ...
//!     cx.emit(ProjectCreated { name: name.into() })
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), AuditError> {
//! let auditor = Auditor::connect("sqlite::memory:").await?;
//! auditor.migrate().await?;
//!
//! let mut audit = auditor.begin::<DocEvent>(Actor::user(1, "alice")).await?;
//! create_project(&mut audit, "Apollo").await?;
//! audit.commit().await?; // the change and its event, together
//!
//! let page = auditor.query::<DocEvent>(&EventQuery::new()).await?;
//! assert_eq!(page.events[0].command_name, "create_project");
//! assert_eq!(page.events[0].actor, Actor::user(1, "alice"));
//! # Ok(()) }
//! ```

pub use crate::model::{Model, WriteAccess};
pub use crate::store::command::{
    Command, CommandOutput, Emits, EmittedBy, FromAuditError, MAX_PAYLOAD_BYTES,
};
pub use crate::store::error::CommitProbe;
pub use crate::store::retry::{Attempt, RetryPolicy, Retryable};
pub use crate::store::transaction::{Audit, Isolation};
// The derive of the `Model` trait (also at the crate root), so that importing
// `audit_core::commands::Model` names both, as `serde::Serialize` does.
pub use audit_macros::Model;
