//! Reading the log: filters, pages and cursors, positions to follow the
//! log from, and rendering what was read.
//!
//! [`Auditor::query`](crate::Auditor::query) answers an [`EventQuery`]
//! (conditions on references and actors, [`Condition`], event types and a
//! time range) with a [`Page`] of [`StoredEvent`]s, newest first, and the
//! [`Cursor`]s of the pages around it. A follower (an export, a stream)
//! reads forward in commit order instead, from a [`Position`] it keeps:
//! [`Auditor::read_after`](crate::Auditor::read_after) returns a [`Tail`]
//! and the position to read on from, and never misses or repeats an event.
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

pub use crate::page::render_page;
pub use crate::store::error::ParseError;
pub use crate::store::position::Position;
pub use crate::store::query::{Condition, Cursor, EventQuery, MAX_PAGE_SIZE, Page, StoredEvent};
pub use crate::store::tail::Tail;
