// A missing comma between two fields, and one between two events: one error at each, and
// the other events are still generated.
// expect 2 errors
audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "thing_added", label = "Added", group = "Things")]
        ThingAdded { name: String other: String },
        #[event(code = "thing_removed", label = "Removed", group = "Things")]
        ThingRemoved
        #[event(code = "thing_lost", label = "Lost", group = "Things", template = "things/thing_removed.html")]
        ThingLost,
    }
}

fn main() {
    let _ = E::from(ThingRemoved {});
    let _ = E::from(ThingLost {});
    let _ = EType::ThingAdded;
}
