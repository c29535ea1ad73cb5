//! Reading the log forward, in commit order, from a [`Position`]: what a
//! follower (an export to a SIEM, a stream) uses (G12), and what holds the
//! writers up when a follower sees nothing new ([`HeldBack`]). Why the
//! order is commit order on each backend is in `position.rs`; each
//! backend's queries are its own (`Storage::read_after` and
//! `Storage::held_back`, in `backends/`).

use super::auditor::Auditor;
use super::backends::with_storage;
use super::error::AuditError;
use super::position::{HeldBack, Position};
use super::query::{MAX_PAGE_SIZE, StoredEvent, events_of};
use super::table::select_list;
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
    /// When fewer events than asked came, and a transaction holds other
    /// writers' commits up (PostgreSQL's commit clock): that transaction.
    /// `None` when the page is full (read on at once), when none does, and
    /// always on SQLite.
    pub held_back: Option<HeldBack>,
}

impl Auditor {
    /// The next events after `after`, at most `limit` (clamped to
    /// `1..=`[`MAX_PAGE_SIZE`](crate::query::MAX_PAGE_SIZE)), in commit order, and
    /// the position to read from next. Commit order: when one transaction
    /// committed before another began, waited for its lock, or read what it
    /// wrote, its events come first, so replaying them in this order gives
    /// the state the tables hold. Every committed event is returned at once
    /// (no later commit can come before it), so a follower that stores
    /// `next` and reads on from it never misses or repeats an event, across
    /// restarts. The log's anchor (id 0) is never returned.
    ///
    /// On PostgreSQL each transaction takes its place in that order with its
    /// events, under a lock held until it ends; one that writes events and
    /// then stays open holds every other writer's commit up. When fewer
    /// events than asked come and that is so, [`Tail::held_back`] names it
    /// (its session's process id, database and state), to tell an operator.
    /// Pages ([`Auditor::query`](crate::Auditor::query)) list events by their
    /// time instead.
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
        let select = select_list(dialect.payload_as_text, dialect.position_in_order);
        let by_column = dialect.values_have_column_type;
        let events: Vec<StoredEvent<E>> = with_storage!(self.pool(), pool, S => {
            let rows = S::read_after(pool, &select, after, limit).await?;
            events_of(&rows, by_column)?
        });
        let next = events.last().map_or(after, |e| e.position);
        let held_back = if events.len() < usize::try_from(limit).unwrap_or(usize::MAX) {
            self.held_back().await?
        } else {
            None
        };
        Ok(Tail {
            events,
            next,
            held_back,
        })
    }

    /// The transaction that holds other writers' commits up, if any
    /// (`Storage::held_back`): for [`Tail::held_back`] and
    /// `SealReport::held_back`.
    pub(crate) async fn held_back(&self) -> Result<Option<HeldBack>, AuditError> {
        with_storage!(self.pool(), pool, S => S::held_back(pool).await)
    }
}
