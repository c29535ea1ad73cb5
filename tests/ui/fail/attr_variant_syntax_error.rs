// The attribute form: a syntax error inside one event is rustc's own error (the enum must be
// valid Rust before the attribute sees it).
#[audit_core::events(templates = "templates/fail")]
pub enum E {
    #[event(code = "thing_added", label = "Added", group = "Things")]
    ThingAdded { name: String },
    #[event(code = "thing_removed", label = "Removed", group = "Things")]
    ThingRemoved { name: },
}

fn main() {
    let _ = E::from(ThingAdded { name: "x".into() });
}
