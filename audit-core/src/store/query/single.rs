//! Reading one event by its id, and the events written with it by its
//! command: what a page about one event shows.

use super::filter::MAX_PAGE_SIZE;
use super::rows::events_of;
use super::stored::StoredEvent;
use crate::backend::Pool;
use crate::catalog::EventCatalog;
use crate::on_backend;
use crate::store::error::{AuditError, classify};
use crate::store::table::{EVENTS_TABLE, select_list};

/// The event with `id`, if there is one (id 0, the log's anchor, is not an
/// event). One primary-key lookup.
pub(crate) async fn by_id<E: EventCatalog>(
    pool: &Pool,
    id: i64,
) -> Result<Option<StoredEvent<E>>, AuditError> {
    let dialect = pool.backend().dialect();
    let select = select_list(dialect.payload_as_text, dialect.position_tx);
    let sql = format!("SELECT {select} FROM {EVENTS_TABLE} WHERE id = $1 AND id > 0");
    let by_column = dialect.values_have_column_type;
    let event: Option<StoredEvent<E>> = on_backend!(pool, pool => {
        // Built from our own fragments; the id is bound.
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(classify)?;
        events_of(row.as_slice(), by_column)?.pop()
    });
    Ok(event)
}

/// The events that `event`'s transaction wrote with its command id, oldest
/// first, `event` included: at most `around` before it and `around` from
/// it on (each clamped to `1..=`[`MAX_PAGE_SIZE`]).
///
/// Every query is bounded by an index: on PostgreSQL the transaction's rows
/// (`(tx_id, id)`); on SQLite, which runs one writer at a time and writes a
/// transaction's events in one go, the ids within `around` of `event`'s,
/// which hold every event of its command that this function returns.
pub(crate) async fn of_command<E: EventCatalog>(
    pool: &Pool,
    event: &StoredEvent<E>,
    around: u32,
) -> Result<Vec<StoredEvent<E>>, AuditError> {
    let around = i64::from(around.clamp(1, MAX_PAGE_SIZE));
    let dialect = pool.backend().dialect();
    let select = select_list(dialect.payload_as_text, dialect.position_tx);
    let same = dialect.same_writer;
    let sql = format!(
        "SELECT * FROM (SELECT {select} FROM {EVENTS_TABLE} WHERE command_id = $1 AND id < $2 \
         AND id > 0 AND {same} ORDER BY id DESC LIMIT $3) AS before_it \
         UNION ALL \
         SELECT * FROM (SELECT {select} FROM {EVENTS_TABLE} WHERE command_id = $1 AND id >= $2 \
         AND {same} ORDER BY id ASC LIMIT $3) AS from_it"
    );
    let by_column = dialect.values_have_column_type;
    let mut events: Vec<StoredEvent<E>> = on_backend!(pool, pool => {
        // Built from our own fragments and numbered placeholders; every value is bound.
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(event.command_id.as_str())
            .bind(event.id)
            .bind(around)
            .bind(event.position.tx())
            .fetch_all(pool)
            .await
            .map_err(classify)?;
        events_of(&rows, by_column)?
    });
    events.sort_by_key(|event| event.id);
    Ok(events)
}
