include!("../cmd_catalog.rs");

#[audit_core::auditable(emits(ThingAdded))]
fn add_thing(_cx: &mut audit_core::Audit<ThingEvent>) -> Result<(), AppError> {
    Ok(())
}

fn main() {}
