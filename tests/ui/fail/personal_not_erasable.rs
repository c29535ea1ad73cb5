// A `#[personal]` field whose type does not implement `audit_core::events::Erasable`: one error,
// on that type, saying what to implement; code using the event compiles.
use audit_core::present::{PresentContext, Presentable, Shown};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Email(String);

impl Presentable for Email {
    fn present(&self, _: &PresentContext) -> Shown {
        Shown::text(&self.0)
    }
}

audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "thing_added", label = "Added", group = "Things")]
        ThingAdded { #[personal] name: Email },
    }
}

fn main() {
    let _ = audit_core::events::EventCatalog::payload_json(&E::from(ThingAdded {
        name: Email("a@example.com".into()),
    }));
}
