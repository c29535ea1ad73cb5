//! Positions: places in the log in an order that no later commit can
//! insert into (G12), and reading the log forward from one.
//!
//! SQLite runs one writer at a time and writes a transaction's events just
//! before its COMMIT, so ids are commit order: a position is an id. On
//! PostgreSQL ids are taken at insert and a transaction that started later
//! can commit a lower id, so a position is (transaction id, id), and only
//! events of transactions older than every one still running
//! (`pg_snapshot_xmin(pg_current_snapshot())`) are read: any event not yet
//! visible belongs to a transaction still running, whose id is at least that
//! horizon, so it sorts after everything read so far.

use std::fmt;
use std::str::FromStr;

use super::auditor::Auditor;
use super::error::{AuditError, classify};
use super::query::{MAX_PAGE_SIZE, RawRow, StoredEvent, decode_row, read_row};
use super::table::{EVENTS_TABLE, select_list};
use crate::backend::Pool;
use crate::catalog::EventCatalog;

/// A place in the log, between two events, in commit order. Opaque: print
/// it (`Display`) to store it, and parse it back (`FromStr`).
///
/// ```
/// # use audit_core::Position;
/// let start = Position::START;
/// assert_eq!(start.to_string().parse::<Position>().unwrap(), start);
/// assert!("not a position".parse::<Position>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    /// The writing transaction's id (PostgreSQL), 0 on SQLite.
    tx: i64,
    /// The event's id.
    id: i64,
}

impl Position {
    /// Before the first event.
    pub const START: Position = Position { tx: 0, id: 0 };

    /// The position of the event with `id` written by transaction `tx`.
    pub(crate) fn new(tx: i64, id: i64) -> Self {
        Position { tx, id }
    }

    /// The writing transaction's id (0 on SQLite).
    pub(crate) fn tx(self) -> i64 {
        self.tx
    }

    /// The event's id.
    pub(crate) fn id(self) -> i64 {
        self.id
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:x}.{:x}", self.tx, self.id)
    }
}

impl FromStr for Position {
    type Err = AuditError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || AuditError::InvalidPosition(s.chars().take(64).collect());
        let part = |text: &str| {
            let hex =
                !text.is_empty() && text.len() <= 16 && text.bytes().all(|b| b.is_ascii_hexdigit());
            hex.then(|| i64::from_str_radix(text, 16).ok())
                .flatten()
                .filter(|n| *n >= 0)
        };
        let (tx, id) = s.split_once('.').ok_or_else(invalid)?;
        Ok(Position {
            tx: part(tx).ok_or_else(invalid)?,
            id: part(id).ok_or_else(invalid)?,
        })
    }
}

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
    /// `1..=`[`MAX_PAGE_SIZE`](crate::MAX_PAGE_SIZE)), in commit order, and
    /// the position to read from next. Only events that no later commit
    /// can precede are returned (on PostgreSQL, those of transactions older
    /// than every one still running), so a follower that stores `next` and
    /// reads on from it never misses or repeats an event, across restarts.
    /// The log's anchor (id 0) is never returned.
    pub async fn read_after<E: EventCatalog>(
        &self,
        after: Position,
        limit: u32,
    ) -> Result<Tail<E>, AuditError> {
        let limit = i64::from(limit.clamp(1, MAX_PAGE_SIZE));
        let dialect = self.backend().dialect();
        let select = select_list(dialect.payload_as_text, dialect.position_tx);
        let rows: Vec<RawRow> = match self.pool() {
            Pool::Sqlite(pool) => {
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
                rows.iter().map(read_row).collect::<Result<_, _>>()?
            }
            Pool::Postgres(pool) => {
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
                rows.iter().map(read_row).collect::<Result<_, _>>()?
            }
        };
        let events: Vec<StoredEvent<E>> = rows.into_iter().map(decode_row).collect();
        let next = events.last().map_or(after, |e| e.position);
        Ok(Tail { events, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_order_by_transaction_then_id_and_round_trip() {
        let a = Position::new(5, 90);
        let b = Position::new(6, 3);
        assert!(Position::START < a && a < b);
        for p in [Position::START, a, b, Position::new(i64::MAX, i64::MAX)] {
            assert_eq!(p.to_string().parse::<Position>().unwrap(), p);
        }
        for bad in [
            "",
            ".",
            "1",
            "1.",
            ".1",
            "-1.2",
            "1.-2",
            "g.1",
            "1.2.3",
            "8000000000000000.1",
        ] {
            assert!(bad.parse::<Position>().is_err(), "{bad}");
        }
    }
}
