// `#[target]` on a field whose type is not an `audit_core::events::Reference`.
audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "thing_added", label = "Added", group = "Things")]
        ThingAdded { #[target] name: String },
    }
}

fn main() {}
