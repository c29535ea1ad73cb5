//! The SQL text that differs between backends, in one table per backend.
//! Statements that are the same everywhere live with the code that runs them.

use super::Backend;

/// What one backend says differently.
pub(crate) struct Dialect {
    /// Begins a write transaction at the database's default isolation.
    /// (SQLite's `BEGIN IMMEDIATE` takes the write lock at once, so the
    /// transaction never fails later for want of it.)
    pub begin_write: &'static str,
    /// Begins a serializable write transaction.
    pub begin_serializable: &'static str,
    /// The stored payload as text, in a select list.
    pub payload_as_text: &'static str,
    /// Lists the application's tables (one text column).
    pub list_tables: &'static str,
    /// Counts the tables named `$1` (0 or 1).
    pub table_exists: &'static str,
    /// Opens the retention permit for the rest of the transaction.
    pub grant_retention: &'static str,
    /// Closes it again, before the transaction commits.
    pub revoke_retention: &'static str,
    /// Whether a database error's code and message say that a table is missing.
    pub is_missing_table: fn(code: Option<&str>, message: &str) -> bool,
    /// Whether a database error's code says that a concurrent transaction
    /// made this one fail, so that running it again may succeed.
    pub is_conflict: fn(code: &str) -> bool,
}

impl Backend {
    /// This backend's SQL.
    pub(crate) fn dialect(self) -> &'static Dialect {
        match self {
            Backend::Sqlite => &SQLITE,
            Backend::Postgres => &POSTGRES,
        }
    }
}

const SQLITE: Dialect = Dialect {
    begin_write: "BEGIN IMMEDIATE",
    begin_serializable: "BEGIN IMMEDIATE",
    payload_as_text: "payload",
    list_tables: "SELECT name FROM sqlite_master WHERE type = 'table' \
                  AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    table_exists: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
    grant_retention: "INSERT INTO audit_retention_permit (granted) VALUES (1)",
    revoke_retention: "DELETE FROM audit_retention_permit",
    is_missing_table: |_, message| message.contains("no such table"),
    // SQLITE_BUSY and SQLITE_BUSY_SNAPSHOT.
    is_conflict: |code| matches!(code, "5" | "517"),
};

const POSTGRES: Dialect = Dialect {
    begin_write: "BEGIN",
    begin_serializable: "BEGIN ISOLATION LEVEL SERIALIZABLE",
    payload_as_text: "payload::text",
    list_tables: "SELECT tablename::text FROM pg_tables \
                  WHERE schemaname = current_schema() ORDER BY tablename",
    table_exists: "SELECT COUNT(*) FROM pg_tables \
                   WHERE tablename = $1 AND schemaname = current_schema()",
    grant_retention: "SELECT set_config('audit.retention_permit', 'granted', true)",
    revoke_retention: "SELECT set_config('audit.retention_permit', '', true)",
    is_missing_table: |code, _| code == Some("42P01"),
    // serialization_failure, deadlock_detected.
    is_conflict: |code| matches!(code, "40001" | "40P01"),
};
