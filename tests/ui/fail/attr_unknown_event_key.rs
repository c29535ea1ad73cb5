// The attribute form: a misspelt key in `#[event(...)]`, and one in the catalog's own attribute.
// expect 2 errors
#[audit_core::events(templats = "templates/fail")]
pub enum E {
    #[event(code = "thing_added", label = "Added", gruop = "Things")]
    ThingAdded { name: String },
}

fn main() {}
