//! The audit schema as versioned migrations, one script per backend each,
//! and what a sound schema must hold (for `verify`). Applied versions are
//! rows of `audit_schema`. The DDL writes the events table as `{events}`
//! and (PostgreSQL) the schema as `{schema}`, replaced when it runs.
//!
//! One file, longer than the others, on purpose: it is the schema's data
//! (SQL text, read in order), and what a sound schema must hold (the
//! expected triggers and functions) has to sit next to the DDL that makes
//! it, so that changing one shows the other.

use super::table::EVENTS_TABLE;
use crate::backend::Backend;

/// The schema version this build creates and expects: the last migration's.
pub const SCHEMA_VERSION: i64 = 5;

/// Version 1's indexes (the reference columns' moved to version 5).
const V1_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS {events}_by_actor ON {events} (actor_kind, actor_id, id DESC);
CREATE INDEX IF NOT EXISTS {events}_by_type ON {events} (event_type, id DESC);
DROP INDEX IF EXISTS {events}_by_command;
";

/// Version 5, both backends: the indexes over the reference columns hold
/// only the rows that have the reference (`WHERE x_kind IS NOT NULL`),
/// since a page query always asks for one kind (`x_kind = ?`, which
/// implies it on both backends). Each index costs every insert (more pages
/// per commit), so there is none a page query does not use:
///
/// - `_by_parent_ref`: the project page (events on parent P), and the
///   user page's part for a parent;
/// - `_by_target_ref`: events on target X;
/// - `_by_subject_ref`: events about subject S, and the user page's part
///   for what was done to them;
/// - `_by_actor` (version 1): events by actor A, and the user page's part
///   for what they did;
/// - `_by_type` (version 1): the type page (events of type T);
/// - the primary key: the global page, and every page's keyset cursor;
/// - `_by_position` (PostgreSQL, version 3): reading after a position.
///
/// A row without a parent (say) costs no entry in `_by_parent_ref`: on a
/// log where most events lack some reference, most inserts skip that index.
const V5_INDEXES: &str = "
DROP INDEX IF EXISTS {events}_by_parent;
DROP INDEX IF EXISTS {events}_by_target;
DROP INDEX IF EXISTS {events}_by_subject;
CREATE INDEX IF NOT EXISTS {events}_by_parent_ref ON {events} (parent_kind, parent_id, id DESC)
    WHERE parent_kind IS NOT NULL;
CREATE INDEX IF NOT EXISTS {events}_by_target_ref ON {events} (target_kind, target_id, id DESC)
    WHERE target_kind IS NOT NULL;
CREATE INDEX IF NOT EXISTS {events}_by_subject_ref ON {events} (subject_kind, subject_id, id DESC)
    WHERE subject_kind IS NOT NULL;
";

/// Version 1 on SQLite: `occurred_at` is microseconds since the Unix epoch (UTC).
const V1_SQLITE: &str = "
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

/// Version 1 on PostgreSQL: the payload is JSONB; `occurred_at` is
/// microseconds since the Unix epoch (UTC). (Version 2 replaces its functions.)
const V1_POSTGRES: &str = "
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

/// Version 2 on SQLite: the log's identity (its first event, so that a
/// re-created table shows), and a delete trigger that never lets the log's
/// own records (`audit:` codes: prunes, repairs) go. Every trigger is
/// dropped and created again, so that running it repairs them.
const V2_SQLITE: &str = "
CREATE TABLE IF NOT EXISTS audit_log_identity (log_id TEXT NOT NULL);
DROP TRIGGER IF EXISTS {events}_no_replace;
DROP TRIGGER IF EXISTS {events}_no_update;
DROP TRIGGER IF EXISTS {events}_no_delete;
";

/// SQLite's triggers, as `sqlite_master` keeps them: the events table's
/// (version 2), the seal tables' (version 3), then the import keys' (version 4).
#[cfg(feature = "sqlite")]
pub(crate) const SQLITE_TRIGGERS: [(&str, &str); 9] = [
    (
        "{events}_no_replace",
        "CREATE TRIGGER {events}_no_replace BEFORE INSERT ON {events}
WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM {events} WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, '{events} is append-only: replacing an event is refused'); END",
    ),
    (
        "{events}_no_update",
        "CREATE TRIGGER {events}_no_update BEFORE UPDATE ON {events}
BEGIN SELECT RAISE(ABORT, '{events} is append-only: UPDATE is refused'); END",
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

/// Which of [`SQLITE_TRIGGERS`] each version makes: version 2 the events
/// table's, version 3 the seal tables', version 4 the import keys'.
#[cfg(feature = "sqlite")]
fn sqlite_triggers_of(version: i64) -> &'static [(&'static str, &'static str)] {
    match version {
        2 => &SQLITE_TRIGGERS[..3],
        3 => &SQLITE_TRIGGERS[3..7],
        4 => &SQLITE_TRIGGERS[7..],
        _ => &[],
    }
}

/// Version 3 on SQLite: the seals (see `seal.rs`), append-only.
const V3_SQLITE: &str = "
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

/// Version 3 on PostgreSQL: positions in commit order are read through an
/// index on (transaction, id), which also serves the protected tables'
/// check; and the seals, append-only.
const V3_POSTGRES: &str = "
CREATE INDEX IF NOT EXISTS {events}_by_position ON {events} (tx_id, id);
DROP INDEX IF EXISTS {events}_by_transaction;
CREATE TABLE IF NOT EXISTS audit_seals (
    seq BIGINT PRIMARY KEY,
    encoding BIGINT NOT NULL,
    first_tx BIGINT NOT NULL,
    first_id BIGINT NOT NULL,
    last_tx BIGINT NOT NULL,
    last_id BIGINT NOT NULL,
    event_count BIGINT NOT NULL,
    chain_hash TEXT NOT NULL,
    prev_seal_hash TEXT NOT NULL,
    seal_hash TEXT NOT NULL,
    sealed_at BIGINT NOT NULL,
    key_id TEXT,
    signature TEXT
);
CREATE TABLE IF NOT EXISTS audit_seal_entries (
    seal_seq BIGINT NOT NULL,
    tx BIGINT NOT NULL,
    id BIGINT NOT NULL,
    occurred_at BIGINT NOT NULL,
    event_hash TEXT NOT NULL,
    column_tags TEXT NOT NULL,
    PRIMARY KEY (tx, id)
);
{functions}
DROP TRIGGER IF EXISTS audit_seals_no_change ON audit_seals;
CREATE TRIGGER audit_seals_no_change BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION audit_seal_append_only();
DROP TRIGGER IF EXISTS audit_seals_no_truncate ON audit_seals;
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION audit_seal_append_only();
DROP TRIGGER IF EXISTS audit_seal_entries_no_change ON audit_seal_entries;
CREATE TRIGGER audit_seal_entries_no_change BEFORE UPDATE OR DELETE ON audit_seal_entries
    FOR EACH ROW EXECUTE FUNCTION audit_seal_append_only();
DROP TRIGGER IF EXISTS audit_seal_entries_no_truncate ON audit_seal_entries;
CREATE TRIGGER audit_seal_entries_no_truncate BEFORE TRUNCATE ON audit_seal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_seal_append_only();
";

/// Version 4 on SQLite: the keys of imported events (see `import.rs`),
/// append-only. A key outlives its event (a prune deletes the event, not
/// the key), so that importing again never brings a pruned event back.
const V4_SQLITE: &str = "
CREATE TABLE IF NOT EXISTS audit_import_keys (
    import_key TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    event_type TEXT NOT NULL
);
DROP TRIGGER IF EXISTS audit_import_keys_no_update;
DROP TRIGGER IF EXISTS audit_import_keys_no_delete;
";

/// Version 4 on PostgreSQL: the keys of imported events, append-only
/// (through version 3's `audit_seal_append_only`, which names the table).
const V4_POSTGRES: &str = "
CREATE TABLE IF NOT EXISTS audit_import_keys (
    import_key TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    event_type TEXT NOT NULL
);
DROP TRIGGER IF EXISTS audit_import_keys_no_change ON audit_import_keys;
CREATE TRIGGER audit_import_keys_no_change BEFORE UPDATE OR DELETE ON audit_import_keys
    FOR EACH ROW EXECUTE FUNCTION audit_seal_append_only();
DROP TRIGGER IF EXISTS audit_import_keys_no_truncate ON audit_import_keys;
CREATE TRIGGER audit_import_keys_no_truncate BEFORE TRUNCATE ON audit_import_keys
    FOR EACH STATEMENT EXECUTE FUNCTION audit_seal_append_only();
";

/// PostgreSQL's triggers on the import keys: table, name and function.
#[cfg(feature = "postgres")]
pub(crate) const POSTGRES_IMPORT_TRIGGERS: [(&str, &str, &str); 2] = [
    (
        "audit_import_keys",
        "audit_import_keys_no_change",
        "audit_seal_append_only",
    ),
    (
        "audit_import_keys",
        "audit_import_keys_no_truncate",
        "audit_seal_append_only",
    ),
];

/// PostgreSQL's triggers on the seal tables: table, name and function.
#[cfg(feature = "postgres")]
pub(crate) const POSTGRES_SEAL_TRIGGERS: [(&str, &str, &str); 4] = [
    (
        "audit_seals",
        "audit_seals_no_change",
        "audit_seal_append_only",
    ),
    (
        "audit_seals",
        "audit_seals_no_truncate",
        "audit_seal_append_only",
    ),
    (
        "audit_seal_entries",
        "audit_seal_entries_no_change",
        "audit_seal_append_only",
    ),
    (
        "audit_seal_entries",
        "audit_seal_entries_no_truncate",
        "audit_seal_append_only",
    ),
];

/// PostgreSQL's functions of the audit schema: name, arguments, what makes
/// it (the part between `CREATE OR REPLACE FUNCTION name(args)` and the
/// body), and the body, which `verify` compares with what the database holds.
#[cfg(feature = "postgres")]
pub(crate) const POSTGRES_FUNCTIONS: [(&str, &str, &str, &str); 5] = [
    (
        "{events}_append_only",
        "",
        // Definer: it reads the retention permit, which no other role may.
        "RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp",
        "
BEGIN
    IF TG_OP = 'DELETE' AND substr(OLD.event_type, 1, 6) <> 'audit:'
        AND EXISTS (SELECT 1 FROM audit_retention_permit WHERE tx_id = pg_current_xact_id()) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '{events} is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'events leave the log only through Auditor::prune_before, run by the schema owner';
END
",
    ),
    (
        "audit_require_event",
        "",
        "RETURNS trigger LANGUAGE plpgsql",
        "
BEGIN
    IF NOT EXISTS (SELECT 1 FROM {events} WHERE tx_id = pg_current_xact_id()) THEN
        RAISE EXCEPTION 'table % is immutable: % outside an audited command is refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'write it through an #[auditable] command, which records its audit event in the same transaction';
    END IF;
    RETURN NULL;
END
",
    ),
    (
        "audit_refuse_truncate",
        "",
        "RETURNS trigger LANGUAGE plpgsql",
        "
BEGIN
    RAISE EXCEPTION 'table % is immutable: TRUNCATE is refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
",
    ),
    (
        "audit_prune_batch",
        "cutoff BIGINT, max_rows INTEGER",
        // Definer: the one way to delete events, for roles granted EXECUTE
        // (none but the owner by default).
        "RETURNS BIGINT LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp",
        "
DECLARE
    deleted BIGINT;
BEGIN
    INSERT INTO audit_retention_permit (tx_id) VALUES (pg_current_xact_id());
    DELETE FROM {events} WHERE id IN (
        SELECT id FROM {events}
        WHERE occurred_at < cutoff AND substr(event_type, 1, 6) <> 'audit:'
        ORDER BY id LIMIT max_rows
    );
    GET DIAGNOSTICS deleted = ROW_COUNT;
    DELETE FROM audit_retention_permit WHERE tx_id = pg_current_xact_id();
    RETURN deleted;
END
",
    ),
    (
        "audit_seal_append_only",
        "",
        "RETURNS trigger LANGUAGE plpgsql",
        "
BEGIN
    RAISE EXCEPTION '% is append-only: % is refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
",
    ),
];

/// PostgreSQL's triggers on the events table: name and the function it runs.
#[cfg(feature = "postgres")]
pub(crate) const POSTGRES_TRIGGERS: [(&str, &str); 2] = [
    ("{events}_no_change", "{events}_append_only"),
    ("{events}_no_truncate", "{events}_append_only"),
];

/// Version 2 on PostgreSQL: retention through a definer function and a
/// permit table only the owner may write (a setting any session could
/// make), the log's identity, and a registry of protected tables.
const V2_POSTGRES: &str = "
CREATE TABLE IF NOT EXISTS audit_log_identity (log_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_protected_tables (name TEXT PRIMARY KEY);
DROP TABLE IF EXISTS audit_retention_permit;
CREATE TABLE audit_retention_permit (tx_id xid8 NOT NULL);
REVOKE ALL ON audit_retention_permit FROM PUBLIC;
{functions}
REVOKE ALL ON FUNCTION audit_prune_batch(BIGINT, INTEGER) FROM PUBLIC;
DROP TRIGGER IF EXISTS {events}_no_change ON {events};
CREATE TRIGGER {events}_no_change BEFORE UPDATE OR DELETE ON {events}
    FOR EACH ROW EXECUTE FUNCTION {events}_append_only();
DROP TRIGGER IF EXISTS {events}_no_truncate ON {events};
CREATE TRIGGER {events}_no_truncate BEFORE TRUNCATE ON {events}
    FOR EACH STATEMENT EXECUTE FUNCTION {events}_append_only();
";

/// One version of the schema.
pub(crate) struct Migration {
    /// Its number; applied in order, each once.
    pub version: i64,
    /// What it does, for errors and logs.
    pub description: &'static str,
    // Both backends' scripts are text in every build; a build reads its own.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    sqlite: &'static str,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    postgres: &'static str,
}

/// Every version, in order. Each script is idempotent (it creates what is
/// missing and replaces what it defines), so a repair runs them all again.
pub(crate) const MIGRATIONS: [Migration; 5] = [
    Migration {
        version: 1,
        description: "the events table, its indexes and append-only triggers",
        sqlite: V1_SQLITE,
        postgres: V1_POSTGRES,
    },
    Migration {
        version: 2,
        description: "the log's identity, owner-only retention, records that are never pruned",
        sqlite: V2_SQLITE,
        postgres: V2_POSTGRES,
    },
    Migration {
        version: 3,
        description: "positions in commit order, and the seals",
        sqlite: V3_SQLITE,
        postgres: V3_POSTGRES,
    },
    Migration {
        version: 4,
        description: "the keys of imported events",
        sqlite: V4_SQLITE,
        postgres: V4_POSTGRES,
    },
    Migration {
        version: 5,
        description: "indexes over the reference columns hold only rows that have the reference",
        sqlite: V5_INDEXES,
        postgres: V5_INDEXES,
    },
];

impl Migration {
    /// The script for `backend`, in schema `schema` (PostgreSQL's current schema).
    pub(crate) fn script(&self, backend: Backend, schema: &str) -> String {
        let script = match backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => {
                let mut script = self.sqlite.to_owned();
                if self.version == 1 {
                    script.push_str(V1_INDEXES);
                }
                for (_, trigger) in sqlite_triggers_of(self.version) {
                    script.push_str(trigger);
                    script.push_str(";\n");
                }
                script
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let mut script = self.postgres.to_owned();
                if self.version == 1 {
                    script.push_str(V1_INDEXES);
                }
                script.replace("{functions}", &postgres_functions())
            }
        };
        expand(&script, schema)
    }
}

/// The `CREATE OR REPLACE FUNCTION` statements of [`POSTGRES_FUNCTIONS`].
#[cfg(feature = "postgres")]
fn postgres_functions() -> String {
    POSTGRES_FUNCTIONS
        .iter()
        .map(|(name, args, head, body)| {
            format!("CREATE OR REPLACE FUNCTION {name}({args}) {head} AS $${body}$$;\n")
        })
        .collect()
}

/// Replaces the events table's and the schema's placeholders.
pub(crate) fn expand(text: &str, schema: &str) -> String {
    text.replace("{events}", EVENTS_TABLE)
        .replace("{schema}", schema)
}

/// Tables of the audit schema itself, never application models.
pub(crate) const OWN_TABLES: [&str; 8] = [
    EVENTS_TABLE,
    "audit_schema",
    "audit_retention_permit",
    "audit_log_identity",
    "audit_protected_tables",
    "audit_seals",
    "audit_seal_entries",
    "audit_import_keys",
];

/// Functions of the audit schema that the library calls by name.
pub(crate) const OWN_FUNCTIONS: [&str; 1] = ["audit_prune_batch"];

/// The type code of the log's anchor: the row with id 0 of the events
/// table, written by the migration that made the log, whose command id
/// `audit_log_identity` keeps. Queries never return it. If the table is
/// dropped and made again, it is gone, and `schema_status` says so.
pub(crate) const LOG_CREATED_CODE: &str = "audit:log_created";

/// The type code of the event a schema repair records.
pub(crate) const SCHEMA_REPAIRED_CODE: &str = "audit:schema_repaired";

/// PostgreSQL triggers that refuse writes to `table` in a transaction that
/// records no audit event (checked at commit), and any `TRUNCATE`.
/// `table` must be a plain identifier (checked by the caller).
#[cfg(feature = "postgres")]
pub(crate) fn protect_table(table: &str) -> String {
    format!(
        "DROP TRIGGER IF EXISTS audit_required ON {table};
CREATE CONSTRAINT TRIGGER audit_required AFTER INSERT OR UPDATE OR DELETE ON {table}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_require_event();
DROP TRIGGER IF EXISTS audit_no_truncate ON {table};
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
INSERT INTO audit_protected_tables (name) VALUES ('{table}') ON CONFLICT DO NOTHING;"
    )
}

/// The triggers [`protect_table`] makes: name and function.
#[cfg(feature = "postgres")]
pub(crate) const PROTECTION_TRIGGERS: [(&str, &str); 2] = [
    ("audit_required", "audit_require_event"),
    ("audit_no_truncate", "audit_refuse_truncate"),
];

/// Whether `name` is a plain lowercase SQL identifier, safe to splice into DDL.
pub(crate) fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}
