// A field marked both `#[personal]` and `#[not_personal]`: one error, on the second.
audit_core::declare_events! {
    #[events(templates = "templates/fail", classify_personal)]
    pub enum E {
        #[event(code = "thing_added", label = "Added", group = "Things")]
        ThingAdded { #[personal] #[not_personal] name: String },
    }
}

fn main() {
    let _ = ThingAdded { name: "a".into() };
}
