//! Positions: places in the log in an order that no later commit can
//! insert into (G12); `tail.rs` reads the log forward from one. And
//! [`HeldBack`]: what stops positions from moving on, when something does.
//!
//! SQLite runs one writer at a time and writes a transaction's events just
//! before its COMMIT, so ids are commit order: a position is an id, and
//! nothing holds it back.
//!
//! On PostgreSQL ids are taken at insert and a transaction that started
//! later can commit a lower id, so a position is (transaction id, id), and
//! only events of transactions below a horizon are read
//! (`backends/postgres/horizon.rs`): the smallest transaction id that the
//! reader's snapshot sees running and that may belong to this database, or,
//! when there is none, the snapshot's xmax (the next id to be assigned).
//! Events are read under the very snapshot that gives the horizon (one
//! statement).
//!
//! Why that is enough: an event that the snapshot does not see was written
//! by a transaction that was running when it was taken (one of its
//! in-progress ids) or began after (an id at or above its xmax). A
//! transaction writes only the database its session is connected to
//! (PostgreSQL has no cross-database writes; dblink and foreign tables open
//! sessions of their own, with ids of their own), so the running
//! transactions of the server's other databases cannot have written this
//! events table, and are passed over; every other one counts: of this
//! database, or of no database that can be told (one that began after the
//! sessions were looked up, a prepared transaction not known to be another
//! database's, a process without a database, every transaction of the
//! primary on a standby). So every event not yet visible has a
//! transaction id at or above the horizon, and every event below it is
//! committed (visible) or rolled back (never visible): once a reader has
//! passed it, nothing can commit before it. Reads take events strictly
//! after the reader's position, in (transaction, id) order, so none is read
//! twice.
//!
//! Before, the horizon was the snapshot's xmin, the oldest transaction
//! running anywhere on the server: one session left idle in a transaction
//! in any database held every follower and every seal back, and said
//! nothing. Now only this database's transactions hold positions back, and
//! [`HeldBack`] names the one that does.
//!
//! The horizon can move back for a moment (a prepared transaction of
//! another database that commits between the snapshot and the lookup
//! counts then): a read then returns fewer events, never an event before
//! its position. Verifying needs no horizon: it reads only up to a sealed
//! position, and every transaction below a seal's last position had ended
//! when the seal was made.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::error::{ParseError, shown};
use crate::text::printable;

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

/// What holds a follower or a seal back: committed events wait after the
/// horizon (see [`Auditor::read_after`](crate::Auditor::read_after)),
/// behind a transaction of this database that is still running. Only
/// PostgreSQL holds events back (SQLite runs one writer at a time), so it
/// is always `None` there.
///
/// A transaction that runs for a moment holds events back for that moment,
/// which is normal under concurrent writes; one left open (a session idle
/// in a transaction, a forgotten prepared transaction) holds them back
/// until it ends. Its [`Display`](fmt::Display) is a sentence for an
/// operator:
///
/// ```text
/// 12 committed events wait behind transaction 1234 (pid 567, database app,
/// idle in transaction for 5 min 3 s): positions stop at the oldest
/// transaction of this database still running
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeldBack {
    /// The blocking transaction's id (PostgreSQL's `pg_current_xact_id()`
    /// in that transaction).
    pub transaction: u64,
    /// The process id of its session (`pg_backend_pid()`, what
    /// `pg_terminate_backend` takes); `None` for a prepared transaction,
    /// which has no session, or one not found among the sessions (it may
    /// have ended just now).
    pub pid: Option<u32>,
    /// The database its session (or its prepared transaction) belongs to;
    /// `None` when it cannot be told.
    pub database: Option<String>,
    /// Its session's state (`idle in transaction`, `active`, ...); `None`
    /// when the reader's role may not see it (another role's session,
    /// without `pg_read_all_stats`) or there is no session.
    pub state: Option<String>,
    /// How long it has been in its transaction (since it was prepared, for
    /// a prepared transaction); `None` when the reader's role may not see
    /// it.
    pub in_transaction_for: Option<Duration>,
    /// Its session's `application_name`, when it set one.
    pub application_name: Option<String>,
    /// The global id it was prepared as (`PREPARE TRANSACTION`), for a
    /// prepared transaction.
    pub prepared_as: Option<String>,
    /// Committed events after the reader's position that wait behind it,
    /// counted up to [`HeldBack::MAX_COUNTED`] (that many means at least
    /// that many). At least 1: nothing waiting is not held back.
    pub events_waiting: u64,
}

impl HeldBack {
    /// The most waiting events counted; more are reported as this many.
    pub const MAX_COUNTED: u64 = 10_000;
}

impl fmt::Display for HeldBack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.events_waiting {
            1 => f.write_str("1 committed event waits")?,
            n if n >= Self::MAX_COUNTED => write!(f, "{n} or more committed events wait")?,
            n => write!(f, "{n} committed events wait")?,
        }
        write!(f, " behind transaction {}", self.transaction)?;
        let mut details: Vec<String> = Vec::new();
        if let Some(gid) = &self.prepared_as {
            details.push(match self.in_transaction_for {
                Some(age) => format!("prepared as '{}' {} ago", printable(gid), Elapsed(age)),
                None => format!("prepared as '{}'", printable(gid)),
            });
        }
        if let Some(pid) = self.pid {
            details.push(format!("pid {pid}"));
        }
        if let Some(database) = &self.database {
            details.push(format!("database {}", printable(database)));
        }
        if self.prepared_as.is_none() {
            match (&self.state, self.in_transaction_for) {
                (Some(state), Some(age)) => {
                    details.push(format!("{} for {}", printable(state), Elapsed(age)))
                }
                (Some(state), None) => details.push(printable(state).into_owned()),
                (None, Some(age)) => {
                    details.push(format!("in its transaction for {}", Elapsed(age)))
                }
                (None, None) if self.pid.is_some() => {
                    details.push("its state hidden from this role".to_owned())
                }
                (None, None) => details.push("not found among the sessions".to_owned()),
            }
        }
        if let Some(name) = self.application_name.as_deref().filter(|n| !n.is_empty()) {
            details.push(format!("application {}", printable(name)));
        }
        write!(f, " ({})", details.join(", "))?;
        f.write_str(": positions stop at the oldest transaction of this database still running")
    }
}

/// A duration as an operator reads it: `3 s`, `5 min 3 s`, `2 h 5 min`.
struct Elapsed(Duration);

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        match (secs / 3600, secs % 3600 / 60, secs % 60) {
            (0, 0, s) => write!(f, "{s} s"),
            (0, m, s) => write!(f, "{m} min {s} s"),
            (h, m, _) => write!(f, "{h} h {m} min"),
        }
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

    fn held(events_waiting: u64) -> HeldBack {
        HeldBack {
            transaction: 1234,
            pid: Some(567),
            database: Some("app".into()),
            state: Some("idle in transaction".into()),
            in_transaction_for: Some(Duration::from_secs(303)),
            application_name: None,
            prepared_as: None,
            events_waiting,
        }
    }

    #[test]
    fn held_back_says_who_holds_what_back_in_one_sentence() {
        let tail = ": positions stop at the oldest transaction of this database still running";
        assert_eq!(
            held(12).to_string(),
            format!(
                "12 committed events wait behind transaction 1234 (pid 567, database app, \
                 idle in transaction for 5 min 3 s){tail}"
            )
        );
        assert!(
            held(1)
                .to_string()
                .starts_with("1 committed event waits behind")
        );
        assert!(
            held(HeldBack::MAX_COUNTED)
                .to_string()
                .starts_with("10000 or more committed events wait")
        );
        // Another role's session: its state hidden; a name that could forge
        // a line is escaped.
        let hidden = HeldBack {
            state: None,
            in_transaction_for: None,
            application_name: Some("worker\nforged".into()),
            ..held(2)
        };
        assert_eq!(
            hidden.to_string(),
            format!(
                "2 committed events wait behind transaction 1234 (pid 567, database app, \
                 its state hidden from this role, application worker\\nforged){tail}"
            )
        );
        let prepared = HeldBack {
            pid: None,
            state: None,
            in_transaction_for: Some(Duration::from_secs(7300)),
            prepared_as: Some("tx-42".into()),
            ..held(3)
        };
        assert_eq!(
            prepared.to_string(),
            format!(
                "3 committed events wait behind transaction 1234 (prepared as 'tx-42' \
                 2 h 1 min ago, database app){tail}"
            )
        );
        let unknown = HeldBack {
            pid: None,
            database: None,
            state: None,
            in_transaction_for: None,
            ..held(4)
        };
        assert_eq!(
            unknown.to_string(),
            format!(
                "4 committed events wait behind transaction 1234 (not found among the \
                 sessions){tail}"
            )
        );
        assert_eq!(
            HeldBack {
                state: Some("active".into()),
                in_transaction_for: Some(Duration::from_millis(400)),
                ..held(5)
            }
            .to_string(),
            format!(
                "5 committed events wait behind transaction 1234 (pid 567, database app, \
                 active for 0 s){tail}"
            )
        );
    }
}
