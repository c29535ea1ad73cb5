// An event removed from the catalog while stored rows may hold its code.
#[audit_core::events(templates = "templates/versions", lock = "locks/version_removed_code.lock")]
pub enum ProjectEvent {
    #[event(code = "project_renamed", label = "Project renamed", group = "Projects")]
    ProjectRenamed { name: String },
}

fn main() {}
