//! PostgreSQL's audit schema: its script of each version (`store/schema.rs`
//! lists the versions), the functions and triggers a sound schema holds,
//! which `check_objects` compares with the catalog, and the protection of
//! an immutable table. The DDL writes the events table as `{events}` and
//! the schema as `{schema}`, replaced when it runs.

use crate::store::schema::{MIGRATIONS, V5_INDEXES};

/// PostgreSQL's script of each version, in the order of `MIGRATIONS` (a
/// version without one does not compile). Version 1's is followed by the
/// shared `V1_INDEXES`; `{functions}` stands for [`functions`].
pub(super) const SCRIPTS: [&str; MIGRATIONS.len()] = [V1, V2, V3, V4, V5_INDEXES];

/// Version 1 on PostgreSQL: the payload is JSONB; `occurred_at` is
/// microseconds since the Unix epoch (UTC). (Version 2 replaces its functions.)
const V1: &str = "
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

/// Version 2 on PostgreSQL: retention through a definer function and a
/// permit table only the owner may write (a setting any session could
/// make), the log's identity, and a registry of protected tables.
const V2: &str = "
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

/// Version 3 on PostgreSQL: positions in commit order are read through an
/// index on (transaction, id), which also serves the protected tables'
/// check; and the seals, append-only.
const V3: &str = "
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

/// Version 4 on PostgreSQL: the keys of imported events, append-only
/// (through version 3's `audit_seal_append_only`, which names the table).
const V4: &str = "
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

/// PostgreSQL's functions of the audit schema: name, arguments, what makes
/// it (the part between `CREATE OR REPLACE FUNCTION name(args)` and the
/// body), and the body, which `verify` compares with what the database holds.
pub(super) const FUNCTIONS: [(&str, &str, &str, &str); 5] = [
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

/// The `CREATE OR REPLACE FUNCTION` statements of [`FUNCTIONS`].
pub(super) fn functions() -> String {
    FUNCTIONS
        .iter()
        .map(|(name, args, head, body)| {
            format!("CREATE OR REPLACE FUNCTION {name}({args}) {head} AS $${body}$$;\n")
        })
        .collect()
}

/// PostgreSQL's triggers on the events table: name and the function it runs.
pub(super) const EVENTS_TRIGGERS: [(&str, &str); 2] = [
    ("{events}_no_change", "{events}_append_only"),
    ("{events}_no_truncate", "{events}_append_only"),
];

/// PostgreSQL's triggers on the seal tables: table, name and function.
pub(super) const SEAL_TRIGGERS: [(&str, &str, &str); 4] = [
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

/// PostgreSQL's triggers on the import keys: table, name and function.
pub(super) const IMPORT_TRIGGERS: [(&str, &str, &str); 2] = [
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

/// PostgreSQL triggers that refuse writes to `table` in a transaction that
/// records no audit event (checked at commit), and any `TRUNCATE`.
/// `table` must be a plain identifier (checked by the caller).
pub(super) fn protect_table(table: &str) -> String {
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
pub(super) const PROTECTION_TRIGGERS: [(&str, &str); 2] = [
    ("audit_required", "audit_require_event"),
    ("audit_no_truncate", "audit_refuse_truncate"),
];
