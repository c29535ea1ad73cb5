// A syntax error inside one event (`name:` without a type) is one error, there; the rest of the
// catalog is still generated, so code naming its other events (or the broken one) compiles.
audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "thing_added", label = "Added", group = "Things")]
        ThingAdded { name: String },
        #[event(code = "thing_removed", label = "Removed", group = "Things")]
        ThingRemoved { name: },
    }
}

fn uses_the_catalog() -> E {
    let _ = ET::ThingRemoved;
    let _: fn(ThingRemoved) -> E = E::ThingRemoved;
    E::from(ThingAdded { name: "x".into() })
}

type ET = EType;

fn main() {
    let _ = uses_the_catalog();
}
