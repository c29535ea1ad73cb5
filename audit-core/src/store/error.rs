//! Errors of the event store.

use super::schema::{OWN_FUNCTIONS, OWN_TABLES};
use crate::backend::{Backend, ConnectError};

/// What can go wrong while recording or reading audit events.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The database reported an error (includes a lost connection).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The operating system could not give the random bytes that salt an
    /// event's personal values.
    #[error("could not get random bytes to salt personal values: {0}")]
    Random(String),
    /// The audit schema is not in the database.
    #[error("the audit schema is missing {missing}: run `Auditor::migrate` first")]
    SchemaMissing {
        /// What is missing.
        missing: String,
    },
    /// The audit schema is at an older version than this program's:
    /// [`Auditor::migrate`](crate::Auditor::migrate) upgrades it.
    #[error(
        "the audit schema is at version {found}, older than version {current} that this program \
         uses: run `Auditor::migrate` to upgrade it"
    )]
    SchemaOutdated {
        /// The database's version.
        found: i64,
        /// This program's version.
        current: i64,
    },
    /// The audit schema was made by a newer program than this one.
    #[error(
        "the audit schema is at version {found}, newer than version {supported} that this program \
         knows: run a newer release"
    )]
    SchemaTooNew {
        /// The database's version.
        found: i64,
        /// The newest version this program knows.
        supported: i64,
    },
    /// Part of the audit schema is missing or altered (a dropped trigger, a
    /// re-created events table, ...): the log cannot be trusted as it is.
    /// [`Auditor::repair_schema`](crate::Auditor::repair_schema) restores
    /// it and records that it did.
    #[error(
        "the audit schema is damaged: {}; run `Auditor::repair_schema` to restore it (the repair is recorded in the log)",
        problems.join("; ")
    )]
    SchemaDamaged {
        /// What is wrong, one sentence each.
        problems: Vec<String>,
    },
    /// A prune whose cutoff is later than the minimum retention allows (or
    /// in the future): events younger than the minimum retention are kept.
    #[error(
        "refusing to prune events before {cutoff}: the latest cutoff allowed now is {latest_allowed} \
         (the minimum retention is {min_retention_secs} s)"
    )]
    CutoffTooRecent {
        /// The cutoff asked for.
        cutoff: chrono::DateTime<chrono::Utc>,
        /// The latest cutoff the minimum retention allows now.
        latest_allowed: chrono::DateTime<chrono::Utc>,
        /// The minimum retention, in seconds.
        min_retention_secs: u64,
    },
    /// A payload could not be serialized.
    #[error("cannot serialize the payload of event `{event}`: {source}")]
    Serialize {
        /// The event's code.
        event: &'static str,
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },
    /// A payload is larger than [`MAX_PAYLOAD_BYTES`](crate::commands::MAX_PAYLOAD_BYTES).
    #[error("the payload of event `{event}` is {size} bytes, over the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The event's code.
        event: &'static str,
        /// The payload's size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A payload holds a NUL character, which PostgreSQL cannot store.
    #[error("the payload of event `{event}` contains a NUL character, which cannot be stored")]
    NulCharacter {
        /// The event's code.
        event: &'static str,
    },
    /// A [`Context`](crate::Context) cannot be stored: larger than
    /// [`MAX_CONTEXT_BYTES`](crate::MAX_CONTEXT_BYTES), or holding a NUL
    /// character (which PostgreSQL cannot store).
    #[error("the context cannot be stored: {reason}")]
    InvalidContext {
        /// What is wrong with it.
        reason: String,
    },
    /// A command returned `Ok` without emitting an event it requires.
    #[error(
        "command `{command}` returned Ok without emitting its required event `{event}`; \
         the transaction will not commit"
    )]
    MissingEvent {
        /// The command's name.
        command: &'static str,
        /// The required event's code.
        event: &'static str,
    },
    /// A command of this transaction failed, so it must not commit.
    #[error("the transaction cannot commit: {reason}")]
    Poisoned {
        /// Which command failed, and how.
        reason: String,
    },
    /// The connection failed while COMMIT was in flight: the transaction
    /// may or may not have committed. [`Auditor::was_committed`] with the
    /// probe tells which, so that a retry never applies a change twice.
    ///
    /// [`Auditor::was_committed`]: crate::Auditor::was_committed
    #[error("the connection failed during COMMIT, so whether it committed is unknown: {source}")]
    CommitOutcomeUnknown {
        /// What identifies this transaction's events in the log; `None` when
        /// it emitted none (its outcome cannot be read from the log).
        probe: Option<CommitProbe>,
        /// The connection's error.
        #[source]
        source: sqlx::Error,
    },
    /// A position or cursor that this store did not produce.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A table name that is not a plain lowercase SQL identifier.
    #[error("`{0}` is not a plain lowercase SQL identifier")]
    InvalidIdentifier(String),
    /// A database URL this store cannot use.
    #[error("unsupported database URL `{0}`: expected `sqlite:...` or `postgres://...`")]
    UnsupportedUrl(String),
    /// A database URL for a backend this build of audit-core leaves out
    /// (its feature, `sqlite` or `postgres`, is not enabled).
    #[error(
        "the database URL `{url}` is for {backend}, which this build leaves out: \
         enable audit-core's feature `{backend}`"
    )]
    BackendNotEnabled {
        /// The URL.
        url: String,
        /// The backend's feature name.
        backend: &'static str,
    },
}

impl From<ConnectError> for AuditError {
    fn from(error: ConnectError) -> Self {
        match error {
            ConnectError::UnsupportedUrl(url) => AuditError::UnsupportedUrl(url),
            ConnectError::BackendNotEnabled { url, backend } => {
                AuditError::BackendNotEnabled { url, backend }
            }
            ConnectError::Database(e) => AuditError::Database(e),
        }
    }
}

/// Maps "no such table" (or function) errors about the audit schema to
/// [`AuditError::SchemaMissing`]; any other error stays a database error.
pub(crate) fn classify(error: sqlx::Error) -> AuditError {
    if let sqlx::Error::Database(db) = &error {
        let message = db.message();
        let code = db.code();
        let missing = Backend::ALL
            .iter()
            .any(|b| (b.dialect().is_missing_object)(code.as_deref(), message));
        let table = OWN_TABLES.iter().find(|table| message.contains(*table));
        let function = OWN_FUNCTIONS.iter().find(|f| message.contains(*f));
        match (missing, table, function) {
            (true, Some(table), _) => {
                return AuditError::SchemaMissing {
                    missing: format!("table `{table}`"),
                };
            }
            (true, None, Some(function)) => {
                return AuditError::SchemaMissing {
                    missing: format!("function `{function}`"),
                };
            }
            _ => {}
        }
    }
    AuditError::Database(error)
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

/// Text that is not a [`Position`](crate::query::Position) or a
/// [`Cursor`](crate::query::Cursor)
/// as this store prints them. It holds the text given, cut to its first 64
/// characters (a hostile query string does not fill a log).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Not a position (two hexadecimal numbers joined by a dot: `1f.2a`).
    #[error("invalid position `{0}`: expected two hexadecimal numbers joined by a dot")]
    Position(String),
    /// Not a cursor (as [`Cursor`](crate::query::Cursor) prints one:
    /// `t`, `a` or `b`, then the edge's time and id in hexadecimal joined by
    /// `x`: `tb18c2f3e4a5b6c7x1f`).
    #[error(
        "invalid cursor `{0}`: expected a cursor as a page gives it (`t`, `a` or `b`, \
         then a time and an id in hexadecimal joined by `x`)"
    )]
    Cursor(String),
    /// A cursor of the pages as they were ordered before (by id, `b1f`):
    /// pages are ordered by the events' time now, and an id alone does not
    /// say where a page starts. Start again from the newest page.
    #[error(
        "outdated cursor `{0}`: it is from pages ordered by id, and pages are ordered by \
         time now; start again from the newest page"
    )]
    OutdatedCursor(String),
}

impl ParseError {
    /// The text that did not parse (its first 64 characters).
    pub fn input(&self) -> &str {
        match self {
            ParseError::Position(text)
            | ParseError::Cursor(text)
            | ParseError::OutdatedCursor(text) => text,
        }
    }
}

/// The first 64 characters of `text`, for an error.
pub(crate) fn shown(text: &str) -> String {
    text.chars().take(64).collect()
}
