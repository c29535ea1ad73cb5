// Under `classify_personal`, payload fields marked neither `#[personal]` nor `#[not_personal]`:
// one error on each field's name (one per event here); code using the events compiles.
// expect 2 errors
audit_core::declare_events! {
    #[events(templates = "templates/fail", classify_personal)]
    pub enum E {
        #[event(code = "thing_added", label = "Added", group = "Things")]
        ThingAdded { #[personal] name: String, size: u32 },
        #[event(code = "thing_removed", label = "Removed", group = "Things")]
        ThingRemoved { #[not_personal] count: u32, reason: String },
    }
}

fn main() {
    let _ = audit_core::events::EventCatalog::payload_json(&E::from(ThingAdded {
        name: "a".into(),
        size: 1,
    }));
    let _ = ThingRemoved { count: 1, reason: "gone".into() };
}
