//! One event and one seal entry as sealing and verifying read them, the
//! same on every backend. Each backend's reads (`store/backends/`) make
//! them; `rows.rs` says which backend reads, so this file stays below both.

use super::encoding::{StoredValue, StoredValues};
use crate::store::position::Position;

/// Rows read per query.
pub(crate) const CHUNK: i64 = 5_000;

/// What a value that cannot be read as its column's type becomes: text no
/// stored value hashes to, the same whichever way the row was read.
pub(crate) const UNREADABLE: &str = "\u{0}unreadable";

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
    pub(crate) fn from_values(values: StoredValues) -> Self {
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
