//! SQLite's audit schema: its script of each version (`store/schema.rs`
//! lists the versions) and the triggers a sound schema holds, which
//! `check_objects` compares with `sqlite_master`. The DDL writes the events
//! table as `{events}`, replaced when it runs.

use sqlx::SqliteConnection;

use crate::store::error::AuditError;
use crate::store::schema::{MIGRATIONS, V5_INDEXES, V7_INDEXES, V8_ACTOR_KINDS, V8_INDEXES};
use crate::store::table::{EVENTS_TABLE, added_in_v8, added_in_v9};

/// SQLite's script of each version, in the order of `MIGRATIONS` (a
/// version without one does not compile). Version 1's is followed by the
/// shared `V1_INDEXES`, and each by the triggers it makes ([`triggers_of`]).
/// Version 8's columns and actor kinds come first (`before_script`).
pub(super) const SCRIPTS: [&str; MIGRATIONS.len()] =
    [V1, V2, V3, V4, V5_INDEXES, V6, V7_INDEXES, V8_INDEXES, V9];

/// Version 1 on SQLite: `occurred_at` is microseconds since the Unix epoch (UTC).
const V1: &str = "
CREATE TABLE IF NOT EXISTS audit_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS {events} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    payload_version INTEGER NOT NULL,
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('user', 'system')),
    actor_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    target_kind TEXT,
    target_id TEXT,
    parent_kind TEXT,
    parent_id TEXT,
    subject_kind TEXT,
    subject_id TEXT,
    command_name TEXT NOT NULL,
    command_id TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS {events}_no_replace BEFORE INSERT ON {events}
WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM {events} WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, '{events} is append-only: replacing an event is refused'); END;
CREATE TRIGGER IF NOT EXISTS {events}_no_update BEFORE UPDATE ON {events}
BEGIN SELECT RAISE(ABORT, '{events} is append-only: UPDATE is refused'); END;
CREATE TABLE IF NOT EXISTS audit_retention_permit (granted INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS {events}_no_delete BEFORE DELETE ON {events}
WHEN NOT EXISTS (SELECT 1 FROM audit_retention_permit)
BEGIN SELECT RAISE(ABORT, '{events} is append-only: DELETE is refused outside Auditor::prune_before'); END;
";

/// Version 2 on SQLite: the log's identity (its first event, so that a
/// re-created table shows), and a delete trigger that never lets the log's
/// own records (`audit:` codes: prunes, repairs) go. Every trigger is
/// dropped and created again, so that running it repairs them.
const V2: &str = "
CREATE TABLE IF NOT EXISTS audit_log_identity (log_id TEXT NOT NULL);
DROP TRIGGER IF EXISTS {events}_no_replace;
DROP TRIGGER IF EXISTS {events}_no_update;
DROP TRIGGER IF EXISTS {events}_no_delete;
";

/// The events table's triggers as version 2 makes them; version 9
/// replaces the one refusing updates ([`TRIGGERS`] holds the new one).
const V2_TRIGGERS: [(&str, &str); 3] = [
    TRIGGERS[0],
    (
        "{events}_no_update",
        "CREATE TRIGGER {events}_no_update BEFORE UPDATE ON {events}
BEGIN SELECT RAISE(ABORT, '{events} is append-only: UPDATE is refused'); END",
    ),
    TRIGGERS[2],
];

/// SQLite's triggers, as `sqlite_master` keeps them: the events table's
/// (version 2, the update trigger version 9's), the seal tables' (version
/// 3), then the import keys' (version 4).
pub(super) const TRIGGERS: [(&str, &str); 9] = [
    (
        "{events}_no_replace",
        "CREATE TRIGGER {events}_no_replace BEFORE INSERT ON {events}
WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM {events} WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, '{events} is append-only: replacing an event is refused'); END",
    ),
    (
        "{events}_no_update",
        // Every column but the personal values' own (see `ERASABLE_COLUMNS`).
        "CREATE TRIGGER {events}_no_update BEFORE UPDATE ON {events}
WHEN NOT EXISTS (SELECT 1 FROM audit_erasure_permit)
    OR NEW.id IS NOT OLD.id OR NEW.occurred_at IS NOT OLD.occurred_at
    OR NEW.event_type IS NOT OLD.event_type OR NEW.payload_version IS NOT OLD.payload_version
    OR NEW.actor_kind IS NOT OLD.actor_kind OR NEW.actor_id IS NOT OLD.actor_id
    OR NEW.target_kind IS NOT OLD.target_kind OR NEW.target_id IS NOT OLD.target_id
    OR NEW.parent_kind IS NOT OLD.parent_kind OR NEW.parent_id IS NOT OLD.parent_id
    OR NEW.subject_kind IS NOT OLD.subject_kind OR NEW.subject_id IS NOT OLD.subject_id
    OR NEW.command_name IS NOT OLD.command_name OR NEW.command_id IS NOT OLD.command_id
    OR NEW.actor_as_id IS NOT OLD.actor_as_id OR NEW.request_id IS NOT OLD.request_id
BEGIN SELECT RAISE(ABORT, '{events} is append-only: UPDATE is refused (Auditor::erase alone replaces personal values)'); END",
    ),
    (
        "{events}_no_delete",
        "CREATE TRIGGER {events}_no_delete BEFORE DELETE ON {events}
WHEN NOT EXISTS (SELECT 1 FROM audit_retention_permit) OR substr(OLD.event_type, 1, 6) = 'audit:'
BEGIN SELECT RAISE(ABORT, '{events} is append-only: DELETE is refused outside Auditor::prune_before, and the log''s own records are never deleted'); END",
    ),
    (
        "audit_seals_no_update",
        "CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals
BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only: UPDATE is refused'); END",
    ),
    (
        "audit_seals_no_delete",
        "CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals
BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only: DELETE is refused'); END",
    ),
    (
        "audit_seal_entries_no_update",
        "CREATE TRIGGER audit_seal_entries_no_update BEFORE UPDATE ON audit_seal_entries
BEGIN SELECT RAISE(ABORT, 'audit_seal_entries is append-only: UPDATE is refused'); END",
    ),
    (
        "audit_seal_entries_no_delete",
        "CREATE TRIGGER audit_seal_entries_no_delete BEFORE DELETE ON audit_seal_entries
BEGIN SELECT RAISE(ABORT, 'audit_seal_entries is append-only: DELETE is refused'); END",
    ),
    (
        "audit_import_keys_no_update",
        "CREATE TRIGGER audit_import_keys_no_update BEFORE UPDATE ON audit_import_keys
BEGIN SELECT RAISE(ABORT, 'audit_import_keys is append-only: UPDATE is refused'); END",
    ),
    (
        "audit_import_keys_no_delete",
        "CREATE TRIGGER audit_import_keys_no_delete BEFORE DELETE ON audit_import_keys
BEGIN SELECT RAISE(ABORT, 'audit_import_keys is append-only: DELETE is refused'); END",
    ),
];

/// Which of [`TRIGGERS`] each version makes: version 2 the events
/// table's, version 3 the seal tables', version 4 the import keys'.
pub(super) fn triggers_of(version: i64) -> &'static [(&'static str, &'static str)] {
    match version {
        2 => &V2_TRIGGERS,
        3 => &TRIGGERS[3..7],
        4 => &TRIGGERS[7..],
        9 => &TRIGGERS[1..2],
        _ => &[],
    }
}

/// Version 3 on SQLite: the seals (see `seal.rs`), append-only.
const V3: &str = "
CREATE TABLE IF NOT EXISTS audit_seals (
    seq INTEGER PRIMARY KEY,
    encoding INTEGER NOT NULL,
    first_tx INTEGER NOT NULL,
    first_id INTEGER NOT NULL,
    last_tx INTEGER NOT NULL,
    last_id INTEGER NOT NULL,
    event_count INTEGER NOT NULL,
    chain_hash TEXT NOT NULL,
    prev_seal_hash TEXT NOT NULL,
    seal_hash TEXT NOT NULL,
    sealed_at INTEGER NOT NULL,
    key_id TEXT,
    signature TEXT
);
CREATE TABLE IF NOT EXISTS audit_seal_entries (
    seal_seq INTEGER NOT NULL,
    tx INTEGER NOT NULL,
    id INTEGER NOT NULL,
    occurred_at INTEGER NOT NULL,
    event_hash TEXT NOT NULL,
    column_tags TEXT NOT NULL,
    PRIMARY KEY (tx, id)
);
DROP TRIGGER IF EXISTS audit_seals_no_update;
DROP TRIGGER IF EXISTS audit_seals_no_delete;
DROP TRIGGER IF EXISTS audit_seal_entries_no_update;
DROP TRIGGER IF EXISTS audit_seal_entries_no_delete;
";

/// Version 4 on SQLite: the keys of imported events (see `import.rs`),
/// append-only. A key outlives its event (a prune deletes the event, not
/// the key), so that importing again never brings a pruned event back.
const V4: &str = "
CREATE TABLE IF NOT EXISTS audit_import_keys (
    import_key TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    event_type TEXT NOT NULL
);
DROP TRIGGER IF EXISTS audit_import_keys_no_update;
DROP TRIGGER IF EXISTS audit_import_keys_no_delete;
";

/// Version 6 on SQLite: the minimum retention, stored in the file (read by
/// `Auditor::prune_before`; whoever has the file can change it).
const V6: &str = "
CREATE TABLE IF NOT EXISTS audit_settings (min_retention_micros INTEGER NOT NULL);
INSERT INTO audit_settings (min_retention_micros)
    SELECT 2592000000000 WHERE NOT EXISTS (SELECT 1 FROM audit_settings);
";

/// Version 9 on SQLite, after its column (`before_v9`): the permit
/// `Auditor::erase` writes while it replaces personal values, and the
/// update trigger that lets only those values change, only then.
const V9: &str = "
CREATE TABLE IF NOT EXISTS audit_erasure_permit (granted INTEGER NOT NULL);
DROP TRIGGER IF EXISTS {events}_no_update;
";

/// Version 9, before its script: the `personal` column, added when missing.
pub(super) async fn before_v9(conn: &mut SqliteConnection) -> Result<(), AuditError> {
    add_missing_columns(conn, added_in_v9()).await
}

/// Adds each of `columns` (text) the events table lacks, so that a repair
/// can run a version's script again.
async fn add_missing_columns(
    conn: &mut SqliteConnection,
    columns: impl Iterator<Item = &'static str>,
) -> Result<(), AuditError> {
    let present: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?1)")
        .bind(EVENTS_TABLE)
        .fetch_all(&mut *conn)
        .await?;
    for column in columns.filter(|column| !present.iter().any(|p| p == column)) {
        // The table's own name and a column name of ours.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE {EVENTS_TABLE} ADD COLUMN {column} TEXT"
        )))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The actor-kind check as version 1 wrote it, and as version 8 widens it.
const V1_ACTOR_CHECK: &str = "CHECK (actor_kind IN ('user', 'system'))";

/// Version 8 on SQLite, before its indexes: the columns of the person
/// acted for and of the context (each added when missing, so a repair can
/// run it again), and the `service` actor kind. SQLite changes a table's
/// `CHECK` only by rewriting its stored definition, the procedure its
/// documentation gives for loosening a constraint (`ALTER TABLE`, "Making
/// Other Kinds Of Table Schema Changes"): every stored row passed the
/// narrower check, so nothing is rewritten, and the schema's version is
/// raised so that every connection reads the new definition.
pub(super) async fn before_v8(conn: &mut SqliteConnection) -> Result<(), AuditError> {
    add_missing_columns(conn, added_in_v8()).await?;
    let definition: Option<String> =
        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1")
            .bind(EVENTS_TABLE)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(definition) = definition.filter(|d| d.contains(V1_ACTOR_CHECK)) else {
        return Ok(());
    };
    let widened = definition.replace(
        V1_ACTOR_CHECK,
        &format!("CHECK (actor_kind IN ({V8_ACTOR_KINDS}))"),
    );
    let version: i64 = sqlx::query_scalar("PRAGMA schema_version")
        .fetch_one(&mut *conn)
        .await?;
    sqlx::raw_sql("PRAGMA writable_schema = ON")
        .execute(&mut *conn)
        .await?;
    let updated =
        sqlx::query("UPDATE sqlite_master SET sql = ?1 WHERE type = 'table' AND name = ?2")
            .bind(widened)
            .bind(EVENTS_TABLE)
            .execute(&mut *conn)
            .await;
    // A number of ours.
    let bumped = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "PRAGMA schema_version = {}",
        version + 1
    )))
    .execute(&mut *conn)
    .await;
    sqlx::raw_sql("PRAGMA writable_schema = OFF")
        .execute(&mut *conn)
        .await?;
    updated?;
    bumped?;
    Ok(())
}
