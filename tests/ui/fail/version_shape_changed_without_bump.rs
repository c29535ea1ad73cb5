// A field added to a payload without a new version: rows stored at version 1 do not have it.
#[audit_core::events(
    templates = "templates/versions",
    lock = "locks/version_shape_changed_without_bump.lock"
)]
pub enum ProjectEvent {
    #[event(code = "project_renamed", label = "Project renamed", group = "Projects")]
    ProjectRenamed { name: String, previous: String },
}

fn main() {}
