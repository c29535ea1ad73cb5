// The attribute form: an event without `#[event(...)]`; code using the catalog still compiles.
#[audit_core::events(templates = "templates/fail")]
pub enum E {
    /// Forgot the attribute.
    ThingAdded { name: String },
}

fn main() {
    let _ = E::from(ThingAdded { name: "x".into() });
}
