//! README.md's tour, compiled and run: `tests/readme.rs` checks that every
//! `rust` block of the README appears here (or in the example app, or in
//! the quickstart crate) line for line, so the README cannot show code that
//! does not compile.

use std::collections::HashMap;

use audit_core::events::{EntityRef, Reference};
use audit_core::present::{Presentable, Resolved, Resolver, Shown};

/// The application's reference to a project.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProjectRef {
    pub id: i64,
    pub name: String,
}

impl Reference for ProjectRef {
    fn entity_ref(&self) -> EntityRef {
        EntityRef::new("project", self.id.to_string())
    }
}

impl Presentable for ProjectRef {
    fn present(&self, _: &audit_core::present::PresentContext) -> Shown {
        Shown::text(self.name.clone())
    }
}

/// The application's error type.
#[derive(Debug)]
pub enum AppError {
    Audit(audit_core::AuditError),
    Database(sqlx::Error),
}

impl From<audit_core::AuditError> for AppError {
    fn from(e: audit_core::AuditError) -> Self {
        AppError::Audit(e)
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Database(e)
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for AppError {}

type Failure = Box<dyn std::error::Error>;

/// A resolver that looks nothing up: references show their stored names.
struct StoredNames;

impl Resolver for StoredNames {
    type Error = sqlx::Error;

    async fn resolve(&self, _: &str, _: &[String]) -> Result<HashMap<String, Resolved>, sqlx::Error> {
        Ok(HashMap::new())
    }
}

// The tour, against `app.db` in the working directory.
async fn tour() -> Result<(), Failure> {
    for file in ["app.db", "app.db-wal", "app.db-shm"] {
        let _ = std::fs::remove_file(file);
    }
    let setup = sqlx::SqlitePool::connect("sqlite://app.db?mode=rwc").await?;
    sqlx::query("CREATE TABLE projects (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        .execute(&setup)
        .await?;
    setup.close().await;
    let resolver = StoredNames;

    use audit_core::present::PresentContext;
    use audit_core::query::{EventQuery, render_page};
    use audit_core::{Actor, Audit, Auditor, auditable, on_backend};

    // Each event once: a payload, a stable code, a label, a group, and a template,
    // templates/audit/projects/project_created.html: `created project {{ project }}`
    #[audit_core::events(templates = "templates/audit")]
    pub enum StaffEvent {
        /// A project was created.
        #[event(code = "project_created", label = "Project created", group = "Projects")]
        ProjectCreated {
            #[target]
            #[parent]
            project: ProjectRef,
        },
    }

    // A command: the only code that emits events, in its caller's transaction.
    #[auditable(emits(ProjectCreated))]
    pub async fn add_project(cx: &mut Audit<StaffEvent>, name: &str) -> Result<ProjectRef, AppError> {
        let id: i64 = on_backend!(cx.db(), conn => {         // one body, compiled for each backend
            sqlx::query_scalar("INSERT INTO projects (name) VALUES ($1) RETURNING id")
                .bind(name).fetch_one(conn).await?
        });
        let project = ProjectRef { id, name: name.into() };
        cx.emit(ProjectCreated { project: project.clone() })?; // another event: compile error
        Ok(project)
    }

    let auditor = Auditor::connect("sqlite://app.db").await?;   // or postgres://...
    auditor.migrate().await?;
    let mut audit = auditor.begin::<StaffEvent>(Actor::user(1, "alice")).await?;
    let apollo = add_project(&mut audit, "Apollo").await?;
    audit.commit().await?;                                     // change + event, or neither

    // Apollo's log, newest first, each event shown through its template.
    let query = EventQuery::new().parent(apollo.entity_ref());
    let page = auditor.query::<StaffEvent>(&query).await?;
    let cx = PresentContext::for_page(&page.events, &resolver).await?; // names as they are now
    assert_eq!(render_page(&page.events, &cx), ["created project Apollo"]);

    let commands: Vec<&str> = page.events.iter().map(|e| e.command_name.as_str()).collect();
    assert_eq!(commands, ["add_project"]);
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Failure> {
    tour().await
}
