//! Reading the log forward, in commit order, from a [`Position`]: what a
//! follower (an export to a SIEM, a stream) uses (G12). Why the order is
//! commit order on each backend is in `position.rs`.

use super::auditor::Auditor;
use super::error::{AuditError, classify};
use super::position::Position;
use super::query::{MAX_PAGE_SIZE, StoredEvent, events_of};
use super::table::{EVENTS_TABLE, select_list};
use crate::backend::match_backend;
use crate::catalog::EventCatalog;

/// Events read forward from a position ([`Auditor::read_after`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Tail<E> {
    /// The events, in commit order; each knows its position.
    pub events: Vec<StoredEvent<E>>,
    /// Where to read from next: the last event's position, or the position
    /// read after when there was none.
    pub next: Position,
}

impl Auditor {
    /// The next events after `after`, at most `limit` (clamped to
    /// `1..=`[`MAX_PAGE_SIZE`](crate::query::MAX_PAGE_SIZE)), in commit order, and
    /// the position to read from next. Only events that no later commit
    /// can precede are returned (on PostgreSQL, those of transactions older
    /// than every one still running), so a follower that stores `next` and
    /// reads on from it never misses or repeats an event, across restarts.
    /// The log's anchor (id 0) is never returned.
    #[tracing::instrument(
        name = "audit.read_after",
        skip(self),
        fields(backend = self.backend().name())
    )]
    pub async fn read_after<E: EventCatalog>(
        &self,
        after: Position,
        limit: u32,
    ) -> Result<Tail<E>, AuditError> {
        let limit = i64::from(limit.clamp(1, MAX_PAGE_SIZE));
        let dialect = self.backend().dialect();
        let select = select_list(dialect.payload_as_text, dialect.position_tx);
        let by_column = dialect.values_have_column_type;
        let events: Vec<StoredEvent<E>> = match_backend!(self.pool(),
            Sqlite(pool) => {
                let sql = format!(
                    "SELECT {select} FROM {EVENTS_TABLE} WHERE id > $1 ORDER BY id LIMIT $2"
                );
                // Our own fragments and numbered placeholders; every value is bound.
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(after.id().max(0))
                    .bind(limit)
                    .fetch_all(pool)
                    .await
                    .map_err(classify)?;
                events_of(&rows, by_column)?
            },
            Postgres(pool) => {
                let sql = format!(
                    "SELECT {select} FROM {EVENTS_TABLE} \
                     WHERE id > 0 AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
                     AND (tx_id, id) > ($1::int8::text::xid8, $2) \
                     ORDER BY tx_id, id LIMIT $3"
                );
                // Our own fragments and numbered placeholders; every value is bound.
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(after.tx())
                    .bind(after.id())
                    .bind(limit)
                    .fetch_all(pool)
                    .await
                    .map_err(classify)?;
                events_of(&rows, by_column)?
            },
        );
        let next = events.last().map_or(after, |e| e.position);
        Ok(Tail { events, next })
    }
}
