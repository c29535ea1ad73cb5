// A command declaring and emitting a retired event: it is kept only to read stored rows,
// so declaring it is one error, on `emits(..)`.
use audit_core::{Audit, AuditError, auditable};

#[audit_core::events(templates = "templates/versions")]
pub enum ProjectEvent {
    #[event(code = "project_archived", label = "Project archived", group = "Projects")]
    ProjectArchived { name: String },
    #[event(code = "project_deleted", label = "Project deleted", group = "Projects", retired)]
    ProjectDeleted { name: String },
}

#[auditable(emits(ProjectDeleted))]
pub async fn delete_project(cx: &mut Audit<ProjectEvent>, name: &str) -> Result<(), AuditError> {
    cx.emit(ProjectDeleted { name: name.into() })?;
    Ok(())
}

fn main() {}
