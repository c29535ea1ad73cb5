// A required event (listed without `?`) that the body never names: the command could
// never return `Ok`.
include!("../cmd_catalog.rs");

#[audit_core::auditable(emits(ThingAdded, ThingRemoved))]
async fn add_thing(cx: &mut audit_core::Audit<ThingEvent>) -> Result<(), AppError> {
    cx.emit(ThingAdded { name: "x".into() })?;
    Ok(())
}

fn main() {}
