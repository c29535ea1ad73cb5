// `emits(...)` naming a type that does not exist.
include!("../cmd_catalog.rs");

#[audit_core::auditable(emits(ThingAdded, ThingArchived?))]
async fn add_thing(cx: &mut audit_core::Audit<ThingEvent>) -> Result<(), AppError> {
    cx.emit(ThingAdded { name: "x".into() })?;
    Ok(())
}

fn main() {}
