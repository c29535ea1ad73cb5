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
//!   does not understand comes back as
//!   [`Decoded::Unknown`](events::Decoded::Unknown) with the reason;
//! - a schema lock, a committed file that records every stored payload
//!   shape: changing one without a new version, or dropping a code that
//!   stored rows hold, does not compile;
//! - the `#[target]`, `#[parent]` and `#[subject]` references that fill the
//!   store's indexed columns.
//!
//! # Modules
//!
//! The crate root holds what every application touches: the macros
//! ([`#[events]`](macro@events), [`declare_events!`],
//! [`#[auditable]`](macro@auditable), [`#[derive(Model)]`](derive@Model) and
//! [`on_backend!`]), [`Auditor`], the entry point, [`Audit`], one audited
//! transaction, [`Actor`], who acts, and [`AuditError`]. The rest is grouped
//! by what it is for:
//!
//! - [`commands`]: writing the log. Audited transactions, the context of a
//!   running command, what a command may emit, retries, and models with
//!   their write access.
//! - [`events`](mod@events): what a catalog declares. The traits the catalog macro
//!   implements, decoding of stored rows (unknown ones included), and the
//!   references events make to entities.
//! - [`store`]: the database. Backends and pools, the events table and its
//!   schema, retention, and imports of historical events.
//! - [`query`]: reading the log. Filters, pages and cursors, positions to
//!   follow the log from, and rendering a page of events.
//! - [`seals`]: tamper evidence. Sealing the log, signing keys, heads kept
//!   elsewhere, and verification.
//! - [`present`]: showing events. The values templates show, and how
//!   references become names and links.
//! - [`text`]: text that is safe to print on a terminal or in a log file.
//! - `testing` (feature `testing`): fresh test databases and the command
//!   `Harness`.
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
//! use audit_core::events::{Decoded, EventCatalog};
//! use audit_core::present::PresentContext;
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
//! marked as imported and once per import key ([`store::Import`]). The
//! `testing` feature's `testing::Harness` runs an application's commands on
//! a fresh database and asserts the events they emitted.
#![warn(missing_docs)]
#![forbid(unsafe_code)]
// On docs.rs (nightly, `--cfg docsrs`): a badge on each item that a feature gates.
#![cfg_attr(docsrs, feature(doc_cfg))]

// Lets the crate's own tests and doctests use the macros, whose output names `::audit_core`.
extern crate self as audit_core;

// The layers, from the bottom (ARCHITECTURE.md); `text`, `present` and
// `store` are public modules themselves.
// Layer 1.
mod actor;
mod backend;
mod error;
mod reference;
pub mod text;
// Layer 2.
pub mod present;
// Layer 3.
mod catalog;
mod decode;
// Layer 4.
mod model;
// Layer 5.
pub mod store;
// Layer 6.
mod page;

// The public modules that only re-export, grouping the layers' items by task.
pub mod commands;
pub mod events;
pub mod query;
pub mod seals;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use actor::Actor;
pub use audit_macros::{Model, auditable, declare_events, events};
pub use commands::Audit;
pub use store::Auditor;
pub use store::error::AuditError;
