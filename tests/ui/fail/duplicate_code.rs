// Two events with one code: codes identify stored rows, so they must be unique.
audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "thing_added", label = "Added", group = "Things")]
        ThingAdded { name: String },
        #[event(code = "thing_added", label = "Removed", group = "Things")]
        ThingRemoved,
    }
}

fn main() {}
