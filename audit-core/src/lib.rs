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
//! transaction, [`Actor`], who acts, [`Context`], where and why (set once
//! per request or job, stored with every event), and [`AuditError`]. The
//! rest is grouped
//! by what it is for:
//!
//! - [`commands`]: writing the log. Audited transactions, the context of a
//!   running command, what a command may emit, retries, and models with
//!   their write access.
//! - [`events`](mod@events): what a catalog declares. The traits the catalog macro
//!   implements, decoding of stored rows (unknown ones included), the
//!   references events make to entities, and the log's own record types,
//!   which the library labels for every catalog.
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
//! - `axum` (feature `axum`): the web layer that fills each request's
//!   [`Context`], and `AuditSession`, a handler's audited transaction for
//!   the signed-in actor.
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
mod context;
mod erasable;
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
mod own_records;
mod page;

// The public modules that only re-export, grouping the layers' items by task.
pub mod commands;
pub mod erasure;
pub mod events;
pub mod query;
pub mod seals;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use actor::Actor;
pub use context::{Context, MAX_CONTEXT_BYTES};
// The macros, one re-export each: the doc comment of each holds its example,
// which rustdoc prepends to the macro's own documentation and runs as a
// doctest of this crate (a proc-macro crate cannot run its own).
/// Declares an audit event catalog: every event of an application, once.
///
/// A catalog of two events that refer to the application's projects and
/// users, and what it generates. Its templates are
/// `tests/templates/docs/projects/project_created.html`, which holds
/// `created project {{ project }}`, and
/// `tests/templates/docs/project_members/project_member_added.html`, which
/// holds `added {{ user }} to {{ project }} as {{ roles }}`.
///
/// ```
/// use audit_core::events::{Decoded, EntityRef, EventCatalog, EventType, Reference};
/// use audit_core::present::{PresentContext, Presentable, Resolved, Shown};
/// use serde::{Deserialize, Serialize};
///
/// /// A project, as events refer to it: its id, and its name at the time.
/// #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// pub struct ProjectRef {
///     pub id: i64,
///     pub name: String,
/// }
///
/// /// A user, as events refer to them.
/// #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// pub struct UserRef {
///     pub id: i64,
///     pub username: String,
/// }
///
/// // What a `#[target]`, `#[parent]` or `#[subject]` field stores in its
/// // indexed column.
/// impl Reference for ProjectRef {
///     fn entity_ref(&self) -> EntityRef {
///         EntityRef::new("project", self.id.to_string())
///     }
/// }
/// impl Reference for UserRef {
///     fn entity_ref(&self) -> EntityRef {
///         EntityRef::new("user", self.id.to_string())
///     }
/// }
///
/// // How templates show them: as they are now when the page looked them up
/// // (`PresentContext::for_page`), else by the name the event stored.
/// impl Presentable for ProjectRef {
///     fn present(&self, cx: &PresentContext) -> Shown {
///         match cx.resolved(&self.entity_ref()) {
///             Some(now) => Shown::resolved(now),
///             None => Shown::text(&self.name),
///         }
///     }
/// }
/// impl Presentable for UserRef {
///     fn present(&self, cx: &PresentContext) -> Shown {
///         match cx.resolved(&self.entity_ref()) {
///             Some(now) => Shown::resolved(now),
///             None => Shown::text(&self.username),
///         }
///     }
/// }
///
/// /// Audit events of the staff area.
/// #[audit_core::events(templates = "tests/templates/docs")]
/// pub enum StaffEvent {
///     /// A project was created.
///     #[event(code = "project_created", label = "Project created", group = "Projects")]
///     ProjectCreated {
///         #[target]
///         #[parent]
///         project: ProjectRef,
///     },
///     /// A user became a member of a project.
///     #[event(code = "project_member_added", label = "User added", group = "Project members")]
///     ProjectMemberAdded {
///         #[parent]
///         project: ProjectRef,
///         #[subject]
///         user: UserRef,
///         roles: Vec<String>,
///     },
/// }
///
/// let apollo = ProjectRef { id: 3, name: "Apollo".into() };
/// let bob = UserRef { id: 7, username: "bob".into() };
/// let event = StaffEvent::from(ProjectMemberAdded {
///     project: apollo,
///     user: bob,
///     roles: vec!["developer".into()],
/// });
///
/// // Its type: a stable code (what is stored), a label and a group.
/// let kind = event.event_type();
/// assert_eq!(kind, StaffEventType::ProjectMemberAdded);
/// assert_eq!(kind.code(), "project_member_added");
/// assert_eq!((kind.label(), kind.group()), ("User added", "Project members"));
/// assert_eq!(StaffEventType::ALL, [StaffEventType::ProjectCreated, kind]);
///
/// // The marked fields fill the indexed columns that queries filter on.
/// let references = event.references();
/// assert_eq!(references.parent, Some(EntityRef::new("project", "3")));
/// assert_eq!(references.subject, Some(EntityRef::new("user", "7")));
/// assert_eq!(references.target, None);
///
/// // Its template, HTML-escaped: with nothing looked up, then as a page
/// // shows it, the project renamed since and linked.
/// assert_eq!(event.render(&PresentContext::new())?, "added bob to Apollo as developer");
/// let mut cx = PresentContext::new();
/// let now = Resolved { label: "Apollo 11".into(), href: Some("/projects/3".into()) };
/// cx.insert(&EntityRef::new("project", "3"), now);
/// assert_eq!(
///     event.render(&cx)?,
///     r#"added bob to <a href="/projects/3">Apollo 11</a> as developer"#,
/// );
///
/// // Stored as JSON with its version (1), and read back through the catalog;
/// // a code it does not declare comes back as unknown, never a panic.
/// let payload = event.payload_json()?;
/// assert_eq!(StaffEvent::decode("project_member_added", 1, &payload), Decoded::Known(event));
/// assert!(matches!(StaffEvent::decode("project_archived", 1, "{}"), Decoded::Unknown(_)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A payload that changed (see "Payloads that change" below): version 2 of
/// `project_created` adds `creator`, and rows stored by version 1 are read
/// through `project_created_v1`.
///
/// ```
/// # use audit_core::events::{EntityRef, Reference};
/// # use audit_core::present::{PresentContext, Presentable, Shown};
/// # #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
/// # pub struct ProjectRef { pub id: i64, pub name: String }
/// # #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
/// # pub struct UserRef { pub id: i64, pub username: String }
/// # impl Reference for ProjectRef {
/// #     fn entity_ref(&self) -> EntityRef { EntityRef::new("project", self.id.to_string()) }
/// # }
/// # impl Presentable for ProjectRef {
/// #     fn present(&self, _: &PresentContext) -> Shown { Shown::text(&self.name) }
/// # }
/// # impl Presentable for UserRef {
/// #     fn present(&self, _: &PresentContext) -> Shown { Shown::text(&self.username) }
/// # }
/// use audit_core::events::{Decoded, EventCatalog};
///
/// mod v1 {
///     /// `project_created` as version 1 stored it.
///     #[derive(serde::Deserialize)]
///     pub struct ProjectCreated {
///         pub project: super::ProjectRef,
///     }
/// }
///
/// fn project_created_v1(old: v1::ProjectCreated) -> ProjectCreated {
///     ProjectCreated { project: old.project, creator: None }
/// }
///
/// #[audit_core::events(templates = "tests/templates/docs")]
/// pub enum StaffEvent {
///     #[event(code = "project_created", label = "Project created", group = "Projects",
///             version = 2, upgrade(from = 1, with = project_created_v1))]
///     ProjectCreated { #[target] #[parent] project: ProjectRef, creator: Option<UserRef> },
/// }
///
/// # fn main() {
/// let stored_by_v1 = r#"{"project": {"id": 3, "name": "Apollo"}}"#;
/// let apollo = ProjectRef { id: 3, name: "Apollo".into() };
/// let upgraded = StaffEvent::from(ProjectCreated { project: apollo, creator: None });
/// assert_eq!(StaffEvent::decode("project_created", 1, stored_by_v1), Decoded::Known(upgraded));
/// assert!(matches!(StaffEvent::decode("project_created", 3, "{}"), Decoded::Unknown(_)));
/// # }
/// ```
#[doc(inline)]
pub use audit_macros::events;

/// Declares an audit event catalog inside a macro call: the same catalog as
/// [`#[events]`](macro@events), written another way.
///
/// A catalog of one event that refers to the application's projects, an
/// event emitted by a command into an in-memory database, and read back. Its
/// template, `tests/templates/docs/projects/project_created.html`, holds
/// `created project {{ project }}`.
///
/// ```
/// use audit_core::events::{Decoded, EntityRef, Reference};
/// use audit_core::present::{PresentContext, Presentable, Shown};
/// use audit_core::query::EventQuery;
/// use audit_core::{Actor, Audit, AuditError, Auditor, auditable};
///
/// /// A project, as events refer to it: its id, and its name at the time.
/// #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
/// pub struct ProjectRef {
///     pub id: i64,
///     pub name: String,
/// }
///
/// impl Reference for ProjectRef {
///     fn entity_ref(&self) -> EntityRef {
///         EntityRef::new("project", self.id.to_string())
///     }
/// }
///
/// impl Presentable for ProjectRef {
///     fn present(&self, cx: &PresentContext) -> Shown {
///         match cx.resolved(&self.entity_ref()) {
///             Some(now) => Shown::resolved(now),
///             None => Shown::text(&self.name),
///         }
///     }
/// }
///
/// audit_core::declare_events! {
///     /// Audit events of the staff area.
///     #[events(templates = "tests/templates/docs")]
///     pub enum StaffEvent {
///         /// A project was created.
///         #[event(code = "project_created", label = "Project created", group = "Projects")]
///         ProjectCreated {
///             #[target]
///             #[parent]
///             project: ProjectRef,
///         },
///     }
/// }
///
/// /// Records a project the application created (a command that also makes
/// /// the change is on `#[auditable]`).
/// #[auditable(emits(ProjectCreated))]
/// async fn project_created(cx: &mut Audit<StaffEvent>, project: &ProjectRef) -> Result<(), AuditError> {
///     cx.emit(ProjectCreated { project: project.clone() })
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), AuditError> {
/// let auditor = Auditor::connect("sqlite::memory:").await?;
/// auditor.migrate().await?;
///
/// let apollo = ProjectRef { id: 3, name: "Apollo".into() };
/// let mut audit = auditor.begin::<StaffEvent>(Actor::user(1, "alice")).await?;
/// project_created(&mut audit, &apollo).await?;
/// audit.commit().await?;
///
/// // The project's events, found by their `#[parent]` column.
/// let query = EventQuery::new().parent(apollo.entity_ref());
/// let page = auditor.query::<StaffEvent>(&query).await?;
/// let stored = &page.events[0];
/// assert_eq!(stored.actor, Actor::user(1, "alice"));
/// assert_eq!(stored.command_name, "project_created");
/// assert_eq!(stored.event, Decoded::Known(StaffEvent::from(ProjectCreated { project: apollo })));
/// assert_eq!(stored.render(&PresentContext::new()), "created project Apollo");
/// # Ok(()) }
/// ```
#[doc(inline)]
pub use audit_macros::declare_events;

/// Makes an `async fn` an audited command: the only place events are emitted.
///
/// Two commands of a staff area, on the catalog of [`#[events]`](macro@events)'s
/// example (`StaffEvent`, with `ProjectRef` and `UserRef`): one makes a
/// change through `cx.db()` and emits its event, the other calls it and
/// emits events of its own. They run in one transaction on an in-memory
/// database, and commit together.
///
/// ```
/// # use audit_core::events::{EntityRef, Reference};
/// # use audit_core::present::{PresentContext, Presentable, Shown};
/// # #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
/// # pub struct ProjectRef { pub id: i64, pub name: String }
/// # #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
/// # pub struct UserRef { pub id: i64, pub username: String }
/// # impl Reference for ProjectRef {
/// #     fn entity_ref(&self) -> EntityRef { EntityRef::new("project", self.id.to_string()) }
/// # }
/// # impl Reference for UserRef {
/// #     fn entity_ref(&self) -> EntityRef { EntityRef::new("user", self.id.to_string()) }
/// # }
/// # impl Presentable for ProjectRef {
/// #     fn present(&self, _: &PresentContext) -> Shown { Shown::text(&self.name) }
/// # }
/// # impl Presentable for UserRef {
/// #     fn present(&self, _: &PresentContext) -> Shown { Shown::text(&self.username) }
/// # }
/// # #[audit_core::events(templates = "tests/templates/docs")]
/// # pub enum StaffEvent {
/// #     #[event(code = "project_created", label = "Project created", group = "Projects")]
/// #     ProjectCreated { #[target] #[parent] project: ProjectRef },
/// #     #[event(code = "project_member_added", label = "User added", group = "Project members")]
/// #     ProjectMemberAdded { #[parent] project: ProjectRef, #[subject] user: UserRef, roles: Vec<String> },
/// # }
/// use audit_core::query::EventQuery;
/// use audit_core::{Actor, Audit, AuditError, Auditor, auditable, on_backend};
///
/// /// The application's error: commands return it, so it holds an `AuditError`.
/// #[derive(Debug)]
/// pub enum AppError {
///     Audit(AuditError),
///     Database(sqlx::Error),
/// }
/// impl From<AuditError> for AppError {
///     fn from(e: AuditError) -> Self {
///         AppError::Audit(e)
///     }
/// }
/// impl From<sqlx::Error> for AppError {
///     fn from(e: sqlx::Error) -> Self {
///         AppError::Database(e)
///     }
/// }
///
/// /// Creates a project. Returning `Ok` without emitting `ProjectCreated`
/// /// fails the command; emitting another event does not compile.
/// #[auditable(emits(ProjectCreated))]
/// pub async fn create_project(cx: &mut Audit<StaffEvent>, name: &str) -> Result<ProjectRef, AppError> {
///     // The change, in the command's transaction; one body for each backend.
///     let id: i64 = on_backend!(cx.db(), conn => {
///         sqlx::query_scalar("INSERT INTO projects (name) VALUES ($1) RETURNING id")
///             .bind(name)
///             .fetch_one(conn)
///             .await?
///     });
///     let project = ProjectRef { id, name: name.into() };
///     cx.emit(ProjectCreated { project: project.clone() })?;
///     Ok(project)
/// }
///
/// /// Creates a project with its first members: `create_project`'s event is
/// /// recorded under this command, and one `ProjectMemberAdded` per member,
/// /// optional (`?`) as there may be none.
/// #[auditable(emits(ProjectMemberAdded?))]
/// pub async fn start_project(
///     cx: &mut Audit<StaffEvent>,
///     name: &str,
///     members: &[UserRef],
/// ) -> Result<ProjectRef, AppError> {
///     let project = create_project(cx, name).await?;
///     for user in members {
///         on_backend!(cx.db(), conn => {
///             sqlx::query("INSERT INTO members (project_id, user_id) VALUES ($1, $2)")
///                 .bind(project.id)
///                 .bind(user.id)
///                 .execute(conn)
///                 .await?;
///         });
///         let roles = vec!["developer".to_owned()];
///         cx.emit(ProjectMemberAdded { project: project.clone(), user: user.clone(), roles })?;
///     }
///     Ok(project)
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), AppError> {
/// let auditor = Auditor::connect("sqlite::memory:").await?;
/// auditor.migrate().await?;
/// on_backend!(auditor.pool(), pool => {
///     sqlx::raw_sql(
///         "CREATE TABLE projects (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
///          CREATE TABLE members (project_id INTEGER NOT NULL, user_id INTEGER NOT NULL);",
///     )
///     .execute(pool)
///     .await?;
/// });
///
/// let bob = UserRef { id: 7, username: "bob".into() };
/// let mut audit = auditor.begin::<StaffEvent>(Actor::user(1, "alice")).await?;
/// start_project(&mut audit, "Apollo", &[bob]).await?;
/// audit.commit().await?; // the rows and the events, or (on any error above) none
///
/// // Newest first: one command id for both, each event naming its command.
/// let page = auditor.query::<StaffEvent>(&EventQuery::new()).await?;
/// let commands: Vec<&str> = page.events.iter().map(|e| e.command_name.as_str()).collect();
/// assert_eq!(commands, ["start_project", "create_project"]);
/// assert_eq!(page.events[0].command_id, page.events[1].command_id);
/// # Ok(()) }
/// ```
#[doc(inline)]
pub use audit_macros::auditable;

/// Classifies an application table and generates its guarded writes.
///
/// Memberships, an immutable table of a staff area: a command writes a row
/// and emits its event in one transaction (on the catalog of
/// [`#[events]`](macro@events)'s example: `StaffEvent`, with `ProjectRef` and
/// `UserRef`), and anyone reads it.
///
/// ```
/// # use audit_core::events::{EntityRef, Reference};
/// # use audit_core::present::{PresentContext, Presentable, Shown};
/// # #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
/// # pub struct ProjectRef { pub id: i64, pub name: String }
/// # #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
/// # pub struct UserRef { pub id: i64, pub username: String }
/// # impl Reference for ProjectRef {
/// #     fn entity_ref(&self) -> EntityRef { EntityRef::new("project", self.id.to_string()) }
/// # }
/// # impl Reference for UserRef {
/// #     fn entity_ref(&self) -> EntityRef { EntityRef::new("user", self.id.to_string()) }
/// # }
/// # impl Presentable for ProjectRef {
/// #     fn present(&self, _: &PresentContext) -> Shown { Shown::text(&self.name) }
/// # }
/// # impl Presentable for UserRef {
/// #     fn present(&self, _: &PresentContext) -> Shown { Shown::text(&self.username) }
/// # }
/// # #[audit_core::events(templates = "tests/templates/docs")]
/// # pub enum StaffEvent {
/// #     #[event(code = "project_member_added", label = "User added", group = "Project members")]
/// #     ProjectMemberAdded { #[parent] project: ProjectRef, #[subject] user: UserRef, roles: Vec<String> },
/// # }
/// use audit_core::commands::Model;
/// use audit_core::{Actor, Audit, AuditError, Auditor, auditable, on_backend};
///
/// /// A user's membership of a project.
/// #[derive(Debug, Clone, PartialEq, Model)]
/// #[model(table = "memberships", immutable)]
/// pub struct Membership {
///     /// The primary key, assigned by the database.
///     #[model(id)]
///     pub id: i64,
///     pub project_id: i64,
///     pub user_id: i64,
///     /// The roles, comma-separated.
///     pub roles: String,
/// }
///
/// /// Adds a user to a project: the membership row and its event.
/// #[auditable(emits(ProjectMemberAdded))]
/// async fn add_member(
///     cx: &mut Audit<StaffEvent>,
///     project: &ProjectRef,
///     user: &UserRef,
///     roles: &[&str],
/// ) -> Result<i64, AuditError> {
///     let row = Membership {
///         id: 0, // not written: the database assigns it
///         project_id: project.id,
///         user_id: user.id,
///         roles: roles.join(","),
///     };
///     // A running command may write immutable models.
///     let id = Membership::insert(cx, &row).await?;
///     let roles = roles.iter().map(|r| r.to_string()).collect();
///     cx.emit(ProjectMemberAdded { project: project.clone(), user: user.clone(), roles })?;
///     Ok(id)
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), AuditError> {
/// let auditor = Auditor::connect("sqlite::memory:").await?;
/// auditor.migrate().await?;
/// on_backend!(auditor.pool(), pool => {
///     sqlx::query(
///         "CREATE TABLE memberships (id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL,
///                                    user_id INTEGER NOT NULL, roles TEXT NOT NULL)",
///     )
///     .execute(pool)
///     .await?;
/// });
///
/// let apollo = ProjectRef { id: 3, name: "Apollo".into() };
/// let bob = UserRef { id: 7, username: "bob".into() };
/// let mut audit = auditor.begin::<StaffEvent>(Actor::user(1, "alice")).await?;
/// let id = add_member(&mut audit, &apollo, &bob, &["developer", "reviewer"]).await?;
/// let membership = Membership::find(audit.db(), id).await?.expect("just inserted");
/// assert_eq!((membership.user_id, membership.roles.as_str()), (7, "developer,reviewer"));
/// audit.commit().await?;
///
/// // The table is classified, so the audit knows who may write it.
/// assert_eq!((Membership::TABLE, Membership::IMMUTABLE), ("memberships", true));
/// assert!(auditor.unclassified_tables(&[Membership::TABLE]).await?.is_empty());
/// # Ok(()) }
/// ```
///
/// Outside a command, where a plain [`Audit`] has no `WriteAccess` to it,
/// writing an immutable model does not compile:
///
/// ```compile_fail,E0277
/// # #[audit_core::events(templates = "tests/templates")]
/// # pub enum StaffEvent {
/// #     #[event(code = "project_created", label = "Project created", group = "Projects")]
/// #     ProjectCreated { name: String },
/// # }
/// # #[derive(audit_core::Model)]
/// # #[model(table = "memberships", immutable)]
/// # pub struct Membership { #[model(id)] pub id: i64, pub project_id: i64, pub user_id: i64, pub roles: String }
/// # async fn outside(auditor: audit_core::Auditor, row: Membership) -> Result<(), audit_core::AuditError> {
/// let mut audit = auditor.begin::<StaffEvent>(audit_core::Actor::user(1, "alice")).await?;
/// Membership::insert(&mut audit, &row).await?; // error: `Membership` is an immutable model: only a command can write it
/// # Ok(()) }
/// ```
#[doc(inline)]
pub use audit_macros::Model;
pub use commands::Audit;
pub use store::Auditor;
pub use store::error::AuditError;
// The two traits a compile error names when a command's session is not an
// `Audit`, or an event is emitted outside a command: hidden from the docs,
// but here so that rustc's message names `audit_core::AuditSession`, not a
// path through `__private` (generated code reaches them there).
#[doc(hidden)]
pub use store::command::AuditSession;
#[doc(hidden)]
pub use store::transaction::EmittedOutsideCommand;
