// `#[auditable]` on something that is no function with a body: a struct, and a trait
// method declared without one.
include!("../cmd_catalog.rs");

#[audit_core::auditable(emits(ThingAdded))]
struct AddThing;

trait Things {
    #[audit_core::auditable(emits(ThingAdded))]
    async fn add(&self, cx: &mut audit_core::Audit<ThingEvent>) -> Result<(), AppError>;
}

fn main() {}
// expect 2 errors
