//! Reading events and seal entries for sealing and verifying, in position
//! order, a chunk at a time.

use super::encoding::StoredValue;
use super::raw::{CHUNK, Entry, RawEvent, UNREADABLE};
use crate::backend::{Backend, Db};
use crate::on_backend;
use crate::store::backends::with_storage;
use crate::store::error::{AuditError, classify};
use crate::store::position::Position;
use crate::store::table::{ColumnType, WRITTEN, select_list};

/// The select list of [`RawEvent`]s: the table's own (`id`, every
/// written value, the position's transaction as `position_tx`).
fn event_columns(backend: Backend) -> String {
    let dialect = backend.dialect();
    select_list(dialect.payload_as_text, dialect.position_in_order)
}

/// Events after `after` up to `until` (inclusive; `None`: the stable end of
/// the log), at most [`CHUNK`], in position order; the anchor excluded.
pub(crate) async fn events_after(
    db: Db<'_>,
    after: Position,
    until: Option<Position>,
) -> Result<Vec<RawEvent>, AuditError> {
    let backend = db.backend();
    with_storage!(db, conn, S => {
        // The whole chunk in one go where the backend can (SQLite), else row by row.
        let end = until.unwrap_or(Position::new(i64::MAX, i64::MAX));
        if let Some(events) = S::seal_events_in_one_go(&mut *conn, after, end).await? {
            return Ok(events);
        }
        let rows = S::seal_event_rows(conn, &event_columns(backend), after, until).await?;
        Ok(rows.iter().map(raw_event).collect())
    })
}

/// Reads one row of [`event_columns`]; a value that cannot be read as its
/// type is kept as text saying so, which no stored value hashes to.
pub(crate) fn raw_event<R>(row: &R) -> RawEvent
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
    // In one go where the backend can (SQLite), as for events.
    let entries = with_storage!(db.reborrow(), conn, S => {
        S::seal_entries_in_one_go(conn, after).await?
    });
    match entries {
        Some(entries) => Ok(entries),
        None => entries_row_by_row(db, after).await,
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
