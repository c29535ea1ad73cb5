//! Keyset cursors: opaque, printable positions between pages.

use std::fmt;
use std::str::FromStr;

use crate::store::error::{ParseError, shown};
use crate::store::position::parse_hex;

/// Where another page starts: the events older, or newer, than one event.
/// Opaque: print it (it is URL-safe) and parse it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub(super) edge: i64,
    pub(super) direction: Direction,
}

/// Which way a cursor leads from its edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    /// Events with ids below the edge, newest first.
    Older,
    /// Events with ids above the edge: the page just newer than it.
    Newer,
}

impl Cursor {
    /// The page of events older than event `edge`.
    pub(super) fn older_than(edge: i64) -> Self {
        Cursor {
            edge,
            direction: Direction::Older,
        }
    }

    /// The page of events newer than event `edge`.
    pub(super) fn newer_than(edge: i64) -> Self {
        Cursor {
            edge,
            direction: Direction::Newer,
        }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.direction {
            Direction::Older => 'b',
            Direction::Newer => 'a',
        };
        write!(f, "{tag}{:x}", self.edge)
    }
}

impl FromStr for Cursor {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || ParseError::Cursor(shown(s));
        let mut chars = s.chars();
        let direction = match chars.next() {
            Some('b') => Direction::Older,
            Some('a') => Direction::Newer,
            _ => return Err(invalid()),
        };
        let edge = parse_hex(chars.as_str()).ok_or_else(invalid)?;
        Ok(Cursor { edge, direction })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        for cursor in [Cursor::older_than(1234), Cursor::newer_than(0)] {
            assert_eq!(cursor.to_string().parse::<Cursor>().unwrap(), cursor);
        }
        for bad in [
            "",
            "b",
            "x12",
            "b-1",
            "a",
            "b+1",
            "a 1",
            "bzz",
            "1; DROP TABLE audit_events",
            "b10000000000000000",
        ] {
            assert!(
                matches!(bad.parse::<Cursor>(), Err(ParseError::Cursor(_))),
                "{bad}"
            );
        }
    }
}
