//! What a catalog declares: the traits the catalog macro implements, the
//! decoding of stored rows, and the references events make.
//!
//! An enum marked [`#[events]`](macro@crate::events), or written inside
//! [`declare_events!`](crate::declare_events), is a catalog: the enum
//! implements [`EventCatalog`], its event-type enum [`EventType`], and each
//! event's payload struct [`Event`] ([`ActiveEvent`] unless the event is
//! retired). A stored row is read back through the catalog as [`Decoded`]:
//! the event, or, for a row this program does not understand, an
//! [`UnknownEvent`] that keeps what was stored and says why
//! ([`UnknownReason`]). Payload fields marked `#[target]`, `#[parent]` or
//! `#[subject]` implement [`Reference`]; their [`EntityRef`]s
//! ([`References`]) fill the store's indexed columns, which queries filter on.
//! Payload fields marked `#[personal]` hold data about a person, erased with
//! that person ([`EventType::personal_fields`]); their types implement
//! [`Erasable`], what such a field reads back as once erased ([`ERASED_TEXT`]
//! for text).
//!
//! Beside a catalog's events, every log holds records the library writes
//! itself (a prune, an import, a repair, a change of the minimum
//! retention), stored with codes that start `audit:` and that no catalog
//! declares: each is an [`OwnRecordType`] with the library's label and
//! description, and [`LogEventType`] is either kind of type, what a page
//! shows in its type column
//! ([`StoredEvent::type_label`](crate::query::StoredEvent::type_label)) and
//! what a type filter offers and parses.
//!
//! This module and the attribute macro `#[audit_core::events]` share a name
//! but not a namespace: `audit_core::events::EventCatalog` is this module's.
//!
//! ```
//! use audit_core::events::{
//!     Decoded, EntityRef, EventCatalog, EventType, Reference, UnknownReason,
//! };
//! use audit_core::present::{PresentContext, Presentable, Shown};
//!
//! /// A project, as events refer to it.
//! #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
//! pub struct ProjectId(u64);
//!
//! impl Reference for ProjectId {
//!     fn entity_ref(&self) -> EntityRef {
//!         EntityRef::new("project", self.0.to_string())
//!     }
//! }
//!
//! impl Presentable for ProjectId {
//!     fn present(&self, _: &PresentContext) -> Shown {
//!         Shown::text(format!("project #{}", self.0))
//!     }
//! }
//!
//! #[audit_core::events(templates = "tests/templates")]
//! pub enum DocEvent {
//!     #[event(code = "project_created", label = "Project created", group = "Projects")]
//!     ProjectCreated { #[target] project: ProjectId, name: String },
//! }
//!
//! let event = DocEvent::from(ProjectCreated { project: ProjectId(3), name: "Apollo".into() });
//! let kind = event.event_type();
//! assert_eq!((kind.code(), kind.label(), kind.version()), ("project_created", "Project created", 1));
//! assert_eq!(event.references().target, Some(EntityRef::new("project", "3")));
//!
//! // Rows are read back through the catalog; a row it does not declare is
//! // kept as it was stored, with the reason.
//! let stored = event.payload_json().unwrap();
//! assert_eq!(DocEvent::decode("project_created", 1, &stored), Decoded::Known(event));
//! match DocEvent::decode("project_archived", 1, "{}") {
//!     Decoded::Unknown(unknown) => assert_eq!(unknown.reason, UnknownReason::UnknownCode),
//!     Decoded::Known(event) => panic!("decoded as {event:?}"),
//! }
//! ```

pub use crate::catalog::{ActiveEvent, Event, EventCatalog, EventType, PayloadField};
pub use crate::decode::{Decoded, UnknownEvent, UnknownReason};
pub use crate::erasable::{ERASED_TEXT, Erasable};
pub use crate::error::UnknownEventCode;
pub use crate::own_records::{LogEventType, OwnRecordType};
pub use crate::reference::{EntityRef, Reference, References};
