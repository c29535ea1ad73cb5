//! What a query asks for: conditions, types, a time range, a page size and a cursor.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::cursor::Cursor;
use crate::actor::Actor;
use crate::reference::EntityRef;

/// The most events one page may hold.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// A query over the log: conditions that must all hold, groups of which at
/// least one must hold, newest first, a page at a time.
///
/// Pages are in time order: by the event's time (`occurred_at`, in
/// microseconds), then by id where times are equal, so an event imported
/// or backfilled with a time of 2024 is among 2024's events, not above this
/// week's. That is not commit order: to read the log as it was committed
/// (an export, a follower), use [`Auditor::read_after`](crate::Auditor::read_after).
///
/// ```
/// # use audit_core::events::EntityRef;
/// # use audit_core::query::{Condition, EventQuery};
/// # use audit_core::Actor;
/// let user = EntityRef::new("user", "7");
/// // Everything user 7 did, everything about them, and everything on project 3.
/// let query = EventQuery::new().any_of([
///     Condition::Actor(Actor::user(7, "ada")),
///     Condition::Subject(user),
///     Condition::Parent(EntityRef::new("project", "3")),
/// ]);
/// ```
#[derive(Debug, Clone)]
pub struct EventQuery {
    pub(super) all: Vec<Condition>,
    pub(super) any: Vec<Vec<Condition>>,
    /// `None` until [`EventQuery::types`] is called: then only those types.
    pub(super) types: Option<Vec<String>>,
    pub(super) since: Option<DateTime<Utc>>,
    pub(super) until: Option<DateTime<Utc>>,
    pub(super) limit: u32,
    pub(super) cursor: Option<Cursor>,
}

/// One condition on an event's indexed references or actor.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Condition {
    /// The event's parent is this entity (everything on a project, say).
    Parent(EntityRef),
    /// The event's target is this entity.
    Target(EntityRef),
    /// The event is about this entity.
    Subject(EntityRef),
    /// This actor performed the event (a person: whomever they acted as).
    Actor(Actor),
    /// The event was made in the request with this id ([`Context::request_id`](crate::Context::request_id)).
    RequestId(String),
    /// The event was made from this client address
    /// ([`Context::client_address`](crate::Context::client_address)).
    ClientAddress(IpAddr),
}

impl Default for EventQuery {
    fn default() -> Self {
        EventQuery {
            all: Vec::new(),
            any: Vec::new(),
            types: None,
            since: None,
            until: None,
            limit: 25,
            cursor: None,
        }
    }
}

impl EventQuery {
    /// All events, 25 a page.
    pub fn new() -> Self {
        EventQuery::default()
    }

    /// Only events that meet `condition`; conditions added this way all hold.
    pub fn only(mut self, condition: Condition) -> Self {
        self.all.push(condition);
        self
    }

    /// Only events that meet at least one of `conditions`. Each call adds a
    /// group that must hold (groups combine with AND); an empty group
    /// matches no event.
    pub fn any_of(mut self, conditions: impl IntoIterator<Item = Condition>) -> Self {
        self.any.push(conditions.into_iter().collect());
        self
    }

    /// Events whose parent is `parent`: `only(Condition::Parent(parent))`.
    pub fn parent(self, parent: EntityRef) -> Self {
        self.only(Condition::Parent(parent))
    }

    /// Events whose target is `target`: `only(Condition::Target(target))`.
    pub fn target(self, target: EntityRef) -> Self {
        self.only(Condition::Target(target))
    }

    /// Events about `subject`: `only(Condition::Subject(subject))`.
    pub fn subject(self, subject: EntityRef) -> Self {
        self.only(Condition::Subject(subject))
    }

    /// Events performed by `actor`: `only(Condition::Actor(actor.clone()))`.
    pub fn actor(self, actor: &Actor) -> Self {
        self.only(Condition::Actor(actor.clone()))
    }

    /// Events of the request `id`, the context's
    /// [`request_id`](crate::Context::request_id):
    /// `only(Condition::RequestId(id))`.
    pub fn request_id(self, id: impl Into<String>) -> Self {
        self.only(Condition::RequestId(id.into()))
    }

    /// Events made from `address`, the context's
    /// [`client_address`](crate::Context::client_address):
    /// `only(Condition::ClientAddress(address))`.
    pub fn client_address(self, address: IpAddr) -> Self {
        self.only(Condition::ClientAddress(address))
    }

    /// Events of any of these type codes: all types when never called, none
    /// when called with no code (as an empty [`any_of`](Self::any_of) group).
    /// Calls add codes to the list.
    pub fn types<I, S>(mut self, codes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.types
            .get_or_insert_with(Vec::new)
            .extend(codes.into_iter().map(Into::into));
        self
    }

    /// Events at or after `since` (by their time, the pages' order: a
    /// time range is one range of the index every page reads).
    pub fn since(mut self, since: DateTime<Utc>) -> Self {
        self.since = Some(since);
        self
    }

    /// Events before `until`.
    pub fn until(mut self, until: DateTime<Utc>) -> Self {
        self.until = Some(until);
        self
    }

    /// Page size, clamped to `1..=`[`MAX_PAGE_SIZE`].
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// The page that `cursor` (a [`Page::next`](crate::query::Page::next)
    /// or [`Page::prev`](crate::query::Page::prev) of the same query)
    /// points to: the events strictly older (or newer) than the event at
    /// the edge of the page it came from, in time order; without it, the
    /// newest page. Events written meanwhile never repeat or hide one that
    /// was there: each lands where its time puts it (a new one above the
    /// first page, an imported one among its time's events), and shows on
    /// a page read after it committed if that page covers its time.
    pub fn cursor(mut self, cursor: Cursor) -> Self {
        self.cursor = Some(cursor);
        self
    }
}
