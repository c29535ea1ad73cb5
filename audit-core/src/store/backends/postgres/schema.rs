//! PostgreSQL's audit schema: its script of each version (`store/schema.rs`
//! lists the versions), the functions and triggers a sound schema holds,
//! which `check_objects` compares with the catalog, and the protection of
//! an immutable table. The DDL writes the events table as `{events}` and
//! the schema as `{schema}`, replaced when it runs.

use crate::store::schema::{MIGRATIONS, V5_INDEXES, expand};
use crate::store::table::{IMPORT_COMMAND, IMPORT_RECORD_COMMAND, IMPORTED_EVENT_CODE};

/// PostgreSQL's script of each version, in the order of `MIGRATIONS` (a
/// version without one does not compile). Version 1's is followed by the
/// shared `V1_INDEXES`; `{functions}` stands for [`functions`], `{privileges}`
/// for [`function_privileges`], `{triggers}` for [`create_triggers`].
pub(super) const SCRIPTS: [&str; MIGRATIONS.len()] = [V1, V2, V3, V4, V5_INDEXES, V6, V7, V8, V9];

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
{privileges}
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

/// Version 6 on PostgreSQL: functions that cannot be redirected (every
/// name schema-qualified, `search_path` pinned, `PUBLIC` without
/// `EXECUTE`), the minimum retention stored in the schema and enforced by
/// `audit_prune_batch`, which writes its own record, the log's own records
/// (`audit:` codes) written only by the owner (through its functions), and
/// imports through one definer function (keys, events and record at once).
/// Every trigger is made again, naming its function with its schema.
/// Roles that an earlier release let insert import keys get `EXECUTE` on
/// the import function instead.
const V6: &str = "
CREATE TABLE IF NOT EXISTS audit_settings (min_retention_micros BIGINT NOT NULL);
INSERT INTO audit_settings (min_retention_micros)
    SELECT 2592000000000 WHERE NOT EXISTS (SELECT 1 FROM audit_settings);
REVOKE ALL ON audit_settings FROM PUBLIC;
REVOKE ALL ON audit_retention_permit FROM PUBLIC;
DROP FUNCTION IF EXISTS {schema}.audit_prune_batch(BIGINT, INTEGER);
{functions}
{privileges}
{triggers}
DO $$
DECLARE
    grantee TEXT;
BEGIN
    FOR grantee IN
        SELECT DISTINCT pg_catalog.pg_get_userbyid(a.grantee)
        FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
        WHERE c.oid = '{schema}.audit_import_keys'::regclass
          AND a.privilege_type = 'INSERT' AND a.grantee <> c.relowner AND a.grantee <> 0
    LOOP
        EXECUTE pg_catalog.format('REVOKE INSERT ON {schema}.audit_import_keys FROM %I', grantee);
        EXECUTE pg_catalog.format(
            'GRANT EXECUTE ON FUNCTION {schema}.audit_import_batch(%s) TO %I', '{import_args}', grantee);
    END LOOP;
END
$$;
";

/// Version 7 on PostgreSQL: positions in commit order. The commit clock
/// (see `clock.rs`): an empty table only `audit_stamp_commit` locks, the
/// sequence places are taken from, and the place of each transaction that
/// wrote events. Writers wait while it runs (the events table is locked
/// first), so every transaction already in the log has ended: each gets its
/// transaction id as its place, what its position was, and the sequence
/// starts above them all. Run again (a repair), it gives a transaction the
/// log holds without a place (written while the stamping trigger was off)
/// the next places, after every position read so far. Then the page indexes
/// by time, shared with SQLite.
const V7: &str = "
LOCK TABLE {schema}.{events} IN SHARE ROW EXCLUSIVE MODE;
CREATE TABLE IF NOT EXISTS {schema}.audit_commit_clock ();
CREATE SEQUENCE IF NOT EXISTS {schema}.audit_commit_seq AS BIGINT;
CREATE TABLE IF NOT EXISTS {schema}.audit_commit_order (
    seq BIGINT PRIMARY KEY,
    commit_tx xid8 NOT NULL UNIQUE
);
REVOKE ALL ON {schema}.audit_commit_clock, {schema}.audit_commit_order FROM PUBLIC;
REVOKE ALL ON SEQUENCE {schema}.audit_commit_seq FROM PUBLIC;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM {schema}.audit_commit_order) THEN
        INSERT INTO {schema}.audit_commit_order (seq, commit_tx)
            SELECT tx_id::text::int8, tx_id FROM {schema}.{events} GROUP BY tx_id;
        PERFORM setval('{schema}.audit_commit_seq', greatest(
            (SELECT max(seq) FROM {schema}.audit_commit_order),
            pg_current_xact_id()::text::int8));
    ELSE
        INSERT INTO {schema}.audit_commit_order (seq, commit_tx)
            SELECT nextval('{schema}.audit_commit_seq'), t.tx_id FROM (
                SELECT DISTINCT e.tx_id FROM {schema}.{events} e
                WHERE NOT EXISTS (SELECT 1 FROM {schema}.audit_commit_order c
                                  WHERE c.commit_tx = e.tx_id)
                ORDER BY e.tx_id) AS t;
    END IF;
END
$$;
{functions}
{privileges}
{triggers}
{v7_indexes}
";

/// Version 8 on PostgreSQL: the columns of the person acted for and of the
/// context (no rewrite: new columns without a default), the `service`
/// actor kind (`NOT VALID`: rows already in the log passed the narrower
/// check, so none is scanned), `INSERT` on the new columns for every role
/// that may insert the others, the import function again (its INSERT
/// writes the new columns), and the indexes by request and by client
/// address.
const V8: &str = "
ALTER TABLE {schema}.{events}
    ADD COLUMN IF NOT EXISTS actor_as_id TEXT,
    ADD COLUMN IF NOT EXISTS actor_as_name TEXT,
    ADD COLUMN IF NOT EXISTS request_id TEXT,
    ADD COLUMN IF NOT EXISTS client_address TEXT,
    ADD COLUMN IF NOT EXISTS context TEXT;
ALTER TABLE {schema}.{events} DROP CONSTRAINT IF EXISTS {events}_actor_kind_check;
ALTER TABLE {schema}.{events} ADD CONSTRAINT {events}_actor_kind_check
    CHECK (actor_kind IN ({v8_actor_kinds})) NOT VALID;
{grant_v8_columns}
{functions}
{privileges}
{v8_indexes}
";

/// `INSERT` on `{columns}` for every role that may insert the payload
/// (the application's roles, `grant_application_role`): how a version
/// that adds columns keeps those roles writing events.
pub(super) const GRANT_INSERT_LIKE_PAYLOAD: &str = "
DO $$
DECLARE
    grantee TEXT;
BEGIN
    FOR grantee IN
        SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                        ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END
        FROM pg_catalog.pg_attribute att, pg_catalog.aclexplode(att.attacl) a
        WHERE att.attrelid = '{schema}.{events}'::regclass AND att.attname = 'payload'
          AND a.privilege_type = 'INSERT'
    LOOP
        EXECUTE pg_catalog.format('GRANT INSERT ({columns}) ON {schema}.{events} TO %s', grantee);
    END LOOP;
END
$$;
";

/// Version 9 on PostgreSQL: the salts and commitments of personal values
/// (a new column, `INSERT` on it for the roles that write events), the
/// permit `Auditor::erase` writes while it replaces them, which only the
/// owner may write, and the append-only function that lets an update
/// through only with the permit and only of those values. The prune's and
/// the import's records salt a person's name, as the library's do.
const V9: &str = "
ALTER TABLE {schema}.{events} ADD COLUMN IF NOT EXISTS personal TEXT;
CREATE TABLE IF NOT EXISTS {schema}.audit_erasure_permit (tx_id xid8 NOT NULL);
REVOKE ALL ON {schema}.audit_erasure_permit FROM PUBLIC;
{grant_v9_columns}
{functions}
{privileges}
";

/// One function of the audit schema, as a sound schema holds it.
pub(super) struct Function {
    /// Its name.
    pub name: &'static str,
    /// Its arguments, as `pg_get_function_identity_arguments` prints them.
    pub args: &'static str,
    /// What it returns.
    pub returns: &'static str,
    /// Whether it runs with its owner's rights (`SECURITY DEFINER`).
    pub definer: bool,
    /// Its body (PL/pgSQL), `{schema}` and `{events}` to be replaced.
    pub body: &'static str,
}

/// Whether the caller is the events table's owner (or a superuser): the
/// start of the checks of functions only the owner may run.
const CALLER_IS_OWNER: &str = "(EXISTS (SELECT 1 FROM pg_catalog.pg_class c \
     WHERE c.oid = '{schema}.{events}'::regclass \
       AND c.relowner = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)) \
     OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user))";

/// The arguments of `audit_prune_batch`, as the catalog prints them.
pub(super) const PRUNE_ARGS: &str = "cutoff bigint, max_rows integer, batch integer, \
     actor_kind text, actor_id text, actor_name text, reason text";

/// The arguments of `audit_import_batch`, as the catalog prints them.
pub(super) const IMPORT_ARGS: &str = "run_id text, keys text[], batch_rows jsonb, \
     actor_kind text, actor_id text, actor_name text, summary jsonb";

/// The one function a role other than the owner may be granted
/// `EXECUTE` on (by `grant_application_role`).
pub(super) const APPLICATION_FUNCTION: &str = "audit_import_batch";

/// PostgreSQL's functions of the audit schema. Each runs with `search_path`
/// pinned to `pg_catalog, <schema>, pg_temp` and names the audit tables
/// with their schema, so that no object of the caller's (a temporary table,
/// a function or operator in a schema first on its path) can stand in for
/// one of ours; `PUBLIC` may execute none of them.
pub(super) const FUNCTIONS: [Function; 8] = [
    Function {
        name: "{events}_append_only",
        args: "",
        returns: "trigger",
        // It reads the retention permit, which no other role may.
        definer: true,
        body: "
BEGIN
    IF TG_OP = 'DELETE' AND substr(OLD.event_type, 1, 6) <> 'audit:'
        AND EXISTS (SELECT 1 FROM {schema}.audit_retention_permit WHERE tx_id = pg_current_xact_id()) THEN
        RETURN OLD;
    END IF;
    -- Every column but the personal values' own may not change.
    IF TG_OP = 'UPDATE'
        AND EXISTS (SELECT 1 FROM {schema}.audit_erasure_permit WHERE tx_id = pg_current_xact_id())
        AND (NEW.id, NEW.occurred_at, NEW.event_type, NEW.payload_version, NEW.actor_kind, NEW.actor_id,
             NEW.target_kind, NEW.target_id, NEW.parent_kind, NEW.parent_id, NEW.subject_kind,
             NEW.subject_id, NEW.command_name, NEW.command_id, NEW.actor_as_id, NEW.request_id, NEW.tx_id)
            IS NOT DISTINCT FROM
            (OLD.id, OLD.occurred_at, OLD.event_type, OLD.payload_version, OLD.actor_kind, OLD.actor_id,
             OLD.target_kind, OLD.target_id, OLD.parent_kind, OLD.parent_id, OLD.subject_kind,
             OLD.subject_id, OLD.command_name, OLD.command_id, OLD.actor_as_id, OLD.request_id, OLD.tx_id) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{events} is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'events leave the log only through Auditor::prune_before, and personal values only through Auditor::erase, run by the schema owner';
END
",
    },
    Function {
        name: "audit_require_event",
        args: "",
        returns: "trigger",
        // It reads the events table whatever the writing role may read.
        definer: true,
        body: "
BEGIN
    IF NOT EXISTS (SELECT 1 FROM {schema}.{events} WHERE tx_id = pg_current_xact_id()) THEN
        RAISE EXCEPTION 'table % is immutable: % outside an audited command is refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'write it through an #[auditable] command, which records its audit event in the same transaction';
    END IF;
    RETURN NULL;
END
",
    },
    Function {
        name: "audit_refuse_truncate",
        args: "",
        returns: "trigger",
        definer: false,
        body: "
BEGIN
    RAISE EXCEPTION 'table % is immutable: TRUNCATE is refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
",
    },
    Function {
        name: "audit_seal_append_only",
        args: "",
        returns: "trigger",
        definer: false,
        body: "
BEGIN
    RAISE EXCEPTION '% is append-only: % is refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
",
    },
    Function {
        name: "audit_own_records",
        args: "",
        returns: "trigger",
        // Not a definer: it asks who is inserting. The library's definer
        // functions insert as the owner.
        definer: false,
        body: "
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows WHERE substr(event_type, 1, 6) = 'audit:') AND NOT {caller_is_owner} THEN
        RAISE EXCEPTION 'event codes starting with `audit:` are the log''s own records: role % may not write them', current_user
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'migrations, repairs, prunes and imports write them, as the schema owner';
    END IF;
    RETURN NULL;
END
",
    },
    Function {
        name: "audit_stamp_commit",
        args: "",
        returns: "trigger",
        // A definer: only it may lock the clock, take a place and write it.
        definer: true,
        body: "
BEGIN
    LOCK TABLE {schema}.audit_commit_clock IN EXCLUSIVE MODE;
    INSERT INTO {schema}.audit_commit_order (seq, commit_tx)
        VALUES (nextval('{schema}.audit_commit_seq'), pg_current_xact_id())
        ON CONFLICT (commit_tx) DO NOTHING;
    RETURN NULL;
END
",
    },
    Function {
        name: "audit_prune_batch",
        args: PRUNE_ARGS,
        returns: "bigint",
        // Not a definer: only the owner may run it, which it checks.
        definer: false,
        body: "
DECLARE
    now_micros BIGINT := (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT;
    min_retention BIGINT;
    deleted BIGINT;
    first_pos JSONB;
    last_pos JSONB;
    sealed BIGINT;
    digest TEXT;
BEGIN
    IF NOT {caller_is_owner} THEN
        RAISE EXCEPTION 'audit_prune_batch may be run only by the owner of {events}, not by role %', current_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT min(min_retention_micros) INTO min_retention FROM {schema}.audit_settings;
    IF min_retention IS NULL OR cutoff > now_micros - min_retention THEN
        RAISE EXCEPTION 'the cutoff % is later than the minimum retention allows (% microseconds before now)', cutoff, min_retention
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'the minimum retention is stored in audit_settings; Auditor::set_min_retention changes it, as the owner';
    END IF;
    INSERT INTO {schema}.audit_retention_permit (tx_id) VALUES (pg_current_xact_id());
    WITH doomed AS (
        SELECT c.seq AS tx, e.id FROM {schema}.{events} e
        JOIN {schema}.audit_commit_order c ON c.commit_tx = e.tx_id
        WHERE e.occurred_at < cutoff AND substr(e.event_type, 1, 6) <> 'audit:' AND e.id > 0
        ORDER BY c.seq, e.id LIMIT max_rows
    ), deleted_ids AS (
        DELETE FROM {schema}.{events} WHERE id IN (SELECT id FROM doomed) RETURNING id
    ), gone AS (
        SELECT d.tx, d.id FROM doomed d JOIN deleted_ids USING (id)
    )
    SELECT count(*),
           (array_agg(jsonb_build_array(g.tx, g.id) ORDER BY g.tx, g.id))[1],
           (array_agg(jsonb_build_array(g.tx, g.id) ORDER BY g.tx DESC, g.id DESC))[1],
           count(s.event_hash),
           encode(sha256(convert_to(coalesce(string_agg(s.event_hash, '' ORDER BY g.tx, g.id), ''), 'UTF8')), 'hex')
      INTO deleted, first_pos, last_pos, sealed, digest
      FROM gone g LEFT JOIN {schema}.audit_seal_entries s ON s.tx = g.tx AND s.id = g.id;
    DELETE FROM {schema}.audit_retention_permit WHERE tx_id = pg_current_xact_id();
    INSERT INTO {schema}.{events} (occurred_at, event_type, payload_version, actor_kind, actor_id,
        actor_name, command_name, command_id, personal, payload)
    VALUES (now_micros, '{pruned_code}', 2, actor_kind, actor_id, actor_name, '{prune_command}',
        gen_random_uuid()::text, {salted_actor_name},
        jsonb_build_object(
            'before', to_char(timestamp 'epoch' + cutoff * interval '1 microsecond',
                              'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'),
            'before_micros', cutoff, 'deleted', deleted, 'batch', batch, 'reason', reason,
            'first', first_pos, 'last', last_pos, 'sealed', sealed, 'sealed_digest', digest));
    RETURN deleted;
END
",
    },
    Function {
        name: "audit_import_batch",
        args: IMPORT_ARGS,
        returns: "text[]",
        // A definer: the application role may not insert import keys or
        // the log's own records itself, only through this function, which
        // writes a key only with its event, and the record of both.
        definer: true,
        body: "
DECLARE
    claimed TEXT[];
    written BIGINT;
BEGIN
    IF cardinality(keys) IS DISTINCT FROM jsonb_array_length(batch_rows) THEN
        RAISE EXCEPTION 'audit_import_batch: % keys for % rows', cardinality(keys), jsonb_array_length(batch_rows);
    END IF;
    IF (SELECT count(DISTINCT k) FROM unnest(keys) AS k) <> cardinality(keys) THEN
        RAISE EXCEPTION 'audit_import_batch: an import key is given twice (each key names one event)';
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(batch_rows) AS e(r) WHERE substr(r ->> 1, 1, 6) = 'audit:') THEN
        RAISE EXCEPTION 'an import cannot write the log''s own records (codes starting with `audit:`)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    WITH new_keys AS (
        INSERT INTO {schema}.audit_import_keys (import_key, run_id, event_type)
        SELECT k.key, run_id, batch_rows -> (k.n::INTEGER - 1) ->> 1
        FROM unnest(keys) WITH ORDINALITY AS k(key, n) ORDER BY k.key COLLATE \"C\"
        ON CONFLICT (import_key) DO NOTHING RETURNING import_key
    )
    SELECT coalesce(array_agg(import_key), '{}') INTO claimed FROM new_keys;
    IF cardinality(claimed) = 0 THEN
        RETURN claimed;
    END IF;
    {insert_imported}
    GET DIAGNOSTICS written = ROW_COUNT;
    INSERT INTO {schema}.{events} (occurred_at, event_type, payload_version, actor_kind, actor_id,
        actor_name, command_name, command_id, personal, payload)
    VALUES ((extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT, '{imported_code}', 1,
        actor_kind, actor_id, actor_name, '{import_record_command}', run_id, {salted_actor_name},
        summary || jsonb_build_object('imported', written, 'skipped', cardinality(keys) - written,
            'keys', (SELECT jsonb_agg(k.key ORDER BY k.n) FROM unnest(keys) WITH ORDINALITY AS k(key, n)
                     WHERE k.key = ANY(claimed))));
    RETURN claimed;
END
",
    },
];

/// The names of [`FUNCTIONS`], as the catalog holds them.
pub(super) fn function_names() -> Vec<String> {
    FUNCTIONS.iter().map(|f| expand(f.name, "")).collect()
}

/// The `CREATE OR REPLACE FUNCTION` statements of [`FUNCTIONS`], `{schema}`
/// and `{events}` still to be replaced; `insert_imported` is the import's
/// INSERT of the claimed rows.
pub(super) fn functions(insert_imported: &str) -> String {
    FUNCTIONS
        .iter()
        .map(|f| {
            let security = if f.definer { " SECURITY DEFINER" } else { "" };
            format!(
                "CREATE OR REPLACE FUNCTION {{schema}}.{}({}) RETURNS {} LANGUAGE plpgsql{security} \
                 SET search_path = pg_catalog, {{schema}}, pg_temp AS $${}$$;\n",
                f.name,
                f.args,
                f.returns,
                body(f, insert_imported)
            )
        })
        .collect()
}

/// The `personal` column of a record a function writes: the acting
/// person's name salted (`store/personal.rs`), with the 122 random bits of
/// a version 4 UUID; nothing for a service or a process.
const SALTED_ACTOR_NAME: &str = "CASE WHEN actor_kind = 'user' THEN \
     jsonb_build_object('actor_name', jsonb_build_object('salt', \
     replace(gen_random_uuid()::text, '-', '')))::text END";

/// A function's body with the library's own placeholders replaced (not
/// `{schema}` and `{events}`).
pub(super) fn body(f: &Function, insert_imported: &str) -> String {
    f.body
        .replace("{caller_is_owner}", CALLER_IS_OWNER)
        .replace("{salted_actor_name}", SALTED_ACTOR_NAME)
        .replace("{insert_imported}", insert_imported)
        .replace("{pruned_code}", crate::store::table::PRUNED_EVENT_CODE)
        .replace("{prune_command}", crate::store::table::PRUNE_COMMAND)
        .replace("{imported_code}", IMPORTED_EVENT_CODE)
        .replace("{import_record_command}", IMPORT_RECORD_COMMAND)
        .replace("{import_command}", IMPORT_COMMAND)
}

/// `PUBLIC` may execute no function of the audit schema.
pub(super) fn function_privileges() -> String {
    FUNCTIONS
        .iter()
        .map(|f| {
            format!(
                "REVOKE ALL ON FUNCTION {{schema}}.{}({}) FROM PUBLIC;\n",
                f.name, f.args
            )
        })
        .collect()
}

/// `pg_trigger.tgtype` bits.
const ROW: i16 = 1;
const BEFORE: i16 = 2;
const INSERT: i16 = 4;
const DELETE: i16 = 8;
const UPDATE: i16 = 16;
const TRUNCATE: i16 = 32;

/// One trigger of the audit schema, as a sound schema holds it: what
/// `check_objects` compares with `pg_trigger`, field by field.
#[derive(Debug, Clone, Copy)]
pub(super) struct Trigger {
    /// The table it is on (`{events}` for the events table).
    pub table: &'static str,
    /// Its name.
    pub name: &'static str,
    /// The function it runs, in the audit schema.
    pub function: &'static str,
    /// Its timing, level and events (`pg_trigger.tgtype`).
    pub tgtype: i16,
    /// A constraint trigger, deferrable and initially deferred.
    pub deferred: bool,
    /// The name of its transition table of new rows.
    pub new_rows: Option<&'static str>,
    /// Whether it fires in replication sessions too (`ENABLE ALWAYS`): a
    /// session that sets `session_replication_role = replica` (the owner
    /// may) skips every other trigger.
    pub always: bool,
    /// The schema version that made it: a migration's script makes only
    /// the triggers of its version and before (a later one's table or
    /// function may not be there yet).
    pub since: i64,
}

impl Trigger {
    /// Its `CREATE` statement, its function named with its schema.
    pub(super) fn create(&self, table: &str) -> String {
        let timing = if self.tgtype & BEFORE != 0 {
            "BEFORE"
        } else {
            "AFTER"
        };
        let events: Vec<&str> = [
            (INSERT, "INSERT"),
            (UPDATE, "UPDATE"),
            (DELETE, "DELETE"),
            (TRUNCATE, "TRUNCATE"),
        ]
        .into_iter()
        .filter(|(bit, _)| self.tgtype & bit != 0)
        .map(|(_, name)| name)
        .collect();
        let level = if self.tgtype & ROW != 0 {
            "ROW"
        } else {
            "STATEMENT"
        };
        let constraint = if self.deferred { "CONSTRAINT " } else { "" };
        let deferral = if self.deferred {
            " DEFERRABLE INITIALLY DEFERRED"
        } else {
            ""
        };
        let referencing = self
            .new_rows
            .map(|name| format!(" REFERENCING NEW TABLE AS {name}"))
            .unwrap_or_default();
        let always = if self.always {
            format!(
                "ALTER TABLE {{schema}}.{table} ENABLE ALWAYS TRIGGER {};\n",
                self.name
            )
        } else {
            String::new()
        };
        format!(
            "DROP TRIGGER IF EXISTS {name} ON {{schema}}.{table};\n\
             CREATE {constraint}TRIGGER {name} {timing} {events} ON {{schema}}.{table}{deferral}{referencing} \
             FOR EACH {level} EXECUTE FUNCTION {{schema}}.{function}();\n{always}",
            name = self.name,
            events = events.join(" OR "),
            function = self.function,
        )
    }
}

/// A trigger refusing updates and deletes of each row of `table`.
const fn no_change(table: &'static str, name: &'static str, function: &'static str) -> Trigger {
    Trigger {
        table,
        name,
        function,
        tgtype: ROW | BEFORE | UPDATE | DELETE,
        deferred: false,
        new_rows: None,
        always: false,
        since: 6,
    }
}

/// A trigger refusing `TRUNCATE` of `table`.
const fn no_truncate(table: &'static str, name: &'static str, function: &'static str) -> Trigger {
    Trigger {
        table,
        name,
        function,
        tgtype: BEFORE | TRUNCATE,
        deferred: false,
        new_rows: None,
        always: false,
        since: 6,
    }
}

/// The triggers on the audit schema's own tables.
pub(super) const OWN_TRIGGERS: [Trigger; 12] = [
    no_change("{events}", "{events}_no_change", "{events}_append_only"),
    no_truncate("{events}", "{events}_no_truncate", "{events}_append_only"),
    // Once per INSERT statement (the append path writes up to 500 rows in
    // one), reading only the statement's new rows.
    Trigger {
        table: "{events}",
        name: "{events}_own_records",
        function: "audit_own_records",
        tgtype: INSERT,
        deferred: false,
        new_rows: Some("new_rows"),
        always: false,
        since: 6,
    },
    // Once per INSERT statement, after the check above (triggers of one
    // kind fire in name order): the transaction's place in commit order.
    // Always, so that no event enters the log without a place, which
    // followers and seals would never see.
    Trigger {
        table: "{events}",
        name: "{events}_stamp_commit",
        function: "audit_stamp_commit",
        tgtype: INSERT,
        deferred: false,
        new_rows: None,
        always: true,
        since: 7,
    },
    Trigger {
        since: 7,
        ..no_change(
            "audit_commit_order",
            "audit_commit_order_no_change",
            "audit_seal_append_only",
        )
    },
    Trigger {
        since: 7,
        ..no_truncate(
            "audit_commit_order",
            "audit_commit_order_no_truncate",
            "audit_seal_append_only",
        )
    },
    no_change(
        "audit_seals",
        "audit_seals_no_change",
        "audit_seal_append_only",
    ),
    no_truncate(
        "audit_seals",
        "audit_seals_no_truncate",
        "audit_seal_append_only",
    ),
    no_change(
        "audit_seal_entries",
        "audit_seal_entries_no_change",
        "audit_seal_append_only",
    ),
    no_truncate(
        "audit_seal_entries",
        "audit_seal_entries_no_truncate",
        "audit_seal_append_only",
    ),
    no_change(
        "audit_import_keys",
        "audit_import_keys_no_change",
        "audit_seal_append_only",
    ),
    no_truncate(
        "audit_import_keys",
        "audit_import_keys_no_truncate",
        "audit_seal_append_only",
    ),
];

/// The triggers [`protect_table`] puts on a protected table (`table` is
/// ignored: each is on the table protected).
pub(super) const PROTECTION_TRIGGERS: [Trigger; 2] = [
    Trigger {
        table: "",
        name: "audit_required",
        function: "audit_require_event",
        tgtype: ROW | INSERT | UPDATE | DELETE,
        deferred: true,
        new_rows: None,
        always: false,
        since: 6,
    },
    no_truncate("", "audit_no_truncate", "audit_refuse_truncate"),
];

/// The `CREATE` statements of [`OWN_TRIGGERS`] made by `version` or before.
pub(super) fn create_triggers(version: i64) -> String {
    OWN_TRIGGERS
        .iter()
        .filter(|t| t.since <= version)
        .map(|t| t.create(t.table))
        .collect()
}

/// PostgreSQL triggers that refuse writes to `table` in a transaction that
/// records no audit event (checked at commit), and any `TRUNCATE`, and the
/// table's registration. `table` must be a plain identifier (checked by
/// the caller), in `schema` (quoted).
pub(super) fn protect_table(table: &str, schema: &str) -> String {
    let mut sql: String = PROTECTION_TRIGGERS
        .iter()
        .map(|t| t.create(table))
        .collect();
    sql.push_str(&format!(
        "INSERT INTO {{schema}}.audit_protected_tables (name) VALUES ('{table}') ON CONFLICT DO NOTHING;"
    ));
    sql.replace("{schema}", schema)
}
