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
pub(crate) mod error;
mod import;
mod migrate;
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
pub use import::{IMPORTED_EVENT_CODE, Import, ImportError, ImportReport, MAX_IMPORT_KEY_BYTES};
pub use retention::PRUNED_EVENT_CODE;
pub use schema::SCHEMA_VERSION;
pub use status::SchemaStatus;
pub use table::{EVENTS_TABLE, IMPORT_COMMAND};

// For the rest of the crate (public through `commands` and `query`).
#[cfg(feature = "testing")]
pub(crate) use error::AuditError;
pub(crate) use query::StoredEvent;
#[cfg(feature = "testing")]
pub(crate) use query::{Bind, EventQuery, after_id, sql_of};
#[cfg(feature = "testing")]
pub(crate) use transaction::Audit;
