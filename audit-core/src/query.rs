//! Reading the log: filters, pages and cursors, positions to follow the
//! log from, and rendering what was read.
//!
//! [`Auditor::query`](crate::Auditor::query) answers an [`EventQuery`]
//! (conditions on references and actors, [`Condition`], event types and a
//! time range) with a [`Page`] of [`StoredEvent`]s, newest first by the
//! event's time, and the [`Cursor`]s of the pages around it. A follower
//! (an export, a stream) reads forward in commit order instead, from a
//! [`Position`] it keeps:
//! [`Auditor::read_after`](crate::Auditor::read_after) returns a [`Tail`]
//! and the position to read on from, never misses or repeats an event, and
//! says what holds it back when something does ([`HeldBack`]).
//! [`StoredEvent::render`] and [`render_page`] show what was read, unknown
//! rows included.
//!
//! ```
//! use audit_core::events::EntityRef;
//! use audit_core::present::PresentContext;
//! use audit_core::query::{Condition, EventQuery, Position, render_page};
//! use audit_core::{Actor, Audit, AuditError, Auditor, auditable};
//!
//! # audit_core::declare_events! {
//! #     #[events(templates = "tests/templates")]
//! #     pub enum DocEvent {
//! #         #[event(code = "project_created", label = "Project created", group = "Projects")]
//! #         ProjectCreated { name: String },
//! #     }
//! # }
//! # #[auditable(emits(ProjectCreated))]
//! # async fn create_project(cx: &mut Audit<DocEvent>, name: &str) -> Result<(), AuditError> {
//! #     cx.emit(ProjectCreated { name: name.into() })
//! # }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), AuditError> {
//! # let auditor = Auditor::connect("sqlite::memory:").await?;
//! # auditor.migrate().await?;
//! let alice = Actor::user(1, "alice");
//! let mut audit = auditor.begin::<DocEvent>(alice.clone()).await?;
//! create_project(&mut audit, "Apollo").await?;
//! create_project(&mut audit, "Gemini").await?;
//! audit.commit().await?;
//!
//! // What alice did, or anything on project 3: newest first, a page at a time.
//! let query = EventQuery::new()
//!     .any_of([
//!         Condition::Actor(alice),
//!         Condition::Parent(EntityRef::new("project", "3")),
//!     ])
//!     .limit(1);
//! let page = auditor.query::<DocEvent>(&query).await?;
//! let html = render_page(&page.events, &PresentContext::new());
//! assert_eq!(html, ["created project Gemini"]);
//! let older = auditor.query::<DocEvent>(&query.cursor(page.next.unwrap())).await?;
//! assert_eq!(render_page(&older.events, &PresentContext::new()), ["created project Apollo"]);
//!
//! // A follower reads forward in commit order, from where it stopped.
//! let tail = auditor.read_after::<DocEvent>(Position::START, 100).await?;
//! assert_eq!(tail.events.len(), 2);
//! assert!(auditor.read_after::<DocEvent>(tail.next, 100).await?.events.is_empty());
//! # Ok(()) }
//! ```
//!
//! The catalog to decode with is a type parameter, written at the call:
//! `auditor.query::<DocEvent>(&query)`. Unless the page's type is named
//! elsewhere, `auditor.query(&query)` alone does not compile (error E0283,
//! type annotations needed).
//!
//! # Pages
//!
//! `auditor.query(&EventQuery::new().parent(..).types(..).actor(..))` reads
//! pages newest first; conditions combine with AND, and
//! `.any_of([Condition::Actor(..), Condition::Subject(..), ..])` adds a group
//! of which one must hold (a user's log: what they did or what was done to
//! them). [`Page::next`] and [`Page::prev`] are opaque keyset cursors to the
//! older and newer page. Rows this program cannot read come back as
//! [`Decoded::Unknown`](crate::events::Decoded::Unknown).
//!
//! "Newest first" is by the event's time, `occurred_at` (the time of the
//! command that emitted it, or the time an import gave it), then by id
//! where times are equal: an event backfilled today with a time of 2024 is
//! listed among 2024's events, not above this week's. A time range
//! (`since`, `until`) and every filter are served by an index in that
//! order, so a deep page costs what the first one does. A cursor holds the
//! time and id of the event at its page's edge, so paging while events are
//! written never repeats an event nor skips one that was there: a new
//! event lands above the first page (an imported one where its time puts
//! it). A cursor printed before pages were ordered by time (an id alone,
//! `b1f`) does not parse: [`ParseError::OutdatedCursor`].
//! Commit order, which exports and followers need, is
//! [`read_after`](crate::Auditor::read_after)'s, below.
//!
//! # Following the log
//!
//! `auditor.read_after(position, limit)` reads the log forward in commit
//! order: a [`Tail`] of events, each with its `position`, and `tail.next`,
//! where to read on from. Commit order: when a transaction committed before
//! another began, waited for its lock or read what it wrote, its events
//! come first, so replaying what was read gives the tables' state. Every
//! committed event is returned at once and no later commit can come before
//! it, so a follower that stores `next.to_string()` and goes on from the
//! parsed [`Position`] never misses or repeats an event, across restarts
//! (G12). Pages ([`Auditor::query`](crate::Auditor::query)) are in the
//! events' time order instead.
//!
//! - On PostgreSQL each transaction that writes events takes its place in
//!   commit order with them, under a lock held until it ends (the library
//!   writes events in a transaction's last statement, so only its commit
//!   waits). A transaction that writes events and stays open (a session
//!   idle in a transaction, a forgotten prepared transaction) makes every
//!   other writer's commit wait until it ends. While it does,
//!   [`Tail::held_back`] (and a seal's `held_back`) is a [`HeldBack`]
//!   naming it: its process id, database, state and how long it has been
//!   open, and how many writers wait; its `Display` is a sentence for an
//!   operator.
//! - Places come from a sequence of the audit schema, which `pg_dump` and
//!   `pg_upgrade` both keep, so followers go on after either. A database
//!   restored into a server whose transaction ids are behind the log's is
//!   refused at start until they are advanced (the error names the step).
//!
//! # Rendering
//!
//! [`PresentContext::for_page(&page.events, &resolver)`](crate::present::PresentContext::for_page)
//! looks up every reference of a page (users, projects, ...) with one call
//! per kind of the application's [`Resolver`](crate::present::Resolver), so
//! rendering a page costs the same number of queries for 1 event or 250.
//! [`stored.render(&cx)`](StoredEvent::render) never fails: unknown events
//! show as a generic line (actor, code, time) and log a warning;
//! [`render_page`] logs one warning per code for a whole page.

pub use crate::page::render_page;
pub use crate::store::error::ParseError;
pub use crate::store::position::{HeldBack, Position};
pub use crate::store::query::{Condition, Cursor, EventQuery, MAX_PAGE_SIZE, Page, StoredEvent};
pub use crate::store::tail::Tail;
