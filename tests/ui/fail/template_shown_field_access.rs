// The template reads a field of `project`, which the view shows as text (`Shown`):
// the raw value is `payload.project`.
use audit_core::present::{PresentContext, Presentable, Shown};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProjectRef {
    pub id: u64,
    pub name: String,
}

impl Presentable for ProjectRef {
    fn present(&self, _: &PresentContext) -> Shown {
        Shown::text(self.name.clone())
    }
}

audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "project_archived", label = "Archived", group = "Projects",
                template = "projects/shown_field_access.html")]
        ProjectArchived { project: ProjectRef },
    }
}

fn main() {}
