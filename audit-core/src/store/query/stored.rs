//! What a query returns: pages of stored events.

use chrono::{DateTime, Utc};

use super::cursor::Cursor;
use crate::actor::Actor;
use crate::context::Context;
use crate::decode::Decoded;
use crate::reference::References;
use crate::store::position::Position;
use crate::store::table::IMPORT_COMMAND;

/// One page of events, newest first by the event's time (`occurred_at`,
/// then id): the order of [`Auditor::query`](crate::Auditor::query)'s
/// pages, not commit order (that is
/// [`Auditor::read_after`](crate::Auditor::read_after)'s).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Page<E> {
    /// The events.
    pub events: Vec<StoredEvent<E>>,
    /// The cursor of the next (older) page, if there is one. (On a page
    /// reached through a cursor to newer events it is always set: the page
    /// came from there. After pruning, it may lead to an empty page.)
    pub next: Option<Cursor>,
    /// The cursor of the previous (newer) page, if this is not the newest.
    /// (On a page reached through a cursor to older events it is always
    /// set, and may lead to an empty page if the cursor was not made by
    /// this query.)
    pub prev: Option<Cursor>,
}

/// An event as stored, with its metadata.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StoredEvent<E> {
    /// Monotonic id.
    pub id: i64,
    /// Where it stands in commit order ([`Auditor::read_after`](crate::Auditor::read_after)).
    pub position: Position,
    /// When the command that emitted it ran.
    pub occurred_at: DateTime<Utc>,
    /// Who acted.
    pub actor: Actor,
    /// Where and why: the context of the command that emitted it (empty
    /// for events written without one, and before schema version 8).
    pub context: Context,
    /// The name of the command that emitted it; [`IMPORT_COMMAND`] for an
    /// imported event ([`StoredEvent::is_imported`]).
    pub command_name: String,
    /// The id shared by every event of one outermost command (of one
    /// import run, for an imported event).
    pub command_id: String,
    /// The indexed references.
    pub references: References,
    /// The payload's version as stored (a known event may have been read
    /// through upgrades from it; 0 if the column cannot be read).
    pub payload_version: i64,
    /// The payload as stored, as the database returns it as text
    /// (PostgreSQL's JSONB normalizes whitespace and key order; empty if
    /// the column cannot be read).
    pub payload: String,
    /// The event, or what was stored if this program cannot read it.
    pub event: Decoded<E>,
}

impl<E> StoredEvent<E> {
    /// Whether the event was imported ([`Auditor::import`](crate::Auditor::import))
    /// rather than emitted by a command: its command name is
    /// [`IMPORT_COMMAND`], and its command id the import run's.
    pub fn is_imported(&self) -> bool {
        self.command_name == IMPORT_COMMAND
    }
}
