// A command declared with no events (`#[auditable]`, or `emits()`) calls other commands
// but emits nothing itself: emitting an event there names the command and the event.
include!("../cmd_catalog.rs");

#[audit_core::auditable]
async fn add_thing(cx: &mut audit_core::Audit<ThingEvent>) -> Result<(), AppError> {
    cx.emit(ThingAdded { name: "x".into() })?;
    Ok(())
}

#[audit_core::auditable(emits())]
async fn add_other(cx: &mut audit_core::Audit<ThingEvent>) -> Result<(), AppError> {
    cx.emit(ThingAdded { name: "y".into() })?;
    Ok(())
}

fn main() {}
// expect 2 errors
