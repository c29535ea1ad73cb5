//! The audit schema as versioned migrations: each version's number and
//! purpose, what both backends' scripts share (indexes), and the schema's
//! own tables and records. Applied versions are rows of `audit_schema`.
//! Each backend's scripts, and what a sound schema of it must hold (its
//! triggers and functions, checked by `status.rs`), sit together in its own
//! module (`backends/sqlite/schema.rs`, `backends/postgres/schema.rs`), so
//! that changing one shows the other. The DDL writes the events table as
//! `{events}` and (PostgreSQL) the schema as `{schema}`, replaced when it
//! runs ([`expand`]).

use super::table::EVENTS_TABLE;

/// The schema version this build creates and expects: the last migration's.
pub const SCHEMA_VERSION: i64 = 9;

/// Version 1's indexes (the reference columns' moved to version 5; both
/// replaced by version 7's, in time order: [`V7_INDEXES`]).
pub(crate) const V1_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS {events}_by_actor ON {events} (actor_kind, actor_id, id DESC);
CREATE INDEX IF NOT EXISTS {events}_by_type ON {events} (event_type, id DESC);
DROP INDEX IF EXISTS {events}_by_command;
";

/// Version 5, both backends: the indexes over the reference columns hold
/// only the rows that have the reference (`WHERE x_kind IS NOT NULL`),
/// since a page query always asks for one kind (`x_kind = ?`, which
/// implies it on both backends). A row without a parent (say) costs no
/// entry in the parent's index: on a log where most events lack some
/// reference, most inserts skip that index. (Pages were in id order then;
/// version 7 replaces these three, partial as they are, and version 1's
/// two with indexes in time order: [`V7_INDEXES`] lists what each serves.)
pub(crate) const V5_INDEXES: &str = "
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

/// Version 7, both backends: the page indexes order by the event's time.
/// Pages list events newest first by `occurred_at`, then id (which breaks
/// ties: one command's events share their time), with a keyset cursor on
/// both (`query/cursor.rs`); so each page index ends in
/// `occurred_at DESC, id DESC` after its equality columns, and every page,
/// from the first to the thousandth, with or without a time range
/// (`occurred_at` is the range's column too), reads one range of one index
/// in order, sorting nothing. Each index costs every insert (more pages
/// per commit), so there is none a page query does not use:
///
/// - `_by_parent_time`: the project page (events on parent P), and the
///   user page's part for a parent;
/// - `_by_target_time`: events on target X, and the user page's part for
///   their projects;
/// - `_by_subject_time`: events about subject S, and the user page's part
///   for what was done to them;
/// - `_by_actor_time`: events by actor A, and the user page's part for
///   what they did;
/// - `_by_type_time`: the type page (events of type T);
/// - `_by_time`: the global page (the primary key no longer serves it: ids
///   are not the events' time once events are imported or backfilled with
///   their own), and a page of several types, read in order and filtered;
/// - the primary key: one event by id, and the rows the union of the user
///   page's parts (`query/sql.rs`) picks, at most a page and one row per
///   part, sorted again;
/// - `_by_position` (PostgreSQL, version 3): reading after a position.
///
/// The reference columns' indexes keep version 5's rule: only the rows that
/// have the reference (`WHERE x_kind IS NOT NULL`). The indexes in id
/// order that these replace are dropped: version 1's `_by_actor` and
/// `_by_type`, version 5's `_by_parent_ref`, `_by_target_ref` and
/// `_by_subject_ref`. (A repair runs every script again: versions 1 and 5
/// make theirs again, and this one drops them once more.)
pub(crate) const V7_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS {events}_by_time ON {events} (occurred_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS {events}_by_actor_time
    ON {events} (actor_kind, actor_id, occurred_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS {events}_by_type_time ON {events} (event_type, occurred_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS {events}_by_parent_time
    ON {events} (parent_kind, parent_id, occurred_at DESC, id DESC)
    WHERE parent_kind IS NOT NULL;
CREATE INDEX IF NOT EXISTS {events}_by_target_time
    ON {events} (target_kind, target_id, occurred_at DESC, id DESC)
    WHERE target_kind IS NOT NULL;
CREATE INDEX IF NOT EXISTS {events}_by_subject_time
    ON {events} (subject_kind, subject_id, occurred_at DESC, id DESC)
    WHERE subject_kind IS NOT NULL;
DROP INDEX IF EXISTS {events}_by_actor;
DROP INDEX IF EXISTS {events}_by_type;
DROP INDEX IF EXISTS {events}_by_parent_ref;
DROP INDEX IF EXISTS {events}_by_target_ref;
DROP INDEX IF EXISTS {events}_by_subject_ref;
";

/// Version 8's indexes: all events of one request (the pages' order), and
/// all events from one client address; each holds only the rows that have
/// the value (the events written with a context).
pub(crate) const V8_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS {events}_by_request_time
    ON {events} (request_id, occurred_at DESC, id DESC)
    WHERE request_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS {events}_by_client_time
    ON {events} (client_address, occurred_at DESC, id DESC)
    WHERE client_address IS NOT NULL;
";

/// The actor kinds the events table accepts from version 8 on (a person
/// acting as another is stored as `user`, with the other person beside it).
pub(crate) const V8_ACTOR_KINDS: &str = "'user', 'service', 'system'";

/// One version of the schema; each backend has its script
/// (`Storage::migration_script`).
pub(crate) struct Migration {
    /// Its number; applied in order, each once.
    pub version: i64,
    /// What it does, for errors and logs.
    pub description: &'static str,
}

/// Every version, in order. Each script is idempotent (it creates what is
/// missing and replaces what it defines), so a repair runs them all again.
pub(crate) const MIGRATIONS: [Migration; 9] = [
    Migration {
        version: 1,
        description: "the events table, its indexes and append-only triggers",
    },
    Migration {
        version: 2,
        description: "the log's identity, owner-only retention, records that are never pruned",
    },
    Migration {
        version: 3,
        description: "positions in commit order, and the seals",
    },
    Migration {
        version: 4,
        description: "the keys of imported events",
    },
    Migration {
        version: 5,
        description: "indexes over the reference columns hold only rows that have the reference",
    },
    Migration {
        version: 6,
        description: "the minimum retention in the schema; functions that cannot be redirected, \
                      owner-only records and retention, imports through one function",
    },
    Migration {
        version: 7,
        description: "positions in commit order (PostgreSQL), pages ordered by the events' time",
    },
    Migration {
        version: 8,
        description: "who acted for whom, service actors, and each event's context \
                      (request, client address and the rest)",
    },
    Migration {
        version: 9,
        description: "salts for personal values, and their erasure (Auditor::erase)",
    },
];

/// Where `version`'s script is in each backend's list of scripts (one per
/// migration, in the order of [`MIGRATIONS`]).
pub(crate) fn script_index(version: i64) -> usize {
    MIGRATIONS
        .iter()
        .position(|m| m.version == version)
        .expect("invariant: scripts are asked for the versions of MIGRATIONS")
}

/// Replaces the events table's and the schema's placeholders.
pub(crate) fn expand(text: &str, schema: &str) -> String {
    text.replace("{events}", EVENTS_TABLE)
        .replace("{schema}", schema)
}

/// Tables of the audit schema itself, never application models.
pub(crate) const OWN_TABLES: [&str; 12] = [
    EVENTS_TABLE,
    "audit_schema",
    "audit_retention_permit",
    "audit_log_identity",
    "audit_protected_tables",
    "audit_seals",
    "audit_seal_entries",
    "audit_import_keys",
    "audit_settings",
    "audit_commit_order",
    "audit_commit_clock",
    "audit_erasure_permit",
];

/// Functions of the audit schema that the library calls by name.
pub(crate) const OWN_FUNCTIONS: [&str; 2] = ["audit_prune_batch", "audit_import_batch"];

/// The type code of the log's anchor: the row with id 0 of the events
/// table, written by the migration that made the log, whose command id
/// `audit_log_identity` keeps. Queries never return it. If the table is
/// dropped and made again, it is gone, and `schema_status` says so.
pub(crate) const LOG_CREATED_CODE: &str = "audit:log_created";

/// The type code of the event a schema repair records.
pub(crate) const SCHEMA_REPAIRED_CODE: &str = "audit:schema_repaired";

/// Whether `name` is a plain lowercase SQL identifier, safe to splice into DDL.
pub(crate) fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}
