// Emitting an event the command does not list in `emits(...)`.
include!("../cmd_catalog.rs");

#[audit_core::auditable(emits(ThingAdded))]
async fn add_thing(cx: &mut audit_core::Audit<ThingEvent>) -> Result<(), AppError> {
    cx.emit(ThingAdded { name: "x".into() })?;
    cx.emit(ThingRemoved { name: "x".into() })?;
    Ok(())
}

fn main() {}
