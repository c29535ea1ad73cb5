//! The database: its backends and pools, the events table and its schema,
//! retention, and imports of historical events.
//!
//! An [`Auditor`] opens a pool from a URL ([`Auditor::connect`]:
//! `sqlite://audit.db`, `sqlite::memory:`, `postgres://..`) or takes the
//! application's own (`Auditor::from(pool)`), and brings the audit schema
//! to [`SCHEMA_VERSION`] with [`Auditor::migrate`]. [`Auditor::schema_status`]
//! tells, reading only the database's catalog, what a start would find.
//! SQLite and PostgreSQL differ only behind [`Backend`] and [`ByBackend`],
//! whose forms are the pool ([`Pool`], [`Auditor::pool`]) and a
//! transaction's connection ([`Db`]); the application's own SQL runs on them
//! with [`on_backend!`](crate::on_backend).
//!
//! ```
//! use audit_core::Auditor;
//! use audit_core::store::{Backend, SchemaStatus};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), audit_core::AuditError> {
//! let auditor = Auditor::connect("sqlite::memory:").await?;
//! assert_eq!(auditor.backend(), Backend::Sqlite);
//! assert_eq!(auditor.schema_status().await?, SchemaStatus::Absent);
//!
//! auditor.migrate().await?;
//! assert_eq!(auditor.schema_status().await?, SchemaStatus::Current);
//! # Ok(()) }
//! ```
//!
//! The log is append-only: [`Auditor::prune_before`] is the one way to
//! remove events (older than [`DEFAULT_MIN_RETENTION`] unless set otherwise,
//! each batch recorded as a [`PRUNED_EVENT_CODE`] event), and
//! [`Auditor::import`] the one way to record events with their own time and
//! actor ([`Import`]).
//!
//! # The events table
//!
//! - It is append-only on both backends: triggers refuse `UPDATE` and
//!   `DELETE`, and `TRUNCATE` on PostgreSQL; [`Auditor::prune_before`] is
//!   the one retention path (below).
//! - One catalog per events table: codes are unique within a catalog, and
//!   the table does not record which catalog wrote a row.
//! - SQLite (the embedded default) runs in WAL mode with
//!   `synchronous = FULL` (`Auditor::connect_sqlite` chooses `NORMAL` for
//!   speed), and write transactions start with `BEGIN IMMEDIATE`: one writer
//!   at a time.
//!
//! # Schema, migrations and repair
//!
//! - The audit schema is a list of versioned migrations.
//!   [`auditor.migrate()`](Auditor::migrate) applies the ones the database
//!   lacks, each once, under a lock (an advisory lock on PostgreSQL, the
//!   write lock on SQLite), and records each version in `audit_schema`. Run
//!   it where the application migrates, with
//!   [`protect_immutable_table`](Auditor::protect_immutable_table) for each
//!   immutable model's table.
//! - A normal start only reads [`auditor.schema_status()`](Auditor::schema_status)
//!   (catalog queries, no DDL, no lock a reader of any table could hold
//!   up): `Absent` (a new database: migrate it), `Current`, `Outdated` (run
//!   `migrate`), `TooNew` (run a newer release), or `Damaged` with what is
//!   wrong: a missing or altered trigger or function, a lost version, or an
//!   events table that was dropped and made again (the log's anchor, row 0,
//!   written by the migration that made it, is gone).
//!   [`auditor.repair_schema(actor, reason)`](Auditor::repair_schema)
//!   restores the schema and records an `audit:schema_repaired` event with
//!   what it found; `migrate` never repairs silently. The example app
//!   refuses to start on anything but a current schema and names the
//!   command to run (`example-app migrate`,
//!   `example-app repair-schema --reason "..."`).
//!
//! # Retention
//!
//! [`auditor.prune_before(actor, cutoff, reason)`](Auditor::prune_before)
//! deletes older events in batches of 5,000, each batch its own transaction
//! that records an `audit:log_pruned` event (so SQLite writers keep going,
//! and a prune cut short leaves every deletion recorded). The log's own
//! records (`audit:` codes) are never deleted, by `prune_before` or by hand.
//! Cutoffs later than now minus the minimum retention are refused with the
//! error [`CutoffTooRecent`](crate::AuditError::CutoffTooRecent); the
//! minimum is stored in the schema (30 days at first; the owner changes it
//! with [`auditor.set_min_retention(..)`](Auditor::set_min_retention), a
//! recorded change), and an auditor may ask for more
//! ([`auditor.with_min_retention(..)`](Auditor::with_min_retention)).
//! Concurrent prunes take turns. Each record names the first and last
//! position it deleted and a digest of the sealed events among them, so
//! that [`verify`](Auditor::verify) accepts a missing sealed event only
//! from the sealed record of the prune that deleted it.
//!
//! # PostgreSQL roles
//!
//! Let the schema owner (or a migrator role) run `migrate`,
//! `protect_immutable_table`, `repair_schema` and `prune_before`, and
//! connect the application with its own role, set up by the owner with
//! [`auditor.grant_application_role("app")`](Auditor::grant_application_role):
//! `SELECT` on the audit tables and `INSERT` into the events table's columns
//! other than `id` (ids are the database's to assign), `EXECUTE` on the
//! import function, nothing else. Such a role cannot delete, rewrite,
//! renumber or truncate events, write the log's own records (`audit:`
//! codes), take an import key without importing its event, open the
//! retention permit or prune (only the owner may run `audit_prune_batch`,
//! which also enforces the stored minimum retention), or get rid of a
//! scratch event it wrote to satisfy a protected table's trigger: that
//! event stays in the log for everyone to see
//! (`audit-core/tests/all/store_privileges.rs`, `store_attacks.rs`). Even a
//! role wrongly granted `UPDATE` or `DELETE` on the events table is refused
//! by its triggers. Every function of the audit schema names its tables
//! with their schema and runs with a pinned `search_path`, so no temporary
//! table, function or operator of the role's can stand in for one of
//! ours.
//!
//! Every start compares the schema with what the migrations made: each
//! trigger field by field (enabled for every session, timing, events, no
//! column list, no `WHEN`, its own function), each function (body,
//! `SECURITY DEFINER`, pinned settings, owner), and the rights of every
//! other role on the audit tables and functions. A trigger neutralised
//! (`ENABLE REPLICA`, `WHEN (false)`, a same-named function elsewhere) or a
//! right granted beyond the above is damage the start refuses, and a
//! [`repair_schema`](Auditor::repair_schema) restores and records.
//!
//! What remains possible: the schema owner (and any superuser) can drop
//! triggers and edit the log; `schema_status` then reports structural
//! damage, and the seals ([`seals`](crate::seals)) report every edit of the
//! sealed part. RELIABILITY.md lists each attack tried and what is left.
//!
//! SQLite has no roles: anyone who can open the file has every right, and
//! can edit the log, its triggers and the retention permit. The triggers
//! stop mistakes and code paths that bypass the library, not a person with
//! the file.
//!
//! # Backfill and import
//!
//! Changes made before auditing began, or in another system, are imported:
//! events of the catalog with their own time and actor, each under a key of
//! the application's choosing ([`Import`], whose docs have an example; the
//! example app's `example-app/src/backfill.rs`):
//! `import.event(key, time, actor, payload)` takes any event of the
//! catalog; the [`ImportReport`] says how many were imported and how many
//! skipped (their key was imported before); run it again and nothing is
//! written.
//!
//! - The rows say they were imported: command name `audit:import`
//!   ([`IMPORT_COMMAND`]; no command can have it), command id the run's;
//!   `StoredEvent::is_imported()`. Both are sealed columns. Each transaction
//!   of a run that imports something (1,000 events each) records an
//!   `audit:events_imported` event with the source, the reason and the keys,
//!   acting for whoever ran it; like every `audit:` record it is never
//!   pruned.
//! - A key is imported once: keys are kept in `audit_import_keys` (schema
//!   version 4, append-only), also under two importers at once, and after a
//!   prune removed the event (importing again never undoes retention).
//! - Only events of the catalog, with the payload checks of `emit`; a time
//!   after now is refused ([`ImportError`]). An import runs only the
//!   library's own SQL, so it cannot write an immutable model.
//! - `example-app backfill` does what the reference's data migration did:
//!   every project without a "project created" event gets one, with its
//!   creator and creation time (columns the staff schema's version 2
//!   added). Projects from before those columns get the system process
//!   `unknown` as actor and the backfill's time (they were made no later).
//!   Run twice, the second adds nothing.

// The logic is written once; what differs between backends is in
// `crate::backend` (pools, connections, the dialect's text) and in
// `backends` (each backend's own SQL, behind the `Storage` trait, reached
// through `with_storage!`). This file only declares and re-exports; each submodule
// imports its siblings directly, so the module graph has no cycle. The
// submodules whose items the public modules `commands`, `query` and `seals`
// re-export are visible to the crate.

mod append;
mod auditor;
mod backends;
pub(crate) mod command;
mod erase;
pub(crate) mod error;
mod import;
mod migrate;
pub(crate) mod personal;
pub(crate) mod position;
pub(crate) mod query;
mod retention;
pub(crate) mod retry;
mod schema;
pub(crate) mod seal;
mod status;
mod table;
pub(crate) mod tail;
pub(crate) mod transaction;

pub use crate::backend::{Backend, ByBackend, Db, Pool};
pub use auditor::{Auditor, DEFAULT_MIN_RETENTION};
pub use erase::{ErasureReport, Subject};
pub use import::{Import, ImportError, ImportReport, MAX_IMPORT_KEY_BYTES};
pub use schema::SCHEMA_VERSION;
pub use status::SchemaStatus;
pub use table::{ERASED_EVENT_CODE, IMPORTED_EVENT_CODE, PRUNED_EVENT_CODE};
pub use table::{EVENTS_TABLE, IMPORT_COMMAND};

// For the rest of the crate (public through `commands` and `query`).
#[cfg(feature = "testing")]
pub(crate) use error::AuditError;
pub(crate) use query::StoredEvent;
#[cfg(feature = "testing")]
pub(crate) use query::{Bind, EventQuery, after_id, sql_of};
#[cfg(feature = "testing")]
pub(crate) use transaction::Audit;

// The codes of the log's own records, which `own_records` labels.
pub(crate) use retention::RETENTION_CHANGED_CODE;
pub(crate) use schema::{LOG_CREATED_CODE, SCHEMA_REPAIRED_CODE};
