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
//!
//! # Commands
//!
//! [`#[auditable]`](macro@crate::auditable) documents the attribute in
//! full; in short:
//!
//! - Events not marked `?` in `emits(...)` are required: a command returning
//!   `Ok` without them fails ([`AuditError::MissingEvent`](crate::AuditError::MissingEvent)),
//!   and one whose body never names a required event does not compile. A
//!   failed or cancelled command leaves its transaction unable to commit.
//! - A command is a free function, an associated function or a method; its
//!   session is the parameter typed `&mut Audit<..>` or `&mut` an alias
//!   named like one (`&mut StaffAudit`), else its one `&mut` parameter. It
//!   returns `Result<T, E>`, or an alias of one, with
//!   `E: From<AuditError>`. A command that only calls other commands is
//!   `#[auditable]` with no `emits`.
//! - Commands call commands; every event of one outermost command shares
//!   one command id and one timestamp, and records the command that emitted
//!   it. A bulk change is one command that calls a nested command per item:
//!   one transaction, so the first failure leaves no item changed and no
//!   event (the crate root's docs show the pattern; the example app's
//!   `add_members`, and
//!   `example-app add-member --project P --user a --user b --user c`).
//! - [`on_backend!`](crate::on_backend)`(value, name => body)` runs one body
//!   on whichever backend a transaction's `cx.db()` or the auditor's
//!   `auditor.pool()` holds (for the application's own reads); numbered
//!   `$1, $2` placeholders work on both.
//! - [`Audit::after_commit`] queues side effects (a notification, say) that
//!   run only after commit.
//! - Payloads are limited to 64 KiB of JSON ([`MAX_PAYLOAD_BYTES`]) and may
//!   not contain NUL characters (PostgreSQL cannot store them). A failed
//!   `emit` fails the transaction even if the command ignores the error.
//!
//! # Retries and lost commits
//!
//! `auditor.transact(actor, RetryPolicy::default(), |audit| Box::pin(async move { .. }))`
//! ([`Auditor::transact`](crate::Auditor::transact)) runs a transaction
//! (SERIALIZABLE on PostgreSQL by default, [`Isolation`]) and runs it again
//! from the start when the database refuses it for a concurrent one
//! ([`Retryable::is_retryable`]: SQLSTATE 40001 or 40P01, SQLite busy). A
//! refused attempt leaves nothing, so a retry cannot apply a change twice.
//! When the connection fails during COMMIT itself, `commit` returns
//! [`AuditError::CommitOutcomeUnknown`](crate::AuditError::CommitOutcomeUnknown)
//! with a [`CommitProbe`], and
//! [`auditor.was_committed(&probe)`](crate::Auditor::was_committed) reads
//! the answer from the log (`transact` asks it before retrying).
//!
//! # Immutable models
//!
//! A table whose changes must be audited is an immutable model:
//!
//! ```
//! #[derive(audit_core::Model)]
//! #[model(table = "memberships", immutable)]   // or `mutable`; one of them is required
//! pub struct Membership { #[model(id)] pub id: i64, pub project_id: i64, pub user_id: i64, pub roles: String }
//!
//! use audit_core::commands::Model;
//! assert_eq!((Membership::TABLE, Membership::IMMUTABLE), ("memberships", true));
//! ```
//!
//! - `Membership::find(db, id)` reads freely. `insert`, `update` and
//!   `delete` need write access ([`WriteAccess`]), which only a running
//!   command has: called with a plain `Audit` they do not compile
//!   ("`Membership` is an immutable model: only a command can write it"). A
//!   mutable model may be written through any `Audit`.
//! - A command reads what it is about to change with
//!   `Membership::find_for_update(cx, id)`: the row stays locked until
//!   commit (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite runs one writer
//!   at a time), so a `before` value it records is the value at commit time
//!   (G10). A concurrent command on the same row waits instead of recording
//!   a stale `before`. A command that reads with `find` and then writes gets
//!   no such promise on PostgreSQL at READ COMMITTED: that is the pattern to
//!   avoid (or run it through `transact`, SERIALIZABLE, which refuses the
//!   race retryably). The example app's commands all use `find_for_update`;
//!   with 8 writers changing one membership 200 times each, every `before`
//!   equals the previous `after` (`example-app/tests/app/truthful.rs`; 1,490
//!   of 1,600 did not with `find`).
//! - PostgreSQL:
//!   [`auditor.protect_immutable_table("memberships")`](crate::Auditor::protect_immutable_table),
//!   a migration step (it changes nothing when the triggers are in place),
//!   adds a deferred constraint trigger. At commit it refuses any `INSERT`,
//!   `UPDATE` or `DELETE` of the table in a transaction that recorded no
//!   audit event (each event row carries its transaction id), raw SQL from
//!   `psql` included, and it refuses `TRUNCATE`. We chose this over a
//!   transaction-local setting made by the command context because a
//!   setting proves only that someone set it, while the check proves the
//!   transaction wrote to the audit log, and it costs nothing on the command
//!   path. Its documented limit: the check is per transaction, not per row.
//!   A transaction that records any audit event may also write the table by
//!   other means (raw SQL through `audit.db()`, or by hand in `psql` next to
//!   a hand-written audit row); such a row is then in the append-only log
//!   for anyone to see.
//! - The compile-time guard stops accidental writes, not deliberate ones:
//!   code that implements `WriteAccess` for itself, or runs raw SQL through
//!   `audit.db()`, is not stopped by the compiler (on PostgreSQL the trigger
//!   still applies).
//! - Cascades: deleting a parent row never removes memberships silently.
//!   The example schema's foreign keys refuse the delete on both backends;
//!   on PostgreSQL even an `ON DELETE CASCADE` key is refused by the trigger
//!   unless the transaction records an event (delete members through their
//!   command first).
//! - SQLite: only the compile-time guard applies. SQLite exposes no
//!   transaction identity a trigger could compare, so raw SQL that bypasses
//!   the commands is not refused there; the append-only triggers on the
//!   events table do apply.
//! - Classification:
//!   [`auditor.unclassified_tables(&[User::TABLE, ...])`](crate::Auditor::unclassified_tables)
//!   lists the database's tables that no model classifies; the example
//!   app's test asserts it is empty, so a new table fails the suite until it
//!   is classified.

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
