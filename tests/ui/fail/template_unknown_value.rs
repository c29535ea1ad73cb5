// The template names `actor`, which the presenter of `ThingRemoved` does not provide.
audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "thing_removed", label = "Removed", group = "Things", template = "things/uses_actor.html")]
        ThingRemoved { name: String },
    }
}

fn main() {}
