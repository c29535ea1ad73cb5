// A command written as a plain `fn`: a command runs in a transaction, so it is an `async fn`.
include!("../cmd_catalog.rs");

#[audit_core::auditable(emits(ThingAdded))]
fn add_thing(cx: &mut audit_core::Audit<ThingEvent>) -> Result<(), AppError> {
    cx.emit(ThingAdded { name: "x".into() })?;
    Ok(())
}

// Callers written for a command still compile: the only error is the one above.
async fn caller(audit: &mut audit_core::Audit<ThingEvent>) -> Result<(), AppError> {
    add_thing(audit).await
}

fn main() {}
