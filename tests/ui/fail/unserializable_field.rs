// A payload field whose type does not implement serde: one error, on that type, saying what
// to do; code using the event compiles.
#[derive(Debug, Clone, PartialEq)]
pub struct Secret;

audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "thing_added", label = "Added", group = "Things", presenter = show)]
        ThingAdded { name: Secret },
    }
}

fn show<'a>(payload: &'a ThingAdded, _: &audit_core::present::PresentContext) -> ThingAddedView<'a> {
    ThingAddedView { payload, name: audit_core::present::Shown::text("secret") }
}

fn main() {
    let _ = audit_core::events::EventCatalog::payload_json(&E::from(ThingAdded { name: Secret }));
}
