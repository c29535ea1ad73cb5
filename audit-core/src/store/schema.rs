//! The audit schema: one append-only events table with the indexes the page
//! queries need, for each backend. Versioned in `audit_schema`. The DDL
//! writes the events table as `{events}`, replaced by [`EVENTS_TABLE`].

use super::table::EVENTS_TABLE;
use crate::backend::Backend;

/// The schema version this build creates and expects.
pub const SCHEMA_VERSION: i64 = 1;

/// Indexes serving "newest events on parent P / on target X / about subject S /
/// by actor A / of type T". Each index costs every insert (more pages per
/// commit), so there is none the page queries do not use.
const INDEXES: &str = "
CREATE INDEX IF NOT EXISTS {events}_by_parent ON {events} (parent_kind, parent_id, id DESC);
CREATE INDEX IF NOT EXISTS {events}_by_target ON {events} (target_kind, target_id, id DESC);
CREATE INDEX IF NOT EXISTS {events}_by_subject ON {events} (subject_kind, subject_id, id DESC);
CREATE INDEX IF NOT EXISTS {events}_by_actor ON {events} (actor_kind, actor_id, id DESC);
CREATE INDEX IF NOT EXISTS {events}_by_type ON {events} (event_type, id DESC);
DROP INDEX IF EXISTS {events}_by_command;
";

/// SQLite: `occurred_at` is microseconds since the Unix epoch (UTC).
const SQLITE: &str = "
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

/// PostgreSQL: the payload is JSONB; `occurred_at` is microseconds since the Unix epoch (UTC).
const POSTGRES: &str = "
SELECT pg_advisory_xact_lock(4242424242);
CREATE TABLE IF NOT EXISTS audit_schema (version BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS {events} (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    payload_version BIGINT NOT NULL,
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
    payload JSONB NOT NULL,
    -- The writing transaction, so protected tables can check it recorded an event.
    tx_id xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX IF NOT EXISTS {events}_by_transaction ON {events} (tx_id);
CREATE OR REPLACE FUNCTION audit_require_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM {events} WHERE tx_id = pg_current_xact_id()) THEN
        RAISE EXCEPTION 'table % is immutable: % outside an audited command is refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'write it through an #[auditable] command, which records its audit event in the same transaction';
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION audit_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is immutable: TRUNCATE is refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE OR REPLACE FUNCTION {events}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('audit.retention_permit', true) = 'granted' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '{events} is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
DROP TRIGGER IF EXISTS {events}_no_change ON {events};
CREATE TRIGGER {events}_no_change BEFORE UPDATE OR DELETE ON {events}
    FOR EACH ROW EXECUTE FUNCTION {events}_append_only();
DROP TRIGGER IF EXISTS {events}_no_truncate ON {events};
CREATE TRIGGER {events}_no_truncate BEFORE TRUNCATE ON {events}
    FOR EACH STATEMENT EXECUTE FUNCTION {events}_append_only();
";

/// The whole migration for `backend`.
pub(crate) fn script(backend: Backend) -> String {
    let tables = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    format!(
        "{tables}{INDEXES}
INSERT INTO audit_schema (version) SELECT {SCHEMA_VERSION} WHERE NOT EXISTS (SELECT 1 FROM audit_schema);"
    )
    .replace("{events}", EVENTS_TABLE)
}

/// Tables of the audit schema itself, never application models.
pub(crate) const OWN_TABLES: [&str; 3] = [EVENTS_TABLE, "audit_schema", "audit_retention_permit"];

/// PostgreSQL triggers that refuse writes to `table` in a transaction that
/// records no audit event (checked at commit), and any `TRUNCATE`.
/// `table` must be a plain identifier (checked by the caller).
pub(crate) fn protect_table(table: &str) -> String {
    format!(
        "DROP TRIGGER IF EXISTS audit_required ON {table};
CREATE CONSTRAINT TRIGGER audit_required AFTER INSERT OR UPDATE OR DELETE ON {table}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_require_event();
DROP TRIGGER IF EXISTS audit_no_truncate ON {table};
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();"
    )
}

/// Whether `name` is a plain lowercase SQL identifier, safe to splice into DDL.
pub(crate) fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}
