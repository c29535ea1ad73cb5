// A misspelt key in `#[event(...)]`.
audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "thing_added", label = "Added", gruop = "Things")]
        ThingAdded { name: String },
    }
}

fn main() {}
