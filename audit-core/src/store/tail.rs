//! Reading the log forward, in commit order, from a [`Position`]: what a
//! follower (an export to a SIEM, a stream) uses (G12), and what holds it
//! back ([`HeldBack`]). Why the order is commit order on each backend is in
//! `position.rs`; each backend's queries are its own (`Storage::read_after`
//! and `Storage::held_back`, in `backends/`).

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
    /// When fewer events than asked came, and committed events wait after
    /// `next` behind a transaction still running (PostgreSQL only): that
    /// transaction. `None` when the page is full (read on at once), when
    /// nothing waits, and always on SQLite.
    pub held_back: Option<HeldBack>,
}

impl Auditor {
    /// The next events after `after`, at most `limit` (clamped to
    /// `1..=`[`MAX_PAGE_SIZE`](crate::query::MAX_PAGE_SIZE)), in commit order, and
    /// the position to read from next. Only events that no later commit
    /// can precede are returned (on PostgreSQL, those of transactions older
    /// than every one of this database still running), so a follower that
    /// stores `next` and reads on from it never misses or repeats an event,
    /// across restarts. The log's anchor (id 0) is never returned.
    ///
    /// A transaction of this database left open holds the events committed
    /// after it began back until it ends: when fewer events than asked
    /// come and some wait so, [`Tail::held_back`] names it (its session's
    /// process id, database and state), to tell an operator. Transactions
    /// of the server's other databases hold nothing back.
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
        let events: Vec<StoredEvent<E>> = with_storage!(self.pool(), pool, S => {
            let rows = S::read_after(pool, &select, after, limit).await?;
            events_of(&rows, by_column)?
        });
        let next = events.last().map_or(after, |e| e.position);
        let held_back = if events.len() < usize::try_from(limit).unwrap_or(usize::MAX) {
            self.held_back(next).await?
        } else {
            None
        };
        Ok(Tail {
            events,
            next,
            held_back,
        })
    }

    /// What holds reading on from `after` back, if anything
    /// (`Storage::held_back`): for [`Tail::held_back`] and
    /// `SealReport::held_back`.
    pub(crate) async fn held_back(&self, after: Position) -> Result<Option<HeldBack>, AuditError> {
        with_storage!(self.pool(), pool, S => S::held_back(pool, after).await)
    }
}
