//! README.md's code, compiled and run: `tests/readme.rs` checks that every
//! `rust` block of the README appears here (or in the example app) line for
//! line, so the README cannot show code that does not compile.

use audit_core::events::{EntityRef, Reference};
use audit_core::present::{PresentContext, Presentable, Shown};

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
    fn present(&self, _: &PresentContext) -> Shown {
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

// Quickstart: the catalog.
/// Audit events of the staff area.
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

// Immutable models.
#[derive(audit_core::Model)]
#[model(table = "memberships", immutable)]   // or `mutable`; one of them is required
pub struct Membership { #[model(id)] pub id: i64, pub project_id: i64, pub user_id: i64, pub roles: String }

// Quickstart: encoding, rendering and decoding one event.
fn quickstart(project: ProjectRef) -> Result<String, Failure> {
    let mut seen = String::new();
    use audit_core::events::{Decoded, EventCatalog};
    use audit_core::present::PresentContext;

    let event = StaffEvent::from(ProjectCreated { project });
    let code = event.event_type().code();            // "project_created", stored as text
    let payload = event.payload_json()?;             // stored as JSON with version 1
    let html = event.render(&PresentContext::new())?; // "created project Apollo", HTML-escaped
    match StaffEvent::decode(code, 1, &payload) {
        Decoded::Known(event) => println!("read {:?}", event.event_type()),
        Decoded::Unknown(row) => eprintln!("cannot read `{}`: {}", row.code, row.reason),
    }

    assert_eq!(code, "project_created");
    assert!(matches!(StaffEvent::decode(code, 1, &payload), Decoded::Known(_)));
    seen.push_str(&html);
    Ok(seen)
}

// Commands and the store, against `app.db` in the working directory.
async fn commands() -> Result<(), Failure> {
    for file in ["app.db", "app.db-wal", "app.db-shm"] {
        let _ = std::fs::remove_file(file);
    }
    let setup = sqlx::SqlitePool::connect("sqlite://app.db?mode=rwc").await?;
    sqlx::query("CREATE TABLE projects (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        .execute(&setup)
        .await?;
    setup.close().await;

    use audit_core::{Actor, Audit, Auditor, auditable, on_backend};

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
    add_project(&mut audit, "Apollo").await?;
    audit.commit().await?;                                     // change + event, or neither

    let page = auditor
        .query::<StaffEvent>(&audit_core::query::EventQuery::new())
        .await?;
    let commands: Vec<&str> = page.events.iter().map(|e| e.command_name.as_str()).collect();
    assert_eq!(commands, ["add_project"]);
    assert!(matches!(
        &page.events[0].event,
        audit_core::events::Decoded::Known(StaffEvent::ProjectCreated(created)) if created.project.name == "Apollo"
    ));
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Failure> {
    let html = quickstart(ProjectRef { id: 1, name: "Apollo".into() })?;
    assert_eq!(html, "created project Apollo");
    commands().await?;
    let _ = <Membership as audit_core::commands::Model>::TABLE;
    Ok(())
}
