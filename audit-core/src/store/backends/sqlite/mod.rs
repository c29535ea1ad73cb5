//! SQLite's [`Storage`]: one writer at a time (`BEGIN IMMEDIATE` takes the
//! write lock), so ids are commit order and the write lock serializes what
//! PostgreSQL serializes with advisory locks. Its schema is in `schema.rs`.

mod schema;

use std::collections::HashSet;
use std::sync::Arc;

use sqlx::{SqliteConnection, SqlitePool};

use super::storage::{Deleted, ImportBatch, PruneBatch, Storage, sealed_digest};
use crate::actor::Actor;
use crate::store::error::{AuditError, classify};
use crate::store::position::{HeldBack, Position};
use crate::store::schema::{V1_INDEXES, expand, script_index};
use crate::store::seal::encoding::StoredValue;
use crate::store::seal::raw::{CHUNK, Entry, RawEvent, UNREADABLE};
use crate::store::table::{
    ColumnType, EVENTS_TABLE, EventRow, Value, WRITTEN, events_table, written_names,
};

/// SQLite.
pub(crate) struct Sqlite;

/// Rows per SQLite INSERT: 15 parameters each stays far below SQLite's
/// limit of 32,766.
const ROWS_PER_INSERT: usize = 200;

impl Storage for Sqlite {
    type Database = sqlx::Sqlite;

    const ABSENT_TABLES: &'static [&'static str] = &[
        "audit_protected_tables",
        "audit_commit_order",
        "audit_commit_clock",
    ];

    fn migration_script(version: i64, schema_name: &str) -> String {
        let mut script = schema::SCRIPTS[script_index(version)].to_owned();
        if version == 1 {
            script.push_str(V1_INDEXES);
        }
        for (_, trigger) in schema::triggers_of(version) {
            script.push_str(trigger);
            script.push_str(";\n");
        }
        expand(&script, schema_name)
    }

    /// Versions 8 and 9 add columns, 8 widens a check (`schema::before_v8`).
    async fn before_script(conn: &mut SqliteConnection, version: i64) -> Result<(), AuditError> {
        match version {
            8 => schema::before_v8(conn).await,
            9 => schema::before_v9(conn).await,
            _ => Ok(()),
        }
    }

    async fn current_schema(_: &mut SqliteConnection) -> Result<String, AuditError> {
        Ok(String::new())
    }

    async fn has_audit_functions(_: &SqlitePool) -> Result<bool, AuditError> {
        Ok(false)
    }

    /// SQLite's triggers are exactly the schema's.
    async fn check_objects(
        pool: &SqlitePool,
        problems: &mut Vec<String>,
    ) -> Result<(), AuditError> {
        for (name, definition) in schema::TRIGGERS {
            let name = expand(name, "");
            let stored: Option<String> = sqlx::query_scalar(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = $1",
            )
            .bind(&name)
            .fetch_optional(pool)
            .await?;
            match stored {
                None => problems.push(format!("trigger `{name}` is missing")),
                Some(sql) if sql != expand(definition, "") => {
                    problems.push(format!("trigger `{name}` was altered"))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    async fn after_repair(_: &mut SqliteConnection) -> Result<(), AuditError> {
        Ok(())
    }

    /// SQLite has no transaction identity a trigger could compare, so there
    /// the guarantee is the compile-time one (only commands get write
    /// access to an immutable model).
    const PROTECTS_TABLES: bool = false;

    async fn protect_table(_: &mut SqliteConnection, _: &str) -> Result<bool, AuditError> {
        Ok(false)
    }

    /// SQLite has no roles: whoever can open the file has every right.
    async fn grant_role(_: &SqlitePool, _: &str) -> Result<(), AuditError> {
        Ok(())
    }

    /// The write lock that `BEGIN IMMEDIATE` took already serializes.
    async fn lock(_: &mut SqliteConnection, _: i64) -> Result<(), AuditError> {
        Ok(())
    }

    /// SQLite reports a transaction it rolled back itself when COMMIT comes.
    async fn before_empty_commit(_: &mut SqliteConnection) -> Result<(), AuditError> {
        Ok(())
    }

    /// Multi-row INSERTs with positional `?` parameters. (Numbered `$n`
    /// parameters are named parameters to SQLite, and binding by name
    /// costs a scan of all names per parameter: quadratic in the batch.)
    ///
    /// Not one bound JSON array expanded by `json_each`, as on PostgreSQL:
    /// measured with callgrind (100-event commands, `synchronous` OFF), it
    /// saves the binds but SQLite's JSON functions cost more than they do
    /// (7.3 M instructions per command against 6.9 M; 11.7 M when each
    /// `value ->> i` reads `json_each`'s `value`, which SQLite renders as
    /// text again for every use).
    async fn append(
        conn: &mut SqliteConnection,
        rows: &[(&Actor, &EventRow)],
    ) -> Result<(), AuditError> {
        let one_row = format!("({})", vec!["?"; WRITTEN.len()].join(", "));
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO {EVENTS_TABLE} ({}) VALUES {}",
                written_names(),
                vec![one_row.as_str(); chunk.len()].join(", ")
            );
            // Built from the table's own names and `?` placeholders; every value is bound.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            let mut shared = SharedText::default();
            for (actor, row) in chunk {
                for (column, value) in row.values(actor).into_iter().enumerate() {
                    query = match value {
                        Value::Int(i) => query.bind(i),
                        Value::Text(text) => query.bind(text.map(|t| shared.copy(column, t))),
                    };
                }
            }
            query.execute(&mut *conn).await.map_err(classify)?;
        }
        Ok(())
    }

    /// The id column takes a given id as it is.
    const ANCHOR_OVERRIDING: &'static str = "";

    /// The payload is text.
    const JSON_CAST: &'static str = "";

    /// A row of a table that only this transaction's writes can see.
    const ERASURE_PERMIT: [&'static str; 2] = [
        "INSERT INTO audit_erasure_permit (granted) VALUES (1)",
        "DELETE FROM audit_erasure_permit",
    ];

    /// Copies the write-ahead log into the database file and truncates it
    /// (`secure_delete`, on for every connection, has zeroed the old
    /// values in the pages themselves): waits for readers as the busy
    /// timeout allows, and warns if some still held the log.
    async fn after_erasure(pool: &SqlitePool) -> Result<(), AuditError> {
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(pool)
            .await
            .map_err(classify)?;
        if busy != 0 {
            tracing::warn!(
                "after an erasure, readers kept the write-ahead log from being truncated: \
                 erased values may remain in its file until the next checkpoint"
            );
        }
        Ok(())
    }

    /// The keys first (in byte order, the write lock held), then the
    /// claimed rows and the record, by [`append`](Self::append). Whoever
    /// has the file may write keys as they like.
    async fn import_batch(
        conn: &mut SqliteConnection,
        batch: &ImportBatch<'_>,
    ) -> Result<Vec<String>, AuditError> {
        let mut keys: Vec<(&str, &str)> = batch
            .keys
            .iter()
            .zip(&batch.rows)
            .map(|(key, (_, row))| (*key, row.code))
            .collect();
        keys.sort_unstable();
        let values = vec!["(?, ?, ?)"; keys.len()].join(", ");
        let sql = format!(
            "INSERT INTO audit_import_keys (import_key, run_id, event_type) VALUES {values} \
             ON CONFLICT (import_key) DO NOTHING RETURNING import_key"
        );
        // Our own statement and `?` placeholders; every value is bound.
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        for (key, code) in &keys {
            query = query.bind(*key).bind(batch.run_id).bind(*code);
        }
        let claimed: Vec<String> = query.fetch_all(&mut *conn).await.map_err(classify)?;
        if claimed.is_empty() {
            return Ok(claimed);
        }
        let new: HashSet<&str> = claimed.iter().map(String::as_str).collect();
        let rows: Vec<(&Actor, &EventRow)> = batch
            .keys
            .iter()
            .zip(&batch.rows)
            .filter(|(key, _)| new.contains(**key))
            .map(|(_, row)| *row)
            .collect();
        Self::append(&mut *conn, &rows).await?;
        let record = batch.record(&claimed, chrono::Utc::now().timestamp_micros())?;
        Self::append(&mut *conn, &[(batch.actor, &record)]).await?;
        Ok(claimed)
    }

    /// The permit is a row of `audit_retention_permit`, written for the
    /// DELETE and removed after it; whoever has the file can write it. The
    /// ids go first, read under the write lock (so the DELETE removes
    /// exactly them), with their seal entries' hashes for the record.
    async fn prune_batch(
        conn: &mut SqliteConnection,
        batch: &PruneBatch<'_>,
    ) -> Result<u64, AuditError> {
        const CHOSEN: &str = concat!(
            "SELECT e.id, s.event_hash FROM ",
            events_table!(),
            " e LEFT JOIN audit_seal_entries s ON s.tx = 0 AND s.id = e.id \
             WHERE e.occurred_at < $1 AND substr(e.event_type, 1, 6) <> 'audit:' AND e.id > 0 \
             ORDER BY e.id LIMIT $2"
        );
        const DELETE: &str = concat!(
            "DELETE FROM ",
            events_table!(),
            " WHERE id IN (SELECT value FROM json_each($1))"
        );
        let chosen: Vec<(i64, Option<String>)> = sqlx::query_as(CHOSEN)
            .bind(batch.cutoff)
            .bind(batch.max_rows)
            .fetch_all(&mut *conn)
            .await
            .map_err(classify)?;
        let ids: Vec<i64> = chosen.iter().map(|(id, _)| *id).collect();
        sqlx::query("INSERT INTO audit_retention_permit (granted) VALUES (1)")
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
        let count = sqlx::query(DELETE)
            .bind(serde_json::Value::from(ids.clone()).to_string())
            .execute(&mut *conn)
            .await
            .map_err(classify)?
            .rows_affected();
        sqlx::query("DELETE FROM audit_retention_permit")
            .execute(&mut *conn)
            .await?;
        let hashes: Vec<&str> = chosen.iter().filter_map(|(_, h)| h.as_deref()).collect();
        let deleted = Deleted {
            count: i64::try_from(count).unwrap_or(i64::MAX),
            first: ids.first().map(|id| (0, *id)),
            last: ids.last().map(|id| (0, *id)),
            sealed: hashes.len() as i64,
            sealed_digest: sealed_digest(hashes),
        };
        let now = chrono::Utc::now().timestamp_micros();
        let record = batch.record(&deleted, now, uuid::Uuid::new_v4().to_string())?;
        Self::append(&mut *conn, &[(batch.actor, &record)]).await?;
        Ok(count)
    }

    /// The entries as one JSON array of `[tx, id, occurred_at, event_hash,
    /// column_tags]` arrays, expanded by `json_each`.
    async fn insert_seal_entries(
        conn: &mut SqliteConnection,
        seal_seq: i64,
        entries: &[(Position, i64, String, String)],
    ) -> Result<(), AuditError> {
        let rows: Vec<serde_json::Value> = entries
            .iter()
            .map(|(position, occurred_at, hash, tags)| {
                serde_json::json!([position.tx(), position.id(), occurred_at, hash, tags])
            })
            .collect();
        let entries_json = serde_json::Value::Array(rows).to_string();
        const INSERT: &str = "INSERT INTO audit_seal_entries \
            (seal_seq, tx, id, occurred_at, event_hash, column_tags) \
            SELECT $1, json_extract(value, '$[0]'), json_extract(value, '$[1]'), \
            json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]') \
            FROM json_each($2)";
        sqlx::query(INSERT)
            .bind(seal_seq)
            .bind(entries_json)
            .execute(conn)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// One writer at a time: ids alone are commit order.
    async fn read_after(
        pool: &SqlitePool,
        select: &str,
        after: Position,
        limit: i64,
    ) -> Result<Vec<sqlx::sqlite::SqliteRow>, AuditError> {
        let sql = format!("SELECT {select} FROM {EVENTS_TABLE} WHERE id > $1 ORDER BY id LIMIT $2");
        // Our own fragments and numbered placeholders; every value is bound.
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after.id().max(0))
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(classify)
    }

    /// By id, up to `until` or the end (one writer: every committed event
    /// is stable); the unused parameters (`$2`, `$4`: the positions'
    /// transactions, always 0 here) keep the binds the same as PostgreSQL's.
    async fn seal_event_rows(
        conn: &mut SqliteConnection,
        select: &str,
        after: Position,
        until: Option<Position>,
    ) -> Result<Vec<sqlx::sqlite::SqliteRow>, AuditError> {
        let until = until.unwrap_or(Position::new(i64::MAX, i64::MAX));
        let sql = format!(
            "SELECT {select} FROM {EVENTS_TABLE} WHERE id > 0 AND id > $1 AND $2 >= 0 \
             AND id <= $3 AND $4 >= 0 ORDER BY id LIMIT $5"
        );
        // Our own fragments and numbered placeholders; every value is bound.
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after.id())
            .bind(0_i64)
            .bind(until.id())
            .bind(0_i64)
            .bind(CHUNK)
            .fetch_all(conn)
            .await
            .map_err(classify)
    }

    /// One row for the whole chunk: sqlx's SQLite worker hands over each
    /// row and value on its own, which halved the throughput. The chunk as
    /// one JSON array of rows, or `None` when a row holds a value JSON
    /// cannot carry (a BLOB), to be read row by row instead.
    async fn seal_events_in_one_go(
        conn: &mut SqliteConnection,
        after: Position,
        until: Position,
    ) -> Result<Option<Vec<RawEvent>>, AuditError> {
        let columns: Vec<&str> = WRITTEN.iter().map(|(name, _)| *name).collect();
        let sql = format!(
            "SELECT json_group_array(json_array(id, {})) FROM (SELECT * FROM {EVENTS_TABLE} \
             WHERE id > 0 AND id > $1 AND id <= $2 ORDER BY id LIMIT $3)",
            columns.join(", ")
        );
        // Our own column names and placeholders; every value is bound.
        let json: Result<String, sqlx::Error> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(after.id())
            .bind(until.id())
            .bind(CHUNK)
            .fetch_one(&mut *conn)
            .await;
        let json = match json {
            Ok(json) => json,
            Err(sqlx::Error::Database(e)) if e.message().contains("BLOB") => return Ok(None),
            Err(e) => return Err(classify(e)),
        };
        let Ok(rows) = serde_json::from_str::<Vec<Vec<serde_json::Value>>>(&json) else {
            return Ok(None);
        };
        let mut events: Vec<RawEvent> = rows.iter().map(|row| json_event(row)).collect();
        events.sort_by_key(|e| e.position);
        Ok(Some(events))
    }

    /// One row for the whole chunk, as for events; on any error, or a value
    /// of another type (written by hand), `None`.
    async fn seal_entries_in_one_go(
        conn: &mut SqliteConnection,
        after: Position,
    ) -> Result<Option<Vec<Entry>>, AuditError> {
        const JSON: &str = "SELECT json_group_array(json_array(seal_seq, tx, id, occurred_at, \
            event_hash, column_tags)) FROM (SELECT * FROM audit_seal_entries \
            WHERE (tx, id) > ($1, $2) ORDER BY tx, id LIMIT $3)";
        let json: Option<String> = sqlx::query_scalar(JSON)
            .bind(after.tx())
            .bind(after.id())
            .bind(CHUNK)
            .fetch_one(&mut *conn)
            .await
            .ok();
        let rows = json.and_then(|j| serde_json::from_str::<Vec<JsonEntry>>(&j).ok());
        Ok(rows.map(|rows| {
            let mut entries: Vec<Entry> = rows.into_iter().map(Entry::from).collect();
            entries.sort_by_key(|e| e.position);
            entries
        }))
    }

    /// Never: one writer at a time, and a committed event is readable at
    /// once.
    async fn held_back(_: &SqlitePool) -> Result<Option<HeldBack>, AuditError> {
        Ok(None)
    }
}

/// The copies of a batch's text values that sqlx's SQLite arguments own,
/// shared between rows: a value equal to the previous row's in the same
/// column (the actor, the command, the kinds, often the type: most of a
/// command's columns) reuses that row's copy instead of allocating another.
/// (sqlx 0.9 copies every bound `&str` or `String` into a new `Arc`; for a
/// 100-event command that was two allocations for each of its 1,300 text
/// values.)
#[derive(Default)]
struct SharedText<'r> {
    last: [Option<(&'r str, Arc<str>)>; WRITTEN.len()],
}

impl<'r> SharedText<'r> {
    /// The owned copy of `text`, the value of `column`.
    fn copy(&mut self, column: usize, text: &'r str) -> Arc<str> {
        match &mut self.last[column] {
            Some((last, copy)) if *last == text => Arc::clone(copy),
            slot => Arc::clone(&slot.insert((text, Arc::from(text))).1),
        }
    }
}

/// One row of [`Sqlite::seal_events_in_one_go`]: the id, then every
/// written value.
fn json_event(row: &[serde_json::Value]) -> RawEvent {
    use serde_json::Value;
    let int = |value: Option<&Value>| match value {
        Some(Value::Null) | None => StoredValue::Null,
        Some(v) => v
            .as_i64()
            .filter(|_| v.is_i64() || v.is_u64())
            .map_or(StoredValue::Text(UNREADABLE.into()), StoredValue::Int),
    };
    let text = |value: Option<&Value>| match value {
        Some(Value::Null) | None => StoredValue::Null,
        Some(Value::String(t)) => StoredValue::Text(t.clone()),
        Some(_) => StoredValue::Text(UNREADABLE.into()),
    };
    let mut values = vec![StoredValue::Int(0), int(row.first())];
    for (i, (_, ty)) in WRITTEN.iter().enumerate() {
        let value = row.get(i + 1);
        values.push(match ty {
            ColumnType::Int => int(value),
            ColumnType::Text | ColumnType::Json => text(value),
        });
    }
    RawEvent::from_values(values)
}

/// One entry as [`Sqlite::seal_entries_in_one_go`] reads it from JSON;
/// anything else (a value of another type, written by hand) is read row by
/// row instead.
#[derive(serde::Deserialize)]
struct JsonEntry(i64, i64, i64, i64, String, String);

impl From<JsonEntry> for Entry {
    fn from(JsonEntry(seal_seq, tx, id, occurred_at, event_hash, column_tags): JsonEntry) -> Self {
        Entry {
            seal_seq,
            position: Position::new(tx, id),
            occurred_at,
            event_hash,
            column_tags,
        }
    }
}
