// The attribute form with a second `#[events(...)]` on the enum: its arguments belong in the first.
#[audit_core::events]
#[events(templates = "templates/fail")]
pub enum E {
    #[event(code = "thing_added", label = "Added", group = "Things")]
    ThingAdded { name: String },
}

fn main() {}
