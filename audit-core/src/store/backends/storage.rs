//! [`Storage`]: everything a backend does its own way, as one trait. The
//! store's logic (what to write, when to lock, what to check, in which
//! transaction) is written once and calls these methods through
//! `with_storage!`; each backend's module implements them with its own SQL.

use std::collections::HashSet;

use crate::actor::Actor;
use crate::reference::References;
use crate::store::error::AuditError;
use crate::store::personal::salted;
use crate::store::position::{HeldBack, Position};
use crate::store::seal::raw::{Entry, RawEvent};
use crate::store::table::{
    EventRow, IMPORT_RECORD_COMMAND, IMPORTED_EVENT_CODE, PRUNE_COMMAND, PRUNED_EVENT_CODE,
};

/// A backend's connection (inside a transaction or not).
pub(crate) type Connection<S> = <<S as Storage>::Database as sqlx::Database>::Connection;

/// A backend's pool.
pub(crate) type Pool<S> = sqlx::Pool<<S as Storage>::Database>;

/// A row a backend reads.
pub(crate) type Row<S> = <<S as Storage>::Database as sqlx::Database>::Row;

/// What one backend does its own way: its SQL for the schema (migrations,
/// checks, protections, grants), for writing (events, import keys, seal
/// entries), for deleting (retention), for locking, and for reading in
/// commit order (a follower's tail, sealing and verifying).
///
/// Implemented by a unit struct per backend, each in its own module and
/// compiled with its feature; `with_storage!` picks the one a pool or a
/// connection belongs to. Statically dispatched: each call site is compiled
/// once per backend, with that backend's types, so a method may hand back
/// the backend's own rows for the core to decode.
///
/// Errors: a method maps a statement's error with `classify` where the
/// core did before this trait existed (writes, retention, the reads'
/// statements), and converts it plainly elsewhere (catalog reads, locks).
pub(crate) trait Storage {
    /// The sqlx database.
    type Database: sqlx::Database;

    // The schema.

    /// The tables of `schema::OWN_TABLES` this backend's schema does not
    /// have (SQLite: `audit_protected_tables`).
    const ABSENT_TABLES: &'static [&'static str];

    /// The script of migration `version`, in schema `schema` (the text
    /// [`current_schema`](Self::current_schema) gave).
    fn migration_script(version: i64, schema: &str) -> String;

    /// What migration `version` does before its script that SQL alone
    /// cannot do again safely (a repair runs every script again): SQLite
    /// has no `ADD COLUMN IF NOT EXISTS`, and changes a table's `CHECK`
    /// only by rewriting its definition.
    async fn before_script(conn: &mut Connection<Self>, version: i64) -> Result<(), AuditError>;

    /// The schema the audit objects live in, quoted for DDL; empty where
    /// there are no schemas (SQLite).
    async fn current_schema(conn: &mut Connection<Self>) -> Result<String, AuditError>;

    /// Whether any function of the audit schema exists (they outlive a
    /// dropped table on PostgreSQL; SQLite has none).
    async fn has_audit_functions(pool: &Pool<Self>) -> Result<bool, AuditError>;

    /// Checks the schema's own objects (triggers, functions, the protected
    /// tables' triggers) against what a sound schema holds, adding one
    /// sentence per problem to `problems`.
    async fn check_objects(pool: &Pool<Self>, problems: &mut Vec<String>)
    -> Result<(), AuditError>;

    /// What a repair restores after running every migration's script again,
    /// in its transaction (PostgreSQL: the registered tables' protection).
    async fn after_repair(conn: &mut Connection<Self>) -> Result<(), AuditError>;

    /// Whether this backend protects immutable tables. When not (SQLite),
    /// `Auditor::protect_immutable_table` only checks the name, and takes no
    /// lock.
    const PROTECTS_TABLES: bool;

    /// Protects `table` (a plain identifier) in the transaction of `conn`,
    /// which holds the migration lock, and registers it; false when it
    /// already was, with its triggers in place, so that nothing changed
    /// (the transaction then rolls back). Called only when
    /// [`PROTECTS_TABLES`](Self::PROTECTS_TABLES).
    async fn protect_table(conn: &mut Connection<Self>, table: &str) -> Result<bool, AuditError>;

    /// Grants `role` (a plain identifier) what an application needs of the
    /// log, and no more (see `Auditor::grant_application_role`); nothing
    /// where there are no roles (SQLite).
    async fn grant_role(pool: &Pool<Self>, role: &str) -> Result<(), AuditError>;

    // Transactions.

    /// Takes lock `key` until the transaction of `conn` ends, so that work
    /// of one kind (migrations, seals, prunes) runs one at a time; nothing
    /// where the transaction's write lock already does (SQLite).
    async fn lock(conn: &mut Connection<Self>, key: i64) -> Result<(), AuditError>;

    /// Runs before COMMIT of a transaction that wrote no event, so that a
    /// failed transaction's COMMIT is an error, not a silent rollback.
    async fn before_empty_commit(conn: &mut Connection<Self>) -> Result<(), AuditError>;

    // Writing and deleting.

    /// Writes `rows`, each acting for its actor, in the order given (the
    /// one path of every row but the anchor into the events table).
    async fn append(
        conn: &mut Connection<Self>,
        rows: &[(&Actor, &EventRow)],
    ) -> Result<(), AuditError>;

    /// What follows the column list of the anchor's INSERT (it gives the
    /// id, 0, itself), where the database would otherwise refuse to take
    /// the id from it.
    const ANCHOR_OVERRIDING: &'static str;

    /// The cast of a bound text to the payload column's type, after its
    /// placeholder; empty where the column is text.
    const JSON_CAST: &'static str;

    /// The statements that write and take back the permit with which
    /// `Auditor::erase` replaces personal values (the update trigger checks
    /// it), in its transaction.
    const ERASURE_PERMIT: [&'static str; 2];

    /// After an erasure commits: what leaves none of the erased bytes in
    /// the database's files, where the backend can do it at once.
    async fn after_erasure(pool: &Pool<Self>) -> Result<(), AuditError>;

    /// Writes one batch of an import in the transaction of `conn`: claims
    /// the keys not yet imported (in byte order of the keys, so that
    /// concurrent importers wait for each other instead of deadlocking),
    /// writes the events of the claimed keys in the order given, and, when
    /// any was claimed, the run's record of them ([`ImportBatch::record`]);
    /// returns the claimed keys. Keys are written only with their events
    /// (PostgreSQL: by the owner's `audit_import_batch`, the application
    /// role's only way to write them).
    async fn import_batch(
        conn: &mut Connection<Self>,
        batch: &ImportBatch<'_>,
    ) -> Result<Vec<String>, AuditError>;

    /// Deletes up to `max_rows` of the oldest events (in position order)
    /// before the cutoff that are not the log's own records, in the
    /// transaction of `conn`, through the schema's one permitted way, and
    /// writes the record of what went ([`PruneBatch::record`]); returns how
    /// many went. PostgreSQL's `audit_prune_batch` does all of it, refusing
    /// any caller but the owner and any cutoff the stored minimum retention
    /// does not allow.
    async fn prune_batch(
        conn: &mut Connection<Self>,
        batch: &PruneBatch<'_>,
    ) -> Result<u64, AuditError>;

    /// Writes seal `seal_seq`'s entries, `(position, occurred_at,
    /// event_hash, column_tags)` each, in one statement (binding six values
    /// per row would cost a crossing of sqlx's SQLite worker channel each).
    async fn insert_seal_entries(
        conn: &mut Connection<Self>,
        seal_seq: i64,
        entries: &[(Position, i64, String, String)],
    ) -> Result<(), AuditError>;

    // Reading in commit order (G12).

    /// A follower's next rows: the select list `select` of at most `limit`
    /// events after `after` that no later commit can precede, in commit
    /// order, the anchor excluded (`Auditor::read_after`).
    async fn read_after(
        pool: &Pool<Self>,
        select: &str,
        after: Position,
        limit: i64,
    ) -> Result<Vec<Row<Self>>, AuditError>;

    /// The select list `select` of the events after `after`, at most
    /// `CHUNK`, in position order, the anchor excluded: what sealing and
    /// verifying read. With `until` (verifying), those up to it
    /// (inclusive), a sealed position, before which no commit can come;
    /// without (sealing), those that no later commit can precede.
    async fn seal_event_rows(
        conn: &mut Connection<Self>,
        select: &str,
        after: Position,
        until: Option<Position>,
    ) -> Result<Vec<Row<Self>>, AuditError>;

    /// The events of [`seal_event_rows`](Self::seal_event_rows) read in one
    /// go (up to `until`, the greatest position when sealing), where the
    /// backend has a faster way than row by row; `None`:
    /// read them row by row.
    async fn seal_events_in_one_go(
        conn: &mut Connection<Self>,
        after: Position,
        until: Position,
    ) -> Result<Option<Vec<RawEvent>>, AuditError>;

    /// The seal entries after `after`, at most `CHUNK`, in position order,
    /// read in one go, where the backend has a faster way than row by row;
    /// `None`: read them row by row.
    async fn seal_entries_in_one_go(
        conn: &mut Connection<Self>,
        after: Position,
    ) -> Result<Option<Vec<Entry>>, AuditError>;

    /// The transaction that holds other writers' commits up (PostgreSQL's
    /// commit clock), with as much of its session as the role may see;
    /// `None` when none does, and always where none can (SQLite).
    async fn held_back(pool: &Pool<Self>) -> Result<Option<HeldBack>, AuditError>;
}

/// One transaction's share of an import, as a backend writes it.
pub(crate) struct ImportBatch<'a> {
    /// The run's id: the command id of its events and of its records.
    pub run_id: &'a str,
    /// Each row's import key, in the order of `rows`.
    pub keys: Vec<&'a str>,
    /// The events, each acting for its own actor, in the order given.
    pub rows: Vec<(&'a Actor, &'a EventRow)>,
    /// Who runs the import: the record's actor.
    pub actor: &'a Actor,
    /// The record's payload but for what the write decides (`imported`,
    /// `skipped`, `keys`): the source, the reason, the batch's number.
    pub summary: serde_json::Map<String, serde_json::Value>,
}

impl ImportBatch<'_> {
    /// The run's record of this batch, `claimed` being the keys written
    /// (in any order): the summary with how many were imported and skipped
    /// and their keys in the order given. PostgreSQL builds the same in
    /// `audit_import_batch`.
    pub(crate) fn record(
        &self,
        claimed: &[String],
        occurred_at: i64,
    ) -> Result<EventRow, AuditError> {
        let personal = salted(self.actor, None, &[])?;
        let claimed: HashSet<&str> = claimed.iter().map(String::as_str).collect();
        let keys: Vec<&str> = self
            .keys
            .iter()
            .copied()
            .filter(|k| claimed.contains(k))
            .collect();
        let mut payload = self.summary.clone();
        payload.insert("imported".into(), keys.len().into());
        payload.insert("skipped".into(), (self.keys.len() - keys.len()).into());
        payload.insert("keys".into(), keys.into());
        Ok(EventRow {
            occurred_at,
            code: IMPORTED_EVENT_CODE,
            version: 1,
            references: References::default(),
            command_name: IMPORT_RECORD_COMMAND,
            command_id: self.run_id.to_owned(),
            payload: serde_json::Value::Object(payload).to_string(),
            context: None,
            personal,
        })
    }
}

/// One batch of a prune, as a backend runs it.
pub(crate) struct PruneBatch<'a> {
    /// Events that occurred before this (microseconds since the epoch) go.
    pub cutoff: i64,
    /// At most this many.
    pub max_rows: i64,
    /// The batch's number in its prune, from 1.
    pub number: i64,
    /// Who prunes: the record's actor.
    pub actor: &'a Actor,
    /// Why, as given.
    pub reason: &'a str,
}

/// What a prune batch deleted, for its record: the first and last
/// position (as `[tx, id]`), and of the deleted events that were sealed,
/// how many and the SHA-256 of their seal entries' event hashes (hex),
/// concatenated in position order. Verification binds the record to
/// exactly those events with it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Deleted {
    /// How many events went.
    pub count: i64,
    /// The first deleted event's position, as `(tx, id)`.
    pub first: Option<(i64, i64)>,
    /// The last deleted event's position.
    pub last: Option<(i64, i64)>,
    /// How many of them were sealed.
    pub sealed: i64,
    /// The digest of their seal entries' event hashes.
    pub sealed_digest: String,
}

impl PruneBatch<'_> {
    /// The record of this batch, which deleted `deleted` (version 2 of the
    /// record's payload; PostgreSQL's `audit_prune_batch` writes the same).
    pub(crate) fn record(
        &self,
        deleted: &Deleted,
        occurred_at: i64,
        command_id: String,
    ) -> Result<EventRow, AuditError> {
        let personal = salted(self.actor, None, &[])?;
        let before = chrono::DateTime::from_timestamp_micros(self.cutoff)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string());
        let payload = serde_json::json!({
            "before": before,
            "before_micros": self.cutoff,
            "deleted": deleted.count,
            "batch": self.number,
            "reason": self.reason,
            "first": deleted.first.map(|(tx, id)| [tx, id]),
            "last": deleted.last.map(|(tx, id)| [tx, id]),
            "sealed": deleted.sealed,
            "sealed_digest": deleted.sealed_digest,
        });
        Ok(EventRow {
            occurred_at,
            code: PRUNED_EVENT_CODE,
            version: 2,
            references: References::default(),
            command_name: PRUNE_COMMAND,
            command_id,
            payload: payload.to_string(),
            context: None,
            personal,
        })
    }
}

/// The digest of seal entries' event hashes (hex), in position order, as
/// a prune record holds it.
pub(crate) fn sealed_digest<'a>(event_hashes: impl IntoIterator<Item = &'a str>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for hash in event_hashes {
        h.update(hash.as_bytes());
    }
    hex::encode(h.finalize())
}
