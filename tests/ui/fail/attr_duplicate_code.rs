// The attribute form: two events with the same code (the same error as `declare_events!`).
#[audit_core::events(templates = "templates/fail")]
pub enum E {
    #[event(code = "thing_added", label = "Added", group = "Things")]
    ThingAdded { name: String },
    #[event(code = "thing_added", label = "Removed", group = "Things")]
    ThingRemoved,
}

fn main() {}
