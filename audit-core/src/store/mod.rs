//! The event store: the audit schema, audited transactions and commands,
//! retries, retention and queries, on every backend. The logic is written
//! once; what differs between backends is in [`crate::backend`].
//!
//! This file only declares and re-exports; each submodule imports its
//! siblings directly, so the module graph has no cycle.

mod append;
mod auditor;
mod command;
pub(crate) mod error;
mod import;
mod migrate;
mod position;
mod query;
mod retention;
mod retry;
mod rows_json;
mod schema;
mod seal;
mod status;
mod table;
mod tail;
mod transaction;

pub use auditor::{Auditor, DEFAULT_MIN_RETENTION};
pub use command::{
    AuditSession, Command, CommandOutput, Emits, EmittedBy, FromAuditError, MAX_PAYLOAD_BYTES,
};
pub use error::{AuditError, CommitProbe};
pub use import::{IMPORTED_EVENT_CODE, Import, ImportError, ImportReport, MAX_IMPORT_KEY_BYTES};
pub use position::Position;
#[cfg(feature = "testing")]
pub(crate) use query::{Bind, after_id, sql_of};
pub use query::{Condition, Cursor, EventQuery, MAX_PAGE_SIZE, Page, StoredEvent};
pub use retention::PRUNED_EVENT_CODE;
pub use retry::{Attempt, RetryPolicy, Retryable};
pub use schema::SCHEMA_VERSION;
pub use seal::{Divergence, Head, SealKey, SealKeyError, SealReport, VerifyOptions, VerifyReport};
pub use status::SchemaStatus;
pub use table::{EVENTS_TABLE, IMPORT_COMMAND};
pub use tail::Tail;
pub use transaction::{Audit, EmittedOutsideCommand, Isolation};
