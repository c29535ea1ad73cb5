//! The staff area's views of the audit log, shared by the web pages and the
//! `log` command so both show the same events: a project's log, a user's
//! log and the global log, filtered by type, a page at a time.

use std::net::IpAddr;

use audit_core::events::{Decoded, EntityRef, EventCatalog, LogEventType, Reference};
use audit_core::present::{PresentContext, Shown, plain_text};
use audit_core::query::{Condition, Cursor, EventQuery, StoredEvent, render_page};
use audit_core::{Actor, AuditError, Auditor};
use chrono::{DateTime, Utc};

use crate::directory;
use crate::domain::{ProjectRef, UNKNOWN_USER, UserRef};
use crate::events::{StaffEvent, StaffEventType};
use crate::present::StaffResolver;

/// Events on a page of the staff area.
pub const PAGE_SIZE: u32 = 25;

/// An event type the staff area's logs show and filter by: one of the
/// catalog's, or one of the log's own records (imports, prunes, ...),
/// labelled by the library.
pub type LogType = LogEventType<StaffEventType>;

/// Which events a log shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// Every event.
    All,
    /// Events on one project.
    Project(ProjectRef),
    /// A user's log, as the reference shows it: events by the user, about
    /// them, or whose target is one of the projects they belong to now (so
    /// the creation of their projects). Other people joining their projects
    /// are not in it: that is [`Scope::UserProjects`].
    User {
        /// The user.
        user: UserRef,
        /// Their projects.
        projects: Vec<ProjectRef>,
    },
    /// A wider view than the reference's: a user's log and every event on
    /// the projects they belong to now (anyone joining or leaving them).
    UserProjects {
        /// The user.
        user: UserRef,
        /// Their projects.
        projects: Vec<ProjectRef>,
    },
}

impl Scope {
    /// A user's log ([`Scope::User`]), with their current projects (one
    /// query).
    pub async fn user(auditor: &Auditor, user: UserRef) -> sqlx::Result<Scope> {
        let projects = directory::projects_of(auditor, user.id).await?;
        Ok(Scope::User { user, projects })
    }

    /// A user's log and the activity on their projects
    /// ([`Scope::UserProjects`]), with their current projects (one query).
    pub async fn user_projects(auditor: &Auditor, user: UserRef) -> sqlx::Result<Scope> {
        let projects = directory::projects_of(auditor, user.id).await?;
        Ok(Scope::UserProjects { user, projects })
    }

    fn query(&self) -> EventQuery {
        match self {
            Scope::All => EventQuery::new(),
            Scope::Project(project) => EventQuery::new().parent(project.entity_ref()),
            Scope::User { user, projects } => EventQuery::new().any_of(
                by_or_about(user).chain(projects.iter().map(|p| Condition::Target(p.entity_ref()))),
            ),
            Scope::UserProjects { user, projects } => EventQuery::new().any_of(
                by_or_about(user).chain(projects.iter().map(|p| Condition::Parent(p.entity_ref()))),
            ),
        }
    }
}

/// The events `user` performed or that are about them.
fn by_or_about(user: &UserRef) -> impl Iterator<Item = Condition> {
    [
        Condition::Actor(Actor::user(user.id, &user.username)),
        Condition::Subject(user.entity_ref()),
    ]
    .into_iter()
}

/// A request for one page of a log.
#[derive(Debug, Clone)]
pub struct LogRequest {
    /// Which events.
    pub scope: Scope,
    /// Only these types; every type when empty.
    pub types: Vec<LogType>,
    /// Only events by this actor.
    pub actor: Option<Actor>,
    /// Only events of the request with this id (their context's request
    /// id).
    pub request_id: Option<String>,
    /// Only events of requests from this client address (their context's).
    pub client_address: Option<IpAddr>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events before this time.
    pub until: Option<DateTime<Utc>>,
    /// The page; the newest when `None`.
    pub cursor: Option<Cursor>,
    /// Events per page.
    pub limit: u32,
}

impl LogRequest {
    /// The newest page of `scope`, [`PAGE_SIZE`] events, every type.
    pub fn new(scope: Scope) -> Self {
        LogRequest {
            scope,
            types: Vec::new(),
            actor: None,
            request_id: None,
            client_address: None,
            since: None,
            until: None,
            cursor: None,
            limit: PAGE_SIZE,
        }
    }

    fn query(&self) -> EventQuery {
        let mut query = self.scope.query().limit(self.limit);
        // No type chosen means every type.
        if !self.types.is_empty() {
            query = query.types(self.types.iter().map(|t| t.code()));
        }
        if let Some(actor) = &self.actor {
            query = query.actor(actor);
        }
        if let Some(id) = &self.request_id {
            query = query.request_id(id.as_str());
        }
        if let Some(address) = self.client_address {
            query = query.client_address(address);
        }
        if let Some(since) = self.since {
            query = query.since(since);
        }
        if let Some(until) = self.until {
            query = query.until(until);
        }
        if let Some(cursor) = self.cursor {
            query = query.cursor(cursor);
        }
        query
    }
}

/// Why a page of the log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Reading the events failed.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// Looking up the users and projects they refer to failed.
    #[error("database error: {0}")]
    Lookup(#[from] sqlx::Error),
}

/// One event as the staff area shows it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The event as stored.
    pub stored: StoredEvent<StaffEvent>,
    /// Who acted, as shown.
    pub actor: Shown,
    /// The type's label: the catalog's, or the library's for the log's
    /// own records; `None` for a code neither knows.
    pub label: Option<&'static str>,
    /// The rendered HTML (escaped; safe to insert in a page).
    pub html: String,
}

impl Entry {
    /// When it happened.
    pub fn occurred_at(&self) -> DateTime<Utc> {
        self.stored.occurred_at
    }

    /// The rendered text, without markup.
    pub fn text(&self) -> String {
        plain_text(&self.html)
    }

    /// The label, or the stored code for a type neither the catalog nor
    /// the library knows.
    pub fn title(&self) -> &str {
        self.label.unwrap_or_else(|| self.stored.event.code())
    }

    /// The event as one JSON object (the `log --json` line).
    pub fn to_json(&self) -> serde_json::Value {
        let stored = &self.stored;
        serde_json::json!({
            "id": stored.id,
            "type": stored.event.code(),
            "label": self.label,
            "actor": stored.actor,
            "occurred_at": stored.occurred_at.to_rfc3339(),
            "command": stored.command_name,
            "command_id": stored.command_id,
            "imported": stored.is_imported(),
            "target": entity_json(&stored.references.target),
            "parent": entity_json(&stored.references.parent),
            "subject": entity_json(&stored.references.subject),
            "payload": payload_json(stored),
            "text": self.text(),
        })
    }
}

/// The payload of `stored` as JSON: a known event's fields, or what was
/// stored for an event this program cannot read (as a string if it is not
/// JSON at all).
pub fn payload_json(stored: &StoredEvent<StaffEvent>) -> serde_json::Value {
    match &stored.event {
        Decoded::Known(event) => event
            .payload_json()
            .ok()
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default(),
        Decoded::Unknown(unknown) => serde_json::from_str(&unknown.raw)
            .unwrap_or_else(|_| serde_json::Value::String(unknown.raw.clone())),
    }
}

/// A stored reference as `{"kind": .., "id": ..}`, or `null`.
pub fn entity_json(entity: &Option<EntityRef>) -> serde_json::Value {
    entity.as_ref().map_or(
        serde_json::Value::Null,
        |e| serde_json::json!({"kind": e.kind, "id": e.id}),
    )
}

/// One page of a log, newest first.
#[derive(Debug, Clone)]
pub struct LogPage {
    /// The events.
    pub entries: Vec<Entry>,
    /// The next (older) page.
    pub next: Option<Cursor>,
    /// The previous (newer) page.
    pub prev: Option<Cursor>,
}

/// Reads and presents one page: one query for the events, then one lookup
/// per kind of reference on the page, however many events it holds.
pub async fn fetch(auditor: &Auditor, request: &LogRequest) -> Result<LogPage, LogError> {
    let page = auditor.query::<StaffEvent>(&request.query()).await?;
    Ok(LogPage {
        entries: present(auditor, page.events).await?,
        next: page.next,
        prev: page.prev,
    })
}

/// Presents stored events as the staff area shows them, in the order
/// given: one lookup per kind of reference among them (users, projects),
/// however many events there are.
pub async fn present(
    auditor: &Auditor,
    events: Vec<StoredEvent<StaffEvent>>,
) -> Result<Vec<Entry>, LogError> {
    let resolver = StaffResolver::new(auditor.clone());
    let cx = PresentContext::for_page(&events, &resolver).await?;
    // One warning per unreadable code on the page, not one per row.
    let html = render_page(&events, &cx);
    Ok(events
        .into_iter()
        .zip(html)
        .map(|(stored, html)| Entry {
            actor: show_actor(&cx, &stored.actor),
            label: stored.type_label(),
            html,
            stored,
        })
        .collect())
}

/// Who acted, as a page shows it ([`PresentContext::actor`]), but
/// "Unknown User" where that would be an empty or blank cell.
pub fn show_actor(cx: &PresentContext, actor: &Actor) -> Shown {
    let shown = cx.actor(actor);
    if shown.as_str().trim().is_empty() {
        Shown::text(UNKNOWN_USER)
    } else {
        shown
    }
}

/// Who acted, as the command line's log shows it: the stored name (printable:
/// a newline in it is shown as `\n`), or "Unknown User" for an empty or blank
/// username.
pub fn actor_text(actor: &Actor) -> String {
    if actor.name().trim().is_empty() {
        UNKNOWN_USER.to_string()
    } else {
        actor.to_string()
    }
}

/// The event types grouped as the catalog declares them, groups in order of
/// first appearance, then the log's own records under the library's group
/// ("Audit log"): the options of a type filter. Retired types are left out
/// (nothing records them any more), and so is the log's anchor, which no
/// query returns ([`LogEventType::offered`]).
pub fn type_groups() -> Vec<(&'static str, Vec<LogType>)> {
    let mut groups: Vec<(&'static str, Vec<LogType>)> = Vec::new();
    for ty in LogType::offered() {
        match groups.iter_mut().find(|(group, _)| *group == ty.group()) {
            Some((_, types)) => types.push(ty),
            None => groups.push((ty.group(), vec![ty])),
        }
    }
    groups
}

#[cfg(test)]
mod actor_tests {
    use super::*;

    #[test]
    fn a_blank_actor_name_shows_as_unknown_user() {
        let cx = PresentContext::new();
        for name in ["", "   ", "\t"] {
            let actor = Actor::user(7, name);
            assert_eq!(show_actor(&cx, &actor).as_str(), "Unknown User");
            assert_eq!(actor_text(&actor), "Unknown User");
        }
        let alice = Actor::user(1, "alice");
        assert_eq!(show_actor(&cx, &alice).as_str(), "alice");
        assert_eq!(actor_text(&alice), "alice");
    }
}
