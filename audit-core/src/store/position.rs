//! Positions: places in the log in commit order, that no later commit can
//! come before (G12); `tail.rs` reads the log forward from one. And
//! [`HeldBack`]: a transaction that holds other writers' commits up.
//!
//! SQLite runs one writer at a time and writes a transaction's events just
//! before its COMMIT, so ids are commit order: a position is (0, id).
//!
//! On PostgreSQL writers run at once, ids are taken at insert, and a
//! transaction that took its ids (or its transaction id) first can commit
//! last; ordering by either let a follower replay a change before the one
//! it overwrote. So each transaction that writes events takes a place from
//! a sequence as it writes them, under a lock (the commit clock,
//! `backends/postgres/clock.rs`) that it holds until it ends; its events'
//! position is (place, id). The library writes a transaction's events in
//! its last statement before COMMIT, so the lock covers only that
//! statement and the commit.
//!
//! Why that is commit order: a transaction takes its place after every
//! statement that read something (the events are its last statement), and
//! holds the clock until its commit is visible (PostgreSQL releases locks
//! after a commit is visible to every new snapshot). So when transaction B
//! waited for A's lock or read what A wrote, A had committed (or was
//! holding the clock) before B took its place: A's place is smaller.
//!
//! Why a reader needs no horizon: places are taken one at a time, each
//! after the previous holder's commit became visible. So every snapshot
//! sees the places in a prefix: all committed places below the largest it
//! sees, with at most one transaction (the holder, still committing)
//! unseen, whose place is above every one seen. Reads take events strictly
//! after the reader's position, in (place, id) order: none is missed, none
//! read twice. A place taken by a transaction that rolls back stays empty.
//!
//! Logs made before version 7 keep their positions: every transaction
//! already in the log got its transaction id as its place (what its
//! position was), and the sequence starts above them all, so a follower's
//! stored position reads on as before. Their order among themselves stays
//! transaction-id order (their seals cover it).
//!
//! The cost: commits of events are serialized from their INSERT to their
//! COMMIT (BENCHMARKS.md measures it), and a transaction that writes
//! events and then stays open makes every other writer wait at its commit
//! ([`HeldBack`] names it).

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

/// What holds the log's writers up: on PostgreSQL each transaction that
/// writes events takes its place in commit order under a lock held until
/// it ends (see [`Auditor::read_after`](crate::Auditor::read_after)), so
/// one that writes events and then stays open (a session idle in its
/// transaction, a forgotten prepared transaction) makes every other
/// writer's commit wait until it ends. Readers are never held up: they read
/// every committed event at once. SQLite runs one writer at a time and
/// reports nothing here (its own lock says so: the database is busy).
///
/// Reported when the holder is not running a statement (idle in its
/// transaction, or prepared) or writers wait behind it; a transaction
/// holding it for the moment of its commit is normal. Its
/// [`Display`](fmt::Display) is a sentence for an operator:
///
/// ```text
/// 2 writers wait to commit behind transaction 1234 (pid 567, database app,
/// idle in transaction for 5 min 3 s), which holds the log's commit order
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeldBack {
    /// The holding transaction's id (PostgreSQL's `pg_current_xact_id()`
    /// in that transaction); 0 when it cannot be told.
    pub transaction: u64,
    /// The process id of its session (`pg_backend_pid()`, what
    /// `pg_terminate_backend` takes); `None` for a prepared transaction,
    /// which has no session.
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
    /// Sessions waiting to commit events behind it.
    pub writers_waiting: u64,
}

impl fmt::Display for HeldBack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
        let details = details.join(", ");
        let holder = self.transaction;
        match self.writers_waiting {
            0 => write!(
                f,
                "transaction {holder} ({details}) holds the log's commit order: \
                 the next commit of events waits until it ends"
            ),
            1 => write!(
                f,
                "1 writer waits to commit behind transaction {holder} ({details}), \
                 which holds the log's commit order"
            ),
            n => write!(
                f,
                "{n} writers wait to commit behind transaction {holder} ({details}), \
                 which holds the log's commit order"
            ),
        }
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

    fn held(writers_waiting: u64) -> HeldBack {
        HeldBack {
            transaction: 1234,
            pid: Some(567),
            database: Some("app".into()),
            state: Some("idle in transaction".into()),
            in_transaction_for: Some(Duration::from_secs(303)),
            application_name: None,
            prepared_as: None,
            writers_waiting,
        }
    }

    #[test]
    fn held_back_says_who_holds_the_writers_up_in_one_sentence() {
        let tail = ", which holds the log's commit order";
        assert_eq!(
            held(2).to_string(),
            format!(
                "2 writers wait to commit behind transaction 1234 (pid 567, database app, \
                 idle in transaction for 5 min 3 s){tail}"
            )
        );
        assert!(
            held(1)
                .to_string()
                .starts_with("1 writer waits to commit behind")
        );
        assert_eq!(
            held(0).to_string(),
            "transaction 1234 (pid 567, database app, idle in transaction for 5 min 3 s) \
             holds the log's commit order: the next commit of events waits until it ends"
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
                "2 writers wait to commit behind transaction 1234 (pid 567, database app, \
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
                "3 writers wait to commit behind transaction 1234 (prepared as 'tx-42' \
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
                "4 writers wait to commit behind transaction 1234 (not found among the \
                 sessions){tail}"
            )
        );
    }
}
