// The last upgrade produces an older payload, not the current one.
mod v1 {
    #[derive(serde::Deserialize)]
    pub struct ProjectRenamed {
        pub title: String,
    }
}

fn v1_to_v2(old: v1::ProjectRenamed) -> v1::ProjectRenamed {
    old
}

#[audit_core::events(templates = "templates/versions")]
pub enum ProjectEvent {
    #[event(
        code = "project_renamed",
        label = "Project renamed",
        group = "Projects",
        version = 2,
        upgrade(from = 1, with = v1_to_v2)
    )]
    ProjectRenamed { name: String },
}

fn main() {}
