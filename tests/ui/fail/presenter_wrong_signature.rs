// A `presenter = path` whose function has the wrong signature.
audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "thing_added", label = "Added", group = "Things", presenter = show_thing)]
        ThingAdded { name: String },
    }
}

fn show_thing(payload: &ThingAdded) -> String {
    payload.name.clone()
}

fn main() {}
