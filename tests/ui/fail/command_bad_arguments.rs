// Misspelled and repeated arguments of `#[auditable(...)]`: each is one error on its token,
// and the commands still exist for their callers.
include!("../cmd_catalog.rs");

#[audit_core::auditable(emit(ThingAdded))]
async fn add_thing(cx: &mut audit_core::Audit<ThingEvent>) -> Result<(), AppError> {
    cx.emit(ThingAdded { name: "x".into() })?;
    Ok(())
}

#[audit_core::auditable(emits(ThingAdded, ThingAdded?), crate = 1)]
async fn add_other(cx: &mut audit_core::Audit<ThingEvent>) -> Result<(), AppError> {
    cx.emit(ThingAdded { name: "x".into() })?;
    Ok(())
}

async fn caller(audit: &mut audit_core::Audit<ThingEvent>) -> Result<(), AppError> {
    add_thing(audit).await?;
    add_other(audit).await
}

fn main() {}
// expect 3 errors
