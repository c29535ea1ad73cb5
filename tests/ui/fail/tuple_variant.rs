// A tuple variant: payload fields need names, which are stored.
audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "thing_added", label = "Added", group = "Things")]
        ThingAdded(String),
    }
}

fn main() {}
