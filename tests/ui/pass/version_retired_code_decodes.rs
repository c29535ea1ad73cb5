//! A retired event: stored rows of it still decode and render, and it is
//! not among the active types a filter offers.

use audit_core::events::{Decoded, EventCatalog, EventType};
use audit_core::present::PresentContext;

#[audit_core::events(templates = "templates/versions", lock = "locks/version_retired_code_decodes.lock")]
pub enum ProjectEvent {
    #[event(code = "project_renamed", label = "Project renamed", group = "Projects")]
    ProjectRenamed { name: String },
    /// Projects are archived now; rows of this event are kept.
    #[event(code = "project_deleted", label = "Project deleted", group = "Projects", retired)]
    ProjectDeleted { name: String },
    #[event(code = "project_archived", label = "Project archived", group = "Projects")]
    ProjectArchived { name: String },
}

fn main() {
    let deleted = ProjectEvent::decode("project_deleted", 1, r#"{"name":"Apollo"}"#);
    let expected = ProjectEvent::from(ProjectDeleted { name: "Apollo".into() });
    assert_eq!(deleted, Decoded::Known(expected.clone()));
    assert_eq!(expected.render(&PresentContext::new()).unwrap(), "deleted Apollo");

    assert_eq!(ProjectEventType::ALL.len(), 3);
    assert_eq!(
        ProjectEventType::ACTIVE,
        [ProjectEventType::ProjectRenamed, ProjectEventType::ProjectArchived]
    );
    assert!(ProjectEventType::ProjectDeleted.is_retired());
    assert!(<ProjectEventType as EventType>::is_retired(ProjectEventType::ProjectDeleted));
    assert!(!ProjectEventType::ProjectArchived.is_retired());
    assert_eq!("project_deleted".parse(), Ok(ProjectEventType::ProjectDeleted));
}
