//! Positions: places in the log in an order that no later commit can
//! insert into (G12); `tail.rs` reads the log forward from one.
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

use super::error::{ParseError, shown};

/// A place in the log, between two events, in commit order. Opaque: print
/// it (`Display`) to store it, and parse it back (`FromStr`); read on from
/// it with [`Auditor::read_after`](crate::Auditor::read_after).
///
/// ```
/// # use audit_core::query::Position;
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
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || ParseError::Position(shown(s));
        let (tx, id) = s.split_once('.').ok_or_else(invalid)?;
        Ok(Position {
            tx: parse_hex(tx).ok_or_else(invalid)?,
            id: parse_hex(id).ok_or_else(invalid)?,
        })
    }
}

/// A non-negative 64-bit number written as 1 to 16 hex digits, as
/// positions and cursors print them; `None` for anything else.
pub(crate) fn parse_hex(text: &str) -> Option<i64> {
    let hex = !text.is_empty() && text.len() <= 16 && text.bytes().all(|b| b.is_ascii_hexdigit());
    hex.then(|| i64::from_str_radix(text, 16).ok())
        .flatten()
        .filter(|n| *n >= 0)
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
