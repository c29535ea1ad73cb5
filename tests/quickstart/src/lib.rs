//! A staff area's audit log: its events, a command that emits one, its own
//! table on SQLite and PostgreSQL, and the lookup that shows what events
//! refer to as it is now.

use std::collections::HashMap;

use audit_core::events::{EntityRef, Reference};
use audit_core::present::{PresentContext, Presentable, Resolved, Resolver, Shown};
use audit_core::store::Backend;
use audit_core::{Audit, AuditError, Auditor, auditable, on_backend};

/// The application's errors: a command's error type must hold the
/// library's (`From<AuditError>`), and its SQL's (`From<sqlx::Error>`).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// From audit-core.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// From the application's own SQL.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A project, as events refer to it. Payload fields are stored as JSON
/// (serde) and compared by tests (`PartialEq`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProjectRef {
    /// The project's id in the `projects` table.
    pub id: i64,
    /// Its name when the event was recorded.
    pub name: String,
}

/// What a `#[target]`, `#[parent]` or `#[subject]` field stores in the
/// indexed columns that queries filter on: a kind and an id.
impl Reference for ProjectRef {
    fn entity_ref(&self) -> EntityRef {
        EntityRef::new("project", self.id.to_string())
    }
}

/// How templates show it: by its name now (found by `Names` below), or by
/// the name it had when the event was recorded.
impl Presentable for ProjectRef {
    fn present(&self, cx: &PresentContext) -> Shown {
        match cx.resolved(&self.entity_ref()) {
            Some(now) => Shown::resolved(now),
            None => Shown::text(&self.name),
        }
    }
}

/// The application's audit events: one variant each, with its template in
/// `templates/audit/<group>/<variant>.html`.
#[audit_core::events(templates = "templates/audit")]
pub enum StaffEvent {
    /// A project was created.
    #[event(
        code = "project_created",
        label = "Project created",
        group = "Projects"
    )]
    ProjectCreated {
        #[target]
        #[parent]
        project: ProjectRef,
    },
}

/// Creates a project and records `project_created`, in the caller's
/// transaction: both are committed, or neither.
#[auditable(emits(ProjectCreated))]
pub async fn add_project(cx: &mut Audit<StaffEvent>, name: &str) -> Result<ProjectRef, AppError> {
    // One body, compiled for each backend; `$1` works on both.
    let id: i64 = on_backend!(cx.db(), conn => {
        sqlx::query_scalar("INSERT INTO projects (name) VALUES ($1) RETURNING id")
            .bind(name)
            .fetch_one(conn)
            .await?
    });
    let project = ProjectRef {
        id,
        name: name.into(),
    };
    cx.emit(ProjectCreated {
        project: project.clone(),
    })?;
    Ok(project)
}

/// The audit schema, then the application's own table, whose SQL differs
/// between the backends. `main` runs it at every start (it changes nothing
/// the second time); tests run it on each fresh database.
pub async fn migrate(auditor: &Auditor) -> Result<(), AppError> {
    auditor.migrate().await?;
    let create_projects = match auditor.backend() {
        Backend::Sqlite => {
            "CREATE TABLE IF NOT EXISTS projects (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL
            )"
        }
        Backend::Postgres => {
            "CREATE TABLE IF NOT EXISTS projects (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                name TEXT NOT NULL
            )"
        }
    };
    on_backend!(auditor.pool(), pool => {
        sqlx::raw_sql(create_projects).execute(pool).await?;
    });
    Ok(())
}

/// Looks up what a page of events refers to, as it is now: one query per
/// kind, however many events the page holds.
pub struct Names {
    /// Whose pool the lookups use.
    pub auditor: Auditor,
}

impl Resolver for Names {
    type Error = sqlx::Error;

    async fn resolve(
        &self,
        kind: &str,
        ids: &[String],
    ) -> Result<HashMap<String, Resolved>, sqlx::Error> {
        let ids: Vec<i64> = ids.iter().filter_map(|id| id.parse().ok()).collect();
        if kind != "project" || ids.is_empty() {
            // Users who acted ("user") show by their stored name.
            return Ok(HashMap::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT id, name FROM projects WHERE id IN ({})",
            placeholders.join(", ")
        );
        let rows: Vec<(i64, String)> = on_backend!(self.auditor.pool(), pool => {
            // Our own SQL text; the ids are bound.
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for id in &ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await?
        });
        let found = rows.into_iter().map(|(id, name)| {
            let href = Some(format!("/projects/{id}"));
            (id.to_string(), Resolved { label: name, href })
        });
        Ok(found.collect())
    }
}
