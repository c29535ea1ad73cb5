//! Keyset cursors: opaque, printable positions between pages.
//!
//! Pages list events by time, newest first: by `occurred_at` (microseconds),
//! then by id, which breaks ties (the events of one command share their
//! time). A cursor holds the event at its page's edge as that pair, so a
//! page starts strictly past it whatever was written since: no event is
//! shown twice, and none that was there is skipped.
//!
//! The text is versioned: `t` (pages by time), `b` (older than the edge)
//! or `a` (newer), the edge's time as 64 bits in hexadecimal (a time before
//! 1970 is negative, and written as its two's complement), `x`, and its id
//! in hexadecimal: `tb18c2f3e4a5b6c7x1f`. The cursors of the earlier pages,
//! which were ordered by id, were `b` or `a` and an id alone (`b1f`); such
//! a cursor says nothing about time, so it is refused with its own error
//! ([`ParseError::OutdatedCursor`]), and whoever held it starts again from
//! the newest page.

use std::fmt;
use std::str::FromStr;

use crate::store::error::{ParseError, shown};
use crate::store::position::parse_hex;

/// Where another page starts: the events older, or newer, than one event,
/// in the order pages list them (by time, `occurred_at`, then id).
/// Opaque: print it (it is URL-safe) and parse it back. The text of a
/// cursor from before pages were ordered by time (an id alone, `b1f`) is
/// refused with [`ParseError::OutdatedCursor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub(super) edge: Edge,
    pub(super) direction: Direction,
}

/// An event's place in the order of pages: its time, then its id. The
/// derived order is the pages' order, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Edge {
    /// `occurred_at`, microseconds since the Unix epoch, as stored.
    pub(super) occurred_at: i64,
    /// The event's id.
    pub(super) id: i64,
}

impl Edge {
    /// The place of the event stored at `occurred_at` with `id`.
    pub(super) fn new(occurred_at: i64, id: i64) -> Self {
        Edge { occurred_at, id }
    }
}

/// Which way a cursor leads from its edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    /// Events before the edge in time order, newest first.
    Older,
    /// Events after the edge in time order: the page just newer than it.
    Newer,
}

/// The tag that starts every cursor of pages ordered by time.
const TIME_ORDER: char = 't';

/// What separates the time from the id (not a hexadecimal digit).
const SEPARATOR: char = 'x';

impl Cursor {
    /// The page of events older than `edge`.
    pub(super) fn older_than(edge: Edge) -> Self {
        Cursor {
            edge,
            direction: Direction::Older,
        }
    }

    /// The page of events newer than `edge`.
    pub(super) fn newer_than(edge: Edge) -> Self {
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
        // The time's bits, so that a time before 1970 prints without a sign.
        let time = self.edge.occurred_at as u64;
        write!(f, "{TIME_ORDER}{tag}{time:x}{SEPARATOR}{:x}", self.edge.id)
    }
}

impl FromStr for Cursor {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || ParseError::Cursor(shown(s));
        let Some(rest) = s.strip_prefix(TIME_ORDER) else {
            // `b1f`: a cursor of the pages ordered by id.
            let outdated =
                matches!(s.chars().next(), Some('a' | 'b')) && parse_hex(&s[1..]).is_some();
            return Err(if outdated {
                ParseError::OutdatedCursor(shown(s))
            } else {
                invalid()
            });
        };
        let mut chars = rest.chars();
        let direction = match chars.next() {
            Some('b') => Direction::Older,
            Some('a') => Direction::Newer,
            _ => return Err(invalid()),
        };
        let (time, id) = chars.as_str().split_once(SEPARATOR).ok_or_else(invalid)?;
        let time = parse_bits(time).ok_or_else(invalid)?;
        let id = parse_hex(id).ok_or_else(invalid)?;
        Ok(Cursor {
            edge: Edge::new(time as i64, id),
            direction,
        })
    }
}

/// 64 bits written as 1 to 16 hexadecimal digits; `None` for anything else.
fn parse_bits(text: &str) -> Option<u64> {
    let hex = !text.is_empty() && text.len() <= 16 && text.bytes().all(|b| b.is_ascii_hexdigit());
    hex.then(|| u64::from_str_radix(text, 16).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        for cursor in [
            Cursor::older_than(Edge::new(1_700_000_000_000_000, 1234)),
            Cursor::newer_than(Edge::new(0, 0)),
            Cursor::older_than(Edge::new(-1, 5)),
            Cursor::newer_than(Edge::new(i64::MIN, i64::MAX)),
            Cursor::older_than(Edge::new(i64::MAX, 1)),
        ] {
            let text = cursor.to_string();
            assert!(text.chars().all(|c| c.is_ascii_alphanumeric()), "{text}");
            assert_eq!(text.parse::<Cursor>().unwrap(), cursor);
        }
        assert_eq!(
            Cursor::older_than(Edge::new(0x1f, 0x2a)).to_string(),
            "tb1fx2a"
        );
        for bad in [
            "",
            "t",
            "tb",
            "tbx",
            "tb1x",
            "tbx1",
            "tc1x1",
            "tb1x-1",
            "tb1y1",
            "tb1x1x1",
            "tb10000000000000000x1",
            "tb1x10000000000000000",
            "tb1x8000000000000000",
            "Tb1x1",
            "tb 1x1",
            "x12",
            "b-1",
            "a",
            "b",
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

    #[test]
    fn a_cursor_of_the_pages_by_id_is_outdated() {
        for old in ["b0", "a0", "b1f", "a1F", "b7fffffffffffffff"] {
            match old.parse::<Cursor>() {
                Err(ParseError::OutdatedCursor(text)) => assert_eq!(text, old),
                other => panic!("{old}: {other:?}"),
            }
        }
    }

    #[test]
    fn edges_order_by_time_then_id() {
        let mut edges = [
            Edge::new(5, 1),
            Edge::new(-3, 9),
            Edge::new(5, 0),
            Edge::new(4, 99),
        ];
        edges.sort();
        assert_eq!(
            edges,
            [
                Edge::new(-3, 9),
                Edge::new(4, 99),
                Edge::new(5, 0),
                Edge::new(5, 1)
            ]
        );
    }
}
