audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "Thing-Added", label = "Added", group = "Things")]
        ThingAdded { name: String },
        #[event(code = "", label = "Removed", group = "Things")]
        ThingRemoved,
    }
}

fn main() {}
