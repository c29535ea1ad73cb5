audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E<T> {
        #[event(code = "thing_added", label = "Added", group = "Things")]
        ThingAdded { name: T },
    }
}

fn main() {}
