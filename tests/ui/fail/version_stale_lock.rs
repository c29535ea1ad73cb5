// A new event that the lock does not record yet: the build (and CI) fails until the lock is updated.
#[audit_core::events(templates = "templates/versions", lock = "locks/version_stale_lock.lock")]
pub enum ProjectEvent {
    #[event(code = "project_renamed", label = "Project renamed", group = "Projects")]
    ProjectRenamed { name: String },
    #[event(code = "project_archived", label = "Project archived", group = "Projects")]
    ProjectArchived { name: String },
}

fn main() {}
