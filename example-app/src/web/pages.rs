//! The staff pages: the logs, and lists of projects and users to reach them.

use audit_core::Cursor;
use axum::extract::{Path, RawQuery, State};
use axum::response::Html;

use super::AppState;
use super::error::{PageError, page};
use super::sign_in::Staff;
use super::views::{ListItem, ListView, LogView, Row, SignedIn, TypeGroup, TypeOption};
use crate::directory;
use crate::events::StaffEventType;
use crate::logs::{self, LogRequest, Scope};

/// What a log page's query string asks for.
#[derive(Debug, Default, PartialEq)]
struct Filters {
    types: Vec<StaffEventType>,
    cursor: Option<Cursor>,
}

impl Filters {
    /// Reads `type` (repeatable; empty means every type) and `cursor`;
    /// other parameters are ignored. Anything unreadable is a 400.
    fn parse(query: Option<&str>) -> Result<Filters, PageError> {
        let mut filters = Filters::default();
        for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match &*key {
                "type" if value.is_empty() => {}
                "type" => {
                    let ty = value.parse::<StaffEventType>().map_err(|_| {
                        PageError::bad_request(format!("There is no event type `{value}`."))
                    })?;
                    if !filters.types.contains(&ty) {
                        filters.types.push(ty);
                    }
                }
                "cursor" => {
                    let cursor = value.parse::<Cursor>().map_err(|_| {
                        PageError::bad_request(
                            "This page link is damaged: its cursor is not valid.",
                        )
                    })?;
                    filters.cursor = Some(cursor);
                }
                _ => {}
            }
        }
        Ok(filters)
    }

    /// `path` with these types and `cursor` as its query.
    fn href(&self, path: &str, cursor: Option<Cursor>) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for ty in &self.types {
            query.append_pair("type", ty.code());
        }
        if let Some(cursor) = cursor {
            query.append_pair("cursor", &cursor.to_string());
        }
        let query = query.finish();
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        }
    }
}

/// The 404 for a project or user that does not exist (or an id that
/// cannot be one).
fn no_such(what: &str, who: &SignedIn) -> PageError {
    PageError::not_found(format!("There is no such {what}.")).signed_in(who)
}

/// One log page: its path, title, description and scope.
struct LogPage {
    path: String,
    heading: String,
    description: String,
    scope: Scope,
}

async fn show_log(
    state: &AppState,
    who: SignedIn,
    filters: Filters,
    log: LogPage,
) -> Result<Html<String>, PageError> {
    let mut request = LogRequest::new(log.scope);
    request.types = filters.types.clone();
    request.cursor = filters.cursor;
    let fetched = logs::fetch(&state.auditor, &request).await?;
    let groups = logs::type_groups()
        .into_iter()
        .map(|(label, types)| TypeGroup {
            label,
            options: types
                .into_iter()
                .map(|ty| TypeOption {
                    code: ty.code(),
                    label: ty.label(),
                    selected: filters.types.contains(&ty),
                })
                .collect(),
        })
        .collect();
    let rows = fetched
        .entries
        .into_iter()
        .map(|entry| Row {
            id: entry.stored.id,
            when: entry.occurred_at().format("%Y-%m-%d %H:%M:%S").to_string(),
            title: entry.title().to_owned(),
            imported: entry.stored.is_imported(),
            actor: entry.actor,
            html: entry.html,
        })
        .collect();
    page(&LogView {
        signed_in: Some(who),
        heading: log.heading,
        description: log.description,
        groups,
        rows,
        newer: fetched.prev.map(|c| filters.href(&log.path, Some(c))),
        older: fetched.next.map(|c| filters.href(&log.path, Some(c))),
    })
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
    };
    show_log(&state, who, filters, log).await
}

/// GET /projects/{id}: the events on one project.
pub async fn project_log(
    State(state): State<AppState>,
    Staff(_, who): Staff,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, PageError> {
    let filters = Filters::parse(query.as_deref()).map_err(|e| e.signed_in(&who))?;
    let found = match id.parse() {
        Ok(id) => directory::project(&state.auditor, id).await?,
        Err(_) => None,
    };
    let project = found.ok_or_else(|| no_such("project", &who))?;
    let log = LogPage {
        path: format!("/projects/{}", project.id),
        heading: format!("Project {}", project.name),
        description: format!(
            "Every change to {} and its members, newest first.",
            project.name
        ),
        scope: Scope::Project(project),
    };
    show_log(&state, who, filters, log).await
}

/// GET /users/{id}: the events by a user, about them, and the creation of
/// their projects (the reference's user log).
pub async fn user_log(
    State(state): State<AppState>,
    Staff(_, who): Staff,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, PageError> {
    let filters = Filters::parse(query.as_deref()).map_err(|e| e.signed_in(&who))?;
    let found = match id.parse() {
        Ok(id) => directory::account(&state.auditor, id).await?,
        Err(_) => None,
    };
    let user = found.ok_or_else(|| no_such("user", &who))?;
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
    };
    show_log(&state, who, filters, log).await
}

/// GET /projects.
pub async fn project_list(
    State(state): State<AppState>,
    Staff(_, who): Staff,
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
    page(&ListView {
        signed_in: Some(who),
        heading: "Projects",
        items,
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
    })
}

/// Any other path.
pub async fn not_found() -> PageError {
    PageError::not_found("There is no such page.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_read_types_and_cursor_and_refuse_garbage() {
        let f = Filters::parse(Some(
            "type=user_created&type=&type=user_created&cursor=b1f&utm=x",
        ))
        .unwrap();
        assert_eq!(f.types, [StaffEventType::UserCreated]);
        assert_eq!(f.cursor, Some("b1f".parse().unwrap()));
        assert_eq!(
            f.href("/users/2", f.cursor),
            "/users/2?type=user_created&cursor=b1f"
        );
        assert_eq!(Filters::parse(None).unwrap(), Filters::default());
        for bad in [
            "type=nope",
            "cursor=1%3B+DROP+TABLE+audit_events",
            "type=user_created'--",
        ] {
            let e = Filters::parse(Some(bad)).unwrap_err();
            assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST, "{bad}");
        }
    }
}
