//! The SQL text that differs between backends, in one table per backend.
//! Statements that are the same everywhere live with the code that runs them.

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
    /// The first part of an event's position (its writing transaction's
    /// place in commit order), as a 64-bit integer, in a select list.
    pub position_tx: &'static str,
    /// The same in a query that reads in position order
    /// (`Storage::read_after`, `Storage::seal_event_rows`), which has the
    /// place at hand.
    pub position_in_order: &'static str,
    /// Whether every value of a result set's column has that column's type
    /// (PostgreSQL), so that a column's type is checked once for all its
    /// values; SQLite gives each value its own storage type.
    pub values_have_column_type: bool,
    /// A condition that an event was written by the transaction that wrote
    /// another (`$2` its id, `$4` its position's first part),
    /// for rows within `$3` ids of it at most, served by an index.
    pub same_writer: &'static str,
    /// Lists the application's tables (one text column).
    pub list_tables: &'static str,
    /// Whether a database error's code and message say that a table or a
    /// function is missing.
    pub is_missing_object: fn(code: Option<&str>, message: &str) -> bool,
    /// Whether a database error's code says that a concurrent transaction
    /// made this one fail, so that running it again may succeed.
    pub is_conflict: fn(code: &str) -> bool,
}

/// SQLite's.
#[cfg(feature = "sqlite")]
pub(super) const SQLITE: Dialect = Dialect {
    begin_write: "BEGIN IMMEDIATE",
    begin_serializable: "BEGIN IMMEDIATE",
    payload_as_text: "payload",
    // One writer at a time: ids alone are commit order.
    position_tx: "0",
    position_in_order: "0",
    values_have_column_type: false,
    // One writer at a time, whose events are written in one go: a
    // transaction's events have adjacent ids.
    same_writer: "$4 = 0 AND id BETWEEN $2 - $3 AND $2 + $3",
    list_tables: "SELECT name FROM sqlite_master WHERE type = 'table' \
                  AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    is_missing_object: |_, message| {
        message.contains("no such table") || message.contains("no such function")
    },
    // SQLITE_BUSY and SQLITE_BUSY_SNAPSHOT.
    is_conflict: |code| matches!(code, "5" | "517"),
};

/// PostgreSQL's.
#[cfg(feature = "postgres")]
pub(super) const POSTGRES: Dialect = Dialect {
    begin_write: "BEGIN",
    begin_serializable: "BEGIN ISOLATION LEVEL SERIALIZABLE",
    payload_as_text: "payload::text",
    // The place of the row's transaction (`backends/postgres/clock.rs`);
    // a row written with the stamping trigger off (by the owner, bypassing
    // triggers) has none until a repair gives it one, and shows its
    // transaction id meanwhile, as before version 7.
    position_tx: "COALESCE((SELECT seq FROM audit_commit_order WHERE commit_tx = tx_id), \
                  tx_id::text::int8)",
    position_in_order: "seq",
    values_have_column_type: true,
    same_writer: "tx_id = (SELECT commit_tx FROM audit_commit_order WHERE seq = $4)",
    list_tables: "SELECT tablename::text FROM pg_tables \
                  WHERE schemaname = current_schema() ORDER BY tablename",
    // undefined_table, undefined_function.
    is_missing_object: |code, _| matches!(code, Some("42P01" | "42883")),
    // serialization_failure, deadlock_detected.
    is_conflict: |code| matches!(code, "40001" | "40P01"),
};
