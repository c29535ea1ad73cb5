// Upgrades that skip a version: nothing reads version 2 into version 3.
mod v1 {
    #[derive(serde::Deserialize)]
    pub struct ProjectRenamed {
        pub title: String,
    }
}

mod v2 {
    pub struct ProjectRenamed {
        pub name: String,
    }
}

fn v1_to_v2(old: v1::ProjectRenamed) -> v2::ProjectRenamed {
    v2::ProjectRenamed { name: old.title }
}

#[audit_core::events(templates = "templates/versions")]
pub enum ProjectEvent {
    #[event(
        code = "project_renamed",
        label = "Project renamed",
        group = "Projects",
        version = 3,
        upgrade(from = 1, with = v1_to_v2)
    )]
    ProjectRenamed { name: String },
}

fn main() {}
