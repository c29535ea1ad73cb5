//! Reading events and seal entries for sealing and verifying, in position
//! order, a chunk at a time.

use super::encoding::{StoredValue, StoredValues};
use crate::backend::{Backend, Db};
use crate::on_backend;
use crate::store::error::{AuditError, classify};
use crate::store::position::Position;
use crate::store::table::{ColumnType, EVENTS_TABLE, WRITTEN, select_list};

/// Rows read per query.
pub(crate) const CHUNK: i64 = 5_000;

/// One event as stored: its position, time and values.
pub(crate) struct RawEvent {
    pub position: Position,
    pub occurred_at: i64,
    pub values: StoredValues,
}

impl RawEvent {
    /// An event from its values, in `encoding::value_names` order (the
    /// position's transaction, the id, then the written columns): its
    /// position and time are read from them.
    fn from_values(values: StoredValues) -> Self {
        let int = |i: usize| match values.get(i) {
            Some(StoredValue::Int(n)) => *n,
            _ => 0,
        };
        RawEvent {
            position: Position::new(int(0), int(1)),
            occurred_at: int(2),
            values,
        }
    }
}

/// One seal entry: what a seal recorded of one event.
pub(crate) struct Entry {
    pub seal_seq: i64,
    pub position: Position,
    pub occurred_at: i64,
    pub event_hash: String,
    pub column_tags: String,
}

/// The select list of [`RawEvent`]s: the table's own (`id`, every
/// written value, the position's transaction as `position_tx`).
fn event_columns(backend: Backend) -> String {
    let dialect = backend.dialect();
    select_list(dialect.payload_as_text, dialect.position_tx)
}

/// Events after `after` up to `until` (inclusive; `None`: the stable end of
/// the log), at most [`CHUNK`], in position order; the anchor excluded.
pub(crate) async fn events_after(
    mut db: Db<'_>,
    after: Position,
    until: Option<Position>,
) -> Result<Vec<RawEvent>, AuditError> {
    let until = until.unwrap_or(Position::new(i64::MAX, i64::MAX));
    #[cfg(feature = "sqlite")]
    if let Db::Sqlite(conn) = db.reborrow() {
        // One row for the whole chunk: sqlx's SQLite worker hands over each
        // row and value on its own, which halved the throughput.
        if let Some(events) = sqlite_events_as_json(conn, after, until).await? {
            return Ok(events);
        }
    }
    let backend = db.backend();
    let columns = event_columns(backend);
    let sql = match backend {
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => format!(
            "SELECT {columns} FROM {EVENTS_TABLE} WHERE id > 0 AND id > $1 AND $2 >= 0 \
             AND id <= $3 AND $4 >= 0 ORDER BY id LIMIT $5"
        ),
        #[cfg(feature = "postgres")]
        Backend::Postgres => format!(
            "SELECT {columns} FROM {EVENTS_TABLE} \
             WHERE id > 0 AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
             AND (tx_id, id) > ($1::int8::text::xid8, $2) \
             AND (tx_id, id) <= ($3::int8::text::xid8, $4) ORDER BY tx_id, id LIMIT $5"
        ),
    };
    let (after_a, after_b, until_a, until_b) = match backend {
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => (after.id(), 0, until.id(), 0),
        #[cfg(feature = "postgres")]
        Backend::Postgres => (after.tx(), after.id(), until.tx(), until.id()),
    };
    let events = on_backend!(db, conn => {
        // Our own fragments and numbered placeholders; every value is bound.
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after_a)
            .bind(after_b)
            .bind(until_a)
            .bind(until_b)
            .bind(CHUNK)
            .fetch_all(conn)
            .await
            .map_err(classify)?;
        rows.iter().map(raw_event).collect::<Vec<_>>()
    });
    Ok(events)
}

/// What a value that cannot be read as its column's type becomes: text no
/// stored value hashes to, the same whichever way the row was read.
const UNREADABLE: &str = "\u{0}unreadable";

/// SQLite: the chunk as one JSON array of rows, or `None` when a row holds
/// a value JSON cannot carry (a BLOB), to be read row by row instead.
#[cfg(feature = "sqlite")]
async fn sqlite_events_as_json(
    conn: &mut sqlx::SqliteConnection,
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

/// One row of [`sqlite_events_as_json`]: the id, then every written value.
#[cfg(feature = "sqlite")]
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

/// Reads one row of [`event_columns`]; a value that cannot be read as its
/// type is kept as text saying so, which no stored value hashes to.
fn raw_event<R>(row: &R) -> RawEvent
where
    R: sqlx::Row,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'n> &'n str: sqlx::ColumnIndex<R>,
{
    let int = |column: &str| match row.try_get::<Option<i64>, _>(column) {
        Ok(Some(i)) => StoredValue::Int(i),
        Ok(None) => StoredValue::Null,
        Err(_) => StoredValue::Text(UNREADABLE.into()),
    };
    let text = |column: &str| match row.try_get::<Option<String>, _>(column) {
        Ok(Some(t)) => StoredValue::Text(t),
        Ok(None) => StoredValue::Null,
        Err(_) => StoredValue::Text(UNREADABLE.into()),
    };
    let mut values = vec![int("position_tx"), int("id")];
    for (name, ty) in WRITTEN {
        values.push(match ty {
            ColumnType::Int => int(name),
            ColumnType::Text | ColumnType::Json => text(name),
        });
    }
    RawEvent::from_values(values)
}

/// Seal entries after `after`, at most [`CHUNK`], in position order.
pub(crate) async fn entries_after(
    mut db: Db<'_>,
    after: Position,
) -> Result<Vec<Entry>, AuditError> {
    #[cfg(feature = "sqlite")]
    if let Db::Sqlite(conn) = db.reborrow() {
        // One row for the whole chunk, as for events.
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
        if let Some(rows) = rows {
            let mut entries: Vec<Entry> = rows.into_iter().map(Entry::from).collect();
            entries.sort_by_key(|e| e.position);
            return Ok(entries);
        }
    }
    entries_row_by_row(db, after).await
}

/// One entry as [`entries_after`] reads it from JSON; anything else (a
/// value of another type, written by hand) is read row by row instead.
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

/// [`entries_after`], a row at a time.
async fn entries_row_by_row(db: Db<'_>, after: Position) -> Result<Vec<Entry>, AuditError> {
    const SQL: &str = "SELECT seal_seq, tx, id, occurred_at, event_hash, column_tags \
        FROM audit_seal_entries WHERE (tx, id) > ($1, $2) ORDER BY tx, id LIMIT $3";
    type Row = (i64, i64, i64, i64, String, String);
    let rows: Vec<Row> = on_backend!(db, conn => {
        sqlx::query_as(SQL)
            .bind(after.tx())
            .bind(after.id())
            .bind(CHUNK)
            .fetch_all(conn)
            .await
            .map_err(classify)?
    });
    Ok(rows
        .into_iter()
        .map(
            |(seal_seq, tx, id, occurred_at, event_hash, column_tags)| Entry {
                seal_seq,
                position: Position::new(tx, id),
                occurred_at,
                event_hash,
                column_tags,
            },
        )
        .collect())
}
