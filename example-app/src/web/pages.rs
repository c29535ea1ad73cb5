//! The staff pages: the logs, and lists of projects and users to reach them.

use audit_core::events::{Decoded, LogEventType};
use audit_core::{Actor, Context};
use axum::extract::{Path, RawQuery, State};
use axum::response::Html;

use super::AppState;
use super::error::{PageError, page};
use super::filters::{Filters, on_project_page};
use super::forms::{self, ProjectForms, UserForms};
use super::sign_in::Staff;
use super::views::{
    ContextField, CreateProject, EventView, ListItem, ListView, LogView, ProjectPanel, Row,
    SignedIn, TextField, TypeGroup, TypeOption, UserPanel,
};
use crate::directory::{self, Account};
use crate::domain::ProjectRef;
use crate::logs::{self, Entry, LogRequest, Scope};

/// The most events of one command an event's page lists on each side of it.
const COMMAND_EVENTS_AROUND: u32 = 50;

/// The 404 for a project or user that does not exist (or an id that
/// cannot be one).
pub(super) fn no_such(what: &str, who: &SignedIn) -> PageError {
    PageError::not_found(format!("There is no such {what}.")).signed_in(who)
}

/// One log page: its path, title, description and scope, and on a
/// project's or a user's log the forms that change them.
struct LogPage {
    path: String,
    heading: String,
    description: String,
    scope: Scope,
    project: Option<ProjectPanel>,
    user: Option<UserPanel>,
}

/// A log row for `entry`.
fn row(entry: Entry) -> Row {
    Row {
        id: entry.stored.id,
        href: format!("/events/{}", entry.stored.id),
        when: entry.occurred_at().format("%Y-%m-%d %H:%M:%S").to_string(),
        title: entry.title().to_owned(),
        imported: entry.stored.is_imported(),
        actor: entry.actor,
        html: entry.html,
    }
}

async fn show_log(
    state: &AppState,
    who: SignedIn,
    filters: Filters,
    log: LogPage,
) -> Result<Html<String>, PageError> {
    let project_page = matches!(log.scope, Scope::Project(_));
    let offered = |ty| !project_page || on_project_page(ty);
    if let Some(ty) = filters.types.iter().find(|ty| !offered(**ty)) {
        return Err(PageError::bad_request(format!(
            "Events of type \u{201c}{}\u{201d} never appear on a project's page.",
            ty.code()
        ))
        .signed_in(&who));
    }
    let mut request = LogRequest::new(log.scope);
    request.types = filters.types.clone();
    request.cursor = filters.cursor;
    request.since = filters.since();
    request.until = filters.until();
    request.request_id = filters.request.clone();
    request.client_address = filters.address;
    if let Some(name) = &filters.actor {
        // A user of that name; otherwise the system process of that name
        // (the set-up, an import), whose events are stored under its name.
        request.actor = Some(
            match directory::account_named(&state.auditor, name).await? {
                Some(account) => Actor::user(account.id, account.username),
                None => Actor::system(name.as_str()),
            },
        );
    }
    let fetched = logs::fetch(&state.auditor, &request).await?;
    let groups = logs::type_groups()
        .into_iter()
        .filter_map(|(label, types)| {
            let options: Vec<TypeOption> = types
                .into_iter()
                .filter(|ty| offered(*ty))
                .map(|ty| TypeOption {
                    code: ty.code(),
                    label: ty.label(),
                    description: match ty {
                        LogEventType::Own(own) => Some(own.description()),
                        LogEventType::Catalog(_) => None,
                    },
                    selected: filters.types.contains(&ty),
                })
                .collect();
            (!options.is_empty()).then_some(TypeGroup { label, options })
        })
        .collect();
    let rows = fetched.entries.into_iter().map(row).collect();
    page(&LogView {
        signed_in: Some(who),
        heading: log.heading,
        description: log.description,
        groups,
        actor: filters.actor.clone().unwrap_or_default(),
        request: filters.request.clone().unwrap_or_default(),
        address: filters.address.map(|a| a.to_string()).unwrap_or_default(),
        from: filters.from.map(|d| d.to_string()).unwrap_or_default(),
        to: filters.to.map(|d| d.to_string()).unwrap_or_default(),
        clear: filters.any().then(|| log.path.clone()),
        rows,
        newest: fetched.prev.map(|_| filters.href(&log.path, None)),
        newer: fetched.prev.map(|c| filters.href(&log.path, Some(c))),
        older: fetched.next.map(|c| filters.href(&log.path, Some(c))),
        path: log.path,
        project: log.project,
        user: log.user,
    })
}

/// GET /events/{id}: one event, whole, with the other events of its command.
pub async fn event_page(
    State(state): State<AppState>,
    Staff(_, who): Staff,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let found = match id.parse::<i64>() {
        Ok(id) => state
            .auditor
            .event(id)
            .await
            .map_err(|e| PageError::internal(&e))?,
        Err(_) => None,
    };
    let stored = found.ok_or_else(|| no_such("event", &who))?;
    let command = state
        .auditor
        .command_events(&stored, COMMAND_EVENTS_AROUND)
        .await
        .map_err(|e| PageError::internal(&e))?;
    // As many on one side as were asked for: there may be more.
    let before = command.iter().filter(|e| e.id < stored.id).count();
    let limit = COMMAND_EVENTS_AROUND as usize;
    let command_more = before == limit || command.len() - before == limit;
    // One presentation for the event and its command's: one lookup per kind.
    let entries = logs::present(&state.auditor, command).await?;
    let at = entries.iter().position(|e| e.stored.id == stored.id);
    let entry = match at {
        Some(at) => entries[at].clone(),
        None => {
            let mut alone = logs::present(&state.auditor, vec![stored]).await?;
            alone.pop().ok_or_else(|| no_such("event", &who))?
        }
    };
    let s = &entry.stored;
    let decoded = match (&s.event, s.event_type()) {
        (Decoded::Known(_), _) => "This program reads this event through its template.".to_owned(),
        // No catalog declares the log's own records: the library reads them.
        (Decoded::Unknown(_), Some(LogEventType::Own(own))) => format!(
            "A record the audit library writes itself. {}",
            own.description()
        ),
        (Decoded::Unknown(unknown), _) => {
            format!("This program cannot read this event: {}.", unknown.reason)
        }
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "NULL".to_owned());
    let reference = |r: &Option<audit_core::events::EntityRef>| {
        (
            text(&r.as_ref().map(|r| r.kind.to_string())),
            text(&r.as_ref().map(|r| r.id.clone())),
        )
    };
    let (target_kind, target_id) = reference(&s.references.target);
    let (parent_kind, parent_id) = reference(&s.references.parent);
    let (subject_kind, subject_id) = reference(&s.references.subject);
    let columns = vec![
        ("id", s.id.to_string()),
        ("position", s.position.to_string()),
        (
            "occurred_at",
            s.occurred_at
                .format("%Y-%m-%d %H:%M:%S%.6f UTC")
                .to_string(),
        ),
        ("event_type", s.event.code().to_owned()),
        ("payload_version", s.payload_version.to_string()),
        ("actor_kind", s.actor.kind().to_owned()),
        ("actor_id", s.actor.id().to_owned()),
        ("actor_name", s.actor.name().to_owned()),
        ("actor_as_id", text(&s.actor.as_id().map(str::to_owned))),
        ("actor_as_name", text(&s.actor.as_name().map(str::to_owned))),
        ("target_kind", target_kind),
        ("target_id", target_id),
        ("parent_kind", parent_kind),
        ("parent_id", parent_id),
        ("subject_kind", subject_kind),
        ("subject_id", subject_id),
        ("command_name", s.command_name.clone()),
        ("command_id", s.command_id.clone()),
    ];
    let payload = serde_json::from_str::<serde_json::Value>(&s.payload)
        .ok()
        .and_then(|json| serde_json::to_string_pretty(&json).ok())
        .unwrap_or_else(|| s.payload.clone());
    let heading = format!("Event #{}: {}", s.id, entry.title());
    let id = s.id;
    page(&EventView {
        signed_in: Some(who),
        heading,
        decoded,
        columns,
        context: context_fields(&s.context),
        payload,
        command: entries.into_iter().map(row).collect(),
        command_more,
        id,
        this: vec![row(entry)],
    })
}

/// The fields of an event's context that are set, labelled, in a fixed
/// order: the library's, then the application's own pairs by key (keys come
/// from outside, so they are values to show, never labels of ours). The
/// request id and the client address link to the global log filtered by
/// them. Empty for an event stored without a context (before schema v8).
fn context_fields(context: &Context) -> Vec<ContextField> {
    let field = |label: &str, value: &str| ContextField {
        label: label.to_owned(),
        value: value.to_owned(),
        href: None,
        link_title: "",
        label_from_outside: false,
    };
    let linked = |label: &str, value: &str, filters: Filters, link_title| ContextField {
        href: Some(filters.href("/", None)),
        link_title,
        ..field(label, value)
    };
    let request = context.request_id.as_deref().map(|id| {
        let filters = Filters {
            request: Some(id.to_owned()),
            ..Filters::default()
        };
        linked("Request id", id, filters, "Every event of this request")
    });
    let address = context.client_address.map(|address| {
        let filters = Filters {
            address: Some(address),
            ..Filters::default()
        };
        let shown = address.to_string();
        linked(
            "Client address",
            &shown,
            filters,
            "Every event from this address",
        )
    });
    let plain = [
        ("User agent", &context.user_agent),
        ("Route", &context.route),
        ("Trace id", &context.trace_id),
        ("Span id", &context.span_id),
        ("Host", &context.host),
        ("Program", &context.program),
        ("OS user", &context.os_user),
        ("Reason", &context.reason),
    ]
    .into_iter()
    .filter_map(|(label, value)| value.as_deref().map(|value| field(label, value)));
    let own = context.fields.iter().map(|(key, value)| ContextField {
        label_from_outside: true,
        ..field(key, value)
    });
    [request, address]
        .into_iter()
        .flatten()
        .chain(plain)
        .chain(own)
        .collect()
}

/// GET /: every event.
pub async fn global_log(
    State(state): State<AppState>,
    Staff(_, who): Staff,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, PageError> {
    let filters = Filters::parse(query.as_deref()).map_err(|e| e.signed_in(&who))?;
    let log = LogPage {
        path: "/".to_owned(),
        heading: "Audit log".to_owned(),
        description: "Every change to the staff area, newest first.".to_owned(),
        scope: Scope::All,
        project: None,
        user: None,
    };
    show_log(&state, who, filters, log).await
}

/// The project with id `id` (as it appears in an address), or a 404.
pub(super) async fn find_project(
    state: &AppState,
    who: &SignedIn,
    id: &str,
) -> Result<ProjectRef, PageError> {
    let found = match id.parse() {
        Ok(id) => directory::project(&state.auditor, id).await?,
        Err(_) => None,
    };
    found.ok_or_else(|| no_such("project", who))
}

/// The user with id `id` (as it appears in an address), or a 404.
pub(super) async fn find_account(
    state: &AppState,
    who: &SignedIn,
    id: &str,
) -> Result<Account, PageError> {
    let found = match id.parse() {
        Ok(id) => directory::account(&state.auditor, id).await?,
        Err(_) => None,
    };
    found.ok_or_else(|| no_such("user", who))
}

/// GET /projects/{id}: the events on one project, its members and the
/// forms that change them.
pub async fn project_log(
    State(state): State<AppState>,
    Staff(_, who): Staff,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, PageError> {
    let filters = Filters::parse(query.as_deref()).map_err(|e| e.signed_in(&who))?;
    let project = find_project(&state, &who, &id).await?;
    project_page(&state, who, project, filters, ProjectForms::Fresh).await
}

/// A project's page, its forms as `forms` says (fresh, or one of them
/// refused and shown again as sent).
pub(super) async fn project_page(
    state: &AppState,
    who: SignedIn,
    project: ProjectRef,
    filters: Filters,
    forms: ProjectForms,
) -> Result<Html<String>, PageError> {
    let panel = forms::project_panel(state, &who, &project, forms).await?;
    let log = LogPage {
        path: format!("/projects/{}", project.id),
        heading: format!("Project {}", project.name),
        description: format!(
            "Every change to {} and its members, newest first.",
            project.name
        ),
        scope: Scope::Project(project),
        project: Some(panel),
        user: None,
    };
    show_log(state, who, filters, log).await
}

/// GET /users/{id}: the events by a user, about them, and the creation of
/// their projects (the reference's user log), their global roles and the
/// forms that change them.
pub async fn user_log(
    State(state): State<AppState>,
    Staff(_, who): Staff,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, PageError> {
    let filters = Filters::parse(query.as_deref()).map_err(|e| e.signed_in(&who))?;
    let user = find_account(&state, &who, &id).await?;
    user_page(&state, who, user, filters, UserForms::Fresh).await
}

/// A user's page, its forms as `forms` says.
pub(super) async fn user_page(
    state: &AppState,
    who: SignedIn,
    user: Account,
    filters: Filters,
    forms: UserForms,
) -> Result<Html<String>, PageError> {
    let panel = forms::user_panel(&who, &user, forms);
    let scope = Scope::user(&state.auditor, user.user_ref()).await?;
    let projects = match &scope {
        Scope::User { projects, .. } if !projects.is_empty() => {
            let names: Vec<&str> = projects.iter().map(|p| p.name.as_str()).collect();
            format!("the creation of their projects ({})", names.join(", "))
        }
        _ => "the creation of their projects (none at present)".to_owned(),
    };
    let log = LogPage {
        path: format!("/users/{}", user.id),
        heading: format!("User {}", user.username),
        description: format!(
            "What {0} did, what was done to {0}, and {projects}, newest first.",
            user.username
        ),
        scope,
        project: None,
        user: Some(panel),
    };
    show_log(state, who, filters, log).await
}

/// GET /projects: every project, and the form that creates one.
pub async fn project_list(
    State(state): State<AppState>,
    Staff(_, who): Staff,
) -> Result<Html<String>, PageError> {
    project_list_page(&state, who, TextField::default()).await
}

/// The projects' list, its form showing `name` (as typed, and why it was
/// refused).
pub(super) async fn project_list_page(
    state: &AppState,
    who: SignedIn,
    name: TextField,
) -> Result<Html<String>, PageError> {
    let items = directory::projects(&state.auditor)
        .await?
        .into_iter()
        .map(|p| ListItem {
            href: format!("/projects/{}", p.id),
            label: p.name,
            note: String::new(),
        })
        .collect();
    let create = CreateProject {
        csrf: who.csrf.clone(),
        name,
    };
    page(&ListView {
        signed_in: Some(who),
        heading: "Projects",
        items,
        create: Some(create),
    })
}

/// GET /users.
pub async fn user_list(
    State(state): State<AppState>,
    Staff(_, who): Staff,
) -> Result<Html<String>, PageError> {
    let items = directory::accounts(&state.auditor)
        .await?
        .into_iter()
        .map(|a| ListItem {
            href: format!("/users/{}", a.id),
            note: if a.roles.is_empty() {
                "no global roles".to_owned()
            } else {
                let labels: Vec<&str> = a.roles.iter().map(|r| r.label()).collect();
                labels.join(", ")
            },
            label: a.username,
        })
        .collect();
    page(&ListView {
        signed_in: Some(who),
        heading: "Users",
        items,
        create: None,
    })
}

/// Any other path.
pub async fn not_found() -> PageError {
    PageError::not_found("There is no such page.")
}
