// A generic catalog: payloads are stored as JSON, so every field needs a concrete type.
audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E<T> {
        #[event(code = "thing_added", label = "Added", group = "Things")]
        ThingAdded { name: T },
    }
}

fn main() {}
