// One event declared twice in the catalog.
audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "thing_added", label = "Added", group = "Things")]
        ThingAdded { name: String },
        #[event(code = "thing_added_again", label = "Added again", group = "Things")]
        ThingAdded { name: String },
    }
}

fn main() {}
