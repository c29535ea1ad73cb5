//! Audit logging for web applications, one annotated definition per event.
//!
//! Declare every audit event of an application once, in a catalog: an enum
//! marked [`#[events]`](macro@events) (or the same enum inside
//! [`declare_events!`], its equivalent). From that declaration the compiler
//! gets:
//!
//! - a payload struct per event and an enum of all events;
//! - a `Copy` event-type enum with a stable code, label, group and payload
//!   version per event, stored as its code (serde and sqlx, SQLite and
//!   PostgreSQL);
//! - a presenter and a compile-time checked template per event, dispatched by
//!   one exhaustive `match` (no lookup table to forget);
//! - decoding of stored rows that never panics: older payload versions are
//!   read through the upgrades the catalog declares, and what this program
//!   does not understand comes back as [`Decoded::Unknown`] with the reason;
//! - a schema lock, a committed file that records every stored payload
//!   shape: changing one without a new version, or dropping a code that
//!   stored rows hold, does not compile;
//! - the `#[target]`, `#[parent]` and `#[subject]` references that fill the
//!   store's indexed columns.
//!
//! # Layers
//!
//! The modules stack; none imports from a layer above its own (a test,
//! `tests/layers.rs`, checks it), and `ARCHITECTURE.md` says why:
//!
//! 1. `actor`, `reference`, `error` and `backend`: who acts, what events
//!    refer to, and the databases (the one place SQLite and PostgreSQL
//!    differ).
//! 2. `present`: the values templates show (`PresentContext`, `Shown`,
//!    `Resolver`), knowing nothing of storage.
//! 3. `decode` and `catalog`: the traits every generated catalog
//!    implements, and decoding of stored payloads.
//! 4. `model`: application tables classified as mutable or immutable.
//! 5. `store`: the events table, audited transactions and commands,
//!    retries, retention and queries.
//! 6. `page`: stored rows joined with presentation (`PresentContext::for_page`,
//!    `StoredEvent::render`).
//!
//! `__private` (hidden) holds what generated code needs; `testing` (feature
//! `testing`) gives tests fresh databases.
//!
//! ```
//! /// Events of the staff area.
//! #[audit_core::events(templates = "tests/templates")]
//! pub enum DocEvent {
//!     /// A project was created.
//!     #[event(code = "project_created", label = "Project created", group = "Projects")]
//!     ProjectCreated { name: String },
//! }
//!
//! use audit_core::{Decoded, EventCatalog, PresentContext};
//!
//! let event = DocEvent::from(ProjectCreated { name: "<b>Apollo</b>".into() });
//! assert_eq!(event.event_type().code(), "project_created");
//!
//! // The template `tests/templates/projects/project_created.html` holds
//! // `created project {{ name }}`; output is HTML-escaped.
//! let html = event.render(&PresentContext::new()).unwrap();
//! assert_eq!(html, "created project &#60;b&#62;Apollo&#60;/b&#62;");
//!
//! let stored = event.payload_json().unwrap();
//! assert_eq!(DocEvent::decode("project_created", 1, &stored), Decoded::Known(event));
//! assert!(matches!(DocEvent::decode("project_archived", 1, "{}"), Decoded::Unknown(_)));
//! ```
//!
//! # Bulk changes: one command, all or nothing
//!
//! A change to many items at once (several users added to a project) is a
//! command that calls a nested command per item. They run in one
//! transaction: the first failure fails the outer command, its transaction
//! cannot commit, and no item is changed and no event recorded. Every event
//! shares the outer command's id and time, and names the nested command
//! that emitted it.
//!
//! ```no_run
//! # audit_core::declare_events! {
//! #     #[events(templates = "tests/templates")]
//! #     pub enum DocEvent {
//! #         #[event(code = "project_created", label = "Project created", group = "Projects")]
//! #         ProjectCreated { name: String },
//! #     }
//! # }
//! use audit_core::{Actor, Audit, AuditError, Auditor, auditable};
//!
//! #[auditable(emits(ProjectCreated))]
//! async fn add_project(cx: &mut Audit<DocEvent>, name: &str) -> Result<(), AuditError> {
//!     // ... the project's INSERT through `cx.db()`, which may fail ...
//!     cx.emit(ProjectCreated { name: name.into() })
//! }
//!
//! /// Its nested commands emit the events; it emits none of its own.
//! #[auditable]
//! async fn add_projects(cx: &mut Audit<DocEvent>, names: &[&str]) -> Result<(), AuditError> {
//!     for name in names {
//!         add_project(cx, name).await?; // the first failure fails them all
//!     }
//!     Ok(())
//! }
//!
//! # async fn demo(auditor: Auditor) -> Result<(), AuditError> {
//! let mut audit = auditor.begin::<DocEvent>(Actor::user(1, "alice")).await?;
//! add_projects(&mut audit, &["Apollo", "Gemini", "Mercury"]).await?;
//! audit.commit().await?; // all three, or (on any error above) none
//! # Ok(()) }
//! ```
//!
//! # Importing history, and testing commands
//!
//! [`Auditor::import`] records events of the catalog that happened before
//! auditing began, or in another system, with their own time and actor,
//! marked as imported and once per import key ([`Import`]). The `testing`
//! feature's `testing::Harness` runs an application's commands on a fresh
//! database and asserts the events they emitted.
#![warn(missing_docs)]

// Lets the crate's own tests and doctests use the macros, whose output names `::audit_core`.
extern crate self as audit_core;

// Layer 1.
mod actor;
mod backend;
mod error;
mod reference;
mod text;
// Layer 2.
mod present;
// Layer 3.
mod catalog;
mod decode;
// Layer 4.
mod model;
// Layer 5.
mod store;
// Layer 6.
mod page;
pub use page::render_page;

#[cfg(feature = "testing")]
pub mod testing;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use actor::Actor;
pub use audit_macros::{Model, auditable, declare_events, events};
pub use backend::{Backend, ByBackend, Db, Pool};
pub use catalog::{ActiveEvent, Event, EventCatalog, EventType, PayloadField};
pub use decode::{Decoded, UnknownEvent, UnknownReason};
pub use error::UnknownEventCode;
pub use model::{Model, WriteAccess};
pub use present::{
    ACTOR_KIND, NONE_TEXT, PresentContext, Presentable, RenderError, Resolved, Resolver, Shown,
    plain_text,
};
pub use reference::{EntityRef, Reference, References};
pub use store::{
    Attempt, Audit, AuditError, Auditor, Command, CommandOutput, CommitProbe, Condition, Cursor,
    DEFAULT_MIN_RETENTION, Divergence, EVENTS_TABLE, Emits, EmittedBy, EventQuery, FromAuditError,
    Head, Isolation, MAX_PAGE_SIZE, MAX_PAYLOAD_BYTES, PRUNED_EVENT_CODE, Page, Position,
    RetryPolicy, Retryable, SCHEMA_VERSION, SchemaStatus, SealKey, SealKeyError, SealReport,
    StoredEvent, Tail, VerifyOptions, VerifyReport,
};
#[doc(hidden)]
pub use store::{AuditSession, EmittedOutsideCommand};
pub use store::{
    IMPORT_COMMAND, IMPORTED_EVENT_CODE, Import, ImportError, ImportReport, MAX_IMPORT_KEY_BYTES,
};
pub use text::{is_bidi_formatting, printable};
