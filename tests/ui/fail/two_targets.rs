// Two `#[target]` fields in one event.
use audit_core::events::{EntityRef, Reference};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ThingRef(u32);

impl Reference for ThingRef {
    fn entity_ref(&self) -> EntityRef {
        EntityRef::new("thing", self.0.to_string())
    }
}

audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "thing_added", label = "Added", group = "Things", presenter = show)]
        ThingAdded { #[target] first: ThingRef, #[target] second: ThingRef, name: String },
    }
}

fn show<'a>(payload: &'a ThingAdded, _: &audit_core::present::PresentContext) -> ThingAddedView<'a> {
    unimplemented!("{payload:?}")
}

fn main() {}
